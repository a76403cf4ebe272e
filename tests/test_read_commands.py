"""One way to open a collection: read commands never create, upgrade, repair or write.

Every read command runs (in-process, through click) against a captured collection while its
catalogue's files are hashed before and after; each runs again with a typo'd --home and must
create nothing.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from archiver import catalogue as cat
from archiver.capture import capture
from archiver.collection import Mode, open_collection
from archiver.config import resolve
from archiver.warc import WarcWriter

from .conftest import invoke_archiver as invoke
from .test_collection import dead_pid, die, start_event
from .test_warc import WARCINFO, resource


def read_commands(url: str) -> dict[str, list[str]]:
    return {
        "history": ["history", url],
        "show": ["show", url],
        "search": ["search", "Qalamoun"],
        "provenance": ["provenance", url],
        "timemap": ["timemap", url],
        "export": ["export"],
        "export-cdxj": ["export", "--format", "cdxj"],
        "changes": ["changes"],
        "diff": ["diff", url],
        "schedule-list": ["schedule", "--list"],
        "db-current": ["db", "current"],
    }


READ_COMMANDS = list(read_commands("http://x.example/"))


@pytest.fixture(scope="module")
def collection_home(site, tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("read-commands")
    with open_collection(resolve({"home": home, "allow_private": True}), mode=Mode.WRITE) as collection:
        capture([site.post_url], collection=collection, command="test")
        capture([site.post_url], collection=collection, command="test")  # two versions, for diff
    with sqlite3.connect(home / "archiver.db") as db:  # what a killed capture leaves, which writing would repair
        db.execute("INSERT INTO capture_events (uuid, started_at, outcome, tool, tool_version, operator, hostname, "
                   "pid, command, seeds, settings) SELECT 'killed', started_at, 'running', tool, tool_version, "
                   "operator, hostname, ?, command, seeds, settings FROM capture_events LIMIT 1", (dead_pid(),))
    db.close()
    return home


def catalogue_files(home: Path) -> dict[str, str]:
    """SHA-256 of the catalogue and its write-ahead log (the -shm index is SQLite's shared memory)."""
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(home.iterdir()) if path.name in ("archiver.db", "archiver.db-wal")}


