"""Fixity: check that the WARC store still holds, byte for byte, what the catalogue says it holds.

:func:`check` re-reads each WARC file once, front to back, walking its records
(:func:`archiver.warc.walk_records`) and matching them to the file's catalogue rows in offset
order, while hashing the whole file to compare with its catalogued size and sha256. Each
record's block and payload digests are recomputed (see :mod:`archiver.warc` (the reader)) and
compared with the catalogue and with the record's own
``WARC-Block-Digest`` / ``WARC-Payload-Digest``; its WARC header fields are compared with the
catalogue row. Records in the files that the catalogue does not know are orphans; WARC files in
``snapshots/`` it does not know, and ``.open`` files no running capture holds, are reported too.

:func:`run_fixity` runs the check and records it as one ``fixity_events`` row. Nothing else is
written: verify opens its collection in ``append`` mode (:func:`archiver.collection.open_collection`),
which creates, upgrades, repairs and reconciles nothing, so that verify sees the store as it is.

Everything streams: the catalogue rows of a file come from a cursor in offset order and records
are read one at a time, so memory does not grow with the collection (only with the failures found).
:func:`run_fixity` checks files side by side in forked worker processes, each returning its files'
counts and failures only (:class:`_Tally`), merged in file order.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import hashlib
import json
import os
import socket
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator

import sqlalchemy as sa

from .. import __version__, faults
from .. import catalogue as cat
from ..collection import Collection
from ..errors import ArchiverError, CatalogueError, InputError, StoreError
from ..net import check_url
from ..warc import (
    OPEN_SUFFIX,
    READ_SIZE,
    RecordFacts,
    RecordType,
    Unreadable,
    bracketed_record_id,
    file_sha256,
    parse_digest,
    parse_warc_date,
    walk_records,
)

EXIT_DAMAGED = 6  # the exit code of `archiver verify` when anything checked is not intact
REPORT_CAP = 1000  # failures kept in a fixity event's report (the full count is kept beside them)
WARC_SUFFIXES = (".warc.gz", ".warc")

# Why something checked is not intact: files, then records.
MISSING = "missing"  # the catalogued WARC file is not there (nor anywhere else with its name and sha256)
MOVED = "moved"  # it is not there, but the same file is elsewhere in the collection
LEFT_OPEN = "left-open"  # a .open file no running capture holds (a killed capture; the next one repairs it)
FILE_CHANGED = "file-changed"  # size or sha256 differ from the catalogue's
UNKNOWN_FILE = "unknown-file"  # a WARC file the catalogue does not know
LOST = "lost"  # the record's bytes are (partly) past the end of its file: the file was cut short
NOT_FOUND = "not-found"  # no record starts at the catalogued offset
TAMPERED = "tampered"  # a record whose bytes, digests, length or header fields differ
UNREADABLE = "unreadable"  # bytes that cannot be read as a WARC record (bad gzip data, not WARC)
ORPHAN = "orphan"  # a record the catalogue does not know
SHIFTED = "shifted"  # intact, but this and the records after it are some bytes from their catalogued offsets
BAD_REVISIT = "bad-revisit"  # a revisit whose original is not catalogued or has another payload digest


@dataclasses.dataclass(frozen=True, kw_only=True)
class Finding:
    """One thing checked: a file (``kind="file"``) or a record (``kind="record"``); ``reason``
    is None when it is intact. Orphan records have ``catalogued=False``."""

    kind: str
    file: str
    reason: str | None = None
    record_id: str | None = None
    target_uri: str | None = None
    offset: int | None = None
    detail: str = ""
    catalogued: bool = True
    bytes_read: int = 0

    @property
    def ok(self) -> bool:
        return self.reason is None

    def as_json(self) -> dict[str, Any]:
        return {"reason": self.reason, "record_id": self.record_id, "target_uri": self.target_uri,
                "file": self.file, "offset": self.offset, "detail": self.detail}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Scope:
    """What to verify: everything, or only these URLs, record ids and WARC files."""

    urls: tuple[str, ...] = ()
    record_ids: tuple[str, ...] = ()
    paths: tuple[Path, ...] = ()

    @property
    def everything(self) -> bool:
        return not (self.urls or self.record_ids or self.paths)

    def as_json(self) -> dict[str, Any]:
        if self.everything:
            return {"everything": True}
        return {"urls": list(self.urls), "record_ids": list(self.record_ids),
                "files": [str(path) for path in self.paths]}


def parse_targets(targets: Iterable[str]) -> Scope:
    """Command-line targets: ``http(s)://`` URLs, record ids (``<urn:uuid:...>``), else WARC paths."""
    urls, record_ids, paths = [], [], []
    for target in targets:
        text = target.strip()
        if text.startswith(("<urn:", "urn:")):
            record_ids.append(bracketed_record_id(text))
        elif "://" in text:
            urls.append(check_url(text))
        else:
            paths.append(Path(text))
    return Scope(urls=tuple(dict.fromkeys(urls)), record_ids=tuple(dict.fromkeys(record_ids)),
                 paths=tuple(dict.fromkeys(paths)))


