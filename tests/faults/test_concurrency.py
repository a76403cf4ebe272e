"""Four `archiver capture` processes and one `archiver recrawl` on one SQLite catalogue at once:
no "database is locked", no duplicate or lost rows, each WARC file written by one process."""

from __future__ import annotations

import collections
import json
import subprocess
import sys
import threading

from archiver import catalogue as cat
from archiver.warc import warcinfo_fields

from ..conftest import invoke_archiver
from ..servers import ScriptedServer, send
from .crashkit import clean_env, inspect_store, record_case, rows

PROCESSES = 5  # four captures and a recrawl


def post(n: int) -> bytes:
    return (f'<html><head><title>Post {n}</title></head><body><article><p>Post {n} cites '
            f'<a href="/cited{n}.html">its own source</a> and <a href="/shared-cited.html">a shared one</a>.</p>'
            f'<img src="/own{n}.png"><img src="/shared.png"></article></body></html>').encode()


class BusySite:
    """Five posts; once ``together`` is armed, no post is answered before all five are asked for."""

    def __init__(self) -> None:
        self.server = ScriptedServer()
        self.together: threading.Barrier | None = None
        for n in range(PROCESSES):
            self.server.route(f"/p{n}.html", self._post(n))
            self.server.route(f"/cited{n}.html", lambda r, n=n: send(r, 200, f"<p>source {n}</p>".encode()))
            self.server.route(f"/own{n}.png", lambda r, n=n: send(r, 200, bytes([n]) * 3000, "image/png"))
        self.server.route("/shared.png", lambda r: send(r, 200, b"shared" * 500, "image/png"))
        self.server.route("/shared-cited.html", lambda r: send(r, 200, b"<p>shared source</p>"))

    def _post(self, n: int):
        def handle(request) -> None:
            if self.together is not None:
                self.together.wait(60)
            send(request, 200, post(n))

        return handle

    def url(self, n: int) -> str:
        return f"{self.server.base}/p{n}.html"


def test_four_captures_and_a_recrawl_at_once(home, request):
    site = BusySite()
    try:
        first = invoke_archiver("capture", site.url(4), "--home", str(home), "--allow-private")
        assert first.returncode == 0, first.stderr
        site.together = threading.Barrier(PROCESSES)
        commands = [["capture", site.url(n)] for n in range(4)] + [["recrawl", site.url(4)]]
        processes = [subprocess.Popen([sys.executable, "-m", "archiver", *command, "--home", str(home),
                                       "--allow-private", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True, env=clean_env(), stdin=subprocess.DEVNULL) for command in commands]
        outputs = [process.communicate(timeout=180) for process in processes]
    finally:
        site.server.close()
    assert not site.together.broken, "the five processes were never fetching at once"
    codes = [process.returncode for process in processes]
    summaries = [json.loads(out) for out, _ in outputs]
    locked = sum("locked" in err for _, err in outputs)

    events = rows(home, cat.capture_events)
    records = rows(home, cat.records)
    files = rows(home, cat.warc_files)
    reported = collections.Counter(record["record_id"] for summary in summaries for record in summary["records"])
    reported.update(record["warc_record_id"] for record in rows(home, cat.records,  # the first run's
                                                                 cat.records.c.capture_event_id == events[0]["id"],
                                                                 cat.records.c.record_type != "warcinfo"))
    catalogued = collections.Counter(row["warc_record_id"] for row in records if row["record_type"] != "warcinfo")
    lost = len(set(reported) - set(catalogued))
    writers = collections.Counter(name for summary in summaries for name in summary["warc_files"])
    store = inspect_store(home)
    record_case(case="4 captures and 1 recrawl at once on one SQLite catalogue", test=request.node.name,
                expected="all exit 0; no 'database is locked'; every reported record catalogued once; "
                         "each WARC file written by one process",
                result="pass" if codes == [0] * 5 and not locked and lost == 0 and store.clean else "FAIL",
                lost=lost, invalid=len(store.invalid_warcs), records=store.records_checked)

    assert codes == [0] * PROCESSES and locked == 0, [err for _, err in outputs]
    assert [event["outcome"] for event in events] == ["complete"] * (PROCESSES + 1)
    assert catalogued == reported and max(catalogued.values()) == 1  # none lost, none twice
    assert set(writers.values()) == {1} and len(writers) == len(files) - 1  # one process per file (+ the first run's)
    by_event = {event["uuid"]: event["id"] for event in events}
    for file in files:
        owner = by_event[warcinfo_fields(home / file["path"])["capture-id"]]
        assert file["capture_event_id"] == owner
        assert {row["capture_event_id"] for row in records if row["warc_file_id"] == file["id"]} == {owner}
    assert store.clean, store
