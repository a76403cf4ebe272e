"""The row ledger of a run: the catalogue rows of what it writes, queued as each record is written
and inserted in one transaction per batch, only after the WARC bytes they point to are fsynced."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Callable

import sqlalchemy as sa

from .. import catalogue as cat
from .. import faults
from ..collection import Collection
from ..errors import ErrorKind
from ..net import Exchange
from ..parse import Document
from ..warc import Location, RecordType, WarcFile
from ._tasks import Task


class Later:
    """In place of a page's document: parsed later (``--parse later``), catalogued as pending."""


LATER = Later()


@dataclasses.dataclass(kw_only=True, eq=False)
class _Hop:
    """One HTTP hop waiting for its catalogue rows: its fetch row (without ids), its records' rows,
    its parsed document, and the cells its fetch id goes into (the next hop's ``redirect_from_id``,
    the follow-up tasks' ``parent_fetch_id``)."""

    fetch: dict[str, Any]
    role: str
    rows: list[tuple[dict[str, Any], Location]]
    document: Document | Later | None
    redirect_of: list[int | None]
    ids: list[int | None]
    fetch_id: int | None = None


class Ledger:
    """Catalogue rows waiting for their bytes to be fsynced, and the ids the inserted rows got."""

    def __init__(self, *, collection: Collection, event_id: int) -> None:
        self.collection = collection
        self.catalogue = collection.catalogue
        self.event_id = event_id
        self.pending: list[Callable[[sa.Connection], None] | _Hop] = []
        self.file_ids: dict[str, int] = {}
        self.fetch_ids_by_url: dict[str, int] = {}
        self.fetch_ids: set[int] = set()  # every fetch row inserted: what the run classifies

    def hop(self, task: Task, exchange: Exchange, rows: list[tuple[dict[str, Any], Location]],
            document: Document | Later | None, *, redirect_of: list[int | None], ids: list[int | None]) -> None:
        """Queue this hop's fetch and record rows and its document (see :meth:`_insert_hops`).
        ``redirect_of`` and ``ids`` are the cells its fetch id goes into once inserted: the next
        hop's ``redirect_from_id``, the follow-up tasks' ``parent_fetch_id``."""
        outcome = cat.FetchOutcome.CAPTURED if exchange.has_response else cat.FetchOutcome.FAILED
        if exchange.error is not None and exchange.error.kind in (
                ErrorKind.BLOCKED_ADDRESS, ErrorKind.REFUSED_URL, ErrorKind.ROBOTS_DISALLOWED):
            outcome = cat.FetchOutcome.BLOCKED
        fetch = {
            "capture_event_id": self.event_id,
            "url": exchange.url,
            "role": task.role,
            "parent_fetch_id": task.parent_fetch_id,
            "link_kind": task.link_kind,
            "link_text": task.link_text,
            "link_tag": task.link_tag,
            "started_at": exchange.started_at,
            "ended_at": exchange.ended_at,
            "outcome": outcome,
            "http_status": exchange.status,
            "error_kind": exchange.error.kind if exchange.error else None,
            "error": str(exchange.error) if exchange.error else None,
        }
        self.pending.append(_Hop(fetch=fetch, role=task.role, rows=rows, document=document,
                                 redirect_of=redirect_of, ids=ids))

    def _insert_hops(self, connection: sa.Connection, hops: list["_Hop"]) -> None:
        """Insert the hops' fetch rows in one statement per redirect step (a hop's row names the row
        of the hop before it), then all their records in one statement, then their documents."""
        waiting = hops
        while waiting:
            firsts: dict[int, _Hop] = {}
            for hop in waiting:  # the first hop still waiting in each redirect chain
                firsts.setdefault(id(hop.redirect_of), hop)
            ready = list(firsts.values())
            fetch_ids = self.catalogue.insert_many_returning_ids(connection, cat.fetches, [
                {**hop.fetch, "redirect_from_id": hop.redirect_of[0]} for hop in ready])
            for hop, fetch_id in zip(ready, fetch_ids, strict=True):
                hop.redirect_of[0] = hop.ids[0] = hop.fetch_id = fetch_id
                self.fetch_ids_by_url.setdefault(hop.fetch["url"], fetch_id)
                self.fetch_ids.add(fetch_id)
            waiting = [hop for hop in waiting if hop.fetch_id is None]
        self.catalogue.insert_many(connection, cat.records, [
            self._with_ids(row, location, role=hop.role, fetch_id=hop.fetch_id)
            for hop in hops for row, location in hop.rows])
        now = dt.datetime.now(dt.timezone.utc)
        for hop in hops:
            if hop.document is None:
                continue
            response = next(row["warc_record_id"] for row, _ in hop.rows if row["record_type"] == RecordType.RESPONSE)
            record_id = connection.execute(sa.select(cat.records.c.id).where(
                cat.records.c.warc_record_id == response)).scalar_one()
            if isinstance(hop.document, Later):
                self.catalogue.insert(connection, cat.pending_documents, {"record_id": record_id, "queued_at": now})
            else:
                self.catalogue.insert_document(connection, hop.document, record_id=record_id, parsed_at=now)

    def _with_ids(self, row: dict[str, Any], location: Location, *, role: str | None, fetch_id: int | None
                  ) -> dict[str, Any]:
        return {**row, "capture_event_id": self.event_id, "fetch_id": fetch_id,
                "warc_file_id": self.file_ids[str(location.path)], "role": role}

    def commit(self, sync: Callable[[], None]) -> None:
        """``sync`` (fsync the WARC), then insert every pending row in one transaction, in the order
        queued (a file's row before its records' rows), consecutive hops together."""
        sync()
        pending, self.pending = self.pending, []
        with self.catalogue.transaction() as connection:
            hops: list[_Hop] = []
            for item in pending:
                if isinstance(item, _Hop):
                    hops.append(item)
                    continue
                self._insert_hops(connection, hops)
                hops = []
                item(connection)
            self._insert_hops(connection, hops)
            faults.point("commit")

    def file_opened(self, warc_file: WarcFile, location: Location) -> None:
        """Queue the rows of a WARC file just opened and of its warcinfo record."""

        def insert(connection: sa.Connection) -> None:
            assert warc_file.warcinfo is not None  # the writer sets it before on_open
            file_id = self.catalogue.insert(connection, cat.warc_files, {
                "filename": warc_file.path.name,
                "path": self.collection.relative(warc_file.path),
                "capture_event_id": self.event_id,
                "opened_at": warc_file.opened_at,
                "status": "open",
                "warcinfo_id": warc_file.warcinfo.record_id,
            })
            self.file_ids[str(warc_file.path)] = file_id
            self.catalogue.insert(connection, cat.records, self._with_ids(
                cat.record_row(warc_file.warcinfo.facts(location)), location, role=None, fetch_id=None))

        # queued before the rows of the record whose write opened the file
        self.pending.append(insert)

    def file_closed(self, warc_file: WarcFile) -> None:
        """Queue the update of a WARC file just closed: its size and sha256."""

        def update(connection: sa.Connection) -> None:
            self.catalogue.update(connection, cat.warc_files, self.file_ids[str(warc_file.path)],
                                  status="closed", closed_at=warc_file.closed_at, size=warc_file.size,
                                  sha256=warc_file.sha256)

        self.pending.append(update)


    def unfetched(self, *, skipped: list[Task], duplicates: list[Task], at: dt.datetime) -> None:
        """Queue fetch rows for the tasks not fetched: held by another re-crawl (``skipped``), or already
        fetched in this run (``duplicates``, pointing at the first fetch)."""

        def row(task: Task, **values: Any) -> dict[str, Any]:
            return {"capture_event_id": self.event_id, "url": task.url, "role": task.role,
                    "parent_fetch_id": task.parent_fetch_id, "link_kind": task.link_kind, "link_text": task.link_text,
                    "link_tag": task.link_tag, "started_at": at, "ended_at": at, "duplicate_of_id": None, "error": None,
                    **values}

        def insert(connection: sa.Connection) -> None:
            self.catalogue.insert_many(connection, cat.fetches, [
                *(row(task, outcome=cat.FetchOutcome.LEASED, error="held by another re-crawl") for task in skipped),
                *(row(task, outcome=cat.FetchOutcome.DUPLICATE, duplicate_of_id=self.fetch_ids_by_url.get(task.url))
                  for task in duplicates)])

        self.pending.append(insert)