# -- the check --------------------------------------------------------------------------------


def check(collection: Collection, *, scope: Scope = Scope(),
          progress: Callable[[int, int], None] | None = None) -> Iterator[Finding]:
    """Verify what ``scope`` names, one finding per file and per record checked (intact or not),
    plus one per orphan record and per WARC file or ``.open`` file the catalogue does not know.
    ``progress(done, total)`` is called after each catalogued file.

    Raises InputError before reading anything if the scope names a URL, record id or file the
    catalogue does not know (a WARC file that exists but is not catalogued is a finding instead).
    """
    checker = _Checker(collection)
    with collection.catalogue.reader() as reader:
        plan = list(_plan(collection, reader, scope))
        for done, item in enumerate(plan, 1):
            yield from checker.check_file(reader, item, scope=scope)
            if progress is not None:
                progress(done, len(plan))
        yield from checker.uncatalogued(reader, scope=scope)


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Item:
    """One catalogued file to check: the path given for it (or None), and whether only the
    records the scope names are checked (else the whole file)."""

    file_row: dict[str, Any]
    given: Path | None
    filtered: bool


@dataclasses.dataclass(kw_only=True)
class _Tally:
    """What findings add up to: files and catalogued records checked, bytes read, failures."""

    files: int = 0
    records: int = 0
    bytes_read: int = 0
    failures: list[Finding] = dataclasses.field(default_factory=list)

    def add(self, findings: Iterable[Finding]) -> _Tally:
        for finding in findings:
            self.files += finding.kind == "file"
            self.records += finding.kind == "record" and finding.catalogued
            self.bytes_read += finding.bytes_read
            if not finding.ok:
                self.failures.append(finding)
        return self

    def merge(self, other: _Tally) -> None:
        self.files += other.files
        self.records += other.records
        self.bytes_read += other.bytes_read
        self.failures.extend(other.failures)


def _tallies(collection: Collection, plan: list[_Item], *, scope: Scope, processes: int) -> Iterator[_Tally]:
    """Each planned file checked and tallied, in plan order: in this process, or shared among
    ``processes`` worker processes (each with its own catalogue reader), results taken in order."""
    if processes <= 1 or len(plan) <= 1:
        checker = _Checker(collection)
        yield from (_tally_file(checker, item, scope) for item in plan)
        return
    import concurrent.futures
    import multiprocessing

    # Forked: a worker starts in milliseconds with everything imported (spawned, each would take
    # half a second to import what verify needs). It touches nothing of this process but the
    # collection, and opens its own catalogue connections (:func:`_start_worker`).
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(max_workers=min(processes, len(plan)), mp_context=context,
                                                initializer=_start_worker, initargs=(collection,)) as pool:
        try:
            yield from pool.map(_check_in_worker, plan, [scope] * len(plan))
        except concurrent.futures.process.BrokenProcessPool as exc:
            raise ArchiverError("verify stopped: a worker process checking the WARC files died (killed, or out of "
                                "memory); no fixity event was recorded: run it again, or with --processes 1") from exc


_worker: _Checker | None = None  # a worker process's checker


def _start_worker(collection: Collection) -> None:
    """In a forked worker: the parent's catalogue connections are left to it (dropped here, not
    closed, as SQLAlchemy says for a fork); this process makes its own."""
    global _worker
    collection.catalogue.engine.dispose(close=False)
    _worker = _Checker(collection)


