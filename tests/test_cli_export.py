"""`archiver export` as a user runs it: formats, filters, and what it does with bad input, WARC files
gone or cut behind its back, and a read-only collection."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from archiver import catalogue as cat

from .conftest import ROOT, invoke_archiver, tool


@pytest.fixture(scope="module")
def home(site, tmp_path_factory):
    """The sample post captured twice with the real command: the second capture writes revisits."""
    home = tmp_path_factory.mktemp("cli-export") / "collection"
    for _ in range(2):
        made = invoke_archiver("capture", site.post_url, "--home", str(home), "--allow-private")
        assert made.returncode == 0, made.stderr
    return home


def archiver(home, *args):
    return invoke_archiver(*args, "--home", str(home))


def catalogue(home, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(home / "archiver.db") as db:
        return db.execute(sql, params).fetchall()


def state(home) -> dict[str, tuple]:
    """Every file under ``home`` (size, modification time, sha256), less SQLite's empty write-ahead log
    and its index, which SQLite itself removes or recreates when a connection closes."""
    return {str(path.relative_to(home)): (path.stat().st_size, path.stat().st_mtime_ns,
                                          hashlib.sha256(path.read_bytes()).hexdigest())
            for path in sorted(home.rglob("*"))
            if path.is_file() and not path.name.endswith(("-wal", "-shm"))}


def warcs(home) -> list[str]:
    return sorted(str(path) for path in (home / "snapshots").glob("*.warc.gz"))


def test_cdxj_is_cdxj_indexers_sorted_index(home):
    before = state(home)
    result = archiver(home, "export", "--format", "cdxj")
    reference = subprocess.run([tool("cdxj-indexer"), "--sort", *warcs(home)], capture_output=True, text=True,
                               check=True).stdout
    count = catalogue(home, "SELECT count(*) FROM records WHERE record_type IN ('response', 'revisit')")[0][0]
    assert (result.returncode, result.stderr) == (0, f"Exported {count} records\n")
    assert result.stdout == reference and reference.count("\n") == count
    assert state(home) == before  # nothing written, not even the catalogue's time stamp


def test_json_is_one_object_per_record(home):
    result = archiver(home, "export")
    exported = json.loads(result.stdout)
    rows = catalogue(home, "SELECT r.warc_record_id, r.record_type, f.filename, r.offset, r.length, e.uuid "
                           "FROM records r JOIN warc_files f ON f.id = r.warc_file_id "
                           "JOIN capture_events e ON e.id = r.capture_event_id ORDER BY r.warc_file_id, r.offset")
    assert (result.returncode, result.stderr) == (0, f"Exported {len(rows)} records\n")
    assert [(row["record_id"], row["record_type"], row["warc_file"], row["offset"], row["length"],
             row["capture_id"]) for row in exported] == rows


def test_json_lines_and_csv_carry_the_same_rows(home):
    array = json.loads(archiver(home, "export", "--format", "json").stdout)
    lines = archiver(home, "export", "--format", "json", "--nl")
    assert [json.loads(line) for line in lines.stdout.splitlines()] == array
    table = archiver(home, "export", "--format", "csv")
    assert table.returncode == 0
    read = list(csv.DictReader(io.StringIO(table.stdout)))
    assert [row["record_id"] for row in read] == [row["record_id"] for row in array]
    assert [row["warc_date"] for row in read] == [row["warc_date"] for row in array]
    assert list(read[0]) == list(array[0])


def test_filters_select_the_records_asked_for(home, site):
    post = json.loads(archiver(home, "export", "--url", site.post_url, "--type", "response", "--type", "revisit",
                               "--role", "post").stdout)
    assert [row["record_type"] for row in post] == ["response", "revisit"]
    assert post[1]["revisit_of"] == post[0]["record_id"]
    (first, first_id), (second, second_id) = catalogue(home, "SELECT started_at, uuid FROM capture_events "
                                                             "ORDER BY started_at")
    later = json.loads(archiver(home, "export", "--since", second.replace(" ", "T") + "Z").stdout)
    assert later and {row["capture_id"] for row in later} == {second_id}
    earlier = archiver(home, "export", "--format", "cdxj", "--role", "cited", "--until", second)
    assert {json.loads(line.split(" ", 2)[2])["url"] for line in earlier.stdout.splitlines()} == {
        row[0] for row in catalogue(home, "SELECT r.target_uri FROM records r JOIN capture_events e ON "
                                          "e.id = r.capture_event_id WHERE r.role = 'cited' AND e.uuid = ? AND "
                                          "r.record_type IN ('response', 'revisit')", first_id)}


def test_a_filter_that_matches_nothing_gives_an_empty_export(home):
    result = archiver(home, "export", "--since", "2999-01-01")
    assert (result.returncode, result.stdout, result.stderr) == (0, "[]\n", "Exported 0 records\n")


@pytest.mark.parametrize("args, message", [
    (["--url", "http://x.example/never"],
     "Error: http://x.example/never: not in the catalogue (archiver capture http://x.example/never archives it)\n"),
    (["--url", "x.example/never"], "Error: 'x.example/never' is not a URL: give it with http:// or https://\n"),
    (["--since", "yesterday"],
     "Error: time 'yesterday': give an ISO 8601 date or time, e.g. 2026-11-01 or 2026-11-01T12:00:00Z\n"),
    (["--format", "csv", "--nl"], "Error: --nl goes with --format json\n"),
    (["--format", "cdxj", "--type", "request"],
     "Error: --type request: CDXJ lists response, revisit, resource, metadata records, as cdxj-indexer does\n"),
])
def test_bad_input_is_one_line_and_exit_2(home, args, message):
    result = archiver(home, "export", *args)
    assert (result.returncode, result.stderr, result.stdout) == (2, message, "")


def test_a_bad_format_is_a_click_usage_error(home):
    result = archiver(home, "export", "--format", "xml")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == ("Usage: archiver export [OPTIONS]\nTry 'archiver export --help' for help.\n\n"
                             "Error: Invalid value for '--format': 'xml' is not one of 'json', 'csv', 'cdxj'.\n")


def test_no_collection_at_home_is_an_input_error_and_creates_nothing(tmp_path):
    missing = tmp_path / "nothing-here"
    result = archiver(missing, "export")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (f"Error: no collection at {missing}: {missing / 'archiver.db'} does not exist "
                             "(give --home, or capture something first)\n")
    assert not missing.exists()


@pytest.fixture
def damaged(home, tmp_path):
    """A copy of the collection, and its WARC files oldest first."""
    copy = tmp_path / "copy"
    shutil.copytree(home, copy)
    return copy, [copy / "snapshots" / name for name, in catalogue(copy, "SELECT filename FROM warc_files "
                                                                         "ORDER BY id")]


def test_a_deleted_warc_stops_cdxj_and_is_a_warning_for_json(damaged):
    copy, files = damaged
    files[0].unlink()
    count = catalogue(copy, "SELECT count(*) FROM records r JOIN warc_files f ON f.id = r.warc_file_id "
                            "WHERE f.filename = ? AND record_type IN ('response', 'revisit')", files[0].name)[0][0]
    before = state(copy)
    result = archiver(copy, "export", "--format", "cdxj")
    assert (result.returncode, result.stdout) == (5, "")
    assert result.stderr == (f"Error: {files[0]} is missing ({count} catalogued records): the index would point "
                             "at bytes that are not there (restore the file from a copy)\n")
    listed = archiver(copy, "export", "--format", "json", "--nl")
    total = catalogue(copy, "SELECT count(*) FROM records")[0][0]
    everything = catalogue(copy, "SELECT count(*) FROM records r JOIN warc_files f ON f.id = r.warc_file_id "
                                 "WHERE f.filename = ?", files[0].name)[0][0]
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == total
    assert listed.stderr == (f"Warning: {files[0]} is missing ({everything} catalogued records); its records are "
                             f"exported as catalogued\nExported {total} records\n")
    assert state(copy) == before


def test_a_truncated_warc_stops_cdxj(damaged):
    copy, files = damaged
    end = catalogue(copy, "SELECT max(r.offset + r.length) FROM records r JOIN warc_files f "
                          "ON f.id = r.warc_file_id WHERE f.filename = ? AND record_type IN ('response', 'revisit')",
                    files[1].name)[0][0]
    with open(files[1], "r+b") as fh:
        fh.truncate(end - 1)
    result = archiver(copy, "export", "--format", "cdxj")
    assert (result.returncode, result.stdout) == (5, "")
    assert result.stderr == (f"Error: {files[1]} is truncated: {end - 1} bytes, its catalogued records end at "
                             f"byte {end}: the index would point at bytes that are not there (restore the file "
                             "from a copy)\n")
    untouched = archiver(copy, "export", "--format", "cdxj", "--until", "1999-01-01")
    assert (untouched.returncode, untouched.stdout) == (0, "")


def run_read_only(home, *args: str) -> subprocess.CompletedProcess:
    """archiver with HOME read-only: a read-only bind mount in a mount namespace of its own when run
    as root (whom permissions do not stop), else a folder and catalogue without write permission."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")}
    command = [sys.executable, "-m", "archiver", *args, "--home", str(home)]
    if os.geteuid() == 0:
        command = ["unshare", "--mount", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"', str(home),
                   *command]
        return subprocess.run(command, capture_output=True, text=True, env=environment, cwd=ROOT, timeout=120,
                              stdin=subprocess.DEVNULL)
    modes = {path: path.stat().st_mode for path in (home, home / "archiver.db")}
    for path, mode in modes.items():
        path.chmod(mode & ~0o222)
    try:
        return subprocess.run(command, capture_output=True, text=True, env=environment, cwd=ROOT, timeout=120,
                              stdin=subprocess.DEVNULL)
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


