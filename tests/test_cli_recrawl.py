"""The re-crawl commands as a user runs them: schedule, recrawl, watch, history, changes, diff."""

from __future__ import annotations

import json
import select
import signal
import subprocess
import sys

import pytest
import sqlalchemy as sa

from .changing_site import ChangingSite
from .conftest import assert_warcs_valid, invoke_archiver, run_archiver


@pytest.fixture
def changing():
    site = ChangingSite()
    yield site
    site.close()


def archiver(home, *args):
    return invoke_archiver(*args, "--home", str(home))


def test_capture_every_sets_a_policy_that_schedule_lists(changing, home):
    made = invoke_archiver("capture", changing.post_url, "--home", str(home), "--allow-private", "--every", "6h")
    assert made.returncode == 0, made.stderr
    assert "Re-crawl every 6h: 1 posts" in made.stderr
    listed = archiver(home, "schedule", "--list", "--json")
    [row] = json.loads(listed.stdout)
    assert (row["url"], row["every"], row["enabled"], row["last_run_at"]) == (changing.post_url, "6h", True, None)
    assert archiver(home, "schedule", changing.post_url, "--off").returncode == 0
    [row] = json.loads(archiver(home, "schedule", "--list", "--json").stdout)
    assert row["enabled"] is False


def test_a_url_never_captured_is_fetched_by_the_next_recrawl(changing, home):
    assert archiver(home, "schedule", changing.post_url, "--every", "1d").returncode == 0
    result = invoke_archiver("recrawl", "--home", str(home), "--allow-private", "--json")
    assert result.returncode == 0, result.stderr
    assert {change["url"]: change["change"] for change in json.loads(result.stdout)["changes"]}[
        changing.post_url] == "new"
    again = archiver(home, "recrawl")
    assert (again.returncode, again.stderr) == (0, "Nothing is due (see `archiver schedule --list`)\n")


def test_capture_every_is_due_one_interval_later(changing, home):
    made = invoke_archiver("capture", changing.post_url, "--home", str(home), "--allow-private", "--every", "1d")
    assert made.returncode == 0, made.stderr
    again = archiver(home, "recrawl")
    assert (again.returncode, again.stderr) == (0, "Nothing is due (see `archiver schedule --list`)\n")


@pytest.mark.parametrize("args, message", [
    (["schedule", "http://x.example/", "--every", "soon"],
     "Error: interval 'soon': give a number and a unit, e.g. 30m, 6h, 1d or 1w\n"),
    (["schedule", "http://x.example/"], "Error: give --every INTERVAL or --off\n"),
    (["schedule"], "Error: give URLs with --every or --off, or --list\n"),
    (["schedule", "http://x.example/", "--off"],
     "Error: http://x.example/: no schedule yet; give --every (e.g. --every 1d)\n"),
    (["history", "http://x.example/never"],
     "Error: http://x.example/never: not in the catalogue (archiver capture http://x.example/never archives it)\n"),
    (["changes", "--since", "last week"],
     "Error: time 'last week': give an ISO 8601 date or time, e.g. 2026-11-01 or 2026-11-01T12:00:00Z\n"),
])
def test_bad_input_is_one_line_and_exit_2(home, args, message):
    assert archiver(home, "db", "upgrade").returncode == 0  # a collection, empty
    result = archiver(home, *args)
    assert (result.returncode, result.stderr, result.stdout) == (2, message, "")


