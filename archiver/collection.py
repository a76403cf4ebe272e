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

import sqlalchemy as sa

from . import catalogue as cat
from .config import Settings
from .errors import StoreError
from .warc import OPEN_SUFFIX, Repaired, repair_open_files


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
    catalogue = cat.Catalogue.open(settings.db_url)
    collection = Collection(settings=settings, catalogue=catalogue, repaired=[])
    collection.repaired = repair_open_files(settings.snapshots)
    _reconcile(collection)
    return collection


def _reconcile(collection: Collection) -> None:
    """Bring catalogue rows in line with files closed behind their writer's back."""
    catalogue = collection.catalogue
    repaired = {Path(item.path).name: item for item in collection.repaired}
    now = dt.datetime.now(dt.timezone.utc)
    with catalogue.transaction() as connection:
        open_rows = catalogue.rows(cat.warc_files, cat.warc_files.c.status == "open", connection=connection)
        for row in open_rows:
            path = collection.resolve(row["path"])
            item = repaired.get(row["filename"])
            if item is not None:
                catalogue.update(connection, cat.warc_files, row["id"], status="repaired",
                                 size=item.size, sha256=item.sha256, closed_at=now)
                cut = item.size
                connection.execute(
                    sa.delete(cat.records).where(cat.records.c.warc_file_id == row["id"],
                                                 cat.records.c.offset >= cut)
                )
            elif path.exists() and not Path(str(path) + OPEN_SUFFIX).exists():
                # closed and renamed, but killed before the catalogue heard of it
                catalogue.update(connection, cat.warc_files, row["id"], status="closed",
                                 size=path.stat().st_size, sha256=_sha256(path), closed_at=now)
        host = socket.gethostname()
        running = catalogue.rows(cat.capture_events, cat.capture_events.c.outcome == "running",
                                 connection=connection)
        for row in running:
            if row["hostname"] == host and not _alive(row["pid"]):
                catalogue.update(connection, cat.capture_events, row["id"], outcome="interrupted",
                                 ended_at=now)


def _alive(pid: int) -> bool:
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