def _check_in_worker(item: _Item, scope: Scope) -> _Tally:
    assert _worker is not None
    return _tally_file(_worker, item, scope)


def _tally_file(checker: _Checker, item: _Item, scope: Scope) -> _Tally:
    faults.point("verify-file")
    with checker.collection.catalogue.reader() as reader:
        return _Tally().add(checker.check_file(reader, item, scope=scope))


def _plan(collection: Collection, reader: sa.Connection, scope: Scope) -> Iterator[_Item]:
    """The catalogued files to check, after checking that every target is known. Only file rows
    are held: a few per target at most."""
    f, r = cat.warc_files, cat.records
    if scope.everything:
        yield from (_Item(file_row=dict(row._mapping), given=None, filtered=False)
                    for row in reader.execute(sa.select(f).order_by(f.c.id)))
        return
    for url in scope.urls:
        if reader.execute(sa.select(r.c.id).where(r.c.target_uri == url).limit(1)).first() is None:
            raise InputError(f"{url}: not in the catalogue")
    for record_id in scope.record_ids:
        if reader.execute(sa.select(r.c.id).where(r.c.warc_record_id == record_id)).first() is None:
            raise InputError(f"{record_id}: no such record in the catalogue")
    for path in scope.paths:
        row = _catalogued_name(reader, path.name)
        if row is None:
            if not path.exists():
                raise InputError(f"{path}: no such file")
            continue  # reported as an unknown file
        stored = collection.resolve(row["path"])
        if not path.exists() and path.resolve() != stored.resolve():
            raise InputError(f"{path}: no such file (the catalogue has {path.name} at {stored})")
    for path in scope.paths:
        row = _catalogued_name(reader, path.name)
        if row is not None:
            yield _Item(file_row=row, given=path, filtered=False)
    file_ids = reader.execute(sa.select(r.c.warc_file_id).distinct().where(_wanted(scope))
                              .order_by(r.c.warc_file_id)).scalars().all()
    for file_id in file_ids:
        yield _Item(file_row=dict(reader.execute(sa.select(f).where(f.c.id == file_id)).one()._mapping), given=None,
                    filtered=True)


def _wanted(scope: Scope) -> sa.ColumnElement[bool]:
    """The records the scope's URLs and record ids name."""
    r = cat.records
    return sa.or_(r.c.target_uri.in_(scope.urls), r.c.warc_record_id.in_(scope.record_ids))


def _catalogued_name(reader: sa.Connection, filename: str) -> dict[str, Any] | None:
    f = cat.warc_files
    row = reader.execute(sa.select(f).where(f.c.filename == filename)).first()
    return dict(row._mapping) if row is not None else None


def _rows_query(file_id: int, record_filter: sa.ColumnElement[bool] | None) -> sa.Select[Any]:
    """The records of a file in offset order, each with the original a revisit refers to."""
    r = cat.records
    original = r.alias("original")
    query = (sa.select(r.c.warc_record_id, r.c.offset, r.c.length, r.c.record_type, r.c.target_uri, r.c.warc_date,
                       r.c.content_length, r.c.block_sha256, r.c.payload_sha256, r.c.block_digest,
                       r.c.payload_digest, r.c.revisit_of_id, original.c.id.label("original_id"),
                       original.c.payload_sha256.label("original_payload_sha256"))
             .outerjoin(original, r.c.revisit_of_id == original.c.id)
             .where(r.c.warc_file_id == file_id).order_by(r.c.offset, r.c.id))
    return query.where(record_filter) if record_filter is not None else query


class _Reader:
    """A file read front to back: every byte read is counted and, while nothing seeks, hashed."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.position = 0
        self.bytes_read = 0
        self.hash: Any = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.fh.read(size)
        if self.hash is not None:
            self.hash.update(data)
        self.position += len(data)
        self.bytes_read += len(data)
        return data

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int) -> None:
        """Jump (to go on past damage): the whole-file hash is then taken by reading it again."""
        self.fh.seek(offset)
        self.position = offset
        self.hash = None

    def sha256(self) -> str:
        """The whole file's sha256, reading what is left (or all of it again after a seek)."""
        if self.hash is None:
            self.seek(0)
            self.hash = hashlib.sha256()
        while self.read(READ_SIZE):
            pass
        digest: str = self.hash.hexdigest()
        return digest


