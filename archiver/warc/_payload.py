"""Payload bytes: the hashes taken as they stream, and Content-Encoding undone within a limit.

One owner for each: the fetcher hashes with :class:`Hashes` as bytes arrive, the writer and reader
with the same class; capture, robots and the reader inflate with :func:`decode_content`.
"""

from __future__ import annotations

import hashlib
import zlib


class Hashes:
    """sha256 always (the catalogue's digest), sha1 too when WARC headers want it."""

    def __init__(self, *, sha1: bool) -> None:
        self.sha256 = hashlib.sha256()
        self.sha1 = hashlib.sha1() if sha1 else None

    def update(self, data: bytes | memoryview) -> None:
        self.sha256.update(data)
        if self.sha1 is not None:
            self.sha1.update(data)


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
