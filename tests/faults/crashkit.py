"""Helpers of the crash, concurrency and politeness cases of the fault matrix.

* :class:`CrashSite`: a small loopback site (a post, its embeds, two cited pages, robots.txt)
  whose responses can be made to stall part-way through their body, telling the test when;
* :func:`start_capture`: ``archiver capture`` in a real subprocess, optionally told to kill
  itself with SIGKILL at a crash point (:mod:`archiver.faults`);
* :func:`inspect_store`: every WARC read back with warcio, and ``archiver verify``'s check
  (whole-file sha256 and size, every record's offset, length and digests) against the catalogue;
* :func:`record_case`: one row of the fault matrix, appended as JSON to the file named by
  ``ARCHIVER_MATRIX_OUT`` when it is set; ``python -m tests.faults.crashkit FILE`` renders the
  rows as the Markdown table of ``MATRIX-crashes.md``, with totals.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import random
import subprocess
import sys
import threading
from pathlib import Path

import sqlalchemy as sa
from warcio.archiveiterator import ArchiveIterator

from archiver.collection import open_collection
from archiver.config import resolve
from archiver.query import check
from archiver.warc import read_record
from archiver.warc._writer import complete_members

from ..servers import ScriptedServer, send

POST = ('<html><head><title>Crash post</title><link rel="stylesheet" href="/style.css"></head><body>'
        '<article><h1>Crash post</h1><p>Text citing <a href="/cited-a.html">the first source</a> and '
        '<a href="/cited-b.html">the second one</a> on the crash.</p><img src="/big.jpg"><img src="/small.png">'
        '</article></body></html>')
CITED_A = ('<html><head><title>A</title></head><body><article><p>Source A, with its own picture.</p>'
           '<img src="/a.png"></article></body></html>')
CITED_B = '<html><head><title>B</title></head><body><article><p>Source B.</p></article></body></html>'
ROBOTS = "User-agent: *\nDisallow: /private/\n"


class CrashSite:
    """The site, on one ScriptedServer. ``stall(path, at)`` makes the next answer for ``path``
    send its headers and ``at`` bytes of its body, set ``stalled`` and wait for ``release``."""

    def __init__(self) -> None:
        self.server = ScriptedServer()
        big = random.Random(0).randbytes(200_000)  # incompressible: its WARC record spans 64 KiB blocks
        self.bodies: dict[str, tuple[bytes, str]] = {
            "/post.html": (POST.encode(), "text/html; charset=utf-8"),
            "/style.css": (b"body { font-family: serif }\n" * 20, "text/css"),
            "/big.jpg": (big, "image/jpeg"),
            "/small.png": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "image/png"),
            "/cited-a.html": (CITED_A.encode(), "text/html; charset=utf-8"),
            "/cited-b.html": (CITED_B.encode(), "text/html; charset=utf-8"),
            "/a.png": (b"\x89PNG\r\n\x1a\n" + bytes(range(255, -1, -1)), "image/png"),
            "/robots.txt": (ROBOTS.encode(), "text/plain"),
        }
        self._stalls: dict[str, int] = {}
        self.stalled = threading.Event()
        self.release = threading.Event()
        for path in self.bodies:
            self.server.route(path, self._handler(path))

    @property
    def post_url(self) -> str:
        return self.server.base + "/post.html"

    def url(self, path: str) -> str:
        return self.server.base + path

    @property
    def expected(self) -> set[str]:
        """Every URL a complete capture of the post archives a response for."""
        return {self.url(path) for path in self.bodies}

    def stall(self, path: str, at: int) -> None:
        self.stalled, self.release = threading.Event(), threading.Event()
        self._stalls[path] = at

    def _handler(self, path: str):
        def handle(request) -> None:
            body, content_type = self.bodies[path]
            at = self._stalls.pop(path, None)
            if at is None:
                send(request, 200, body, content_type)
                return
            request.send_response(200)
            request.send_header("Content-Type", content_type)
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            request.wfile.write(body[:at])
            request.wfile.flush()
            self.stalled.set()
            self.release.wait(60)
            request.close_connection = True

        return handle

    def close(self) -> None:
        self.release.set()
        self.server.close()


def clean_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ARCHIVER_")}
    env.update(extra)
    return env


def start_capture(home: Path, *urls: str, crash_at: str | None = None, args: tuple[str, ...] = ()
                  ) -> subprocess.Popen:
    """``archiver capture URL... --home HOME --allow-private`` in a subprocess."""
    env = clean_env(**({"ARCHIVER_CRASH_AT": crash_at} if crash_at else {}))
    return subprocess.Popen([sys.executable, "-m", "archiver", "capture", *urls, "--home", str(home),
                             "--allow-private", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            stdin=subprocess.DEVNULL)


def settings_for(home: Path, **flags):
    return resolve({"home": home, "allow_private": True, **flags}, env={})


def rows(home: Path, table: sa.Table, *where) -> list[dict]:
    engine = sa.create_engine(f"sqlite:///{home / 'archiver.db'}")
    try:
        with engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(
                sa.select(table).where(*where).order_by(table.c.id))]
    finally:
        engine.dispose()


@dataclasses.dataclass(kw_only=True)
class StoreCheck:
    warc_files: int
    records_checked: int
    invalid_warcs: list[str]  # files warcio cannot read to their end, or that verify finds damaged
    failures: list[str]  # everything `archiver verify` reports (file and record findings)
    open_files: list[str]

    @property
    def clean(self) -> bool:
        return not (self.invalid_warcs or self.failures or self.open_files)


def describe_leftover(home: Path) -> str:
    """What a killed capture left in its ``.open`` file: its whole records, the last one, and the
    bytes of a record cut short after them."""
    leftovers = sorted((home / "snapshots").glob("*.warc.gz.open"))
    if not leftovers:
        return "no WARC file begun"
    [path] = leftovers
    with open(path, "rb") as fh:
        kept = list(complete_members(fh))
    cut = path.stat().st_size - sum(length for _, length in kept)
    if not kept:
        return f"{cut} bytes, not one whole record"
    last = read_record(path, kept[-1][0])
    uri = f" {last.target_uri.rsplit('/', 1)[1]}" if last.target_uri else ""
    return f"{len(kept)} whole records, the last a {last.record_type}{uri}" + (
        f", then {cut} bytes of a record cut short" if cut else "")


def warcio_reads_whole(path: Path) -> bool:
    """warcio iterates every record and the last one ends where the file ends (warcio alone
    ends quietly at a file cut off inside a record, so the end offset is checked too)."""
    size = path.stat().st_size
    end = 0
    try:
        with open(path, "rb") as fh:
            iterator = ArchiveIterator(fh)
            for record in iterator:
                record.content_stream().read()
                iterator.read_to_end(record)
                end = iterator.get_record_offset() + iterator.get_record_length()
    except Exception:  # noqa: BLE001 - any failure to read is what is being counted
        return False
    return end == size


def inspect_store(home: Path) -> StoreCheck:
    """What `archiver verify` and warcio say about the collection at ``home``."""
    snapshots = home / "snapshots"
    warcs = sorted(snapshots.glob("*.warc.gz"))
    collection = open_collection(settings_for(home), mode="append")
    try:
        findings = list(check(collection))
    finally:
        collection.close()
    failures = [f"{f.reason} {Path(f.file).name} {f.offset} {f.detail}" for f in findings if not f.ok]
    damaged = {Path(f.file).name for f in findings if not f.ok}
    invalid = sorted({path.name for path in warcs if not warcio_reads_whole(path)} | damaged)
    return StoreCheck(warc_files=len(warcs), records_checked=sum(f.kind == "record" and f.catalogued
                                                                 for f in findings),
                      invalid_warcs=invalid, failures=failures,
                      open_files=sorted(path.name for path in snapshots.glob("*.open")))


# -- hostile machines --------------------------------------------------------------------------
# Root is needed to mount (CI runs as root); as root, file modes stop nothing, so a mount it is.


def _mount(*args: str) -> None:
    assert os.geteuid() == 0, "this case mounts a file system: run it as root (CI does)"
    subprocess.run(["mount", *args], check=True, capture_output=True)


@contextlib.contextmanager
def tiny_store(path: Path, size: str):
    """``path`` on a tmpfs of ``size``: a disk that fills up."""
    path.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


@contextlib.contextmanager
def read_only_store(path: Path):
    """``path`` bind-mounted onto itself read-only: writes fail with EROFS, even for root."""
    path.mkdir(parents=True, exist_ok=True)
    _mount("--bind", str(path), str(path))
    try:
        _mount("-o", "remount,bind,ro", str(path))
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


_LOCKER = ("import sqlite3, sys\n"
           "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
           "db.execute('BEGIN EXCLUSIVE')\n"
           "print('locked', flush=True)\n"
           "sys.stdin.read()\n"
           "db.execute('ROLLBACK')\n")


@contextlib.contextmanager
def catalogue_locked(db: Path):
    """Another process holding ``BEGIN EXCLUSIVE`` on the catalogue until the block ends."""
    locker = subprocess.Popen([sys.executable, "-c", _LOCKER, str(db)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout.readline() == "locked\n"
        yield locker
    finally:
        locker.stdin.close()
        locker.wait(30)


# -- the matrix --------------------------------------------------------------------------------


def record_case(*, case: str, test: str, expected: str, result: str, lost: int = 0, invalid: int = 0,
                records: int = 0) -> None:
    """One row of the fault matrix (written only when ARCHIVER_MATRIX_OUT names a file)."""
    out = os.environ.get("ARCHIVER_MATRIX_OUT")
    if not out:
        return
    with open(out, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"case": case, "test": test, "expected": expected, "result": result,
                             "lost": lost, "invalid": invalid, "records": records}) + "\n")


def render(lines: list[dict]) -> str:
    """The Markdown matrix of recorded rows, with totals."""
    out = ["# Fault matrix: crashes, concurrency, politeness", "",
           "Generated, not typed: `ARCHIVER_MATRIX_OUT=/tmp/matrix.jsonl python -m pytest tests/faults` appends one "
           "JSON line per case as it runs (`crashkit.record_case`), then `python -m tests.faults.crashkit "
           "/tmp/matrix.jsonl > tests/faults/MATRIX-crashes.md` renders them. *Records checked*: catalogued "
           "records `archiver verify`'s check read back after the case. *Records lost*: URLs the redo did not "
           "archive, plus catalogued records whose bytes fail verification. *Invalid WARCs*: files that warcio "
           "cannot read to their end or that verification finds damaged.", "",
           "| case | test | expected outcome | result | records checked | records lost | invalid WARCs |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in lines:
        out.append(f"| {row['case']} | `{row['test']}` | {row['expected']} | {row['result']} | {row['records']} "
                   f"| {row['lost']} | {row['invalid']} |")
    passed = sum(row["result"] == "pass" for row in lines)
    kills = sum(row["test"].startswith("test_kill_9_at_a_seeded_point") for row in lines)
    out += ["", f"Totals: {len(lines)} cases tried ({kills} of them seeded kill -9 runs), {passed} passed, "
            f"{sum(row['records'] for row in lines)} catalogued records checked, "
            f"{sum(row['lost'] for row in lines)} records lost, {sum(row['invalid'] for row in lines)} invalid WARCs."]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as source:
        print(render([json.loads(line) for line in source if line.strip()]), end="")