class _Checker:
    def __init__(self, collection: Collection) -> None:
        self.collection = collection
        self._by_name: dict[str, list[Path]] | None = None  # WARC files in the collection, for moved ones

    def name(self, path: Path) -> str:
        return self.collection.relative(path)

    # -- one catalogued file ---------------------------------------------------------------

    def check_file(self, reader: sa.Connection, item: _Item, *, scope: Scope) -> Iterator[Finding]:
        file_row, given = item.file_row, item.given
        record_filter = _wanted(scope) if item.filtered else None
        stored = self.collection.resolve(file_row["path"])
        place = given if given is not None else stored
        count = reader.execute(sa.select(sa.func.count()).select_from(_rows_query(file_row["id"], record_filter)
                                                                       .subquery())).scalar_one()
        if not place.exists() and file_row["status"] == "open" and Path(str(place) + OPEN_SUFFIX).exists():
            open_path = Path(str(place) + OPEN_SUFFIX)
            if not _held(open_path):
                yield Finding(kind="file", file=self.name(open_path), reason=LEFT_OPEN,
                              detail=f"left by a killed capture with {count} catalogued records; "
                                     "the next capture repairs it")
            return  # else being written by a running capture: checked once it is closed
        moved_to = None
        if not place.exists():
            moved_to, read = self._moved(file_row, stored) if given is None else (None, 0)
            if moved_to is None:
                yield Finding(kind="file", file=self.name(place), reason=MISSING, bytes_read=read,
                              detail=f"the file is gone ({count} catalogued records)")
                return
            place = moved_to
        display = self.name(place)
        rows = reader.execute(_rows_query(file_row["id"], record_filter))
        try:
            fh = open(place, "rb")
        except OSError as exc:
            raise StoreError(f"cannot read {place}: {exc.strerror}") from None
        with fh:
            file = _Reader(fh)
            size = os.fstat(fh.fileno()).st_size
            if record_filter is None:
                yield from self._walk(file, rows, size, display)
                problems = self._file_problems(file_row, size, file.sha256())
            else:
                yield from self._pick(file, rows, size, display)
                problems = []
        if moved_to is not None:
            problems.insert(0, f"catalogued at {self.name(stored)}")
        yield Finding(kind="file", file=display, reason=(MOVED if moved_to is not None else FILE_CHANGED)
                      if problems else None, detail="; ".join(problems), bytes_read=file.bytes_read)

    @staticmethod
    def _file_problems(file_row: dict[str, Any], size: int, sha256: str) -> list[str]:
        problems = []
        if file_row["size"] is not None and size != file_row["size"]:
            problems.append(f"{size} bytes, catalogued {file_row['size']}")
        if file_row["sha256"] is not None and sha256 != file_row["sha256"]:
            problems.append(f"sha256 {sha256[:16]}…, catalogued {file_row['sha256'][:16]}…")
        return problems

    def _walk(self, file: _Reader, rows: Iterable[sa.Row[Any]], size: int, display: str) -> Iterator[Finding]:
        """Every record of the file in one pass, merged with its catalogue rows by offset. When the
        next catalogued record turns up at another offset than its row's (a record before it was
        rewritten to another length), the rows after it are looked for that many bytes on, and a run
        of intact records found there is one ``shifted`` finding, not a not-found and an orphan each."""
        rows = iter(rows)
        pending = next(rows, None)
        shift = _Shift()
        while True:
            damaged = False
            for item in walk_records(file):
                if (pending is not None and isinstance(item, RecordFacts) and item.record_id == pending.warc_record_id
                        and item.offset != pending.offset + shift.by):
                    yield from shift.end()
                    shift.by = item.offset - pending.offset
                while pending is not None and pending.offset + shift.by < item.offset:
                    yield from shift.end()
                    yield self._absent(pending, size, display)
                    pending = next(rows, None)
                row = None
                if pending is not None and pending.offset + shift.by == item.offset:
                    row, pending = pending, next(rows, None)
                finding = self._judge(row, item, size, display, shift=shift.by)
                if shift.by and row is not None and finding.ok:
                    yield from shift.add(finding)
                else:
                    yield from shift.end()
                    yield finding
                damaged = isinstance(item, Unreadable)
            if not damaged or pending is None or pending.offset + shift.by >= size:
                break
            file.seek(pending.offset + shift.by)  # record boundaries are lost past damage: go on at the next row
        yield from shift.end()
        while pending is not None:
            yield self._absent(pending, size, display)
            pending = next(rows, None)

    def _pick(self, file: _Reader, rows: Iterable[sa.Row[Any]], size: int, display: str) -> Iterator[Finding]:
        """Only the records asked for, each read at its catalogued offset."""
        for row in rows:
            if row.offset >= size:
                yield self._absent(row, size, display)
                continue
            file.seek(row.offset)
            item = next(walk_records(file), None)
            if item is None or item.offset != row.offset:
                yield self._absent(row, size, display)
            else:
                yield self._judge(row, item, size, display)

    # -- one record ------------------------------------------------------------------------

    def _judge(self, row: sa.Row[Any] | None, item: RecordFacts | Unreadable, size: int, display: str, *,
               shift: int = 0) -> Finding:
        if row is None:
            if isinstance(item, Unreadable):
                return Finding(kind="record", file=display, reason=UNREADABLE, offset=item.offset,
                               detail=item.detail, catalogued=False)
            return Finding(kind="record", file=display, reason=ORPHAN, record_id=item.record_id,
                           target_uri=item.target_uri, offset=item.offset, catalogued=False,
                           detail=f"a {item.record_type or 'WARC'} record the catalogue does not know")
        if row.offset + shift + row.length > size:
            return self._absent(row, size, display)
        if isinstance(item, Unreadable):
            return _record(row, display, UNREADABLE, item.detail)
        problems = _differences(row, item)
        if problems:
            return _record(row, display, TAMPERED, "; ".join(problems))
        revisit = _revisit_problem(row)
        if revisit:
            return _record(row, display, BAD_REVISIT, revisit)
        return _record(row, display, None, "")

    @staticmethod
    def _absent(row: sa.Row[Any], size: int, display: str) -> Finding:
        if row.offset >= size:
            return _record(row, display, LOST, f"starts past the end of the file ({size} bytes): cut off")
        if row.offset + row.length > size:
            return _record(row, display, LOST, f"cut off: {size - row.offset} of its {row.length} bytes are left")
        return _record(row, display, NOT_FOUND, "no record starts at this offset")

    # -- files the catalogue does not name where they are -----------------------------------

    def _moved(self, file_row: dict[str, Any], stored: Path) -> tuple[Path | None, int]:
        """Another file in the collection with the catalogued file's name (and sha256, if catalogued)."""
        read = 0
        for candidate in self._warc_files().get(file_row["filename"], []):
            if candidate.resolve() == stored.resolve():
                continue
            if file_row["sha256"] is None:
                return candidate, read
            digest, size = file_sha256(candidate)
            read += size
            if digest.hexdigest() == file_row["sha256"]:
                return candidate, read
        return None, read

    def _warc_files(self) -> dict[str, list[Path]]:
        """Every WARC file under snapshots/ and the catalogue's folder, by name (found once)."""
        if self._by_name is None:
            roots = [self.collection.snapshots]
            database = cat.sqlite_file(self.collection.settings.db_url)
            if database is not None:
                roots.append(database.parent)
            self._by_name = {}
            seen: set[Path] = set()
            for root in roots:
                for path in _walk_files(root):
                    if path.name.endswith(WARC_SUFFIXES) and path.resolve() not in seen:
                        seen.add(path.resolve())
                        self._by_name.setdefault(path.name, []).append(path)
        return self._by_name

    def uncatalogued(self, reader: sa.Connection, *, scope: Scope) -> Iterator[Finding]:
        """WARC files the scope names that the catalogue does not know; with everything in scope,
        WARC files under snapshots/ it does not know, and ``.open`` files no capture holds whose
        file it does not know either (those it knows are checked with the catalogued files)."""
        for path in scope.paths if not scope.everything else ():
            if not _catalogued_name(reader, path.name):
                yield Finding(kind="file", file=str(path), reason=UNKNOWN_FILE,
                              detail="a WARC file the catalogue does not know")
        if scope.everything:
            yield from self._unknown_files(reader)

    def _unknown_files(self, reader: sa.Connection) -> Iterator[Finding]:
        for path in _walk_files(self.collection.snapshots):
            name = path.name
            if name.endswith(OPEN_SUFFIX) and name[: -len(OPEN_SUFFIX)].endswith(WARC_SUFFIXES):
                if _catalogued_name(reader, name[: -len(OPEN_SUFFIX)]) is None and not _held(path):
                    yield Finding(kind="file", file=self.name(path), reason=LEFT_OPEN,
                                  detail="left by a killed capture before anything was catalogued; "
                                         "the next capture repairs it")
            elif name.endswith(WARC_SUFFIXES) and _catalogued_name(reader, name) is None:
                yield Finding(kind="file", file=self.name(path), reason=UNKNOWN_FILE,
                              detail="a WARC file the catalogue does not know")


