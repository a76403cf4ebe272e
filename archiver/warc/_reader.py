"""Re-read catalogued records from their WARC bytes and recompute their digests.

The payload of an HTTP response is its body with the transfer encoding removed
and the content encoding kept (WARC 1.1, section 6.3.2), so a chunked body is
de-chunked before hashing. Everything streams: no record is held inflated in memory (a walk keeps
the compressed bytes of the record before the current one, for warcio; see :func:`walk_records`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io
import sys
import threading
import zlib
from pathlib import Path
from typing import Any, BinaryIO, Iterator, Protocol, TextIO

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeadersParserException

from ..errors import StoreError
from ._payload import Hashes, dechunked, decode_content
from ._record_type import RecordType

READ_SIZE = 1 << 16


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecordFacts:
    """What the bytes of one record say about themselves."""

    record_id: str
    record_type: str
    target_uri: str | None
    offset: int
    length: int  # of the gzip member (or the uncompressed record)
    content_length: int
    block_sha256: str
    payload_sha256: str | None
    http_status: int | None
    headers: dict[str, str]  # the WARC headers
    block_digest_ok: bool | None  # WARC-Block-Digest recomputed in its own algorithm; None: absent or unknown
    payload_digest_ok: bool | None


def parse_warc_date(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.timezone.utc)


class _LimitReader(Protocol):
    """warcio's LimitReader (a record's ``raw_stream``): ``None`` reads to the limit."""

    def read(self, size: int | None = ..., /) -> bytes: ...

    def readline(self, size: int | None = ..., /) -> bytes: ...


class _HashingReader:
    def __init__(self, stream: _LimitReader, declared: str | None) -> None:
        self.stream = stream
        self.hash = Hashes(declared=declared)
        self.count = 0

    # warcio's LimitReader reads past the record's end when given -1 (only None means "to the
    # limit"): a block that ends inside its HTTP headers would take in the record separator.

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size if size >= 0 else None)
        self.hash.update(data)
        self.count += len(data)
        return data

    def readline(self, size: int | None = None) -> bytes:
        """One whole line (at most ``size`` bytes): warcio's readers may end a line early at a buffer
        boundary (when a block of compressed data inflates to nothing), so the pieces are joined."""
        data = self.stream.readline(size)
        while data and not data.endswith(b"\n") and (size is None or len(data) < size):
            more = self.stream.readline(None if size is None else size - len(data))
            if not more:
                break
            data += more
        self.hash.update(data)
        self.count += len(data)
        return data


_HEAD_READ = 4096  # compressed bytes read at a time for an HTTP head


def _open_at(path: Path, offset: int) -> BinaryIO:
    """``path`` opened for reading at ``offset``; StoreError, one line, if it cannot be."""
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from None
    fh.seek(offset)
    return fh


@contextlib.contextmanager
def _record_at(path: Path, offset: int, *, parse_http: bool) -> Iterator[tuple[ArchiveIterator, Any]]:
    """(iterator, record) for the record at ``offset`` of ``path``, the file open meanwhile."""
    with _open_at(path, offset) as fh:
        iterator = ArchiveIterator(fh, no_record_parse=not parse_http)
        record = next(iter(iterator), None)
        if record is None:
            raise StoreError(f"no WARC record at offset {offset} of {path}")
        yield iterator, record


def read_record(path: Path, offset: int) -> RecordFacts:
    """Read the record at ``offset`` of ``path`` and recompute its digests."""
    with _record_at(path, offset, parse_http=False) as (iterator, record):
        return _warcio_facts(iterator, record, offset)


class _Walked(Protocol):
    """What :func:`walk_records` reads: a binary file, or anything with its ``read`` and ``tell``."""

    def read(self, size: int = ..., /) -> bytes: ...

    def tell(self) -> int: ...


@dataclasses.dataclass(frozen=True, kw_only=True)
class Unreadable:
    """Where :func:`walk_records` had to stop: the bytes at ``offset`` are not a readable record."""

    offset: int
    detail: str


def walk_records(stream: _Walked) -> Iterator[RecordFacts | Unreadable]:
    """Each record from the current position of ``stream`` to its end, in order, read once.

    ``stream`` needs ``read`` and ``tell`` only: nothing is read twice, nothing seeks. The walk
    ends with an :class:`Unreadable` at the first record that cannot be read whole (a gzip member
    that does not decompress, a record not followed by its blank lines, bytes that are not WARC):
    past it the record boundaries are unknown.

    Records each in a gzip member of their own, as WARC writers (this one too) write them, are read
    here with zlib (:class:`_Members`). From the first record that is anything else (damaged, not
    compressed, not alone in its member, headers that are not plain ``Name: value`` lines), the
    rest is walked by warcio, handed the bytes kept since that record began: warcio names what
    is wrong, as it did before the fast path.
    """
    members = _Members(stream)
    while (facts := members.next_record()) is not None:
        yield facts
    if members.at_end:
        return
    rest = _walk_with_warcio(members.rest())
    if members.previous is not None:
        next(rest)  # the record before, read again: warcio reads the irregular one as it would after any other
    yield from rest


def _walk_with_warcio(stream: _Walked) -> Iterator[RecordFacts | Unreadable]:
    """:func:`walk_records` by warcio. It reports some damage on stderr and carries on; here
    that is caught and named instead."""
    iterator = ArchiveIterator(stream, no_record_parse=True)
    records = iter(iterator)
    while True:
        offset = iterator.offset  # where the next record starts (blank lines between records skipped)
        with _warcio_complaints() as complaints:
            try:
                record = next(records, None)
                facts = _warcio_facts(iterator, record, offset) if record is not None else None
            except (ArchiveLoadFailed, StatusAndHeadersParserException, EOFError, OSError, ValueError,
                    zlib.error) as exc:
                yield Unreadable(offset=offset, detail=_explain(exc))
                return
        if complaints.getvalue().strip():
            yield Unreadable(offset=offset, detail=_first_line(complaints.getvalue()))
            return
        if facts is None:
            break
        yield facts
    left = stream.tell() - iterator.offset
    if left > 0:  # warcio ends quietly at a record cut off inside its headers
        yield Unreadable(offset=iterator.offset, detail=f"the last {left} bytes are not a whole record")


class _Irregular(Exception):
    """A record the fast path leaves to warcio."""


_GZIP_MAGIC = b"\x1f\x8b"
_INFLATE_SIZE = 1 << 18  # inflated bytes made at a time
_FIRST_READ, _MAX_READ = 1 << 14, 1 << 18  # compressed bytes read at a time: few for one record, more for a walk
_WARC_END = b"\r\n\r\n"  # the two blank lines after a record's block
_MAX_HEAD = 1 << 16  # WARC headers longer than this are left to warcio


class _Members:
    """Records read from ``stream`` one gzip member each, with zlib. The compressed blocks read
    since the record before the current one began are kept (references, not copies), so that
    :meth:`rest` can hand warcio the stream from there when the current record is irregular."""

    def __init__(self, stream: _Walked) -> None:
        self.stream = stream
        self.block = b""
        self.block_at = stream.tell()  # where ``block`` starts in the stream
        self.pos = 0  # read up to here in ``block``
        self.kept: list[bytes] = []
        self.kept_at = self.block_at  # where ``kept[0]`` starts
        self.previous: int | None = None  # where the record before the current one starts
        self.current = self.block_at
        self.at_end = False
        self.read_size = _FIRST_READ

    def tell(self) -> int:
        return self.block_at + self.pos

    def _read(self) -> bool:
        """Read more of the stream onto what is left of the current block; False at its end."""
        data = self.stream.read(self.read_size)
        if not data:
            return False
        self.read_size = min(2 * self.read_size, _MAX_READ)
        self.kept.append(data)
        self.block_at += self.pos
        self.block, self.pos = self.block[self.pos:] + data, 0
        return True

    def take(self) -> memoryview:
        """The compressed bytes not read yet of the current block, or of a new one (empty: the end)."""
        if self.pos == len(self.block) and not self._read():
            return memoryview(b"")
        view = memoryview(self.block)[self.pos:]
        self.pos = len(self.block)
        return view

    def peek(self, count: int) -> bytes:
        """The next ``count`` compressed bytes (fewer at the end), left to read: a member can start
        a byte before a block ends."""
        while len(self.block) - self.pos < count and self._read():
            pass
        return self.block[self.pos:self.pos + count]

    def give_back(self, count: int) -> None:
        """The last ``count`` bytes taken are the next member's."""
        self.pos -= count

    def next_record(self) -> RecordFacts | None:
        """The next record, or None at the end of the stream or at a record left to warcio."""
        offset = self.tell()
        if offset != self.current:
            self.previous, self.current = self.current, offset
        while len(self.kept) > 1 and self.kept_at + len(self.kept[0]) <= (self.previous or offset):
            self.kept_at += len(self.kept.pop(0))
        head = self.peek(len(_GZIP_MAGIC))
        if head != _GZIP_MAGIC:
            self.at_end = not head
            return None
        try:
            member = _Member(self)
            headers = member.warc_headers()
            length = headers.get("Content-Length", "")
            if not length.isdigit():
                raise _Irregular
            member.limit = int(length)
            hashed = _hash_block(headers, member)
            member.limit = len(_WARC_END)
            if member.read() != _WARC_END or not member.ended():
                raise _Irregular
        except (_Irregular, zlib.error, UnicodeDecodeError):
            return None
        return _record_facts(headers, hashed, offset=offset, length=self.tell() - offset)

    def rest(self) -> _Walked:
        """The stream from the record before the one :meth:`next_record` stopped at (from that one
        if it is the first)."""
        start = self.previous if self.previous is not None else self.current
        return _Replay(b"".join(self.kept)[start - self.kept_at:], start, self.stream)


