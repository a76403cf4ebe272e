"""Crashes and interruptions: kill -9 at seeded points, SIGTERM, disk full, a read-only store,
a locked catalogue. Afterwards every WARC reads whole, `archiver verify` passes, and the next
capture redoes what was lost."""

from __future__ import annotations

import random
import signal
import threading

import pytest

from archiver import catalogue as cat
from archiver.capture import capture
from archiver.collection import open_collection
from archiver.recrawl import recrawl

from .crashkit import CrashSite, inspect_store, record_case, rows, settings_for, start_capture

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
    limit = {"record-block": 9, "record": 17, "commit": 2}[kind]
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
    return f"kill -9 {'mid-body of ' + where + ' at byte' if kind == 'mid-body' else 'at ' + where} {n}"


def redo(site: CrashSite, home, *, use_recrawl: bool) -> None:
    collection = open_collection(settings_for(home))
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
    ok = (killed["outcome"], again["outcome"]) == ("interrupted", "complete") and store.clean and lost == 0
    record_case(case=f"{case} (seed {seed}), then {'recrawl' if seed % 2 else 'capture'}",
                test=request.node.name, result="pass" if ok else "FAIL", lost=lost,
                invalid=len(store.invalid_warcs), records=store.records_checked,
                expected="killed event interrupted; WARCs whole; verify passes; next run archives every URL")
    assert (killed["outcome"], again["outcome"]) == ("interrupted", "complete")
    assert store.open_files == [] and store.invalid_warcs == [] and store.failures == []
    assert archived == crash_site.expected