class _Shift:
    """Intact records found ``by`` bytes away from their catalogued offsets: the first is held, to be
    reported once for the run (with the count of those after it), the others pass as intact."""

    def __init__(self) -> None:
        self.by = 0
        self.first: Finding | None = None
        self.after = 0

    def add(self, finding: Finding) -> Iterator[Finding]:
        if self.first is None:
            self.first = finding
            return
        self.after += 1
        yield finding

    def end(self) -> Iterator[Finding]:
        """The run's one finding, if a run is held."""
        if self.first is not None:
            detail = (f"this record and the {self.after} after it are intact at their catalogued offset {self.by:+d}"
                      if self.after else f"this record is intact at its catalogued offset {self.by:+d}")
            yield dataclasses.replace(self.first, reason=SHIFTED, detail=detail)
        self.first, self.after = None, 0


def _record(row: sa.Row[Any], display: str, reason: str | None, detail: str) -> Finding:
    return Finding(kind="record", file=display, reason=reason, record_id=row.warc_record_id,
                   target_uri=row.target_uri, offset=row.offset, detail=detail)


def _differences(row: sa.Row[Any], facts: RecordFacts) -> list[str]:
    """How the record read back differs from its catalogue row and from its own declared digests."""
    headers = facts.headers
    problems = []
    if facts.record_id != row.warc_record_id:
        return [f"the record at this offset is {facts.record_id or 'one without a WARC-Record-ID'}"]
    if facts.length != row.length:
        problems.append(f"{facts.length} bytes long, catalogued {row.length}")
    declared = headers.get("Content-Length", "")
    if not declared.isdigit() or facts.content_length != int(declared):
        problems.append(f"block of {facts.content_length} bytes, its Content-Length says {declared or 'nothing'}")
    fields = {"WARC-Type": (facts.record_type, row.record_type),
              "WARC-Target-URI": (facts.target_uri, row.target_uri),
              "WARC-Block-Digest": (headers.get("WARC-Block-Digest"), row.block_digest),
              "WARC-Payload-Digest": (headers.get("WARC-Payload-Digest"), row.payload_digest)}
    changed = [name for name, (read, catalogued) in fields.items() if read != catalogued]
    date = headers.get("WARC-Date")
    try:
        if date is None or parse_warc_date(date) != row.warc_date:
            changed.append("WARC-Date")
    except ValueError:
        changed.append("WARC-Date")
    if changed:
        problems.append("header fields differ from the catalogue: " + ", ".join(changed))
    if facts.block_sha256 != row.block_sha256:
        problems.append("block sha256 differs from the catalogue's")
    if facts.block_digest_ok is False:
        problems.append("block does not match its WARC-Block-Digest")
    if (row.record_type != RecordType.REVISIT and row.payload_sha256 is not None
            and facts.payload_sha256 != row.payload_sha256):
        problems.append("payload sha256 differs from the catalogue's")
    if facts.payload_digest_ok is False:
        problems.append("payload does not match its WARC-Payload-Digest")
    return problems


