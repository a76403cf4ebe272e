"""Hostile or broken servers: each answer bounded in time and memory, recorded honestly, and
harmless to the rest of the capture.

Limits are small so that the matrix runs in seconds: a 2 s total deadline per resource, a 1 s
read timeout and a 10 MB size cap (120 s and 100 MB by default; the same code paths).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
from typing import Callable

import pytest

from archiver.net import Fetcher, Limits
from archiver.net._fetch import MAX_HEAD, READ_SIZE

from ..conftest import invoke_archiver
from . import badserver as b
from .conftest import check_store, rows

CAP = 10 * 10**6
LIMITS = ["--total-timeout", "2s", "--read-timeout", "1s", "--max-size", "10MB", "--connect-timeout", "1s"]
GZIP_BOMB_SIZE = 256 << 20
BROTLI_BOMB_SIZE = 1 << 30


@dataclasses.dataclass(frozen=True, kw_only=True)
class Case:
    """A misbehaving answer and what archiver must make of it."""

    name: str
    behaviour: Callable[[], b.Behaviour]
    kind: str | None  # error kind of the fetch, None when it succeeds
    truncated: str | None  # WARC-Truncated of the response record
    status: int | None  # HTTP status recorded
    sent: bytes | None = None  # the whole answer, when it is fixed: what was recorded must be its start


def fixed(name: str, data: bytes, kind: str | None, truncated: str | None, status: int | None) -> Case:
    return Case(name=name, behaviour=lambda: b.raw(data), kind=kind, truncated=truncated, status=status, sent=data)


CHUNKED = b.head(headers=[("Transfer-Encoding", "chunked")])
CASES = [
    Case(name="reset-mid-body", behaviour=lambda: b.reset_mid_body, kind="protocol-error",
         truncated="disconnect", status=200),
    Case(name="headers-then-stall", behaviour=lambda: b.headers_then_stall, kind="timeout", truncated="time",
         status=200),
    Case(name="silent-server", behaviour=lambda: b.silent, kind="timeout", truncated=None, status=None),
    Case(name="trickled-headers", behaviour=lambda: b.trickle(b.head(length=10) + b"0123456789"), kind="timeout",
         truncated="time", status=None),
    Case(name="trickled-body", behaviour=lambda: b.trickle(b.head(length=3000) + b"x" * 3000, every=0.001),
         kind="timeout", truncated="time", status=200),
    fixed("content-length-larger", b.head(length=1000) + b"x" * 500, "protocol-error", "disconnect", 200),
    fixed("content-length-smaller", b.head(length=10) + b"<p>x</p>" * 100, None, None, 200),
    fixed("chunked-bad-size", CHUNKED + b"5\r\nhello\r\nzz\r\nxx\r\n", "protocol-error", "disconnect", 200),
    fixed("chunked-cut-short", CHUNKED + b"5\r\nhello\r\n100\r\nabc", "protocol-error", "disconnect", 200),
    Case(name="10000-headers", behaviour=lambda: b.many_headers(10_000), kind="protocol-error",
         truncated="disconnect", status=None),
    fixed("1mb-header-line", b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * (1 << 20) + b"\r\nContent-Length: 2\r\n\r\nok",
          "protocol-error", "disconnect", None),
    Case(name="endless-body", behaviour=lambda: b.stream(b.head(content_type="application/octet-stream"),
                                                         b.zeros(None)), kind="too-large", truncated="length",
         status=200),
    Case(name="endless-chunked", behaviour=lambda: b.stream(CHUNKED, b.chunked(b.zeros(None))), kind="too-large",
         truncated="length", status=200),
    Case(name="1gb-body", behaviour=lambda: b.stream(b.head(length=1 << 30, content_type="application/octet-stream"),
                                                     b.zeros(1 << 30)), kind="too-large", truncated="length",
         status=200),
    fixed("status-not-a-number", b"HTTP/1.1 abc Whatever\r\n\r\n", "protocol-error", "disconnect", None),
    fixed("status-line-garbage", b"garbage\r\n\r\n", "protocol-error", "disconnect", None),
    fixed("status-line-icy", b"ICY 200 OK\r\n\r\nbody", "protocol-error", "disconnect", None),
    fixed("no-status-line", b"<html>no status line</html>", "protocol-error", "disconnect", None),
    fixed("status-out-of-range", b"HTTP/1.1 99999 Huge\r\nContent-Length: 0\r\n\r\n", "protocol-error",
          "disconnect", None),
    fixed("closed-without-answer", b"", "connect-failed", None, None),
    fixed("http10-without-length", b.head(version="HTTP/1.0") + b"<html><body>ten</body></html>", None, None, 200),
]
BY_NAME = {case.name: case for case in CASES}


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    return {"gzip": b.gzip_bomb(GZIP_BOMB_SIZE), "br": b.brotli_bomb(BROTLI_BOMB_SIZE)}


def bomb_page(data: bytes, encoding: str) -> b.Behaviour:
    return b.raw(b.head(length=len(data), headers=[("Content-Encoding", encoding)]) + data)


def recorded(exchange) -> bytes:
    exchange.response.seek(0)
    return exchange.response.read()


def fetch(url: str, **limits):
    limits = {"total_timeout": 2, "read_timeout": 1, "max_body": CAP, **limits}
    return list(Fetcher(limits=Limits(**limits)).fetch(url, allow_private=True))


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_each_hostile_answer_is_bounded_and_recorded_honestly(bad, tally, case):
    tally.tried(case.name)
    [exchange] = fetch(bad.route("/x", case.behaviour()))
    assert (exchange.error.kind if exchange.error else None, exchange.truncated, exchange.status) == (
        case.kind, case.truncated, case.status), exchange.error
    assert exchange.response_length <= MAX_HEAD + CAP + READ_SIZE  # bounded memory and disk
    if case.sent is not None:  # every byte recorded is a byte the server sent, in order
        assert case.sent.startswith(recorded(exchange))
    if case.truncated is None and case.status is not None:
        assert not exchange.error and exchange.has_response


def test_content_length_smaller_than_the_body_keeps_exactly_the_declared_bytes(bad):
    [exchange] = fetch(bad.route("/x", BY_NAME["content-length-smaller"].behaviour()))
    assert recorded(exchange).endswith(b"\r\n\r\n<p>x</p><p")
    assert exchange.payload_hashes.sha256.hexdigest() == hashlib.sha256(b"<p>x</p><p").hexdigest()


def test_a_1gb_body_is_cut_at_the_cap(bad, tally):
    tally.tried("1gb-body")
    [exchange] = fetch(bad.route("/x", BY_NAME["1gb-body"].behaviour()))
    assert CAP < exchange.response_length - exchange.payload_offset <= CAP + READ_SIZE
    assert str(exchange.error).endswith(f"response larger than the limit of {CAP} bytes (raise it with --max-size)")


def test_redirect_loop_ends_with_a_named_failure(bad, tally):
    tally.tried("redirect-loop")
    bad.route("/b", b.redirect("/a"))
    hops = fetch(bad.route("/a", b.redirect("/b")))
    assert [hop.status for hop in hops] == [302, 302, None]
    assert str(hops[-1].error) == f"{bad.base}/b: redirect loop back to {bad.base}/a"


def test_50_hop_chain_stops_at_the_limit_and_goes_through_when_allowed(bad, tally):
    tally.tried("50-hop-redirect-chain")
    for n in range(50):
        bad.route(f"/hop{n}", b.redirect(f"/hop{n + 1}"))
    bad.route("/hop50", b.ok(b"<html><body>end</body></html>"))
    stopped = fetch(bad.base + "/hop0")
    assert [hop.status for hop in stopped] == [302] * 11 + [None]
    assert stopped[-1].error.kind == "too-many-redirects"
    through = fetch(bad.base + "/hop0", max_redirects=50)
    assert [hop.status for hop in through] == [302] * 50 + [200]


def test_tls_less_server_where_tls_is_expected(tally):
    tally.tried("tls-less-server")
    plain = b.PlainOnTLS()
    try:
        [exchange] = fetch(plain.url)
    finally:
        plain.close()
    assert exchange.error.kind == "connect-failed" and not exchange.has_response
    assert str(exchange.error).startswith(f"{plain.url}: TLS handshake failed ([SSL: WRONG_VERSION_NUMBER]")


def test_tls_handshake_trickled_a_byte_at_a_time(bad, tally):
    """A handshake record promised, then a byte every 0.3 s: each read is quick, the handshake never
    ends. Python bounds a whole handshake by the socket's timeout, which the connection set to what
    was left of the deadline (the connect timeout, 10 s here, being longer)."""
    tally.tried("tls-handshake-trickled")
    bad.not_http = b.trickle(b"\x16\x03\x03\x40\x00" + bytes(0x4000), every=0.3)
    url = f"https://127.0.0.1:{bad.port}/"
    [exchange] = fetch(url)
    assert (exchange.error.kind, str(exchange.error)) == ("timeout", f"{url}: gave up after the total time limit of 2s")
    assert not exchange.has_response


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_compression_bombs_are_archived_compressed(bad, bombs, tally, encoding):
    tally.tried({"gzip": "gzip-bomb", "br": "brotli-bomb"}[encoding])
    [exchange] = fetch(bad.route("/bomb", bomb_page(bombs[encoding], encoding)))
    assert exchange.error is None and exchange.truncated is None
    assert exchange.body == bombs[encoding]  # the bytes as sent (decode_content=False): never inflated here
    assert exchange.payload_hashes.sha256.hexdigest() == hashlib.sha256(bombs[encoding]).hexdigest()


def test_gzip_bomb_is_inflated_for_parsing_only_up_to_the_cap(bombs):
    from archiver.warc import decode_content

    assert len(decode_content(bombs["gzip"], "gzip", limit=CAP)) == CAP


PEAK = """import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True, stdin=subprocess.DEVNULL)
print(json.dumps([done.returncode, done.stdout, done.stderr, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))
"""


def peak_run(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess, int]:
    """Run archiver under a fresh parent whose only child it is: (result, archiver's peak resident MB)."""
    env = {**{key: value for key, value in os.environ.items() if not key.startswith("ARCHIVER_")}, **(env or {})}
    outer = subprocess.run([sys.executable, "-c", PEAK, sys.executable, "-m", "archiver", *args], env=env,
                           capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    code, stdout, stderr, peak_kb = json.loads(outer.stdout)
    return subprocess.CompletedProcess(args, code, stdout, stderr), peak_kb // 1024


@pytest.mark.slow
def test_bombs_captured_as_posts_are_reparsed_within_the_cap(bad, bombs, home, tally):
    """Re-parsing reads the payload back from the WARC and inflates it as capture does: no further
    than the cap (warcio inflated a whole block at once, and failed on brotli: an internal error)."""
    tally.tried("compression bombs re-parsed from the WARC")
    urls = [bad.route(f"/{encoding}.html", bomb_page(bombs[encoding], encoding)) for encoding in ("gzip", "br")]
    assert invoke_archiver("capture", *urls, "--home", str(home), "--max-size", "10MB").returncode == 0
    result, peak = peak_run("reparse", *urls, "--home", str(home), env={"ARCHIVER_MAX_SIZE": "10MB"})
    assert (result.returncode, result.stderr) == (0, "Re-parsed 2 pages\n")
    tally.peak_mb["reparse of a gzip and a brotli bomb (10 MB cap)"] = peak
    assert peak < 400, f"reparse peaked at {peak} MB"
    check_store(home)


SITE_CASES = CASES + [
    Case(name="gzip-bomb", behaviour=lambda: None, kind=None, truncated=None, status=200),
    Case(name="brotli-bomb", behaviour=lambda: None, kind=None, truncated=None, status=200),
]


@pytest.mark.slow
def test_a_post_citing_every_hostile_server_is_captured_whole(bad, bombs, home, tally):
    """Every case at once, as the citations of one post: the post and its good resources are captured
    (exit 0), each bad resource is catalogued with what happened, every record written is valid and
    catalogued, and memory stays far below the 1 GB bodies on offer."""
    for case in CASES:
        bad.route(f"/{case.name}", case.behaviour())
    bad.route("/gzip-bomb", bomb_page(bombs["gzip"], "gzip"))
    bad.route("/brotli-bomb", bomb_page(bombs["br"], "br"))
    bad.route("/good.html", b.ok(b"<html><body><article><p>a good source</p></article></body></html>"))
    bad.route("/logo.png", b.ok(b"\x89PNG fake", "image/png"))
    links = "".join(f'<p>See <a href="/{case.name}">{case.name}</a> for this case.</p>' for case in SITE_CASES)
    post = (f'<html><body><article><p>A post citing <a href="/good.html">a good source</a>.</p>{links}'
            '<img src="/logo.png"><img src="/1gb-body"></article></body></html>').encode()
    url = bad.route("/post.html", b.ok(post))
    result, peak = peak_run("capture", url, "--home", str(home), "--allow-private", "--json", "--workers", "32",
                            "--per-host", "32", *LIMITS)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    tally.peak_mb["capture offered a 1 GB body, endless bodies and two bombs (10 MB cap)"] = peak
    assert peak < 400, f"capture peaked at {peak} MB"
    fetches = {row["url"]: row for row in rows(home, "fetches") if row["outcome"] != "duplicate"}
    records = {(row["target_uri"], row["record_type"]): row for row in rows(home, "records")}
    for path in ("/post.html", "/good.html", "/logo.png"):
        assert fetches[bad.base + path]["outcome"] == "captured" and not fetches[bad.base + path]["error_kind"]
        assert records[(bad.base + path, "response")]["truncated"] is None
    for case in SITE_CASES:
        tally.tried(case.name)
        fetch_row = fetches[f"{bad.base}/{case.name}"]
        assert fetch_row["error_kind"] == case.kind, (case.name, fetch_row["error"])
        response = records.get((f"{bad.base}/{case.name}", "response"))
        assert fetch_row["outcome"] == ("captured" if response else "failed"), case.name
        assert (response["truncated"] if response else None) == case.truncated, case.name
        assert (response["http_status"] if response else None) == case.status, case.name
    summary = json.loads(result.stdout)
    assert summary["outcome"] == "complete"
    assert {f["url"] for f in summary["failures"]} == {f"{bad.base}/{case.name}" for case in SITE_CASES if case.kind}
    check_store(home)


@pytest.mark.slow
def test_typed_posts_on_hostile_servers_fail_with_one_line_each(bad, home, tally):
    """When the post itself is the bad one: exit 3, one ``Error:`` line per post, no traceback, and
    whatever was received still archived, marked, and catalogued."""
    failing = [case for case in CASES if case.kind]
    urls = [bad.route(f"/{case.name}", case.behaviour()) for case in failing]
    result = invoke_archiver("capture", *urls, "--home", str(home), "--processes", "1", "--workers", "32",
                          "--per-host", "32", *LIMITS)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert sorted(errors) == sorted(f"Error: {fetch_row['error']}" for fetch_row in rows(home, "fetches"))
    assert len(errors) == len(failing)
    for case in failing:
        tally.tried(f"typed-post: {case.name}")
    [event] = rows(home, "capture_events")
    assert event["outcome"] == "failed"
    check_store(home)
