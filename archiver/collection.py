"""A collection: a folder with ``snapshots/`` (the WARCs) and the catalogue, and the one way to open it.

Every command opens its collection with :func:`open_collection` and says how (:class:`Mode`):

* ``write`` (capture, recrawl, watch, reparse, schedule): the folder and catalogue are created if new,
  the catalogue is brought to the newest schema, and whatever a killed process left is cleaned up:
  its ``.open`` WARC files are cut back to their last complete record and closed, their records
  catalogued, its capture events marked interrupted.
* ``read`` (history, show, search, provenance, timemap, export, changes, diff, browse,
  ``schedule --list``): nothing is created, upgraded, repaired or written; the SQLite catalogue is
  opened read-only. A missing collection is an input error; a catalogue at another revision names
  ``archiver db upgrade``.
* ``append`` (verify, parse, and the worker processes of a capture): as ``read``, but rows may be
  added (verify's fixity event; parse's documents; a worker's records).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import os
import socket
from pathlib import Path
from types import TracebackType
from typing import Any

import sqlalchemy as sa

from . import catalogue as cat
from .config import Settings
from .errors import CatalogueError, InputError, StoreError
from .warc import OPEN_SUFFIX, Repaired, file_sha256, read_record, repair_open_files, warcinfo_fields


class Mode(enum.StrEnum):
    """How a command opens a collection (see the module's docstring)."""

    WRITE = "write"
    READ = "read"
    APPEND = "append"


@dataclasses.dataclass(kw_only=True)
class Collection:
    """An open collection; a context manager that closes it on leaving."""

    settings: Settings
    catalogue: cat.Catalogue
    repaired: list[Repaired]
    mode: Mode = Mode.WRITE

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

    def __enter__(self) -> Collection:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def open_collection(settings: Settings, *, mode: Mode | str) -> Collection:
    """Open the collection of ``settings`` the way ``mode`` says; use it in a ``with`` block.

    Raises InputError when ``read`` or ``append`` finds no collection, CatalogueError when its
    catalogue cannot be opened or is at another schema revision, StoreError when its folders
    cannot be created (``write``) or read.
    """
    mode = Mode(mode)
    if mode is Mode.WRITE:
        try:
            settings.snapshots.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the collection folder {settings.snapshots}: {exc.strerror}") from None
        catalogue = cat.Catalogue.open(settings.db_url, lock_timeout=settings.lock_timeout)
        collection = Collection(settings=settings, catalogue=catalogue, repaired=[], mode=mode)
        repair(collection)
        return collection
    require_catalogue(settings)
    snapshots = settings.snapshots
    if snapshots.exists() and not (snapshots.is_dir() and os.access(snapshots, os.R_OK | os.X_OK)):
        raise StoreError(f"cannot read the snapshots folder {snapshots}")
    engine = cat.create_engine(settings.db_url, lock_timeout=settings.lock_timeout, read_only=mode is Mode.READ)
    try:
        _require_head(engine, settings)
    except BaseException:
        engine.dispose()
        raise
    return Collection(settings=settings, catalogue=cat.Catalogue(engine, lock_timeout=settings.lock_timeout),
                      repaired=[], mode=mode)


def require_catalogue(settings: Settings) -> None:
    """Raise InputError, naming the path and the fix, when the SQLite catalogue file is missing."""
    database = cat.sqlite_file(settings.db_url)
    if database is None or database.exists():
        return
    if settings.db is None:
        raise InputError(f"no collection at {settings.home}: {database} does not exist "
                         "(give --home, or capture something first)")
    raise InputError(f"no catalogue at {database}: check --db, or capture something into it first")


def catalogue_revision(settings: Settings) -> str | None:
    """The revision of an existing catalogue, read without creating or changing anything."""
    require_catalogue(settings)
    engine = cat.create_engine(settings.db_url, lock_timeout=settings.lock_timeout, read_only=True)
    try:
        return _revision(engine, settings)
    finally:
        engine.dispose()


def _revision(engine: sa.Engine, settings: Settings) -> str | None:
    try:
        return cat.current_revision(engine)
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        raise CatalogueError(f"cannot read the catalogue {_where(settings)}: {reason}") from None


def _require_head(engine: sa.Engine, settings: Settings) -> None:
    revision, head = _revision(engine, settings), cat.HEAD_REVISION
    if revision == head:
        return
    if revision is None:
        raise CatalogueError(f"{_where(settings)} is not an archiver catalogue (it has no schema revision)")
    if revision > head:
        raise CatalogueError(f"the catalogue {_where(settings)} is at revision {revision}, newer than this "
                             f"archiver's {head}: upgrade archiver")
    raise CatalogueError(f"the catalogue {_where(settings)} is at revision {revision}; this archiver reads "
                         f"revision {head}: upgrade it first (archiver db upgrade)")


def _where(settings: Settings) -> str:
    database = cat.sqlite_file(settings.db_url)
    return str(database) if database is not None else sa.engine.make_url(settings.db_url).render_as_string()


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
                                 size=path.stat().st_size, sha256=file_sha256(path)[0].hexdigest(), closed_at=now)
        host = socket.gethostname()
        running = catalogue.rows(cat.capture_events, cat.capture_events.c.outcome == cat.EventOutcome.RUNNING,
                                 connection=connection)
        for row in running:
            if row["hostname"] == host and not pid_alive(row["pid"]):
                catalogue.update(connection, cat.capture_events, row["id"], outcome=cat.EventOutcome.INTERRUPTED,
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
            "capture_event_id": event, "opened_at": cat.record_row(first)["warc_date"],
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
                **cat.record_row(facts), "warc_file_id": file_id, "capture_event_id": event_id,
                "role": cat.Role.RECOVERED,
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
