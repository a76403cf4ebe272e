"""Full-text search over the main text and captions of captured pages.

SQLite's FTS5 index ``documents_fts`` (catalogue revision 0004) holds each
document's title, main text and captions; only the newest parse of each record
is searched. Results are ranked by BM25, with a snippet and the capture time.
FTS5 query syntax applies: words are ANDed, ``"a phrase"``, ``OR``, ``NOT``,
``prefix*``. The index is SQLite's: catalogues on other databases cannot be searched.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

import sqlalchemy as sa

from .. import catalogue as cat
from ..errors import InputError

SNIPPET_WORDS = 16


@dataclasses.dataclass(frozen=True, kw_only=True)
class Hit:
    url: str
    captured_at: str
    title: str | None
    snippet: str
    rank: float | None
    role: str | None
    record_id: str
    document_id: int

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def search(catalogue: cat.Catalogue, *, text: str, site: str | None = None, since: dt.datetime | None = None,
           until: dt.datetime | None = None, role: str | None = None, limit: int = 20) -> list[Hit]:
    """The best ``limit`` captures whose text or captions match ``text``, best first."""
    if not text.strip():
        raise InputError("give words to search for")
    d, r = cat.documents, cat.records
    newer_doc = d.alias("newer_doc")
    filters = [~sa.exists().where(newer_doc.c.record_id == d.c.record_id, newer_doc.c.id > d.c.id)]
    if site:
        host = re.sub(r"([\\%_])", r"\\\1", site.lower().strip().strip("/"))  # a literal host, not a pattern
        patterns = [f"{scheme}://{prefix}{host}{end}" for scheme in ("http", "https") for prefix in ("", "%.")
                    for end in ("/%", ":%")]  # the host or a subdomain, with or without a port
        filters.append(sa.or_(*(d.c.url.like(pattern, escape="\\") for pattern in patterns)))
    if since is not None:
        filters.append(r.c.warc_date >= since)
    if until is not None:
        filters.append(r.c.warc_date <= until)
    if role:
        filters.append(r.c.role == role)
    with catalogue.reader() as reader:
        if reader.dialect.name != "sqlite":
            raise InputError("search needs the SQLite catalogue (its FTS5 index); this one is "
                             f"{reader.dialect.name}")
        return _fts(reader, text, filters, limit)


def _fts(reader: sa.Connection, text: str, filters: list[sa.ColumnElement[bool]], limit: int) -> list[Hit]:
    """Rank in FTS5 alone (its ``rank``: BM25, computed in C), then filter the best candidates, fetching
    more while too few survive the filters; snippets only for the results."""
    d, r = cat.documents, cat.records
    fts = sa.table(cat.FTS_TABLE, sa.column("rowid"), sa.column("rank"))
    match = sa.text(f"{cat.FTS_TABLE} MATCH :query").bindparams(query=text)
    wanted = limit * 4
    try:
        while True:
            ranked = reader.execute(sa.select(fts.c.rowid, fts.c.rank).select_from(fts).where(match)
                                    .order_by(fts.c.rank).limit(wanted)).all()
            order = {row.rowid: row.rank for row in ranked}
            rows = reader.execute(
                sa.select(d.c.id, d.c.url, d.c.title, r.c.warc_date, r.c.role, r.c.warc_record_id)
                .join(r, r.c.id == d.c.record_id).where(d.c.id.in_(list(order)), *filters)).all()
            if len(rows) >= limit or len(ranked) < wanted:
                break
            wanted *= 4
        rows = sorted(rows, key=lambda row: (order[row.id], -row.warc_date.timestamp()))[:limit]
        snippets: dict[int, str] = dict(reader.execute(
            sa.select(fts.c.rowid, sa.literal_column(f"snippet({cat.FTS_TABLE}, -1, '[', ']', '…', {SNIPPET_WORDS})"))
            .select_from(fts).where(match, fts.c.rowid.in_([row.id for row in rows]))).all()) if rows else {}
    except sa.exc.OperationalError as exc:
        detail = str(exc.orig).splitlines()[0]
        raise InputError(f"search {text!r}: {detail} (FTS5 syntax: words, \"a phrase\", OR, NOT, prefix*)"
                         ) from None
    return [Hit(url=row.url, captured_at=row.warc_date.isoformat(), title=row.title, snippet=snippets.get(row.id, ""),
                rank=round(order[row.id], 4), role=row.role, record_id=row.warc_record_id, document_id=row.id)
            for row in rows]
