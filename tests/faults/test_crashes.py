"""Crashes and interruptions: kill -9 at seeded points, SIGTERM, disk full, a read-only store,
a locked catalogue. Afterwards every WARC reads whole, `archiver verify` passes, and the next
capture redoes what was lost."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading

import pytest

from archiver import catalogue as cat
from archiver.capture import capture, recrawl
from archiver.collection import open_collection
from archiver.warc._writer import COPY_SIZE

from ..conftest import invoke_archiver, tool
from ..servers import send
from .crashkit import (
    CrashSite,
    catalogue_locked,
    clean_env,
    describe_leftover,
    inspect_store,
    read_only_store,
    record_case,
    rows,
    settings_for,
    start_capture,
    tiny_store,
)

KINDS = ("mid-body", "record-block", "record", "commit")
STALLABLE = ("/post.html", "/big.jpg", "/cited-a.html", "/style.css")
RUNS = 50


@pytest.fixture(scope="module")
def crash_site():
    site = CrashSite()
    yield site
    site.close()


def crash_plan(site: CrashSite, seed: int) -> tuple[str, str, int]:
    """(kind, where, n): the crash point of a seeded run. ``record`` counts every WARC record
    written (the warcinfo first, then response, request, metadata ...); ``record-block`` every
    64 KiB of a block; ``commit`` every catalogue commit; ``mid-body`` stalls ``where`` after
    ``n`` bytes of its body and is killed from outside."""
    rng = random.Random(seed)
    kind = KINDS[seed % len(KINDS)]
    if kind == "mid-body":
        path = rng.choice(STALLABLE)
        return kind, path, rng.randint(1, len(site.bodies[path][0]) - 1)
    # record-block: only a block over COPY_SIZE is written piece by piece (smaller records are
    # compressed in one call), so the points to crash at are big.jpg's pieces
    pieces = -(-len(site.bodies["/big.jpg"][0]) // COPY_SIZE)
    limit = {"record-block": pieces, "record": 17, "commit": 2}[kind]
    return kind, kind, rng.randint(1, limit)


def kill_capture(site: CrashSite, home, seed: int) -> str:
    kind, where, n = crash_plan(site, seed)
    if kind == "mid-body":
        site.stall(where, n)
        process = start_capture(home, site.post_url)
        assert site.stalled.wait(60), f"the capture never asked for {where}"
        process.kill()
    else:
        process = start_capture(home, site.post_url, crash_at=f"{kind}:{n}")
    out, err = process.communicate(timeout=120)
    site.release.set()
    assert process.returncode == -signal.SIGKILL, (process.returncode, err)
    point = f"mid-body of {where} at byte {n}" if kind == "mid-body" else f"at {where} #{n}"
    return f"kill -9 {point}; left: {describe_leftover(home)}"


def redo(site: CrashSite, home, *, use_recrawl: bool) -> None:
    collection = open_collection(settings_for(home), mode="write")
    try:
        if use_recrawl:
            recrawl(collection=collection, urls=[site.post_url], command="archiver recrawl", stop=threading.Event())
        else:
            capture([site.post_url], collection=collection, command="archiver capture")
    finally:
        collection.close()


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(RUNS))
def test_kill_9_at_a_seeded_point_then_redo(crash_site, tmp_path, seed, request):
    home = tmp_path / "collection"
    case = kill_capture(crash_site, home, seed)
    redo(crash_site, home, use_recrawl=seed % 2 == 1)

    killed, again = rows(home, cat.capture_events)
    archived = {row["target_uri"] for row in rows(home, cat.records, cat.records.c.capture_event_id == again["id"],
                                                   cat.records.c.record_type.in_(("response", "revisit")),
                                                   cat.records.c.http_status == 200)}
    store = inspect_store(home)
    lost = len(crash_site.expected - archived) + sum(not f.startswith("orphan") for f in store.failures)
    verified = invoke_archiver("verify", "--home", str(home)) if seed % 10 == 9 else None  # the command too
    ok = ((killed["outcome"], again["outcome"]) == ("interrupted", "complete") and store.clean and lost == 0
          and (verified is None or verified.returncode == 0))
    record_case(case=f"{case} (seed {seed}), then {'recrawl' if seed % 2 else 'capture'}",
                test=request.node.name, result="pass" if ok else "FAIL", lost=lost,
                invalid=len(store.invalid_warcs), records=store.records_checked,
                expected="killed event interrupted; WARCs whole; verify passes; next run archives every URL")
    assert (killed["outcome"], again["outcome"]) == ("interrupted", "complete")
    assert store.open_files == [] and store.invalid_warcs == [] and store.failures == []
    assert archived == crash_site.expected
    assert verified is None or verified.returncode == 0, verified.stdout + verified.stderr


def test_warcio_check_alone_passes_a_warc_cut_off_mid_record_verify_does_not(crash_site, home, request):
    """The known trap: `warcio check` exits 0 on a truncated WARC, so the fault cases also compare
    each file's size and sha256, and every record's offset and length, with the catalogue."""
    result = invoke_archiver("capture", crash_site.post_url, "--home", str(home), "--allow-private")
    assert result.returncode == 0, result.stderr
    [path] = (home / "snapshots").glob("*.warc.gz")
    path.write_bytes(path.read_bytes()[:-300])  # the last record loses its end
    warcio = subprocess.run([tool("warcio"), "check", str(path)], capture_output=True, text=True)
    verified = invoke_archiver("verify", "--home", str(home))
    store = inspect_store(home)
    record_case(case="a WARC cut off mid-record behind the catalogue's back", test=request.node.name,
                expected="warcio check exits 0 (the trap); archiver verify exits 6; counted invalid here",
                result="pass" if warcio.returncode == 0 and verified.returncode == 6 else "FAIL",
                invalid=0, records=store.records_checked)
    assert warcio.returncode == 0
    assert verified.returncode == 6 and "file-changed" in verified.stdout and "lost" in verified.stdout
    assert store.invalid_warcs == [path.name]


def archived_by(home, event_id: int) -> set[str]:
    return {row["target_uri"] for row in rows(home, cat.records, cat.records.c.capture_event_id == event_id,
                                              cat.records.c.record_type.in_(("response", "revisit")))}


def one_line_error(result) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    return result.stderr.splitlines()[-1]


def test_disk_full_cuts_the_record_back_and_exits_5(crash_site, home, request):
    with tiny_store(home / "snapshots", "128k") as snapshots:
        result = invoke_archiver("capture", crash_site.post_url, "--home", str(home), "--allow-private")
        [warc] = snapshots.glob("*.warc.gz")
        line = one_line_error(result)
        store = inspect_store(home)
        [event] = rows(home, cat.capture_events)
        record_case(case="disk full (128 KiB tmpfs) while a 200 kB image is written", test=request.node.name,
                    expected="exit 5, one line; the file cut back to its last whole record, closed, catalogued",
                    result="pass" if result.returncode == 5 and store.clean else "FAIL",
                    invalid=len(store.invalid_warcs), records=store.records_checked)
        assert (result.returncode, line) == (5, f"Error: cannot write {warc}: No space left on device")
        assert store.clean, store
        assert event["outcome"] == "interrupted"
        assert crash_site.url("/big.jpg") not in archived_by(home, event["id"])
        subprocess.run(["mount", "-o", "remount,size=4m", str(snapshots)], check=True)
        again = invoke_archiver("capture", crash_site.post_url, "--home", str(home), "--allow-private")
        assert again.returncode == 0, again.stderr
        assert archived_by(home, rows(home, cat.capture_events)[-1]["id"]) == crash_site.expected
        assert inspect_store(home).clean


def test_disk_full_under_the_catalogue_too_is_one_line_and_repaired_next_time(crash_site, home, request):
    with tiny_store(home, "320k"):
        result = invoke_archiver("capture", crash_site.post_url, "--home", str(home), "--allow-private")
        line = one_line_error(result)
        subprocess.run(["mount", "-o", "remount,size=4m", str(home)], check=True)
        again = invoke_archiver("capture", crash_site.post_url, "--home", str(home), "--allow-private")
        store = inspect_store(home)
        events = rows(home, cat.capture_events)
        redone = archived_by(home, events[-1]["id"])
    record_case(case="disk full (320 KiB tmpfs) holding the catalogue and the store", test=request.node.name,
                expected="exit 4 (catalogue) or 5 (store), one line; the next start repairs and catalogues; "
                         "verify passes",
                result="pass" if result.returncode in (4, 5) and again.returncode == 0 and store.clean else "FAIL",
                invalid=len(store.invalid_warcs), records=store.records_checked)
    assert result.returncode in (4, 5) and line.startswith("Error: cannot write"), line
    assert line.endswith(("database or disk is full", "No space left on device")), line
    assert again.returncode == 0, again.stderr
    assert store.clean, store
    assert [event["outcome"] for event in events] == ["interrupted", "complete"]
    assert redone == crash_site.expected


def test_read_only_store_exits_5_and_writes_nothing(crash_site, home, request):
    with read_only_store(home / "snapshots") as snapshots:
        result = invoke_archiver("capture", crash_site.post_url, "--home", str(home), "--allow-private")
        line = one_line_error(result)
        written = list(snapshots.iterdir())
        [event] = rows(home, cat.capture_events)
        record_case(case="read-only store (read-only bind mount)", test=request.node.name,
                    expected="exit 5, one line; no file written; event interrupted",
                    result="pass" if result.returncode == 5 and not written else "FAIL")
        assert (result.returncode, line) == (5, f"Error: cannot write to {snapshots}: Read-only file system")
        assert written == [] and event["outcome"] == "interrupted"
        assert rows(home, cat.warc_files) == [] and rows(home, cat.records) == []


def test_a_locked_catalogue_exits_4_before_writing(crash_site, home, request):
    first = invoke_archiver("capture", crash_site.post_url, "--home", str(home), "--allow-private")
    assert first.returncode == 0, first.stderr
    before = sorted(path.name for path in (home / "snapshots").iterdir())
    with catalogue_locked(home / "archiver.db"):
        result = invoke_archiver("capture", crash_site.post_url, "--home", str(home), "--allow-private",
                              "--lock-timeout", "0.5")
    line = one_line_error(result)
    after = sorted(path.name for path in (home / "snapshots").iterdir())
    record_case(case="catalogue locked by another process (BEGIN EXCLUSIVE) at start", test=request.node.name,
                expected="exit 4, one line; nothing written",
                result="pass" if result.returncode == 4 and after == before else "FAIL")
    assert (result.returncode, line) == (4, f"Error: the catalogue {home / 'archiver.db'} is locked by another "
                                            "process (waited 0.5s; --lock-timeout waits longer)")
    assert after == before and len(rows(home, cat.capture_events)) == 1
    assert inspect_store(home).clean


def test_a_catalogue_locked_mid_capture_leaves_the_warc_for_the_next_start(crash_site, home, request):
    crash_site.stall("/big.jpg", 1000)
    process = start_capture(home, crash_site.post_url, args=("--lock-timeout", "0.5"))
    assert crash_site.stalled.wait(60)
    with catalogue_locked(home / "archiver.db"):
        crash_site.release.set()
        out, err = process.communicate(timeout=120)
    assert "Traceback" not in err
    assert (process.returncode, err.splitlines()[-1]) == (
        4, f"Error: the catalogue {home / 'archiver.db'} is locked by another process (waited 0.5s; "
           "--lock-timeout waits longer)")
    assert list((home / "snapshots").glob("*.open"))  # its rows could not be written: left for the next start
    again = invoke_archiver("capture", crash_site.post_url, "--home", str(home), "--allow-private")
    store = inspect_store(home)
    killed, redone = rows(home, cat.capture_events)
    record_case(case="catalogue locked by another process in the middle of a capture", test=request.node.name,
                expected="exit 4, one line; the WARC left .open, repaired and catalogued at the next start",
                result="pass" if again.returncode == 0 and store.clean else "FAIL",
                invalid=len(store.invalid_warcs), records=store.records_checked)
    assert again.returncode == 0 and again.stderr.startswith("Repaired archiver-"), again.stderr
    assert store.clean, store
    assert (killed["outcome"], redone["outcome"]) == ("interrupted", "complete")
    assert archived_by(home, killed["id"]) >= {crash_site.post_url}  # recovered from the bytes
    assert archived_by(home, redone["id"]) == crash_site.expected


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_recrawl_cleanly(crash_site, home, sig, request):
    first = invoke_archiver("capture", crash_site.post_url, "--home", str(home), "--allow-private")
    assert first.returncode == 0, first.stderr
    crash_site.stall("/big.jpg", 5000)
    process = subprocess.Popen([sys.executable, "-m", "archiver", "recrawl", crash_site.post_url, "--home", str(home),
                                "--allow-private"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=clean_env(), stdin=subprocess.DEVNULL)
    assert crash_site.stalled.wait(60)
    process.send_signal(sig)
    out, err = process.communicate(timeout=60)
    crash_site.release.set()
    store = inspect_store(home)
    events = rows(home, cat.capture_events)
    record_case(case=f"{sig.name} during archiver recrawl", test=request.node.name,
                expected="exit 130 with a message; files closed; event interrupted; verify passes",
                result="pass" if process.returncode == 130 and store.clean else "FAIL",
                invalid=len(store.invalid_warcs), records=store.records_checked)
    assert process.returncode == 130 and "Traceback" not in err
    assert err.splitlines()[-1] == "Interrupted: the files are closed and every record written is catalogued."
    assert [event["outcome"] for event in events] == ["complete", "interrupted"]
    assert store.clean, store


def test_sigterm_stops_watch_cleanly(crash_site, home, request):
    first = invoke_archiver("capture", crash_site.post_url, "--every", "1s", "--home", str(home), "--allow-private")
    assert first.returncode == 0, first.stderr
    crash_site.stall("/big.jpg", 5000)
    process = subprocess.Popen([sys.executable, "-m", "archiver", "watch", "--poll", "0.2", "--home", str(home),
                                "--allow-private"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=clean_env(), stdin=subprocess.DEVNULL)
    assert crash_site.stalled.wait(60)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    crash_site.release.set()
    store = inspect_store(home)
    events = rows(home, cat.capture_events)
    record_case(case="SIGTERM during archiver watch", test=request.node.name,
                expected="exit 130 with a message; files closed; event interrupted; verify passes",
                result="pass" if process.returncode == 130 and store.clean else "FAIL",
                invalid=len(store.invalid_warcs), records=store.records_checked)
    assert process.returncode == 130 and "Traceback" not in err
    assert err.splitlines()[-1] == "Stopped: the files are closed and every record written is catalogued."
    assert [event["outcome"] for event in events][-1] == "interrupted"
    assert store.clean, store


def test_a_capture_process_dying_is_repaired_by_the_parent_at_once(crash_site, home, request):
    other = crash_site.server.route("/other.html", lambda r: send(r, 200, b'<html><body><article><p>Other post '
                                                                        b'<a href="/cited-b.html">cites</a> it.</p>'
                                                                        b'</article></body></html>'))
    process = start_capture(home, crash_site.post_url, other, crash_at="record:3", args=("--processes", "2"))
    out, err = process.communicate(timeout=120)
    store = inspect_store(home)  # before any other command runs
    [event] = rows(home, cat.capture_events)
    record_case(case="kill -9 of both processes of a capture sharing two posts (--processes 2)",
                test=request.node.name, expected="exit 1, one line; the parent repairs and catalogues their "
                                                 "WARC files at once; verify passes",
                result="pass" if process.returncode == 1 and store.clean else "FAIL",
                invalid=len(store.invalid_warcs), records=store.records_checked)
    assert "Traceback" not in err
    repaired = len(rows(home, cat.warc_files, cat.warc_files.c.status == "repaired"))
    files = ("1 WARC file left open was cut back to its" if repaired == 1
             else f"{repaired} WARC files left open were cut back to their")
    assert repaired >= 1  # the other process may have closed its file before the pool stopped it
    assert (process.returncode, err.splitlines()[-1]) == (
        1, f"Error: a capture process died (killed, or out of memory); {files} last whole record and "
           "catalogued; capture again to redo what was missed")
    assert store.clean and store.warc_files >= 1, store  # the other process may not have begun a file
    assert event["outcome"] == "interrupted"
    again = invoke_archiver("capture", crash_site.post_url, other, "--home", str(home), "--allow-private")
    assert again.returncode == 0, again.stderr
    assert archived_by(home, rows(home, cat.capture_events)[-1]["id"]) == crash_site.expected | {other}
    assert inspect_store(home).clean
