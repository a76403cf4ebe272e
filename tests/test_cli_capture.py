"""`archiver capture` as a user runs it: output, exit codes, bad input, interruptions."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa

from archiver import catalogue as cat
from archiver.warc import warcinfo_fields

from .conftest import assert_warcs_valid as check_warcs
from .conftest import invoke_archiver, run_archiver
from .servers import page, send

POST = ('<html><head><title>Post</title></head><body><article><p>Body citing '
        '<a href="/source.html">a source</a>.</p><img src="/slow.jpg"></article></body></html>')


def catalogue_rows(home, table):
    engine = sa.create_engine(f"sqlite:///{home / 'archiver.db'}")
    with engine.connect() as connection:
        rows = [dict(r._mapping) for r in connection.execute(sa.select(table).order_by(table.c.id))]
    engine.dispose()
    return rows


def assert_warcs_valid(home):
    check_warcs(home / "snapshots")


def test_json_summary(site, manifest, home):
    result = invoke_archiver("capture", site.post_url, "--home", str(home), "--allow-private", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["outcome"] == "complete"
    record = next(r for r in summary["records"] if r["role"] == "post" and r["record_type"] == "response")
    assert set(record) >= {"url", "role", "http_status", "warc_file", "offset", "length", "payload_sha256"}
    assert record["url"] == site.post_url and record["http_status"] == 200
    responses = {r["url"] for r in summary["records"] if r["record_type"] == "response"}
    assert responses == {e["url"] for e in manifest["expected"]}
    assert result.stderr.startswith(
        f"Capture {summary['capture_id']}: complete; {len(responses)} responses, 0 failures")


def test_table_output(site, home):
    result = invoke_archiver("capture", site.post_url, "--home", str(home), "--allow-private")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ROLE", "STATUS", "WARC", "BYTES", "URL"]
    assert lines[1].split()[0:2] == ["post", "200"] and lines[1].endswith(site.post_url)
    assert any(line.split()[:2] == ["embed", "404"] for line in lines)


def test_nl_and_csv(site, home):
    nl = invoke_archiver("capture", site.post_url, "--home", str(home), "--allow-private", "--nl")
    rows = [json.loads(line) for line in nl.stdout.splitlines()]
    assert rows[0]["record_type"] == "response" and rows[0]["role"] == "post"
    again = invoke_archiver("capture", site.post_url, "--home", str(home), "--allow-private", "--nl")
    rows = [json.loads(line) for line in again.stdout.splitlines()]
    assert rows[0]["record_type"] == "revisit" and rows[0]["role"] == "post"  # same payload: stored once
    csv_out = invoke_archiver("capture", site.post_url, "--home", str(home), "--allow-private", "--csv")
    assert csv_out.stdout.splitlines()[0] == ("url,role,record_type,http_status,warc_file,offset,length,"
                                               "payload_sha256,record_id")


def test_input_file_and_several_posts(site, server, home, tmp_path):
    other = server.route("/other.html", page("<html><body><article><p>other</p></article></body></html>"))
    urls = tmp_path / "urls.txt"
    urls.write_text(f"# posts\n{site.post_url}\n\n{other}\n")
    result = invoke_archiver("capture", "--input", str(urls), "--home", str(home), "--allow-private", "--json")
    assert result.returncode == 0, result.stderr
    posts = {r["url"] for r in json.loads(result.stdout)["records"] if r["role"] == "post"}
    assert posts == {site.post_url, other}


def test_followed_links_to_private_addresses_need_allow_private(site, home):
    result = invoke_archiver("capture", site.post_url, "--home", str(home), "--json")
    assert result.returncode == 0  # the post itself was typed, so it is fetched
    summary = json.loads(result.stdout)
    assert {r["role"] for r in summary["records"]} == {"post"}
    assert summary["failures"] and {f["kind"] for f in summary["failures"]} == {"blocked-address"}
    assert "links to non-public addresses were not followed (--allow-private follows them)" in result.stderr
    blocked = [f for f in catalogue_rows(home, cat.fetches) if f["outcome"] == "blocked"]
    assert len(blocked) == len(summary["failures"])


@pytest.mark.parametrize("args, message", [
    (["example.org/post"], "Error: 'example.org/post' is not a URL: give it with http:// or https://\n"),
    (["ftp://example.org/x"],
     "Error: 'ftp://example.org/x' has the scheme 'ftp': only http and https can be captured\n"),
    ([], "Error: give at least one URL, or --input FILE\n"),
    (["http://x.example/", "--max-size", "lots"], "Error: --max-size: 'lots' is not a size (try 50MB or 1GiB)\n"),
    (["http://x.example/", "--processes", "-1"],
     "Error: --processes: -1 must be 0 (one per 20 posts, at most one per core) or more\n"),
])
def test_unusable_input_exits_2_with_one_line(home, args, message):
    result = invoke_archiver("capture", *args, "--home", str(home))
    assert (result.returncode, result.stderr, result.stdout) == (2, message, "")


def test_a_bad_line_of_the_input_file_is_named_by_its_number(home, tmp_path):
    urls = tmp_path / "urls.txt"
    urls.write_text("# posts\nhttp://x.example/a\n\nexample.org/post\n")
    result = invoke_archiver("capture", "--input", str(urls), "--home", str(home))
    assert (result.returncode, result.stderr, result.stdout) == (
        2, f"Error: {urls}:4: 'example.org/post' is not a URL: give it with http:// or https://\n", "")
    from_stdin = invoke_archiver("capture", "--input", "-", "--home", str(home), input="ftp://x.example/\n")
    assert (from_stdin.returncode, from_stdin.stderr) == (
        2, "Error: <stdin>:1: 'ftp://x.example/' has the scheme 'ftp': only http and https can be captured\n")


def failed_capture(home, url, *extra):
    result = invoke_archiver("capture", url, "--home", str(home), *extra)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert_warcs_valid(home)
    return result


def test_refused_connection(home):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/post"
    result = failed_capture(home, url)
    assert result.stderr.splitlines()[-1].startswith(f"Error: {url}: cannot connect to 127.0.0.1:")
    [fetch] = catalogue_rows(home, cat.fetches)
    assert (fetch["outcome"], fetch["error_kind"]) == ("failed", "connect-failed")
    [event] = catalogue_rows(home, cat.capture_events)
    assert event["outcome"] == "failed"
    [warc] = catalogue_rows(home, cat.warc_files)  # its warcinfo record, and the size the footer gives
    assert f" 0 responses, 1 failures, {warc['size']} B written to {home / warc['path']}" in result.stderr


@pytest.mark.parametrize("status, reason", [(404, "Not Found"), (500, "Internal Server Error")])
def test_error_status_on_the_post_is_recorded_and_fails(server, home, status, reason):
    url = server.route("/post", page("<html><body>oops</body></html>", status))
    result = failed_capture(home, url)
    assert result.stderr.splitlines()[-1] == (
        f"Error: {url}: the server answered HTTP {status} {reason} (recorded; nothing followed)")
    [response] = [r for r in catalogue_rows(home, cat.records) if r["record_type"] == "response"]
    assert response["http_status"] == status


def test_timeout_on_the_post(server, home):
    def stall(request):
        request.send_response(200)
        request.send_header("Content-Length", "100")
        request.end_headers()
        request.wfile.write(b"<html>")
        request.wfile.flush()
        time.sleep(3)

    url = server.route("/post", stall)
    result = failed_capture(home, url, "--read-timeout", "0.3")
    assert result.stderr.splitlines()[-1] == f"Error: {url}: no answer within 0.3s"
    [response] = [r for r in catalogue_rows(home, cat.records) if r["record_type"] == "response"]
    assert response["truncated"] == "time"


def test_post_over_the_size_limit(server, home):
    url = server.route("/post", page("<html><body>" + "x" * 5000 + "</body></html>"))
    result = failed_capture(home, url, "--max-size", "1000")
    assert result.stderr.splitlines()[-1] == (
        f"Error: {url}: response larger than the limit of 1000 bytes (raise it with --max-size)")
    [response] = [r for r in catalogue_rows(home, cat.records) if r["record_type"] == "response"]
    assert response["truncated"] == "length"


def test_non_html_post_is_a_complete_capture_of_that_document(server, home):
    url = server.route("/paper.pdf", lambda r: send(r, 200, b"%PDF-1.4 ...", "application/pdf"))
    result = invoke_archiver("capture", url, "--home", str(home), "--allow-private")
    assert result.returncode == 0, result.stderr
    [event] = catalogue_rows(home, cat.capture_events)
    assert event["outcome"] == "complete"
    assert result.stderr.splitlines()[1:] == [
        f"{url}: not an HTML page but a document (application/pdf), archived whole; nothing to follow"]
    [response] = [r for r in catalogue_rows(home, cat.records) if r["record_type"] == "response"]
    assert (response["target_uri"], response["http_content_type"]) == (url, "application/pdf")


def test_a_post_without_article_text_cites_nothing_and_says_so(server, home):
    url = server.route("/menu.html", page('<html><body><div class="menu"><a href="/a.html">A story</a> '
                                          '<a href="/b.html">Another story</a></div></body></html>'))
    result = invoke_archiver("capture", url, "--home", str(home), "--allow-private", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["no_article"] == [url]
    assert [record["role"] for record in summary["records"] if record["record_type"] == "response"] == ["post"]
    assert result.stderr.splitlines()[-1] == f"no article text found in {url}: nothing cited"


def test_one_bad_post_among_good_ones_is_partial(site, server, home):
    bad = server.route("/gone", page("gone", 410))
    result = invoke_archiver("capture", site.post_url, bad, "--home", str(home), "--allow-private")
    assert result.returncode == 3
    [event] = catalogue_rows(home, cat.capture_events)
    assert event["outcome"] == "partial"
    assert_warcs_valid(home)


class Stall:
    """A route that blocks until released, telling the test when a request arrived."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.release = threading.Event()

    def __call__(self, request) -> None:
        self.arrived.set()
        self.release.wait(60)
        send(request, 200, b"late", "image/jpeg")