class _Replay:
    """Kept bytes, then the rest of the stream; ``tell`` counts from where the kept bytes began."""

    def __init__(self, head: bytes, at: int, stream: _Walked) -> None:
        self.head = head
        self.at = at
        self.stream = stream

    def read(self, size: int = -1) -> bytes:
        if self.head:
            data = self.head if size < 0 or size >= len(self.head) else self.head[:size]
            self.head = self.head[len(data):]
            if size < 0:
                data += self.stream.read()
        else:
            data = self.stream.read(size)
        self.at += len(data)
        return data

    def tell(self) -> int:
        return self.at


class _Member:
    """The inflated bytes of the gzip member at the current position of :class:`_Members`, read
    at most ``limit`` at a time: a record's block, as warcio's ``LimitReader`` reads it."""

    def __init__(self, members: _Members) -> None:
        self.members = members
        self.inflate = zlib.decompressobj(31)
        self.buffer = b""
        self.pos = 0
        self.limit = 0

    def _more(self) -> None:
        """Inflate some more; _Irregular if the member ended (or the stream did)."""
        if self.inflate.eof:
            raise _Irregular
        data = self.inflate.unconsumed_tail or self.members.take()
        if not data:
            raise _Irregular
        out = self.inflate.decompress(data, _INFLATE_SIZE)
        if self.inflate.eof:
            self.members.give_back(len(self.inflate.unused_data))
        self.buffer = self.buffer[self.pos:] + out
        self.pos = 0

    def _line(self, limit: int) -> bytes:
        """Up to and including the next newline, at most ``limit`` bytes."""
        while True:
            end = self.buffer.find(b"\n", self.pos, self.pos + limit)
            if end >= 0 or len(self.buffer) - self.pos >= limit:
                end = end + 1 if end >= 0 else self.pos + limit
                line = self.buffer[self.pos:end]
                self.pos = end
                return line
            self._more()

    def warc_headers(self) -> dict[str, str]:
        """The WARC headers as warcio parses them, if they are plain ``Name: value`` lines."""
        while (end := self.buffer.find(b"\r\n\r\n", self.pos)) < 0:
            if len(self.buffer) - self.pos > _MAX_HEAD:
                raise _Irregular
            self._more()
        lines = self.buffer[self.pos:end].decode("utf-8").split("\r\n")
        self.pos = end + 4
        if lines[0] not in ("WARC/1.0", "WARC/1.1"):
            raise _Irregular
        headers = {}
        for line in lines[1:]:
            name, colon, value = line.rstrip().partition(":")
            if not colon or "\n" in line or name[:1] in (" ", "\t", ""):
                raise _Irregular
            headers[name.rstrip(" \t")] = value.lstrip()
        return headers

    def read(self, size: int | None = None) -> bytes:
        """``size`` bytes (all to the limit if None), fewer only at the limit."""
        wanted = self.limit if size is None or size < 0 else min(size, self.limit)
        while len(self.buffer) - self.pos < wanted:
            self._more()
        data = self.buffer[self.pos:self.pos + wanted]
        self.pos += wanted
        self.limit -= wanted
        return data

    def readline(self, size: int | None = None) -> bytes:
        line = self._line(self.limit if size is None else min(size, self.limit)) if self.limit else b""
        self.limit -= len(line)
        return line

    def ended(self) -> bool:
        """Whether nothing is left in the member (and it ended, its CRC checked by zlib)."""
        while self.pos == len(self.buffer) and not self.inflate.eof:
            self._more()
        return self.pos == len(self.buffer) and self.inflate.eof


