"""Write WARC/1.1 files: one gzip member per record, rotation, crash repair.

A file is written as ``NAME.warc.gz.open`` under an exclusive ``flock`` and renamed
to ``NAME.warc.gz`` when closed. A ``.open`` file whose lock nobody holds was left
by a killed process: :func:`repair_open_files` cuts it back to its last complete
record and closes it, so every WARC in the store reads cleanly.

Blocks are streamed from seekable files through zlib; nothing holds a whole
record in memory. Reading is left to warcio.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import fcntl
import hashlib
import io
import os
import re
import socket
import threading
import uuid
import zlib
from pathlib import Path
from typing import IO, BinaryIO, Callable, Iterator, Protocol

from .. import faults
from ..errors import StoreError
from ._payload import Hashes, file_sha256
from ._reader import RecordFacts
from ._record_type import RecordType

WARC_VERSION = "WARC/1.1"
OPEN_SUFFIX = ".open"
COPY_SIZE = 1 << 16


class _RandomIds:
    """Random (version 4) UUIDs, as :func:`uuid.uuid4` makes them, from OS randomness drawn 4 KiB at a
    time: one system call per 256 ids instead of one per id (a call that also gives up the GIL to the
    fetch threads). Refilled in a forked child, so two processes never share a pool."""

    SIZE = 4096

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool = b""
        self._used = 0
        self._pid = 0

    def next(self) -> uuid.UUID:
        with self._lock:
            if self._used >= len(self._pool) or self._pid != os.getpid():
                self._pool, self._used, self._pid = os.urandom(self.SIZE), 0, os.getpid()
            start, self._used = self._used, self._used + 16
            return uuid.UUID(bytes=self._pool[start:start + 16], version=4)


_random_ids = _RandomIds()


def new_record_id() -> str:
    return f"<urn:uuid:{_random_ids.next()}>"


def bracketed_record_id(text: str) -> str:
    """A WARC-Record-ID as records carry it and the catalogue holds it (``<urn:uuid:...>``), from one
    given with or without its angle brackets."""
    return text if text.startswith("<") else f"<{text}>"


def warc_date(moment: dt.datetime) -> str:
    """WARC 1.1 date with microseconds, always UTC."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def digest_label(algorithm: str, hashes: Hashes) -> str:
    """``sha256:<hex>`` (as browsertrix-crawler writes) or ``sha1:<BASE32>`` (legacy indexes)."""
    if algorithm == "sha1":
        assert hashes.sha1 is not None  # hashes of a sha1 writer take sha1 too
        return "sha1:" + base64.b32encode(hashes.sha1.digest()).decode("ascii")
    return "sha256:" + hashes.sha256.hexdigest()


@dataclasses.dataclass(kw_only=True)
class Block:
    """A record's content: a seekable stream, its length and its digests."""

    stream: IO[bytes]
    length: int
    hashes: Hashes

    @classmethod
    def from_bytes(cls, data: bytes, *, sha1: bool) -> "Block":

        hashes = Hashes(sha1=sha1)
        hashes.update(data)
        return cls(stream=io.BytesIO(data), length=len(data), hashes=hashes)

    @classmethod
    def from_stream(cls, stream: IO[bytes], length: int, hashes: Hashes) -> "Block":
        return cls(stream=stream, length=length, hashes=hashes)