@pytest.fixture
def stalled_capture(server, home):
    stall = Stall()
    server.route("/post", page(POST))
    server.route("/source.html", page("<html><body><article><p>source</p></article></body></html>"))
    server.route("/slow.jpg", stall)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")}
    process = subprocess.Popen([sys.executable, "-m", "archiver", "capture", server.base + "/post", "--home",
                                str(home), "--allow-private", "--per-host", "1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                               stdin=subprocess.DEVNULL)
    assert stall.arrived.wait(60), "the capture never asked for the stalled image"
    yield process, stall
    stall.release.set()
    if process.poll() is None:
        process.kill()
    process.communicate()


def test_sigterm_closes_files_and_marks_the_event_interrupted(stalled_capture, home):
    process, _ = stalled_capture
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert err.splitlines()[-1] == "Interrupted: the files are closed and every record written is catalogued."
    [event] = catalogue_rows(home, cat.capture_events)
    assert event["outcome"] == "interrupted"
    assert_warcs_valid(home)
    [post] = [r for r in catalogue_rows(home, cat.records) if r["role"] == "post" and r["record_type"] == "response"]
    assert post["http_status"] == 200


def test_kill_9_is_repaired_on_next_start(stalled_capture, home, server):
    process, _ = stalled_capture
    process.kill()
    process.wait(timeout=60)
    assert list((home / "snapshots").glob("*.warc.gz.open"))
    other = server.route("/other", page("<html><body><article>x</article></body></html>"))
    result = invoke_archiver("capture", other, "--home", str(home))
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("Repaired archiver-")
    assert_warcs_valid(home)
    events = catalogue_rows(home, cat.capture_events)
    assert [e["outcome"] for e in events] == ["interrupted", "complete"]
    files = catalogue_rows(home, cat.warc_files)
    assert [f["status"] for f in files] == ["repaired", "closed"]
    from archiver.warc import read_record

    for row in catalogue_rows(home, cat.records):
        path = home / next(f["path"] for f in files if f["id"] == row["warc_file_id"])
        facts = read_record(path, row["offset"])
        assert (facts.record_id, facts.block_sha256) == (row["warc_record_id"], row["block_sha256"])


def test_posts_shared_among_processes_make_one_capture_event(site, server, home):
    others = [server.route(f"/post{n}.html", page(
        f'<html><body><article><p>post {n} citing <a href="/source{n}.html">a source</a></p></article></body></html>'))
        for n in range(3)]
    for n in range(3):
        server.route(f"/source{n}.html", page(f"<html><body><p>source {n}</p></body></html>"))
    result = run_archiver("capture", site.post_url, *others, "--home", str(home), "--allow-private",
                          "--processes", "2", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["outcome"] == "complete" and len(summary["warc_files"]) == 2
    posts = {r["url"] for r in summary["records"] if r["role"] == "post" and r["record_type"] == "response"}
    assert posts == {site.post_url, *others}
    [event] = catalogue_rows(home, cat.capture_events)
    assert (event["uuid"], event["outcome"]) == (summary["capture_id"], "complete")
    files = catalogue_rows(home, cat.warc_files)
    assert {f["filename"] for f in files} == set(summary["warc_files"])
    assert {f["capture_event_id"] for f in files} == {event["id"]}
    records = catalogue_rows(home, cat.records)
    assert len(records) == len(summary["records"]) + 2  # + one warcinfo per file
    assert_warcs_valid(home)


def test_sha1_digests_for_legacy_indexes(site, home):
    result = invoke_archiver("capture", site.post_url, "--home", str(home), "--allow-private", "--digest", "sha1")
    assert result.returncode == 0, result.stderr
    records = catalogue_rows(home, cat.records)
    assert all(r["block_digest"].startswith("sha1:") and len(r["block_digest"]) == 37 for r in records)
    assert all(len(r["block_sha256"]) == 64 for r in records)  # the catalogue keeps sha256 regardless
    assert_warcs_valid(home)


def test_a_50_mb_page_is_captured_whole(server, home):
    body = b"<html><body><article>" + b"<p>" + b"x" * 1000 + b"</p>\n" * 1 + b"".join(
        b"<p>paragraph %d</p>\n" % n for n in range(2_500_000)) + b"</article></body></html>"
    assert len(body) > 50_000_000
    url = server.route("/huge.html", lambda r: send(r, 200, body))
    result = invoke_archiver("capture", url, "--home", str(home), "--json")
    assert result.returncode == 0, result.stderr
    [response] = [r for r in json.loads(result.stdout)["records"] if r["record_type"] == "response"]
    import hashlib

    assert response["payload_sha256"] == hashlib.sha256(body).hexdigest()
    assert_warcs_valid(home)


def test_broken_charset_is_archived_as_sent(server, home):
    body = "<html><body><article><p>caf\u00e9 \u0627\u0644\u0642\u0644\u0645\u0648\u0646</p></article></body></html>"
    raw = body.encode("utf-8")[:-30] + b"\xff\xfe\xc3" + body.encode("utf-8")[-30:]
    url = server.route("/broken.html", lambda r: send(r, 200, raw, "text/html; charset=utf-8"))
    result = invoke_archiver("capture", url, "--home", str(home), "--json")
    assert result.returncode == 0, result.stderr
    [response] = [r for r in catalogue_rows(home, cat.records) if r["record_type"] == "response"]
    import hashlib

    assert response["payload_sha256"] == hashlib.sha256(raw).hexdigest()


def test_a_broken_certificate_fails_unless_insecure(tls_server, home, monkeypatch):
    url, _ = tls_server
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    refused = invoke_archiver("capture", url, "--home", str(home))
    assert (refused.returncode, refused.stderr.splitlines()[-1]) == (3, (
        f"Error: {url}: TLS certificate not trusted (unable to get local issuer certificate); "
        "set REQUESTS_CA_BUNDLE to a CA file that trusts it, or capture with --insecure"))
    captured = invoke_archiver("capture", url, "--home", str(home), "--insecure", "--json")
    assert captured.returncode == 0, captured.stderr
    summary = json.loads(captured.stdout)
    assert [(r["url"], r["http_status"]) for r in summary["records"] if r["record_type"] == "response"] == [
        (url, 200)]
    insecure_file = home / "snapshots" / summary["warc_files"][0]
    assert warcinfo_fields(insecure_file)["tls-verification"] == (
        "off (--insecure): HTTPS certificates were not checked")
    rows = catalogue_rows(home, cat.records)
    assert {(row["record_type"], row["tls_verified"]) for row in rows if row["warc_file_id"] == 2} == {
        ("warcinfo", None), ("request", False), ("response", False), ("metadata", False)}
    assert {row["tls_verified"] for row in rows if row["warc_file_id"] == 1} == {None}  # warcinfo only
    verified = invoke_archiver("capture", url, "--home", str(home), "--json", env={"ARCHIVER_INSECURE": "0"})
    assert verified.returncode == 3
    by_env = invoke_archiver("capture", url, "--home", str(home), "--json", env={"ARCHIVER_INSECURE": "1"})
    assert by_env.returncode == 0, by_env.stderr


def test_parse_warnings_are_told_by_capture_and_show(server, home):
    url = server.route("/post.html", page("<html><body><article><p>Caf\u00e9 r\u00e9ouvert</p></article></body></html>",
                                          content_type="text/html"))
    captured = invoke_archiver("capture", url, "--home", str(home))
    assert captured.returncode == 0, captured.stderr
    assert captured.stderr.splitlines()[-1] == (
        f"1 page was parsed with warnings (`archiver show URL` prints them): {url}")
    shown = invoke_archiver("show", url, "--home", str(home))
    assert (shown.returncode, shown.stderr) == (0, "Warning: character set utf-8 was detected, not declared\n")


def stalled_post(server, home, stderr):
    """`archiver capture` in a subprocess, its post held by the server, and the Stall that holds it."""
    stall = Stall()
    url = server.route("/post", stall)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")} | {"COLUMNS": "200"}
    process = subprocess.Popen([sys.executable, "-m", "archiver", "capture", url, "--home", str(home)],
                               stdout=subprocess.DEVNULL, stderr=stderr, env=env, stdin=subprocess.DEVNULL)
    assert stall.arrived.wait(60), "the capture never asked for its post"
    return process, stall, url


def read_until(fd: int, text: str, timeout: float = 60) -> str:
    said = b""
    deadline = time.monotonic() + timeout
    while text not in said.decode(errors="replace"):
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(fd, 4096) if ready else b""
        assert chunk, f"no {text!r} on stderr within {timeout} s: {said!r}"
        said += chunk
    return said.decode(errors="replace")


def test_progress_without_a_terminal_is_a_line_every_few_seconds(server, home):
    process, stall, url = stalled_post(server, home, subprocess.PIPE)
    try:
        said = read_until(process.stderr.fileno(), "\n")
        assert said == f"Capturing: 0/1 done; waiting on {url}\n"
    finally:
        stall.release.set()
        process.communicate(timeout=60)
    assert process.returncode == 0  # a document that is not HTML, archived whole


def test_progress_on_a_terminal_names_the_url_waited_on(server, home):
    import pty

    controller, terminal = pty.openpty()
    process, stall, url = stalled_post(server, home, terminal)
    os.close(terminal)
    try:
        said = read_until(controller, f"waiting on {url}")
        frame = said.split("\r")[-1]  # the display as it stands: the post is known, and waited on
        assert "Capturing" in frame and "0/1" in frame and frame.endswith(f"waiting on {url}")
    finally:
        stall.release.set()
        process.wait(timeout=60)
        os.close(controller)