def tree(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*")}


@pytest.mark.parametrize("name", READ_COMMANDS)
@pytest.mark.parametrize("log", ["no-wal", "wal"])
def test_a_read_command_leaves_the_catalogue_byte_identical(collection_home, site, name, log):
    args = read_commands(site.post_url)[name]
    writer = None
    if log == "wal":  # another process writing: its log is there, and stays unread by us
        writer = sqlite3.connect(collection_home / "archiver.db")
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute("INSERT INTO schedules (url, interval_seconds, enabled, next_due_at, created_at) "
                       "VALUES ('http://wal.example/', 60, 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')")
        writer.commit()
        assert (collection_home / "archiver.db-wal").stat().st_size > 0
    try:
        before, files = catalogue_files(collection_home), tree(collection_home)
        result = invoke(*args, "--home", str(collection_home))
        assert result.returncode == 0, result.stderr
        assert result.stdout and "Error" not in result.stderr
        assert catalogue_files(collection_home) == before
        assert tree(collection_home) - {"archiver.db-shm"} == files - {"archiver.db-shm"}
    finally:
        if writer is not None:
            writer.execute("DELETE FROM schedules WHERE url = 'http://wal.example/'")
            writer.commit()
            writer.close()


@pytest.mark.parametrize("name", ["show", "history", "diff"])
def test_a_cited_url_that_answered_301_is_followed_to_the_page_saying_so(collection_home, manifest, name):
    [page] = [item for item in manifest["expected"] if item.get("redirected_from")]
    cited, final = page["redirected_from"], page["url"]
    said = invoke(name, cited, "--home", str(collection_home))
    assert (said.returncode, said.stderr) == (0, f"{cited} redirected to {final} (301): showing {final}\n")
    followed = json.loads(invoke(name, cited, "--home", str(collection_home), "--json").stdout)
    redirected = {"url": cited, "http_status": 301, "to": final}
    if name == "diff":  # the cited URL's own checks, which followed the redirect when they were made
        assert (followed["url"], followed["changed"], followed["redirected_from"]) == (cited, False, redirected)
        return
    direct = json.loads(invoke(name, final, "--home", str(collection_home), "--json").stdout)
    if name == "show":
        assert followed == {**direct, "redirected_from": redirected}
    else:  # the URL's own captures (the 301s), and the page's among them
        assert [row["http_status"] for row in followed] == [301, 200, 301, 200]
        assert followed[1::2] == [{**row, "redirected_from": redirected} for row in direct]
        assert "redirected_from" not in followed[0] and "redirected_from" not in followed[2]


def test_verify_reads_and_adds_its_fixity_event_only(collection_home):
    def dump() -> list[str]:
        with sqlite3.connect(f"file:{collection_home / 'archiver.db'}?mode=ro", uri=True) as db:
            return [line for line in db.iterdump() if "fixity_events" not in line]

    before, files = dump(), tree(collection_home)
    events = len(_rows(collection_home, "fixity_events"))
    result = invoke("verify", "--home", str(collection_home))
    assert result.returncode == 0, result.stderr
    assert dump() == before
    assert len(_rows(collection_home, "fixity_events")) == events + 1
    assert tree(collection_home) - {"archiver.db-shm", "archiver.db-wal"} == files - {"archiver.db-shm",
                                                                                       "archiver.db-wal"}


def _rows(home: Path, table: str) -> list[tuple]:
    with sqlite3.connect(f"file:{home / 'archiver.db'}?mode=ro", uri=True) as db:
        return db.execute(f"SELECT * FROM {table}").fetchall()


@pytest.mark.parametrize("name", [*READ_COMMANDS, "verify", "browse"])
def test_a_typo_in_home_is_one_line_and_creates_nothing(tmp_path, name):
    typo = tmp_path / "colection"
    args = {**read_commands("http://x.example/"), "verify": ["verify"], "browse": ["browse", "--port", "0"]}[name]
    result = invoke(*args, "--home", str(typo))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (f"Error: no collection at {typo}: {(typo / 'archiver.db').resolve()} does not exist "
                             "(give --home, or capture something first)\n")
    assert list(tmp_path.iterdir()) == []


def test_a_typo_in_db_is_one_line_and_creates_nothing(tmp_path):
    typo = tmp_path / "catalog.db"
    result = invoke("history", "http://x.example/", "--home", str(tmp_path), "--db", f"sqlite:///{typo}")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"Error: no catalogue at {typo}: check --db, or capture something into it first\n"
    assert list(tmp_path.iterdir()) == []


def test_an_older_catalogue_names_the_upgrade_and_is_left_as_it_is(tmp_path):
    from alembic import command

    engine = cat.create_engine(f"sqlite:///{tmp_path / 'archiver.db'}")
    with engine.begin() as connection:
        command.upgrade(cat.alembic_config(connection), "0003")
    engine.dispose()
    before = catalogue_files(tmp_path)
    result = invoke("history", "http://x.example/", "--home", str(tmp_path))
    assert (result.returncode, result.stdout) == (4, "")
    assert result.stderr == (f"Error: the catalogue {(tmp_path / 'archiver.db').resolve()} is at revision 0003; "
                             f"this archiver reads revision {cat.HEAD_REVISION}: upgrade it first "
                             "(archiver db upgrade)\n")
    assert catalogue_files(tmp_path) == before
    current = invoke("db", "current", "--home", str(tmp_path))
    assert current.stdout == f"0003 (newest: {cat.HEAD_REVISION}; upgraded by `archiver db upgrade` or a capture)\n"
    assert invoke("db", "upgrade", "--home", str(tmp_path)).returncode == 0
    assert invoke("history", "http://x.example/", "--home", str(tmp_path)).stderr == (
        "Error: http://x.example/: not in the catalogue (archiver capture http://x.example/ archives it)\n")


def test_a_killed_runs_open_file_is_left_for_the_next_capture_and_verify_reports_it(tmp_path):
    settings = resolve({"home": tmp_path})
    collection = open_collection(settings, mode=Mode.WRITE)
    capture_id = start_event(collection, pid=dead_pid())
    writer = WarcWriter(settings.snapshots, warcinfo_fields=WARCINFO + [("capture-id", capture_id)])
    writer.write(resource(b"a record no catalogue row holds yet"))
    path = writer.current.path.with_name(writer.current.path.name + ".open")
    die(writer)
    collection.close()
    before, files = path.read_bytes(), tree(tmp_path)
    for args in (["export"], ["changes"], ["schedule", "--list"], ["db", "current"]):
        result = invoke(*args, "--home", str(tmp_path))
        assert result.returncode == 0, result.stderr
        assert (path.read_bytes(), tree(tmp_path) - {"archiver.db-shm", "archiver.db-wal"}) == (
            before, files - {"archiver.db-shm", "archiver.db-wal"})
    verified = invoke("verify", "--home", str(tmp_path))
    name = path.relative_to(tmp_path)
    assert (verified.returncode, verified.stdout.splitlines(), verified.stderr) == (6, [
        f"REASON     RECORD-ID  URI  FILE{' ' * (len(str(name)) - 4)}  OFFSET  DETAIL",
        f"left-open  -          -    {name}  -       left by a killed capture before anything was catalogued; "
        "the next capture repairs it"], "Verified 0 records in 1 files (0 B, 0 B/s): 1 failures; fixity event 1\n")
    assert path.read_bytes() == before