class _ThisThreadsStderr:
    """Stands in for ``sys.stderr``, which is one for the whole process: what the thread that made it
    writes is kept, what other threads write (a server's error report, a log line) goes on to the
    real stderr, so it is never taken for a complaint about the WARC."""

    def __init__(self, real: TextIO) -> None:
        self._real = real
        self._thread = threading.get_ident()
        self._kept = io.StringIO()

    def write(self, text: str) -> int:
        return (self._kept if threading.get_ident() == self._thread else self._real).write(text)

    def getvalue(self) -> str:
        return self._kept.getvalue()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


@contextlib.contextmanager
def _warcio_complaints() -> Iterator[_ThisThreadsStderr]:
    """What warcio writes to stderr meanwhile (it reports bad gzip data there and goes on)."""
    complaints = _ThisThreadsStderr(sys.stderr)
    with contextlib.redirect_stderr(complaints):
        yield complaints


def _explain(exc: BaseException) -> str:
    if "first line: \x1f\x8b" in str(exc):
        # warcio reads a gzip member it cannot decompress as if it were uncompressed
        return "a gzip member that does not decompress (damaged data)"
    return _first_line(exc) or type(exc).__name__


def _first_line(exc_or_text: BaseException | str) -> str:
    """The first non-blank line, bytes that are not printable shown as ``?``, at most 120 characters."""
    lines = [line.strip() for line in str(exc_or_text).splitlines() if line.strip()]
    text = "".join(char if char.isprintable() else "?" for char in lines[0]) if lines else ""
    return text if len(text) <= 120 else text[:119] + "…"


