"""Leases per URL in the catalogue, so that two re-crawls running at once never fetch the same URL.

A lease is one row per URL naming its holder (a re-crawl's uuid), host and
process, and when it expires. A batch of URLs is claimed in one ``BEGIN
IMMEDIATE`` transaction (one read of the batch's rows, one bulk insert, one bulk
update): a row held by another live holder is left alone; an expired row, or one
whose process on this host has died, is taken over. The write lock that
transaction holds makes a batch claim as exclusive as claiming URL by URL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import socket
from typing import Any, Iterable

import sqlalchemy as sa

from .. import catalogue as cat
from ..collection import pid_alive

LEASE_SECONDS = 3600


@dataclasses.dataclass(frozen=True, kw_only=True)
class Leases:
    """Claim URLs for ``holder``; picklable, so processes of one re-crawl can each claim."""

    db_url: str
    holder: str
    seconds: int = LEASE_SECONDS

    def claim(self, catalogue: cat.Catalogue, urls: Iterable[str]) -> set[str]:
        """Take the lease of each URL nobody else holds, all in one transaction; returns those taken."""
        wanted = list(dict.fromkeys(urls))
        if not wanted:
            return set()
        now = dt.datetime.now(dt.timezone.utc)
        table = cat.leases
        values = {"holder": self.holder, "hostname": socket.gethostname(), "pid": os.getpid(),
                  "acquired_at": now, "expires_at": now + dt.timedelta(seconds=self.seconds)}
        with catalogue.transaction() as connection:
            held = {row.url: row for chunk in cat.chunked(wanted)
                    for row in connection.execute(sa.select(table).where(table.c.url.in_(chunk)))}
            taken = [url for url in wanted if url not in held or not self._held_by_another(held[url], now)]
            catalogue.insert_many(connection, table, [{"url": url, **values} for url in taken if url not in held])
            stale = [{"stale_url": url} for url in taken if url in held]
            if stale:
                connection.execute(table.update().where(table.c.url == sa.bindparam("stale_url")).values(**values),
                                   stale)
        return set(taken)

    def _held_by_another(self, row: sa.Row[Any], now: dt.datetime) -> bool:
        return row.holder != self.holder and row.expires_at > now and _alive(row)

    def release(self, catalogue: cat.Catalogue) -> None:
        with catalogue.transaction() as connection:
            connection.execute(cat.leases.delete().where(cat.leases.c.holder == self.holder))


def _alive(row: sa.Row[Any]) -> bool:
    """A holder on another host is trusted until its lease expires; on this host, while its process lives."""
    return row.hostname != socket.gethostname() or pid_alive(row.pid)
