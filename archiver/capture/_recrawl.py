"""Re-crawl policies and runs: which posts are due, re-crawl them once, or keep doing so.

A policy (``schedules`` table) is an interval, the next due time and whether it
is enabled. :func:`recrawl` re-captures what is due (or the URLs given) with
conditional requests and leases (:mod:`archiver.capture._leases`), then moves each
policy's next due time on, whatever the sites answered: a failing site is a
finding, recorded in ``changes``, and never stops the schedule.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid
from typing import Any, Callable

import sqlalchemy as sa

from .. import catalogue as cat
from ..collection import Collection
from ..errors import ArchiverError, InputError
from ..warc import CAPTURE_TYPES
from ._capture import capture
from ._leases import Leases
from ._results import CaptureResult

_INTERVAL = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$", re.I)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
IDLE_POLL = 60.0  # seconds ``watch`` waits at most before looking at the schedule again


def parse_interval(text: str) -> int:
    """``"30m"``, ``"6h"``, ``"1d"``, ``"2w"`` -> seconds."""
    match = _INTERVAL.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise InputError(f"interval {text!r}: give a number and a unit, e.g. 30m, 6h, 1d or 1w")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]


def format_interval(seconds: int) -> str:
    for unit in ("w", "d", "h", "m"):
        if seconds % _UNIT_SECONDS[unit] == 0:
            return f"{seconds // _UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def set_schedule(catalogue: cat.Catalogue, urls: list[str], *, every: int | None, enabled: bool = True,
                 capturing: bool = False) -> None:
    """Create or change the policy of each URL. A new policy's first re-crawl is due one interval from
    now if the URL is captured (or being captured: ``capturing``), else at once, by the next ``recrawl``."""
    now = _now()
    table = cat.schedules
    with catalogue.transaction() as connection:
        for url in urls:
            row = connection.execute(sa.select(table).where(table.c.url == url)).first()
            if row is None:
                if every is None:
                    raise InputError(f"{url}: no schedule yet; give --every (e.g. --every 1d)")
                captured = capturing or connection.execute(sa.select(cat.records.c.id).where(
                    cat.records.c.target_uri == url, cat.records.c.record_type.in_(CAPTURE_TYPES)).limit(1)
                ).first() is not None
                first_due = now + dt.timedelta(seconds=every) if captured else now
                catalogue.insert(connection, table, {"url": url, "interval_seconds": every, "enabled": enabled,
                                                     "next_due_at": first_due,
                                                     "created_at": now})
            else:
                values: dict[str, Any] = {"enabled": enabled}
                if every is not None:
                    values.update(interval_seconds=every, next_due_at=now + dt.timedelta(seconds=every))
                connection.execute(table.update().where(table.c.id == row.id).values(**values))


def schedules(catalogue: cat.Catalogue) -> list[dict[str, Any]]:
    with catalogue.reader() as reader:
        rows = reader.execute(sa.select(cat.schedules).order_by(cat.schedules.c.next_due_at)).all()
    return [{"url": row.url, "every": format_interval(row.interval_seconds), "enabled": row.enabled,
             "next_due_at": row.next_due_at.isoformat(),
             "last_run_at": row.last_run_at.isoformat() if row.last_run_at else None} for row in rows]


def due(catalogue: cat.Catalogue, now: dt.datetime | None = None) -> list[str]:
    table = cat.schedules
    with catalogue.reader() as reader:
        return [row.url for row in reader.execute(
            sa.select(table.c.url).where(table.c.enabled.is_(True), table.c.next_due_at <= (now or _now()))
            .order_by(table.c.next_due_at, table.c.id))]


def next_due(catalogue: cat.Catalogue) -> dt.datetime | None:
    table = cat.schedules
    with catalogue.reader() as reader:
        return reader.execute(sa.select(sa.func.min(table.c.next_due_at)).where(table.c.enabled.is_(True))
                              ).scalar_one_or_none()


def recrawl(*, collection: Collection, urls: list[str] | None, command: str, stop: threading.Event,
            progress: Callable[[int, int, str | None], None] | None = None, due_by: dt.datetime | None = None
            ) -> CaptureResult | None:
    """Re-crawl ``urls`` (or every policy due by ``due_by``, default now) once; None when nothing is due."""
    started = _now()
    targets = list(dict.fromkeys(urls)) if urls else due(collection.catalogue, due_by or started)
    if not targets:
        return None
    leases = Leases(db_url=collection.settings.db_url, holder=str(uuid.uuid4()))
    try:
        return capture(targets, collection=collection, command=command, stop=stop, progress=progress,
                       recrawl=True, leases=leases)
    finally:
        leases.release(collection.catalogue)
        _advance(collection.catalogue, targets, started)


def _advance(catalogue: cat.Catalogue, urls: list[str], started: dt.datetime) -> None:
    table = cat.schedules
    with catalogue.transaction() as connection:
        for row in connection.execute(sa.select(table).where(table.c.url.in_(urls))).all():
            connection.execute(table.update().where(table.c.id == row.id).values(
                last_run_at=started, next_due_at=started + dt.timedelta(seconds=row.interval_seconds)))


def watch(*, collection: Collection, command: str, stop: threading.Event,
          report: Callable[[CaptureResult | None, ArchiverError | None], None], poll: float = IDLE_POLL) -> None:
    """Re-crawl whatever is due until ``stop`` is set; ``report`` hears of each round."""
    while not stop.is_set():
        try:
            result = recrawl(collection=collection, urls=None, command=command, stop=stop)
        except ArchiverError as exc:  # a round failed (store full, catalogue locked): say so, go on
            report(None, exc)
        else:
            if result is not None:
                report(result, None)
        upcoming = next_due(collection.catalogue)
        wait = poll if upcoming is None else (upcoming - _now()).total_seconds()
        stop.wait(min(max(wait, 0.0), poll))
