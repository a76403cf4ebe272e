"""A collection: a folder with ``snapshots/`` (the WARCs) and the catalogue.

Opening one brings the catalogue to the newest schema and cleans up after any
process that was killed: its ``.open`` WARC files are cut back to their last
complete record and closed, and its capture events are marked interrupted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import socket
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from . import catalogue as cat
from .config import Settings
from .errors import StoreError
from .warc import OPEN_SUFFIX, Repaired, read_record, repair_open_files, warcinfo_fields


@dataclasses.dataclass(kw_only=True)
class Collection:
    settings: Settings
    catalogue: cat.Catalogue
    repaired: list[Repaired]

    @property
    def snapshots(self) -> Path:
        return self.settings.snapshots

    def relative(self, path: Path) -> str:
        """How the catalogue names a WARC file: relative to the collection when inside it."""
        try:
            return str(Path(path).resolve().relative_to(self.settings.home.resolve()))
        except ValueError:
            return str(Path(path).resolve())

    def resolve(self, stored: str) -> Path:
        path = Path(stored)
        return path if path.is_absolute() else self.settings.home / path

    def close(self) -> None:
        self.catalogue.close()


def open_collection(settings: Settings) -> Collection:
    try:
        settings.snapshots.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the collection folder {settings.snapshots}: {exc.strerror}") from None
    catalogue = cat.Catalogue.open(settings.db_url, lock_timeout=settings.lock_timeout)
    collection = Collection(settings=settings, catalogue=catalogue, repaired=[])
    repair(collection)
    return collection


def repair(collection: Collection) -> list[Repaired]:
    """Close the ``.open`` files no live process holds (cut back to their last whole record), and
    bring the catalogue in line: their records catalogued, dead runs marked interrupted."""
    repaired = repair_open_files(collection.settings.snapshots)
    collection.repaired += repaired
    _reconcile(collection, repaired)
    return repaired


def _reconcile(collection: Collection, repaired: list[Repaired]) -> None:
    """Bring catalogue rows in line with files closed behind their writer's back."""
    catalogue = collection.catalogue
    now = dt.datetime.now(dt.timezone.utc)
    with catalogue.transaction() as connection:
        for item in repaired:
            _catalogue_repaired(collection, connection, item, now)
        open_rows = catalogue.rows(cat.warc_files, cat.warc_files.c.status == "open", connection=connection)
        for row in open_rows:
            path = collection.resolve(row["path"])
            if path.exists() and not Path(str(path) + OPEN_SUFFIX).exists():
                # closed and renamed, but killed before the catalogue heard of it
                catalogue.update(connection, cat.warc_files, row["id"], status="closed",
                                 size=path.stat().st_size, sha256=_sha256(path), closed_at=now)
        host = socket.gethostname()
        running = catalogue.rows(cat.capture_events, cat.capture_events.c.outcome == "running",
                                 connection=connection)
        for row in running:
            if row["hostname"] == host and not pid_alive(row["pid"]):
                catalogue.update(connection, cat.capture_events, row["id"], outcome="interrupted",
                                 ended_at=now)


def _catalogue_repaired(collection: Collection, connection: sa.Connection, item: Repaired, now: dt.datetime) -> None:
    """Mark a repaired file, and catalogue its complete records that have no row yet.

    A killed writer can leave records fsynced but not yet catalogued (and even a
    file the catalogue never heard of): they are catalogued from their own bytes,
    so no byte in the store is untraceable.
    """
    catalogue = collection.catalogue
    found: list[dict[str, Any] | None] = list(catalogue.rows(
        cat.warc_files, cat.warc_files.c.filename == item.path.name, connection=connection))
    [row] = found or [None]
    first = read_record(item.path, 0)
    if row is None:
        event = _event_of(catalogue, connection, item.path)
        file_id = catalogue.insert(connection, cat.warc_files, {
            "filename": item.path.name, "path": collection.relative(item.path),
            "capture_event_id": event, "opened_at": first.catalogue_row()["warc_date"],
            "status": "repaired", "warcinfo_id": first.record_id, "closed_at": now,
            "size": item.size, "sha256": item.sha256,
        })
        event_id = event
    else:
        file_id, event_id = row["id"], row["capture_event_id"]
        catalogue.update(connection, cat.warc_files, file_id, status="repaired", size=item.size,
                         sha256=item.sha256, closed_at=now)
        connection.execute(sa.delete(cat.records).where(cat.records.c.warc_file_id == file_id,
                                                        cat.records.c.offset >= item.size))
    known = set(connection.execute(
        sa.select(cat.records.c.offset).where(cat.records.c.warc_file_id == file_id)).scalars())
    for offset, _length in item.kept:
        if offset not in known:
            facts = first if offset == 0 else read_record(item.path, offset)
            catalogue.insert(connection, cat.records, {
                **facts.catalogue_row(), "warc_file_id": file_id, "capture_event_id": event_id,
                "role": "recovered",
            })


def _event_of(catalogue: cat.Catalogue, connection: sa.Connection, path: Path) -> int | None:
    """The capture event the file's warcinfo record names in its ``capture-id`` field."""
    capture_id = warcinfo_fields(path).get("capture-id")
    if capture_id is None:
        return None
    rows = catalogue.rows(cat.capture_events, cat.capture_events.c.uuid == capture_id, connection=connection)
    return rows[0]["id"] if rows else None


def pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
