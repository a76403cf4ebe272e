"""The capture event (its catalogue row, opened and closed) and what a capture returns."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import socket
import uuid
from typing import Any

from .. import __version__
from .. import catalogue as cat
from ..collection import Collection
from ..errors import ArchiverError
from ._changes import Change


@dataclasses.dataclass(frozen=True, kw_only=True)
class CapturedRecord:
    url: str
    role: str
    record_type: str
    http_status: int | None
    warc_file: str
    offset: int
    length: int
    payload_sha256: str | None
    record_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Failure:
    url: str
    role: str
    kind: str
    message: str


@dataclasses.dataclass(kw_only=True)
class CaptureResult:
    capture_id: str
    outcome: str
    started_at: dt.datetime
    ended_at: dt.datetime | None = None
    records: list[CapturedRecord] = dataclasses.field(default_factory=list)
    failures: list[Failure] = dataclasses.field(default_factory=list)
    seed_errors: dict[str, ArchiverError] = dataclasses.field(default_factory=dict)
    documents: dict[str, str] = dataclasses.field(default_factory=dict)  # posts not HTML: their content type
    warc_files: list[str] = dataclasses.field(default_factory=list)
    changes: list[Change] = dataclasses.field(default_factory=list)
    parse_warnings: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # page URL -> its warnings
    no_article: list[str] = dataclasses.field(default_factory=list)  # posts without article text: nothing cited
    parse_later: list[str] = dataclasses.field(default_factory=list)  # pages left to `archiver parse`

    def as_json(self) -> dict[str, Any]:
        return {
            "capture_id": self.capture_id,
            "outcome": self.outcome,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "warc_files": self.warc_files,
            "records": [vars(record).copy() for record in self.records],  # flat: asdict's deep copy is slow
            "failures": [vars(failure).copy() for failure in self.failures],
            "no_article": self.no_article,
            "parse_later": self.parse_later,
            "changes": [{"url": change.url, "at": change.at.isoformat(), "change": change.change,
                         "changed": change.changed} for change in self.changes],
        }


@dataclasses.dataclass(frozen=True, kw_only=True)
class CaptureEvent:
    id: int
    capture_id: str
    started_at: dt.datetime


def start_event(collection: Collection, seeds: list[str], command: str) -> CaptureEvent:
    settings = collection.settings
    capture_id = str(uuid.uuid4())
    started = dt.datetime.now(dt.timezone.utc)
    with collection.catalogue.transaction() as connection:
        event_id = collection.catalogue.insert(connection, cat.capture_events, {
            "uuid": capture_id,
            "started_at": started,
            "outcome": cat.EventOutcome.RUNNING,
            "tool": "archiver",
            "tool_version": __version__,
            "operator": settings.operator,
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "command": command,
            "seeds": json.dumps(seeds),
            "settings": json.dumps({key: str(value) for key, value in dataclasses.asdict(settings).items()
                                    if key != "db"}),
        })
    return CaptureEvent(id=event_id, capture_id=capture_id, started_at=started)


def end_event(collection: Collection, event: CaptureEvent, outcome: str) -> None:
    with collection.catalogue.transaction() as connection:
        collection.catalogue.update(connection, cat.capture_events, event.id, outcome=outcome,
                                    ended_at=dt.datetime.now(dt.timezone.utc))


def outcome(*, interrupted: bool, failed: int, seeds: int) -> str:
    if interrupted:
        return cat.EventOutcome.INTERRUPTED
    if failed == 0:
        return cat.EventOutcome.COMPLETE
    return cat.EventOutcome.FAILED if failed == seeds else cat.EventOutcome.PARTIAL
