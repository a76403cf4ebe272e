"""Payload bytes: the hashes taken as they stream, Transfer-Encoding and Content-Encoding undone,
and the sha256 of a whole file.

One owner for each: the fetcher hashes with :class:`Hashes` as bytes arrive, the writer and reader
with the same class; the fetcher, robots and the reader de-chunk with :func:`dechunked` and inflate
with :func:`decode_content`; the writer, the collection's repair and verify hash files with
:func:`file_sha256`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from pathlib import Path
from typing import Any, Protocol

FILE_READ_SIZE = 1 << 20


def parse_digest(label: str | None) -> tuple[str, bytes] | None:
    """``sha1:BASE32`` / ``sha256:hex`` (any RFC 4648 encoding) -> (algorithm, digest bytes)."""
    if not label or ":" not in label:
        return None
    algorithm, _, value = label.partition(":")
    algorithm = algorithm.strip().lower().replace("-", "")
    if algorithm not in hashlib.algorithms_available:
        return None
    size = hashlib.new(algorithm).digest_size
    value = value.strip()
    for decode in (bytes.fromhex, lambda text: base64.b32decode(text, casefold=True), base64.b64decode):
        try:
            raw = decode(value)
        except (ValueError, binascii.Error):
            continue
        if len(raw) == size:
            return algorithm, raw
    return None


class Hashes:
    """sha256 always (the catalogue's digest), sha1 too when WARC headers want it, and, to check a
    record read back, the algorithm its digest header ``declared`` (:meth:`matches`)."""

    def __init__(self, *, sha1: bool = False, declared: str | None = None) -> None:
        self.expected = parse_digest(declared)
        algorithm = self.expected[0] if self.expected else None
        self.sha256 = hashlib.sha256()
        self.sha1 = hashlib.sha1() if sha1 or algorithm == "sha1" else None
        self.other = hashlib.new(algorithm) if algorithm not in (None, "sha256", "sha1") else None

    def update(self, data: bytes | memoryview) -> None:
        self.sha256.update(data)
        if self.sha1 is not None:
            self.sha1.update(data)
        if self.other is not None:
            self.other.update(data)

    def matches(self) -> bool | None:
        """Does the declared digest match (None: none declared, or in an unknown algorithm)?"""
        if self.expected is None:
            return None
        algorithm, digest = self.expected
        actual = {"sha256": self.sha256, "sha1": self.sha1}.get(algorithm) or self.other
        return None if actual is None else actual.digest() == digest


def file_sha256(path: Path | str) -> tuple[Any, int]:
    """The sha256 of a file's bytes (a hashlib object: its hex digest, or more bytes to add) and
    how many were read, streamed."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while data := fh.read(FILE_READ_SIZE):
            digest.update(data)
            size += len(data)
    return digest, size


class Readable(Protocol):
    """What reads bytes: a file, a response, warcio's readers."""

    def read(self, size: int = ..., /) -> bytes: ...


def dechunked(body: Readable, transfer_encoding: str | None) -> Readable:
    """An HTTP body read from its start with ``Transfer-Encoding: chunked`` removed if it was
    chunked: the payload, as WARC 1.1 (section 6.3.2) takes it. Bytes that are not valid chunks
    pass through as they are."""
    if "chunked" not in (transfer_encoding or "").lower():
        return body
    from warcio.bufferedreaders import ChunkedDataReader

    reader: Readable = ChunkedDataReader(body, raise_exceptions=False)
    return reader


def decode_content(payload: bytes, content_encoding: str | None, *, limit: int) -> bytes:
    """Undo gzip/deflate Content-Encoding, never producing more than ``limit`` bytes."""
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        wbits = 47 if encoding != "deflate" else 15
        try:
            decompressor = zlib.decompressobj(wbits)
            return decompressor.decompress(payload, limit)
        except zlib.error:
            if encoding == "deflate":
                return zlib.decompressobj(-15).decompress(payload, limit)
            return payload
    return payload
