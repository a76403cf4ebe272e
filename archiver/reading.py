"""Open a collection for commands that only read (export, timemap).

Such a command never creates a collection: a HOME without a catalogue is an input error, not a
new empty collection. A collection that cannot be written (a read-only mount, a folder of someone
else's) is opened read-only, without the clean-up and upgrade that :func:`open_collection` does,
which would need writing; a writable one is opened as every other command opens it.
"""

from __future__ import annotations

import contextlib
import os
import urllib.parse
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa

from . import catalogue as cat
from .collection import Collection, open_collection
from .config import Settings
from .errors import CatalogueError, InputError


@contextlib.contextmanager
def reading(settings: Settings) -> Iterator[Collection]:
    """The collection of ``settings``, opened to read; closed on leaving."""
    database = cat.sqlite_file(settings.db_url)
    if database is not None and not database.exists():
        raise InputError(f"no collection at {settings.home}: {database} does not exist "
                         "(give --home, or capture something first)")
    if database is not None and not (os.access(database, os.W_OK) and os.access(database.parent, os.W_OK)):
        collection = _open_read_only(settings, database)
    else:
        collection = open_collection(settings)
    try:
        yield collection
    finally:
        collection.close()


def _open_read_only(settings: Settings, database: Path) -> Collection:
    """SQLite ``mode=ro``; and ``immutable=1`` when no write-ahead log exists, since SQLite cannot
    open a WAL-mode database read-only without one (no writer can be at work then: a writer keeps
    a log)."""
    immutable = not Path(f"{database}-wal").exists()
    url = (f"sqlite:///file:{urllib.parse.quote(str(database.resolve()))}?mode=ro"
           + ("&immutable=1" if immutable else "") + "&uri=true")
    engine = cat.create_engine(url)
    try:
        revision = cat.current_revision(engine)
    except sa.exc.SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        raise CatalogueError(f"cannot read the read-only catalogue {database}: {reason}") from None
    head = cat.HEAD_REVISION
    if revision != head:
        engine.dispose()
        raise CatalogueError(f"the catalogue {database} is at revision {revision or 'empty'} and read-only; "
                             f"this archiver reads revision {head}: upgrade it where it can be written "
                             "(archiver db upgrade)")
    return Collection(settings=settings, catalogue=cat.Catalogue(engine), repaired=[])
