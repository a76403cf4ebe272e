"""Leases per URL in the catalogue, so that two re-crawls running at once never fetch the same URL.

A lease is one row per URL naming its holder (a capture event's uuid), host and
process, and when it expires. Taking one is a single ``BEGIN IMMEDIATE``
transaction: a row held by another live holder is left alone; an expired row, or
one whose process on this host has died, is taken over.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import socket

import sqlalchemy as sa

from . import catalogue as cat
from .collection import pid_alive

LEASE_SECONDS = 3600


@dataclasses.dataclass(frozen=True, kw_only=True)
class Leases:
    """Claim URLs for ``holder``; picklable, so processes of one re-crawl can each claim."""

    db_url: str
    holder: str
    seconds: int = LEASE_SECONDS

    def claim(self, catalogue: cat.Catalogue, url: str) -> bool:
        now = dt.datetime.now(dt.timezone.utc)
        table = cat.leases
        with catalogue.transaction() as connection:
            row = connection.execute(sa.select(table).where(table.c.url == url)).first()
            if row is not None and row.holder != self.holder and row.expires_at > now and _alive(row):
                return False
            values = {"holder": self.holder, "hostname": socket.gethostname(), "pid": os.getpid(),
                      "acquired_at": now, "expires_at": now + dt.timedelta(seconds=self.seconds)}
            if row is None:
                catalogue.insert(connection, table, {"url": url, **values})
            else:
                connection.execute(table.update().where(table.c.url == url).values(**values))
        return True

    def release(self, catalogue: cat.Catalogue) -> None:
        with catalogue.transaction() as connection:
            connection.execute(cat.leases.delete().where(cat.leases.c.holder == self.holder))


def _alive(row) -> bool:
    """A holder on another host is trusted until its lease expires; on this host, while its process lives."""
    return row.hostname != socket.gethostname() or pid_alive(row.pid)