def test_recrawl_with_nothing_due(home):
    result = archiver(home, "recrawl", "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout) == {"changes": []}
    assert result.stderr == "Nothing is due (see `archiver schedule --list`)\n"


def test_recrawl_history_changes_and_diff_as_json(changing, home):
    assert invoke_archiver("capture", changing.post_url, "--home", str(home), "--allow-private").returncode == 0
    changing.state.dead = 46
    changing.state.b_status = 404
    result = invoke_archiver("recrawl", changing.post_url, "--home", str(home), "--allow-private", "--json")
    assert result.returncode == 0, result.stderr
    found = {item["url"]: item["change"] for item in json.loads(result.stdout)["changes"]}
    assert found == {changing.post_url: "edited", changing.b_url: "gone", changing.a_url: "unchanged",
                     changing.etag_url: "unchanged", changing.blog.base + "/logo.png": "unchanged"}

    history = json.loads(archiver(home, "history", changing.post_url, "--json").stdout)
    assert [(row["record_type"], row["http_status"], row["changed"], row["change"]) for row in history] == [
        ("response", 200, False, "new"), ("response", 200, True, "edited")]
    assert {"captured_at", "payload_sha256", "warc_file", "offset", "capture_id"} <= set(history[0])

    changes = json.loads(archiver(home, "changes", "--since", "2000-01-01", "--json").stdout)
    assert [(row["url"], row["change"], row["citing"]) for row in changes] == [
        (changing.post_url, "edited", []), (changing.b_url, "gone", [changing.post_url])]
    assert json.loads(archiver(home, "changes", "--since", "2999-01-01", "--json").stdout) == []

    text = archiver(home, "diff", changing.post_url)
    assert text.returncode == 0
    assert "[-36-]{+46+}" in text.stdout
    data = json.loads(archiver(home, "diff", changing.post_url, "--json").stdout)
    assert [(hunk["removed"], hunk["added"]) for hunk in data["text"]] == [("36", "46")]

    shown = json.loads(archiver(home, "show", changing.post_url, "--json").stdout)
    assert [item["url"] for item in shown["dead_citations"]] == [changing.b_url]
    assert_warcs_valid(home / "snapshots")


def test_first_response_after_refusals_is_new_whatever_its_type(changing, home):
    from archiver import catalogue as cat

    from .test_cli_capture import catalogue_rows

    refused = invoke_archiver("capture", changing.post_url, "--home", str(home))  # its links are refused
    assert refused.returncode == 0, refused.stderr
    taken = invoke_archiver("capture", changing.post_url, "--home", str(home), "--allow-private")
    assert taken.returncode == 0, taken.stderr
    classes: dict[str, list[str]] = {}
    for row in catalogue_rows(home, cat.changes):
        classes.setdefault(row["url"], []).append(row["change"])
    assert classes == {changing.post_url: ["new", "unchanged"], changing.logo_url: ["failed", "new"],
                       changing.a_url: ["failed", "new"], changing.b_url: ["failed", "new"],
                       changing.etag_url: ["failed", "new"]}
    assert json.loads(archiver(home, "changes", "--json").stdout) == []


def test_watch_recrawls_what_is_due_and_stops_cleanly_on_sigterm(changing, home):
    made = invoke_archiver("capture", changing.a_url, "--home", str(home), "--allow-private", "--every", "1s")
    assert made.returncode == 0, made.stderr
    watch = subprocess.Popen([sys.executable, "-m", "archiver", "watch", "--home", str(home), "--allow-private",
                              "--poll", "0.2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             stdin=subprocess.DEVNULL)
    try:
        ready, _, _ = select.select([watch.stdout], [], [], 60)
        assert ready, "watch printed no round within 60 s"
        round_ = json.loads(watch.stdout.readline())
        assert round_ == [{"url": changing.a_url, "at": round_[0]["at"], "change": "unchanged", "changed": False}]
        watch.send_signal(signal.SIGTERM)
        _, stderr = watch.communicate(timeout=60)
    finally:
        watch.kill()
    assert watch.returncode == 130
    assert stderr.splitlines()[0] == "Watching the schedule; Ctrl-C stops"
    assert stderr.splitlines()[-1] == "Stopped: the files are closed and every record written is catalogued."
    assert_warcs_valid(home / "snapshots")


def test_sigterm_mid_recrawl_closes_files_releases_leases_and_classifies_nothing(changing, home):
    from archiver import catalogue as cat

    from .test_cli_capture import Stall, catalogue_rows

    assert invoke_archiver("capture", changing.post_url, "--home", str(home), "--allow-private").returncode == 0
    stall = Stall()
    changing.blog.route("/logo.png", stall)
    process = subprocess.Popen([sys.executable, "-m", "archiver", "recrawl", changing.post_url, "--home", str(home),
                                "--allow-private"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               stdin=subprocess.DEVNULL)
    try:
        assert stall.arrived.wait(60), "the re-crawl never asked for the stalled image"
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        stall.release.set()
        process.kill()
    assert process.returncode == 130
    assert stderr.splitlines()[-1] == "Interrupted: the files are closed and every record written is catalogued."
    assert [event["outcome"] for event in catalogue_rows(home, cat.capture_events)] == ["complete", "interrupted"]
    engine = sa.create_engine(f"sqlite:///{home / 'archiver.db'}")
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(cat.leases)).scalar_one() == 0
    engine.dispose()
    assert {row["capture_event_id"] for row in catalogue_rows(home, cat.changes)} == {1}
    assert_warcs_valid(home / "snapshots")


def test_posts_shared_among_processes_are_each_classified_once_by_their_process(changing, home):
    from archiver import catalogue as cat

    from .test_cli_capture import catalogue_rows

    posts = [changing.post_url, changing.churn_url]
    made = run_archiver("capture", *posts, "--home", str(home), "--allow-private", "--processes", "2")
    assert made.returncode == 0, made.stderr
    changing.state.paragraphs = changing.state.paragraphs[:1]  # shrank sharply: re-fetched once to confirm
    changing.state.b_status = 404
    result = run_archiver("recrawl", *posts, "--home", str(home), "--allow-private", "--processes", "2", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert len(summary["warc_files"]) == 3  # one per process, and the confirming re-fetch's
    found = [(item["url"], item["change"]) for item in summary["changes"]]
    assert sorted(found) == sorted([
        (changing.post_url, "edited"), (changing.churn_url, "unchanged"), (changing.b_url, "gone"),
        (changing.a_url, "unchanged"), (changing.etag_url, "unchanged"), (changing.logo_url, "unchanged")])
    rows = [row for row in catalogue_rows(home, cat.changes) if row["capture_event_id"] == 2]
    assert sorted((row["url"], row["change"]) for row in rows) == sorted(found)
    [edited] = [row for row in rows if row["change"] == "edited"]
    assert json.loads(edited["detail"])["anomaly"].startswith("the main text shrank from ")
    assert json.loads(edited["detail"])["confirmed"] is True
    fetches = catalogue_rows(home, cat.fetches)
    [confirm] = [row for row in fetches if row["link_kind"] == "confirm"]
    assert (confirm["url"], confirm["capture_event_id"]) == (changing.post_url, 2)
    assert_warcs_valid(home / "snapshots")