def _warcio_facts(iterator: ArchiveIterator, record: Any, offset: int) -> RecordFacts:
    """Read ``record`` (just returned by ``iterator``, starting at ``offset``) to its end, hashing it."""
    headers = {name: value for name, value in record.rec_headers.headers}
    hashed = _hash_block(headers, record.raw_stream)
    iterator.read_to_end(record)
    return _record_facts(headers, hashed, offset=offset, length=iterator.get_record_length())


@dataclasses.dataclass(frozen=True)
class _Hashed:
    block: _HashingReader
    status: int | None
    payload: Hashes | None


def _hash_block(headers: dict[str, str], raw: _LimitReader) -> _Hashed:
    """Read a record's block (``raw``) to its end, hashing it and, in an HTTP response, its payload."""
    block = _HashingReader(raw, headers.get("WARC-Block-Digest"))
    status = None
    payload = None
    is_http = (headers.get("Content-Type", "").startswith("application/http")
               and "msgtype=response" in headers.get("Content-Type", "").replace(" ", ""))
    if is_http:
        status, payload = _hash_http_payload(block, headers.get("WARC-Payload-Digest"))
        if headers.get("WARC-Type") == RecordType.REVISIT:
            payload = None  # its payload is the referred record's; the block holds headers only
    while block.read(READ_SIZE):
        pass
    return _Hashed(block, status, payload)


def _record_facts(headers: dict[str, str], hashed: _Hashed, *, offset: int, length: int) -> RecordFacts:
    block, payload = hashed.block, hashed.payload
    return RecordFacts(
        record_id=headers.get("WARC-Record-ID", ""),
        record_type=headers.get("WARC-Type", ""),
        target_uri=headers.get("WARC-Target-URI"),
        offset=offset,
        length=length,
        content_length=block.count,
        block_sha256=block.hash.sha256.hexdigest(),
        payload_sha256=payload.sha256.hexdigest() if payload else None,
        http_status=hashed.status,
        headers=headers,
        block_digest_ok=block.hash.matches(),
        payload_digest_ok=payload.matches() if payload else None,
    )