def _revisit_problem(row: sa.Row[Any]) -> str:
    """A revisit holds no payload: its catalogued payload digest is its original's, which must exist."""
    if row.record_type != RecordType.REVISIT or row.revisit_of_id is None:
        return ""
    if row.original_id is None:
        return f"its original (catalogue row {row.revisit_of_id}) is not in the catalogue"
    if row.original_payload_sha256 != row.payload_sha256:
        return "its original has another payload sha256"
    declared = parse_digest(row.payload_digest)
    if declared and declared[0] == "sha256" and declared[1].hex() != row.payload_sha256:
        return "its WARC-Payload-Digest is not its original's payload digest"
    return ""


def _held(path: Path) -> bool:
    """Whether a running writer holds the ``.open`` file's lock (taking none: a shared probe)."""
    try:
        with open(path, "rb") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            return False
    except FileNotFoundError:
        return True  # renamed by its writer meanwhile: closed, not left behind


def _walk_files(root: Path) -> Iterator[Path]:
    """Files under ``root``, sorted, symlinks not followed; StoreError if it cannot be read."""
    if not root.exists():
        return

    def fail(exc: OSError) -> None:
        raise StoreError(f"cannot read {exc.filename}: {exc.strerror}")

    for folder, folders, files in os.walk(root, onerror=fail):
        folders.sort()
        for name in sorted(files):
            yield Path(folder) / name


