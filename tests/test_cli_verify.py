"""`archiver verify` as a user runs it: exact output and exit codes, on intact and damaged copies."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil

import pytest

from archiver import Settings, open_collection
from archiver import catalogue as cat
from archiver.capture import capture
from archiver.output import render_table

from .conftest import invoke_archiver, run_archiver
from .test_fixity import (  # noqa: F401 - captured_fixture and home_fixture: the fixtures `captured` and `home`
    captured_fixture,
    cut_short,
    flip_compressed_byte,
    flip_payload_byte,
    home_fixture,
    post_response,
    resize_member,
    rows,
    sha256,
    the_warc,
)

SUMMARY = re.compile(r"Verified (\d+) records in (\d+) files \((\d+(?:\.\d)? k?B), (\d+(?:\.\d)? [kMG]?B)/s\): (.*)\n")


def verify(home, *args):
    return invoke_archiver("verify", *args, "--home", str(home))


def summary(stderr: str) -> tuple[int, int, str]:
    match = SUMMARY.fullmatch(stderr.splitlines(keepends=True)[-1])
    assert match, stderr
    return int(match.group(1)), int(match.group(2)), match.group(5)


def test_an_intact_collection_exits_0_and_records_a_fixity_event(home):
    count = len(rows(home, cat.records))
    result = verify(home)
    assert (result.returncode, result.stdout) == (0, "")
    assert summary(result.stderr) == (count, 1, "intact; fixity event 1")
    assert result.stderr.count("\n") == 1
    [event] = rows(home, cat.fixity_events)
    assert (event["result"], event["records_checked"], event["failures"]) == ("pass", count, 0)
    assert event["command"] == f"archiver verify --home {home}"
    again = verify(home, "--json")
    assert json.loads(again.stdout)["fixity_event_id"] == 2


def test_one_flipped_payload_byte_is_named_and_exits_6(home, site):
    warc, path = the_warc(home)
    post = post_response(home, site)
    flip_payload_byte(path, post["offset"], post["length"])
    result = verify(home)
    assert result.returncode == 6
    assert result.stdout == render_table(("REASON", "RECORD-ID", "URI", "FILE", "OFFSET", "DETAIL"), [
        ("tampered", post["warc_record_id"], site.post_url, warc["path"], post["offset"],
         "block sha256 differs from the catalogue's; block does not match its WARC-Block-Digest; payload sha256 "
         "differs from the catalogue's; payload does not match its WARC-Payload-Digest"),
        ("file-changed", "-", "-", warc["path"], "-",
         f"sha256 {sha256(path)[:16]}…, catalogued {warc['sha256'][:16]}…"),
    ]) + "\n"
    assert summary(result.stderr) == (len(rows(home, cat.records)), 1, "2 failures; fixity event 1")
    [event] = rows(home, cat.fixity_events)
    report = json.loads(event["report"])
    assert (event["result"], event["failures"], report["failures_total"], report["truncated"]) == ("fail", 2, 2, False)
    assert report["failures"][0]["record_id"] == post["warc_record_id"]


def test_a_member_5_bytes_longer_is_three_lines_not_one_per_later_record_and_exits_6(home, site):
    """Tampered, the shift once with the count of the intact records it moved, the file: not a not-found
    and an orphan for each later record."""
    warc, path = the_warc(home)
    post = post_response(home, site)
    later = sorted((r for r in rows(home, cat.records) if r["offset"] > post["offset"]), key=lambda r: r["offset"])
    resize_member(path, post["offset"], post["length"], 5, same_bytes=True)
    result = verify(home)
    assert result.returncode == 6
    assert result.stdout == render_table(("REASON", "RECORD-ID", "URI", "FILE", "OFFSET", "DETAIL"), [
        ("tampered", post["warc_record_id"], site.post_url, warc["path"], post["offset"],
         f"{post['length'] + 5} bytes long, catalogued {post['length']}"),
        ("shifted", later[0]["warc_record_id"], later[0]["target_uri"], warc["path"], later[0]["offset"],
         f"this record and the {len(later) - 1} after it are intact at their catalogued offset +5"),
        ("file-changed", "-", "-", warc["path"], "-",
         f"{warc['size'] + 5} bytes, catalogued {warc['size']}; sha256 {sha256(path)[:16]}…, "
         f"catalogued {warc['sha256'][:16]}…"),
    ]) + "\n"
    assert summary(result.stderr) == (len(rows(home, cat.records)), 1, "3 failures; fixity event 1")


def test_json_lists_every_record_lost_to_truncation(home):
    warc, cut, all_records = cut_short(home, 3)
    result = verify(home, "--json")
    assert result.returncode == 6
    data = json.loads(result.stdout)
    assert set(data) == {"result", "scope", "started_at", "ended_at", "files_checked", "records_checked",
                         "bytes_read", "failures", "fixity_event_id"}
    assert (data["result"], data["scope"], data["files_checked"], data["records_checked"], data["bytes_read"],
            data["fixity_event_id"]) == ("fail", {"everything": True}, 1, len(all_records), cut, 1)
    lost = [{"reason": "lost", "record_id": r["warc_record_id"], "target_uri": r["target_uri"], "file": warc["path"],
             "offset": r["offset"]} for r in all_records if r["offset"] + r["length"] > cut]
    assert [{key: item[key] for key in ("reason", "record_id", "target_uri", "file", "offset")}
            for item in data["failures"][:-1]] == lost
    assert data["failures"][-1]["reason"] == "file-changed"


def test_csv_and_nl_give_one_row_per_failure(home):
    warc, path = the_warc(home)
    path.unlink()
    as_csv = list(csv.DictReader(io.StringIO(verify(home, "--csv").stdout)))
    assert [(row["reason"], row["file"]) for row in as_csv] == [("missing", warc["path"])]
    as_nl = [json.loads(line) for line in verify(home, "--nl").stdout.splitlines()]
    assert [(row["reason"], row["file"], row["record_id"]) for row in as_nl] == [("missing", warc["path"], None)]


def test_missing_moved_and_unknown_files(home):
    warc, path = the_warc(home)
    (home / "snapshots" / "old").mkdir()
    path.rename(home / "snapshots" / "old" / path.name)
    (home / "snapshots" / "stray.warc.gz").write_bytes(b"")
    result = verify(home)
    assert result.returncode == 6
    assert result.stdout == render_table(("REASON", "RECORD-ID", "URI", "FILE", "OFFSET", "DETAIL"), [
        ("moved", "-", "-", f"snapshots/old/{path.name}", "-", f"catalogued at {warc['path']}"),
        ("unknown-file", "-", "-", "snapshots/stray.warc.gz", "-", "a WARC file the catalogue does not know"),
    ]) + "\n"


def test_one_url_and_one_warc_path(home, site):
    warc, path = the_warc(home)
    of_post = rows(home, cat.records, cat.records.c.target_uri == site.post_url)
    by_url = verify(home, site.post_url)
    assert (by_url.returncode, by_url.stdout) == (0, "")
    assert summary(by_url.stderr) == (len(of_post), 1, "intact; fixity event 1")
    by_path = verify(home, str(path), "--json")
    assert by_path.returncode == 0
    data = json.loads(by_path.stdout)
    assert (data["result"], data["records_checked"], data["scope"]) == (
        "pass", len(rows(home, cat.records)), {"urls": [], "record_ids": [], "files": [str(path)]})
    assert [event["scope"] for event in rows(home, cat.fixity_events)] == [
        json.dumps({"urls": [site.post_url], "record_ids": [], "files": []}), json.dumps(data["scope"])]


@pytest.mark.parametrize("args, message", [
    (["http://x.example/never"], "Error: http://x.example/never: not in the catalogue\n"),
    (["<urn:uuid:00000000-0000-0000-0000-000000000000>"],
     "Error: <urn:uuid:00000000-0000-0000-0000-000000000000>: no such record in the catalogue\n"),
    (["gopher://x.example/"], "Error: 'gopher://x.example/' has the scheme 'gopher': only http and https can be "
                              "captured\n"),
    (["no/such.warc.gz"], "Error: no/such.warc.gz: no such file\n"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(home, args, message):
    result = verify(home, *args)
    assert (result.returncode, result.stderr, result.stdout) == (2, message, "")
    assert rows(home, cat.fixity_events) == []


def test_not_a_collection(tmp_path):
    result = run_archiver("verify", "--home", str(tmp_path / "none"))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (f"Error: no collection at {tmp_path / 'none'}: {tmp_path / 'none' / 'archiver.db'} "
                             "does not exist (give --home, or capture something first)\n")
    assert not (tmp_path / "none").exists()


def test_snapshots_that_cannot_be_read_exit_5(home):
    shutil.rmtree(home / "snapshots")
    (home / "snapshots").write_text("")
    result = verify(home)
    assert (result.returncode, result.stdout, result.stderr) == (
        5, "", f"Error: cannot read the snapshots folder {home / 'snapshots'}\n")


def test_a_read_only_catalogue_still_verifies_and_says_the_event_was_not_recorded(home, site):
    """Run as root, file modes do not stop writes: the catalogue is opened read-only through SQLite."""
    read_only = ["--db", f"sqlite:///file:{home / 'archiver.db'}?mode=ro&uri=true"]
    intact = verify(home, *read_only)
    assert (intact.returncode, intact.stdout) == (0, "")
    warning, last = intact.stderr.splitlines(keepends=True)
    assert warning == "Warning: the fixity event could not be recorded: attempt to write a readonly database\n"
    assert summary(last)[2] == "intact"
    _, path = the_warc(home)
    post = post_response(home, site)
    flip_payload_byte(path, post["offset"], post["length"])
    damaged = verify(home, *read_only, "--json")
    assert damaged.returncode == 6
    data = json.loads(damaged.stdout)
    assert (data["result"], data["fixity_event_id"], data["failures"][0]["record_id"]) == (
        "fail", None, post["warc_record_id"])
    assert damaged.stderr.splitlines()[0] == warning.rstrip("\n")
    assert rows(home, cat.fixity_events) == []


def test_help_documents_exit_6():
    result = invoke_archiver("verify", "--help")
    assert result.returncode == 0
    assert "Exits 0 when everything checked is intact, 6 when anything is not." in " ".join(result.stdout.split())


def test_files_checked_in_two_processes_print_what_one_process_prints(home, site):
    """A second capture adds a second WARC file; the post's record in each is damaged (a response
    tampered, a revisit whose gzip member no longer decompresses): the output is the same, byte for
    byte, whatever --processes."""
    collection = open_collection(Settings(home=home, allow_private=True, operator="tester"), mode="write")
    try:
        capture([site.post_url], collection=collection, command="archiver capture test")
    finally:
        collection.close()
    first, second = rows(home, cat.warc_files)
    damaged = []
    for warc, flip in ((first, flip_payload_byte), (second, flip_compressed_byte)):
        [post] = rows(home, cat.records, cat.records.c.target_uri == site.post_url,
                      cat.records.c.warc_file_id == warc["id"],
                      cat.records.c.record_type.in_(["response", "revisit"]))
        flip(home / warc["path"], post["offset"], post["length"])
        damaged.append(post)
    expected = render_table(("REASON", "RECORD-ID", "URI", "FILE", "OFFSET", "DETAIL"), [
        ("tampered", damaged[0]["warc_record_id"], site.post_url, first["path"], damaged[0]["offset"],
         "block sha256 differs from the catalogue's; block does not match its WARC-Block-Digest; payload sha256 "
         "differs from the catalogue's; payload does not match its WARC-Payload-Digest"),
        ("file-changed", "-", "-", first["path"], "-",
         f"sha256 {sha256(home / first['path'])[:16]}…, catalogued {first['sha256'][:16]}…"),
        ("unreadable", damaged[1]["warc_record_id"], site.post_url, second["path"], damaged[1]["offset"],
         "a gzip member that does not decompress (damaged data)"),
        ("file-changed", "-", "-", second["path"], "-",
         f"sha256 {sha256(home / second['path'])[:16]}…, catalogued {second['sha256'][:16]}…"),
    ]) + "\n"
    records = len(rows(home, cat.records))
    for event, processes in enumerate(("1", "2"), 1):
        result = verify(home, "--processes", processes)
        assert (result.returncode, result.stdout) == (6, expected)
        assert summary(result.stderr) == (records, 2, f"4 failures; fixity event {event}")
    one, two = (json.loads(event["report"]) for event in rows(home, cat.fixity_events))
    assert one == two


def test_a_worker_killed_mid_verify_is_one_line_and_no_fixity_event(home, site):
    """kill -9 of a worker process (ARCHIVER_CRASH_AT kills the process that checks the first file):
    one readable line, exit 1, no traceback, and nothing recorded."""
    collection = open_collection(Settings(home=home, allow_private=True, operator="tester"), mode="write")
    try:
        capture([site.post_url], collection=collection, command="archiver capture test")
    finally:
        collection.close()
    events = len(rows(home, cat.fixity_events))
    result = run_archiver("verify", "--processes", "2", "--home", str(home), env={"ARCHIVER_CRASH_AT": "verify-file:1"})
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines()[-1] == (
        "Error: verify stopped: a worker process checking the WARC files died (killed, or out of memory); no fixity "
        "event was recorded: run it again, or with --processes 1")
    assert "Traceback" not in result.stderr
    assert len(rows(home, cat.fixity_events)) == events