@dataclasses.dataclass(kw_only=True)
class Record:
    """A WARC record to write: type, named fields (without Content-Length) and block."""

    type: str
    record_id: str
    date: dt.datetime
    fields: list[tuple[str, str]]
    block: Block
    incompressible: bool = False  # already-compressed payload: deflate it at level 1, same size, faster

    def field(self, name: str) -> str | None:
        for key, value in self.fields:
            if key.lower() == name.lower():
                return value
        return None

    def facts(self, location: "Location") -> RecordFacts:
        """What this record, written at ``location``, says about itself, as :func:`read_record` reads
        it back; the HTTP status and payload digest are the exchange's to give (None here)."""
        return RecordFacts(
            record_id=self.record_id,
            record_type=self.type,
            target_uri=self.field("WARC-Target-URI"),
            offset=location.offset,
            length=location.length,
            content_length=self.block.length,
            block_sha256=self.block.hashes.sha256.hexdigest(),
            payload_sha256=None,
            http_status=None,
            headers={"WARC-Type": self.type, "WARC-Record-ID": self.record_id, "WARC-Date": warc_date(self.date),
                     **dict(self.fields), "Content-Length": str(self.block.length)},
            block_digest_ok=True,
            payload_digest_ok=None,
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Location:
    """Where a record's gzip member sits."""

    path: Path
    offset: int
    length: int


@dataclasses.dataclass(kw_only=True)
class WarcFile:
    """A WARC file written by this process (or repaired by it)."""

    path: Path  # final path (without .open)
    opened_at: dt.datetime
    closed_at: dt.datetime | None = None
    size: int = 0
    sha256: str | None = None
    warcinfo: Record | None = None


class WarcWriter:
    """Writes records to rotating ``PREFIX-TIMESTAMP-SERIAL-HOST.warc.gz`` files.

    ``warcinfo_fields`` is the body of the warcinfo record each file starts with.
    ``on_open(file, warcinfo_location)`` and ``on_close(file)`` let the catalogue
    follow the files. Not thread-safe: one writer thread per instance.
    """

    def __init__(
        self,
        directory: Path,
        *,
        prefix: str = "archiver",
        max_size: int = 1 << 30,
        compress_level: int = 6,
        digest: str = "sha256",
        warcinfo_fields: list[tuple[str, str]],
        on_open: Callable[[WarcFile, Location], None] | None = None,
        on_close: Callable[[WarcFile], None] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.prefix = prefix
        self.max_size = max_size
        self.compress_level = compress_level
        self.digest = digest
        self.warcinfo_fields = warcinfo_fields
        self.on_open = on_open
        self.on_close = on_close
        self.host = re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname()) or "localhost"
        self.current: WarcFile | None = None
        self._fh: BinaryIO | None = None
        self._file_hash = hashlib.sha256()  # of the current file
        self._size = 0  # bytes written to the current file (tell() on a buffered file is slow)
        self._serial = 0
        self.files: list[WarcFile] = []

    # -- files ---------------------------------------------------------------------------

    def _open_next(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the WARC folder {self.directory}: {exc.strerror}") from None
        now = dt.datetime.now(dt.timezone.utc)
        stamp = now.strftime("%Y%m%d%H%M%S") + f"{now.microsecond // 1000:03d}"
        while True:
            name = f"{self.prefix}-{stamp}-{self._serial:05d}-{self.host}.warc.gz"
            self._serial += 1
            path = self.directory / name
            try:
                fh = open(str(path) + OPEN_SUFFIX, "xb", buffering=0)  # see _emit: no buffer to lose
            except FileExistsError:
                continue
            except OSError as exc:
                raise StoreError(f"cannot write to {self.directory}: {exc.strerror}") from None
            break
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._fh = fh
        self._size = 0
        self._file_hash = hashlib.sha256()
        self.current = WarcFile(path=path, opened_at=now)
        info = warcinfo_record(
            filename=name,
            fields=self.warcinfo_fields,
            digest=self.digest,
        )
        self.current.warcinfo = info
        try:
            location = self._write_member(info)
        except StoreError:  # not even the warcinfo record fits: leave no file behind
            os.unlink(str(path) + OPEN_SUFFIX)
            fh.close()
            self._fh = self.current = None
            raise
        self.files.append(self.current)
        if self.on_open:
            self.on_open(self.current, location)

    def abandon(self) -> None:
        """Close the current file without finishing it: it stays ``.open``, and the next start
        cuts it back to its last complete record and catalogues what it holds (for a run whose
        catalogue cannot be written: its records are on disk, their rows are not)."""
        if self._fh is not None:
            self._fh.close()
        self._fh = self.current = None

    def close(self) -> None:
        """Flush, fsync and rename the current file; later writes open a new one."""
        if self._fh is None or self.current is None:
            return
        self.sync()
        fh, current = self._fh, self.current
        self._fh = None
        self.current = None
        current.size = self._size
        current.sha256 = self._file_hash.hexdigest()
        current.closed_at = dt.datetime.now(dt.timezone.utc)
        os.rename(str(current.path) + OPEN_SUFFIX, current.path)
        fh.close()  # releases the lock after the rename: no window with an unlocked .open
        if self.on_close:
            self.on_close(current)

    def sync(self) -> None:
        """Make everything written so far durable (fsync)."""
        if self._fh is not None and self.current is not None:
            try:
                os.fsync(self._fh.fileno())
            except OSError as exc:
                raise StoreError(f"cannot write {self.current.path}: {exc.strerror}") from None

    # -- records ---------------------------------------------------------------------------

    def write(self, record: Record) -> Location:
        """Append ``record`` as one gzip member and return where it went."""
        [location] = self.write_all([record])
        return location

    def write_all(self, records: list[Record]) -> list[Location]:
        """Append ``records`` to one file, all or none: when a write fails (disk full, I/O error)
        the file is cut back to where the first began, so it holds only whole records, and
        StoreError says why."""
        if self._fh is not None and self._size >= self.max_size:
            self.close()
        if self._fh is None:
            self._open_next()
        assert self.current is not None and self.current.warcinfo is not None
        start = self._size
        locations = []
        try:
            for record in records:
                if record.field("WARC-Warcinfo-ID") is None:
                    record.fields.append(("WARC-Warcinfo-ID", self.current.warcinfo.record_id))
                locations.append(self._write_member(record))
        except StoreError:
            self._cut_back(start)
            raise
        return locations

    def _cut_back(self, offset: int) -> None:
        """Truncate the current file to ``offset`` (no space needed) and re-hash what is kept."""
        assert self._fh is not None  # a write into the current file failed
        try:
            os.ftruncate(self._fh.fileno(), offset)
            os.fsync(self._fh.fileno())
            digest, _ = file_sha256(self._fh.name)
        except OSError as exc:  # left .open: the next start cuts it back to its last whole record
            self.abandon()
            raise StoreError(f"cannot write to {self.directory}: {exc.strerror}") from None
        self._size = offset
        self._file_hash = digest

    def _write_member(self, record: Record) -> Location:
        assert self._fh is not None and self.current is not None
        offset = self._size
        head = [WARC_VERSION, f"WARC-Type: {record.type}", f"WARC-Record-ID: {record.record_id}",
                f"WARC-Date: {warc_date(record.date)}"]
        head += [f"{name}: {value}" for name, value in record.fields]
        head.append(f"Content-Length: {record.block.length}")
        head_bytes = ("\r\n".join(head) + "\r\n\r\n").encode("utf-8")
        level = min(self.compress_level, 1) if record.incompressible else self.compress_level
        stream = record.block.stream
        stream.seek(0)
        try:
            if record.block.length <= COPY_SIZE:
                # a small record in one call: zlib gives up the GIL on each call, and the fetch
                # threads may keep it for a whole switch interval before the writer gets it back
                block = _read_block(record, stream, record.block.length)
                self._emit(zlib.compress(head_bytes + block + b"\r\n\r\n", level, 31))
            else:
                compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
                self._emit(compressor.compress(head_bytes))
                remaining = record.block.length
                while remaining > 0:
                    chunk = _read_block(record, stream, min(COPY_SIZE, remaining))
                    remaining -= len(chunk)
                    self._emit(compressor.compress(chunk))
                    faults.point("record-block")
                self._emit(compressor.compress(b"\r\n\r\n"))
                self._emit(compressor.flush())
        except OSError as exc:
            raise StoreError(f"cannot write {self.current.path}: {exc.strerror}") from None
        faults.point("record")
        return Location(path=self.current.path, offset=offset, length=self._size - offset)

    def _emit(self, data: bytes) -> None:
        """Hand ``data`` to the kernel now (the file is unbuffered): a full disk fails this write,
        in the record being written, not a later flush after the record was reported written."""
        assert self._fh is not None
        view = memoryview(data)
        while view:
            view = view[self._fh.write(view):]
        self._file_hash.update(data)
        self._size += len(data)


def _read_block(record: Record, stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    if len(data) < size:
        raise StoreError(f"block of {record.record_id} ended {size - len(data)} bytes early")
    return data


# -- record builders ------------------------------------------------------------------


class _Exchange(Protocol):
    """What the record builders read of a fetched exchange (an :class:`archiver.net.Exchange`)."""

    url: str
    started_at: dt.datetime
    request: bytes
    response: IO[bytes]
    response_length: int
    response_hashes: Hashes
    payload_hashes: Hashes
    payload_offset: int
    peer_ip: str | None
    status: int | None
    truncated: str | None

    def header(self, name: str) -> str | None: ...

    @property
    def content_type(self) -> str | None: ...

    @property
    def has_response(self) -> bool: ...


def warcinfo_record(*, filename: str, fields: list[tuple[str, str]], digest: str) -> Record:
    body = "".join(f"{name}: {value}\r\n" for name, value in fields).encode("utf-8")
    block = Block.from_bytes(body, sha1=digest == "sha1")
    return Record(
        type=RecordType.WARCINFO,
        record_id=new_record_id(),
        date=dt.datetime.now(dt.timezone.utc),
        fields=[
            ("WARC-Filename", filename),
            ("Content-Type", "application/warc-fields"),
            ("WARC-Block-Digest", digest_label(digest, block.hashes)),
        ],
        block=block,
    )


_COMPRESSED_TYPES = re.compile(
    r"(image/(?!svg|bmp|x-icon|vnd\.microsoft\.icon)|video/|audio/|font/woff|"
    r"application/(zip|gzip|x-gzip|x-bzip2|x-xz|x-7z-compressed|vnd\.rar|x-rar-compressed|zstd))", re.I)


def is_compressed(content_type: str | None, content_encoding: str | None) -> bool:
    """Is this payload already compressed (so deflating it again gains nothing)?"""
    if content_encoding and content_encoding.strip().lower() not in ("", "identity"):
        return True
    return bool(content_type and _COMPRESSED_TYPES.match(content_type))


def exchange_records(exchange: _Exchange, *, digest: str) -> list[Record]:
    """The response record (if any bytes came back) and the request record (if any were sent)
    of one fetched exchange (a :class:`archiver.net.Exchange`), tied by WARC-Concurrent-To."""
    records = []
    common = [("WARC-Target-URI", exchange.url)]
    if exchange.peer_ip:
        common.append(("WARC-IP-Address", exchange.peer_ip))
    response_id = None
    if exchange.has_response:
        fields = [*common, ("Content-Type", "application/http;msgtype=response"),
                  ("WARC-Block-Digest", digest_label(digest, exchange.response_hashes))]
        if exchange.status is not None:
            fields.append(("WARC-Payload-Digest", digest_label(digest, exchange.payload_hashes)))
        if exchange.truncated:
            fields.append(("WARC-Truncated", exchange.truncated))
        block = Block.from_stream(exchange.response, exchange.response_length, exchange.response_hashes)
        response = Record(type=RecordType.RESPONSE, record_id=new_record_id(), date=exchange.started_at, fields=fields,
                          block=block, incompressible=is_compressed(exchange.content_type,
                                                                    exchange.header("content-encoding")))
        response_id = response.record_id
        records.append(response)
    request = request_record(exchange, digest=digest, concurrent_to=response_id)
    return records + ([request] if request else [])


def request_record(exchange: _Exchange, *, digest: str, concurrent_to: str | None) -> Record | None:
    """The request record of an exchange (None if nothing was sent), concurrent to its response."""
    if not exchange.request:
        return None
    block = Block.from_bytes(exchange.request, sha1=digest == "sha1")
    fields = [("WARC-Target-URI", exchange.url)]
    if exchange.peer_ip:
        fields.append(("WARC-IP-Address", exchange.peer_ip))
    fields += [*([("WARC-Concurrent-To", concurrent_to)] if concurrent_to else []),
               ("Content-Type", "application/http;msgtype=request"),
               ("WARC-Block-Digest", digest_label(digest, block.hashes))]
    return Record(type=RecordType.REQUEST, record_id=new_record_id(), date=exchange.started_at, fields=fields,
                  block=block)


PROFILE_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
PROFILE_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
RESPONSE_LINE = "WARC-HTTP-Response-Line"  # a 304's revisit: one line of the response as received
RESPONSE_DIGEST = "WARC-HTTP-Response-Digest"  # ... and the digest of its bytes


@dataclasses.dataclass(frozen=True, kw_only=True)
class Original:
    """The record a revisit refers to."""

    record_id: str
    target_uri: str
    date: dt.datetime


def revisit_records(exchange: _Exchange, *, digest: str, original: Original) -> list[Record]:
    """A revisit record (the response's HTTP headers only, referring to ``original``) and the request
    record, for an exchange whose payload is already archived (``PROFILE_IDENTICAL``); a 304 Not
    Modified gets :func:`not_modified_records`.

    The revisit carries the profile, ``WARC-Refers-To`` (the original's record id: the exact
    record, so that the WARC file alone leads back to the bytes without the catalogue),
    ``WARC-Refers-To-Target-URI`` and ``WARC-Refers-To-Date`` (how replay tools find it),
    ``WARC-Payload-Digest``, and the HTTP headers as its block."""
    exchange.response.seek(0)
    head = exchange.response.read(exchange.payload_offset)
    revisit = _revisit(exchange, digest=digest, profile=PROFILE_IDENTICAL, original=original, head=head,
                       payload_digest=digest_label(digest, exchange.payload_hashes))
    request = request_record(exchange, digest=digest, concurrent_to=revisit.record_id)
    return [revisit] + ([request] if request else [])


def _revisit(exchange: _Exchange, *, digest: str, profile: str, original: Original, head: bytes,
             payload_digest: str | None, received: list[tuple[str, str]] | None = None) -> Record:
    """A revisit record of ``exchange`` referring to ``original``, with ``head`` as its block and
    ``received`` (the response as received, when the block is not it) among its named fields."""
    block = Block.from_bytes(head, sha1=digest == "sha1")
    fields = [("WARC-Target-URI", exchange.url)]
    if exchange.peer_ip:
        fields.append(("WARC-IP-Address", exchange.peer_ip))
    fields += [("WARC-Profile", profile), ("WARC-Refers-To", original.record_id),
               ("WARC-Refers-To-Target-URI", original.target_uri),
               ("WARC-Refers-To-Date", warc_date(original.date)),
               *(received or []),
               ("Content-Type", "application/http;msgtype=response"),
               ("WARC-Block-Digest", digest_label(digest, block.hashes)),
               *([("WARC-Payload-Digest", payload_digest)] if payload_digest else [])]
    return Record(type=RecordType.REVISIT, record_id=new_record_id(), date=exchange.started_at, fields=fields,
                  block=block)


def not_modified_records(exchange: _Exchange, *, digest: str, original: Original, head: bytes,
                         payload_digest: str | None) -> list[Record]:
    """For an exchange the server answered 304 Not Modified: a revisit record (``PROFILE_NOT_MODIFIED``)
    that replay tools resolve to ``original`` and that keeps the 304 as received, and the request
    record (its If-None-Match / If-Modified-Since).

    The revisit's block is the original's HTTP head (``head``: status line and headers as archived) and
    it carries the original's ``payload_digest``, as an identical-payload revisit carries its own: pywb
    serves a revisit whose block holds a 3xx status line as it is, with an empty body, and resolves any
    other through WARC-Refers-To-Target-URI, WARC-Refers-To-Date and the payload digest, as wabac.js
    does. The 304 itself is in the revisit's named fields, which replay tools do not read: one
    ``WARC-HTTP-Response-Line`` per line of it, decoded as Latin-1 (so encoding the values back as
    Latin-1 gives its bytes), and ``WARC-HTTP-Response-Digest``, the digest of the exact bytes received."""
    exchange.response.seek(0)
    received = exchange.response.read(exchange.response_length).decode("latin-1")
    lines = [(RESPONSE_LINE, line) for line in re.split(r"\r?\n", received.removesuffix("\r\n\r\n"))]
    lines.append((RESPONSE_DIGEST, digest_label(digest, exchange.response_hashes)))
    revisit = _revisit(exchange, digest=digest, profile=PROFILE_NOT_MODIFIED, original=original, head=head,
                       payload_digest=payload_digest, received=lines)
    request = request_record(exchange, digest=digest, concurrent_to=revisit.record_id)
    return [revisit] + ([request] if request else [])


def metadata_record(
    *, target_uri: str, refers_to: str, date: dt.datetime, fields: list[tuple[str, str]], digest: str
) -> Record:
    body = "".join(f"{name}: {value}\r\n" for name, value in fields).encode("utf-8")
    block = Block.from_bytes(body, sha1=digest == "sha1")
    return Record(
        type=RecordType.METADATA,
        record_id=new_record_id(),
        date=date,
        fields=[
            ("WARC-Target-URI", target_uri),
            ("WARC-Refers-To", refers_to),
            ("WARC-Concurrent-To", refers_to),
            ("Content-Type", "application/warc-fields"),
            ("WARC-Block-Digest", digest_label(digest, block.hashes)),
        ],
        block=block,
    )


def warcinfo_fields(path: Path) -> dict[str, str]:
    """The fields of the warcinfo record a WARC file starts with (empty if it does not)."""
    from warcio.archiveiterator import ArchiveIterator

    with open(path, "rb") as fh:
        record = next(iter(ArchiveIterator(fh)), None)
        if record is None or record.rec_type != RecordType.WARCINFO:
            return {}
        text = record.content_stream().read().decode("utf-8", "replace")
    return dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)


# -- crash repair ---------------------------------------------------------------------


@dataclasses.dataclass(kw_only=True)
class Repaired:
    """A ``.open`` file closed by :func:`repair_open_files`."""

    path: Path
    kept: list[tuple[int, int]]  # (offset, length) of each complete record kept
    cut_bytes: int
    size: int
    sha256: str


def complete_members(fh: BinaryIO) -> Iterator[tuple[int, int]]:
    """Yield (offset, length) of each leading gzip member holding one whole WARC record."""
    offset = 0
    fh.seek(0)
    pending = b""
    while True:
        member = _read_member(fh, pending)
        if member is None:
            return
        length, pending, ok = member
        if not ok:
            return
        yield offset, length
        offset += length


def _read_member(fh: BinaryIO, pending: bytes) -> tuple[int, bytes, bool] | None:
    decompressor = zlib.decompressobj(31)
    consumed = 0
    head = b""
    total = 0
    tail = b""
    data = pending
    while True:
        if not data:
            data = fh.read(COPY_SIZE)
            if not data:
                return None if consumed == 0 else (consumed, b"", False)
        try:
            out = decompressor.decompress(data)
        except zlib.error:
            return consumed, b"", False
        if len(head) < 65536:
            head += out[: 65536 - len(head)]
        total += len(out)
        tail = (tail + out)[-4:]
        if decompressor.eof:
            unused = decompressor.unused_data
            consumed += len(data) - len(unused)
            return consumed, unused, _is_whole_record(head, total, tail)
        consumed += len(data)
        data = b""


def _is_whole_record(head: bytes, total: int, tail: bytes) -> bool:
    end = head.find(b"\r\n\r\n")
    if not head.startswith(b"WARC/") or end < 0:
        return False
    match = re.search(rb"\r\ncontent-length:\s*(\d+)", head[:end], re.IGNORECASE)
    if not match:
        return False
    return total == end + 4 + int(match.group(1)) + 4 and tail == b"\r\n\r\n"


def repair_open_files(directory: Path) -> list[Repaired]:
    """Close every ``.open`` file in ``directory`` that no live process holds."""
    repaired = []
    for open_path in sorted(Path(directory).glob(f"*.warc.gz{OPEN_SUFFIX}")):
        try:
            fh = open(open_path, "r+b")
        except FileNotFoundError:
            continue  # closed by its owner meanwhile
        with fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live writer owns it
            if not os.path.exists(open_path):
                continue  # renamed by its owner before we got the lock
            kept = list(complete_members(fh))
            end = kept[-1][0] + kept[-1][1] if kept else 0
            fh.seek(0, 2)
            cut = fh.tell() - end
            fh.truncate(end)
            fh.flush()
            os.fsync(fh.fileno())
            digest, _ = file_sha256(open_path)
            final = Path(str(open_path)[: -len(OPEN_SUFFIX)])
            if not kept:  # not even the warcinfo record was complete: nothing to keep
                os.unlink(open_path)
                continue
            os.rename(open_path, final)
            repaired.append(
                Repaired(path=final, kept=kept, cut_bytes=cut, size=end, sha256=digest.hexdigest())
            )
    return repaired