def _hash_http_payload(block: _HashingReader, declared: str | None) -> tuple[int | None, Hashes | None]:
    status_line = block.readline()
    parts = status_line.split(None, 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    transfer_encodings = []
    while True:
        line = block.readline()
        if line in (b"\r\n", b"\n", b""):
            if not line:
                return status, None  # headers never ended: no payload
            break
        name, _, value = line.decode("iso-8859-1").partition(":")
        if name.strip().lower() == "transfer-encoding":
            transfer_encodings.append(value)
    payload = Hashes(declared=declared)
    source = dechunked(block, ",".join(transfer_encodings))
    for data in iter(lambda: source.read(READ_SIZE), b""):
        payload.update(data)
    return status, payload


def read_http_head(path: Path, offset: int) -> tuple[bytes, str | None]:
    """The HTTP status line and headers of the response record at ``offset``, exactly as its block
    holds them (up to and including the blank line), and its WARC-Payload-Digest.

    A re-crawl asks this once per URL answered 304, so it inflates only the start of the record's
    gzip member, as far as the end of the HTTP head, rather than walking the record with warcio."""
    with _open_at(path, offset) as fh:
        chunk = fh.read(_HEAD_READ)
        inflate = zlib.decompressobj(31) if chunk[:2] == b"\x1f\x8b" else None
        data = b""
        fields: dict[bytes, bytes] | None = None
        while True:
            data += inflate.decompress(chunk) if inflate is not None else chunk
            warc_end = data.find(b"\r\n\r\n")
            if fields is None and warc_end >= 0:
                fields = {name.strip().lower(): value.strip() for name, _, value in
                          (line.partition(b":") for line in data[:warc_end].split(b"\r\n")[1:])}
                length = fields.get(b"content-length", b"")
                if not length.isdigit():
                    raise StoreError(f"the record at offset {offset} of {path} has no valid Content-Length")
            if fields is not None:
                block_end = warc_end + 4 + int(fields[b"content-length"])
                http_end = data.find(b"\r\n\r\n", warc_end + 4, block_end)
                if http_end >= 0:
                    break
                if len(data) >= block_end:  # the whole block read, and no HTTP head in it
                    chunk = b""
                else:
                    chunk = fh.read(_HEAD_READ)
            else:
                chunk = fh.read(_HEAD_READ)
            if not chunk or (inflate is not None and inflate.eof):
                raise StoreError(f"no HTTP response record at offset {offset} of {path}")
    digest = fields.get(b"warc-payload-digest")
    return data[warc_end + 4:http_end + 4], digest.decode("ascii", "replace") if digest is not None else None


def read_http_payload(path: Path, offset: int, *, limit: int) -> tuple[bytes, str | None]:
    """The decoded HTTP body of the response record at ``offset`` (de-chunked, content-decoded,
    at most ``limit`` bytes) and its Content-Type: a copy for parsing, never written back.

    Decoded as capture decodes a page it parses (:func:`archiver.warc.decode_content`: gzip and
    deflate, inflated no further than ``limit``), not by warcio, which inflates a whole read block
    at once and fails on brotli with the ``brotli`` package.
    """

    with _http_body(path, offset) as (source, headers):
        payload = bytearray()
        while len(payload) < limit:
            data = source.read(min(READ_SIZE, limit - len(payload)))
            if not data:
                break
            payload += data
        return (decode_content(bytes(payload), headers.get_header("Content-Encoding"), limit=limit),
                headers.get_header("Content-Type"))


def http_payload_size(path: Path, offset: int) -> int:
    """How many bytes the HTTP body of the response record at ``offset`` holds, de-chunked: the
    bytes its payload digest is of (counted as they stream by, never held whole)."""
    with _http_body(path, offset) as (source, _):
        return sum(len(data) for data in iter(lambda: source.read(READ_SIZE), b""))


@contextlib.contextmanager
def _http_body(path: Path, offset: int) -> Iterator[tuple[Any, Any]]:
    """(de-chunked HTTP body, HTTP headers) of the response record at ``offset`` of ``path``."""
    with _record_at(path, offset, parse_http=True) as (_, record):
        headers = record.http_headers
        if headers is None:
            raise StoreError(f"no HTTP response record at offset {offset} of {path}")
        yield dechunked(record.raw_stream, headers.get_header("Transfer-Encoding")), headers
