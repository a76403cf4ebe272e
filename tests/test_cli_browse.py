"""`archiver browse` as a user runs it: Datasette on the catalogue, read-only, stopped by a signal."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import time

import pytest
import requests

from archiver import catalogue as cat
from archiver.query import QUERIES

from .conftest import invoke_archiver

READY = re.compile(r"Browsing (.+) read-only at (http://127\.0\.0\.1:\d+/archiver) \(Ctrl-C stops\)\n")


@pytest.fixture(scope="module")
def captured(site, tmp_path_factory):
    home = tmp_path_factory.mktemp("browse") / "collection"
    made = invoke_archiver("capture", site.post_url, "--home", str(home), "--allow-private")
    assert made.returncode == 0, made.stderr
    return home


@contextlib.contextmanager
def browsing(home, *args: str, env: dict | None = None):
    """`archiver browse --port 0` in a subprocess, yielded once it says where it listens."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")} | (env or {})
    process = subprocess.Popen([sys.executable, "-m", "archiver", "browse", "--home", str(home), "--port", "0",
                                *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                               env=environment)
    try:
        process.said = read_until(process, READY)
        process.url = READY.search(process.said).group(2)
        yield process
    finally:
        process.kill()
        process.communicate()


def read_until(process, pattern: re.Pattern, timeout: float = 60) -> str:
    """The stderr of ``process`` up to the first match of ``pattern``, read as it comes."""
    said = b""
    deadline = time.monotonic() + timeout
    while not pattern.search(said.decode(errors="replace")):
        ready, _, _ = select.select([process.stderr], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(process.stderr.fileno(), 4096) if ready else b""
        assert chunk, f"no {pattern.pattern!r} on stderr within {timeout} s (exit {process.poll()}): {said!r}"
        said += chunk
    return said.decode()


def stop(process, sig: int = signal.SIGTERM) -> tuple[str, str]:
    process.send_signal(sig)
    out, err = process.communicate(timeout=60)
    return out.decode(), process.said + err.decode()


def counts(home) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(f"{(home / 'archiver.db').as_uri()}?mode=ro", uri=True)) as db:
        return {name: db.execute(f"select count(*) from {name}").fetchone()[0] for name in cat.metadata.tables}


def moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_browse_answers_the_canned_queries_and_writes_nothing(site, captured):
    history = json.loads(invoke_archiver("history", site.post_url, "--home", str(captured), "--json").stdout)
    changes = json.loads(invoke_archiver("changes", "--home", str(captured), "--json").stdout)
    before, files = counts(captured), contents(captured)
    with browsing(captured) as process:
        assert READY.search(process.said).group(1) == str((captured / "archiver.db").resolve())
        url = process.url
        rows = requests.get(f"{url}/history.json", params={"url": site.post_url, "_shape": "array"}, timeout=30)
        assert [{**row, "changed": bool(row["changed"]), "captured_at": moment(row["captured_at"])}
                for row in rows.json()] == [{**row, "captured_at": moment(row["captured_at"])} for row in history]
        found = requests.get(f"{url}/changes.json", params={"since": "", "_shape": "array"}, timeout=30).json()
        assert [(row["url"], moment(row["at"]), row["change"], json.loads(row["citing"]), row["http_status"])
                for row in found] == [(item["url"], moment(item["at"]), item["change"], item["citing"],
                                       item["http_status"]) for item in changes]
        [record] = requests.get(f"{url}/provenance.json", params={"record_id": history[0]["record_id"],
                                                                   "_shape": "array"}, timeout=30).json()
        assert (record["target_uri"], record["warc_file"], record["offset"], record["capture_id"]) == (
            site.post_url, history[0]["warc_file"], history[0]["offset"], history[0]["capture_id"])
        assert json.loads(record["redirect_chain"]) == [{"url": site.post_url, "http_status": 200}]
        assert (record["command"], record["parent_url"], record["request_record_id"][:10]) == (
            f"archiver capture {site.post_url} --home {captured} --allow-private", None, "<urn:uuid:")
        tables = requests.get(f"{url}.json", timeout=30).json()["tables"]
        assert {table["name"]: table["count"] for table in tables if table["name"] in before} == before
        refused = requests.get(f"{url}.json", params={"sql": "insert into schedules (url) values ('x')"}, timeout=30)
        assert (refused.status_code, refused.json()["error"]) == (400, "Statement must be a SELECT")
        sneaked = requests.get(f"{url}.json", timeout=30, params={
            "sql": "with x as (select 1) insert into schedules (url, interval_seconds, next_due_at, enabled, "
                   "created_at) select 'http://x.example/', 60, '2026-01-01', 1, '2026-01-01' from x"})
        assert (sneaked.status_code, sneaked.json()["error"]) == (400, "attempt to write a readonly database")
        out, _ = stop(process)
    assert (process.returncode, out) == (130, "")
    assert counts(captured) == before
    assert contents(captured) == files


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_it_with_exit_130(captured, sig):
    with browsing(captured) as process:
        assert requests.get(process.url, timeout=30).status_code == 200
        out, err = stop(process, sig)
    assert (process.returncode, out) == (130, "")
    assert err == (f"Browsing {(captured / 'archiver.db').resolve()} read-only at {process.url} (Ctrl-C stops)\n"
                   "Stopped.\n")


def test_a_bad_url_is_one_line_on_the_terminal_and_its_traceback_in_a_log(captured, tmp_path):
    with browsing(captured, env={"TMPDIR": str(tmp_path)}) as process:
        assert requests.get(f"{process.url}/nope", timeout=30).status_code == 404
        assert requests.get(f"{process.url}/records", params={"_sort": "nope"}, timeout=30).status_code == 500
        out, err = stop(process)
    log = tmp_path / f"archiver-browse-{process.pid}.log"
    assert (process.returncode, out) == (130, "")
    assert err == (f"Browsing {(captured / 'archiver.db').resolve()} read-only at {process.url} (Ctrl-C stops)\n"
                   f"Failed: GET /archiver/nope: 404 Table not found (details in {log})\n"
                   f"Failed: GET /archiver/records?_sort=nope: 500 Cannot sort table by nope (details in {log})\n"
                   "Stopped.\n")
    assert log.read_text(encoding="utf-8").count("Traceback") >= 2


def test_open_shows_the_catalogue_in_the_web_browser(captured, tmp_path):
    browser = tmp_path / "browser"
    browser.write_text(f"#!{sys.executable}\nimport sys\nprint('browser got', sys.argv[1], file=sys.stderr)\n")
    browser.chmod(0o755)
    with browsing(captured, "--open", env={"BROWSER": str(browser)}) as process:
        said = read_until(process, re.compile(r"browser got (\S+)\n"))
        assert said.endswith(f"browser got {process.url}\n")
        page = requests.get(process.url, timeout=30).text
        assert all(query["title"] in page for query in QUERIES.values())
        out, _ = stop(process)
    assert (process.returncode, out) == (130, "")


def test_a_busy_port_is_one_line_and_exit_2(captured):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = invoke_archiver("browse", "--home", str(captured), "--port", str(port))
    assert (result.returncode, result.stdout, result.stderr) == (
        2, "", f"Error: cannot listen on 127.0.0.1:{port}: Address already in use\n")


def test_without_datasette_it_says_how_to_install_it(captured):
    code = ("import sys; sys.modules['datasette'] = None; from archiver.cli import main; "
            "sys.argv = ['archiver', *sys.argv[1:]]; main()")
    result = subprocess.run([sys.executable, "-c", code, "browse", "--home", str(captured)], capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert (result.returncode, result.stdout, result.stderr) == (
        2, "", "Error: archiver browse needs Datasette: run pip install '.[browse]' in the archiver checkout\n")


def old_catalogue(home):
    from alembic import command

    home.mkdir(parents=True)
    engine = cat.create_engine(f"sqlite:///{home / 'archiver.db'}")
    with engine.begin() as connection:
        command.upgrade(cat.alembic_config(connection), "0003")
    engine.dispose()


@pytest.mark.parametrize("prepare, args, code, error", [
    (None, ["--db", "postgresql://archivist:secret@db.example/archive"], 2,
     "archiver browse needs the SQLite catalogue (HOME/archiver.db); postgresql://archivist:***@db.example/archive "
     "is postgresql"),
    (None, [], 2, "no collection at {home}: {db} does not exist (give --home, or capture something first)"),
    (lambda home: home.mkdir() or (home / "archiver.db").write_bytes(b"not a database, a text file\n" * 100), [], 4,
     "cannot read the catalogue {db}: file is not a database"),
    (old_catalogue, [], 4, "the catalogue {db} is at revision 0003; this archiver reads revision {head}: "
                           "upgrade it first (archiver db upgrade)"),
], ids=["postgresql", "no-catalogue", "not-sqlite", "old-revision"])
def test_a_catalogue_it_cannot_browse_is_one_line(home, prepare, args, code, error):
    if prepare:
        prepare(home)
    files = contents(home)
    result = invoke_archiver("browse", "--home", str(home), *args)
    message = error.format(home=home, db=(home / "archiver.db").resolve(), head=cat.HEAD_REVISION)
    assert (result.returncode, result.stdout, result.stderr) == (code, "", f"Error: {message}\n")
    assert contents(home) == files


def contents(home) -> dict[str, str] | None:
    """Each file of the collection with its SHA-256, but SQLite's -wal and -shm, which a reader may create."""
    if not home.exists():
        return None
    return {str(path.relative_to(home)): sha256(path) for path in home.rglob("*")
            if path.is_file() and not path.name.endswith(("-wal", "-shm"))}


def test_a_port_out_of_range_is_a_usage_error(captured):
    result = invoke_archiver("browse", "--home", str(captured), "--port", "70000")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines()[-1] == "Error: Invalid value for '--port': 70000 is not in the range 0<=x<=65535."