# -- a run, recorded ----------------------------------------------------------------------------


@dataclasses.dataclass(kw_only=True)
class FixityResult:
    result: str  # "pass" or "fail"
    scope: dict[str, Any]
    started_at: dt.datetime
    ended_at: dt.datetime
    files_checked: int
    records_checked: int
    bytes_read: int
    failures: list[Finding]
    fixity_event_id: int | None
    event_error: str | None  # why the fixity event could not be written (a read-only catalogue)

    @property
    def seconds(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()

    def as_json(self) -> dict[str, Any]:
        return {"result": self.result, "scope": self.scope, "started_at": self.started_at.isoformat(),
                "ended_at": self.ended_at.isoformat(), "files_checked": self.files_checked,
                "records_checked": self.records_checked, "bytes_read": self.bytes_read,
                "failures": [failure.as_json() for failure in self.failures],
                "fixity_event_id": self.fixity_event_id}


def run_fixity(collection: Collection, *, scope: Scope = Scope(), command: str,
               progress: Callable[[int, int], None] | None = None) -> FixityResult:
    """Run the check of :func:`check` and record it as a ``fixity_events`` row. A catalogue that
    cannot be written (read-only) costs the event only: ``event_error`` says why, the result stands.

    The catalogued files are shared among worker processes (``settings.processes``; 0: one per
    file, at most one per core), each tallying its files' findings; the tallies are merged in
    file order, so the result is the same whatever the number of processes."""
    started = dt.datetime.now(dt.timezone.utc)
    with collection.catalogue.reader() as reader:
        plan = list(_plan(collection, reader, scope))
    processes = collection.settings.processes or os.cpu_count() or 1
    total = _Tally()
    for done, tally in enumerate(_tallies(collection, plan, scope=scope, processes=processes), 1):
        total.merge(tally)
        if progress is not None:
            progress(done, len(plan))
    with collection.catalogue.reader() as reader:
        total.add(_Checker(collection).uncatalogued(reader, scope=scope))
    files, records, read, failures = total.files, total.records, total.bytes_read, total.failures
    result = FixityResult(result="fail" if failures else "pass", scope=scope.as_json(), started_at=started,
                          ended_at=dt.datetime.now(dt.timezone.utc), files_checked=files, records_checked=records,
                          bytes_read=read, failures=failures, fixity_event_id=None, event_error=None)
    report = {"failures": [failure.as_json() for failure in failures[:REPORT_CAP]],
              "failures_total": len(failures), "truncated": len(failures) > REPORT_CAP}
    catalogue = collection.catalogue
    try:
        with catalogue.transaction() as connection:
            result.fixity_event_id = catalogue.insert(connection, cat.fixity_events, {
                "started_at": result.started_at, "ended_at": result.ended_at, "result": result.result,
                "scope": json.dumps(result.scope), "files_checked": files, "records_checked": records,
                "bytes_read": read, "failures": len(failures), "report": json.dumps(report, ensure_ascii=False),
                "tool_version": __version__, "hostname": socket.gethostname(),
                "operator": collection.settings.operator, "command": command})
    except CatalogueError as exc:
        cause = exc.__cause__
        result.event_error = str(getattr(cause, "orig", cause) or exc).splitlines()[0]
    return result
