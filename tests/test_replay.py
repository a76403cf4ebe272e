"""Replay with pywb: every memento ``archiver timemap`` lists, served by pywb (a real server on
loopback) over the collection's WARC files and ``archiver export --format cdxj`` as its index (or
the index cdxj-indexer, which ``wb-manager add`` runs, makes of them), gives the page as it was, a
re-crawl the server answered 304 Not Modified included."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time

import pytest
import requests

from .conftest import assert_warcs_valid, invoke_archiver, tool
from .servers import conditional

COLLECTIONS = ("archive", "indexed")  # indexed by archiver export, by cdxj-indexer
PAGE = b"<html><body><article><p>The offensive began in May.</p></article></body></html>"


@pytest.fixture
def not_modified(server):
    """A page that answers If-None-Match with 304 Not Modified."""
    return server.route("/post.html", conditional(PAGE, "text/html; charset=utf-8"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def pywb(tmp_path):
    """Start pywb (``wayback``) on loopback over a wb-manager layout; yields (root, base URL)."""
    root = tmp_path / "pywb"
    for name in COLLECTIONS:
        (root / "collections" / name / "archive").mkdir(parents=True)
        (root / "collections" / name / "indexes").mkdir()
    (root / "config.yaml").write_text("collections:\n" + "".join(f"  {name}: $root\n" for name in COLLECTIONS))
    port = free_port()
    process = subprocess.Popen([tool("wayback"), "-b", "127.0.0.1", "-p", str(port)], cwd=root,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    try:
        while True:  # readiness: the port accepts connections
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "pywb did not start listening in 30 s"
                time.sleep(0.05)
        yield root, f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_every_memento_of_a_page_answered_304_replays_the_page_in_pywb(not_modified, home, pywb):
    root, server = pywb
    env = {"ARCHIVER_HOME": str(home)}
    assert invoke_archiver("capture", not_modified, "--allow-private", env=env).returncode == 0
    time.sleep(1 - time.time() % 1)  # the next second: a memento's timestamp has 14 digits, not one to share
    assert invoke_archiver("recrawl", not_modified, "--allow-private", env=env).returncode == 0
    history = invoke_archiver("history", not_modified, "--json", env=env)
    assert [(entry["http_status"], entry["change"]) for entry in json.loads(history.stdout)][1:] == [(304, "unchanged")]
    assert_warcs_valid(home / "snapshots")
    warcs = sorted((home / "snapshots").glob("*.warc.gz"))
    for name in COLLECTIONS:
        for path in warcs:
            shutil.copy(path, root / "collections" / name / "archive")
    index = invoke_archiver("export", "--format", "cdxj", env=env)
    assert index.returncode == 0
    (root / "collections" / "archive" / "indexes" / "index.cdxj").write_text(index.stdout)
    indexed = subprocess.run([tool("cdxj-indexer"), "--sort", *map(str, warcs)], capture_output=True, check=True)
    (root / "collections" / "indexed" / "indexes" / "index.cdxj").write_bytes(indexed.stdout)
    for name in COLLECTIONS:
        base = f"{server}{name}/"
        timemap = invoke_archiver("timemap", not_modified, "--json", "--replay-base", base, env=env)
        mementos = json.loads(timemap.stdout)["mementos"]
        assert len({memento["datetime"] for memento in mementos}) == 2
        for memento in mementos:
            timestamp = memento["uri"].removeprefix(base).split("/", 1)[0]
            framed = requests.get(f"{base}{timestamp}mp_/{not_modified}", timeout=10)  # rewritten for replay
            exact = requests.get(f"{base}{timestamp}id_/{not_modified}", timeout=10)  # as archived
            assert (name, memento["datetime"], framed.status_code, b"The offensive began in May." in framed.content,
                    exact.status_code, exact.content) == (name, memento["datetime"], 200, True, 200, PAGE)
