"""The least work a fixity check of WARC files can do, timed: each gzip member inflated (zlib), its
record hashed twice (block and payload digests, sha256), and each file hashed once (its own sha256).

No parsing, no catalogue: a floor for ``archiver verify`` beside the sha256-only ceiling of
bench/verify.py. Usage: ``.venv/bin/python bench/verify_floor.py FILE.warc.gz [...]``
"""

from __future__ import annotations

import hashlib
import sys
import time
import zlib

CHUNK = 1 << 16


def inflate_and_hash(path: str) -> tuple[int, int]:
    """Inflate every gzip member of ``path`` and hash its bytes twice; (compressed bytes, members)."""
    members = 0
    with open(path, "rb") as source:
        inflater, pieces, pending = zlib.decompressobj(31), [], b""
        while pending or (pending := source.read(CHUNK)):
            pieces.append(inflater.decompress(pending))
            pending = b""
            if inflater.eof:
                record = b"".join(pieces)
                hashlib.sha256(record).digest()
                hashlib.sha256(record).digest()
                members += 1
                pending, pieces, inflater = inflater.unused_data, [], zlib.decompressobj(31)
        return source.tell(), members


def file_sha256(path: str) -> None:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while block := source.read(1 << 20):
            digest.update(block)


def main(paths: list[str]) -> None:
    started = time.perf_counter()
    size = members = 0
    for path in paths:
        read, count = inflate_and_hash(path)
        size, members = size + read, members + count
    floor = time.perf_counter() - started
    started = time.perf_counter()
    for path in paths:
        file_sha256(path)
    ceiling = time.perf_counter() - started
    print(f"{size / 1e6:.1f} MB, {members} records: sha256 of the files {size / 1e6 / ceiling:.0f} MB/s (the ceiling); "
          f"inflate + two record digests + the file's sha256 {size / 1e6 / (floor + ceiling):.0f} MB/s, "
          f"{100 * ceiling / (floor + ceiling):.0f} % of the ceiling")


if __name__ == "__main__":
    main(sys.argv[1:])
