"""Redirects as the catalogue recorded them: the one owner of following a fetch's redirect chain.
Provenance reports the chain; show, history and diff follow it from a URL to the page it led to.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa

from .. import catalogue as cat
from ..warc import CAPTURE_TYPES


@dataclasses.dataclass(frozen=True, kw_only=True)
class Redirect:
    """The newest capture of ``url`` answered ``http_status`` and the chain ended at ``to``."""

    url: str
    to: str
    http_status: int | None

    def as_json(self) -> dict[str, Any]:
        return {"url": self.url, "http_status": self.http_status, "to": self.to}


def fetch_row(reader: sa.Connection, fetch_id: int | None) -> dict[str, Any] | None:
    if fetch_id is None:
        return None
    row = reader.execute(sa.select(cat.fetches).where(cat.fetches.c.id == fetch_id)).first()
    return dict(row._mapping) if row is not None else None


def chain(reader: sa.Connection, fetch: dict[str, Any]) -> list[dict[str, Any]]:
    """Every hop of the redirect chain ``fetch`` belongs to, first to last."""
    first = fetch
    while first["redirect_from_id"] is not None:
        previous = fetch_row(reader, first["redirect_from_id"])
        assert previous is not None  # redirect_from_id references a fetch
        first = previous
    hops = [first]
    while True:
        row = reader.execute(sa.select(cat.fetches).where(cat.fetches.c.redirect_from_id == hops[-1]["id"])).first()
        if row is None:
            return hops
        hops.append(dict(row._mapping))


def _captured(reader: sa.Connection, where: Any) -> sa.Row[Any] | None:
    r = cat.records
    return reader.execute(sa.select(r.c.fetch_id).where(where, r.c.record_type.in_(CAPTURE_TYPES))
                          .order_by(r.c.warc_date.desc(), r.c.id.desc()).limit(1)).first()


def followed(reader: sa.Connection, url: str) -> Redirect | None:
    """Where the newest capture of ``url`` was redirected to, along the catalogued chain, when the
    chain ended at a captured page (None when ``url`` answered for itself)."""
    newest = _captured(reader, cat.records.c.target_uri == url)
    fetch = fetch_row(reader, newest.fetch_id) if newest is not None else None
    if fetch is None:
        return None
    hops = chain(reader, fetch)
    final = hops[-1]
    if final["id"] == fetch["id"] or final["url"] == url or _captured(reader, cat.records.c.fetch_id == final["id"]) \
            is None:
        return None
    return Redirect(url=url, to=final["url"], http_status=fetch["http_status"])