def test_a_read_only_collection_is_exported_and_left_alone(home, site, tmp_path):
    copy = tmp_path / "read-only"
    shutil.copytree(home, copy)
    before = state(copy)
    for args in (["export", "--format", "cdxj"], ["timemap", site.post_url, "--json"]):
        read_only = run_read_only(copy, *args)  # the first run finds the write-ahead log the captures left
        writable = archiver(copy, *args)
        assert writable.returncode == 0, writable.stderr
        assert (read_only.returncode, read_only.stdout, read_only.stderr) == (0, writable.stdout, writable.stderr)
        assert state(copy) == before


def test_a_read_only_catalogue_left_at_an_old_revision_says_so(home, tmp_path):
    copy = tmp_path / "old"
    shutil.copytree(home, copy)
    with sqlite3.connect(copy / "archiver.db") as db:
        db.execute("UPDATE alembic_version SET version_num = '0003'")
    result = run_read_only(copy, "export")
    assert (result.returncode, result.stdout) == (4, "")
    assert result.stderr == (f"Error: the catalogue {copy / 'archiver.db'} is at revision 0003; this archiver "
                             f"reads revision {cat.HEAD_REVISION}: upgrade it first (archiver db upgrade)\n")


def test_a_reader_that_goes_away_ends_the_export_quietly(home):
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")}
        result = subprocess.run([sys.executable, "-m", "archiver", "export", "--home", str(home)], stdout=write_end,
                                stderr=subprocess.PIPE, text=True, env=environment, timeout=120)
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr) == (141, "")
