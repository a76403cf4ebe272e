"""Politeness: robots.txt for followed links (RFC 9309), --ignore-robots, the User-Agent with a
contact, per-host concurrency and delay."""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time

import pytest
from warcio.archiveiterator import ArchiveIterator

from archiver import __version__
from archiver import catalogue as cat
from archiver.capture import ROBOTS_IGNORED, ROBOTS_OBEYED

from ..conftest import invoke_archiver, run_archiver
from ..servers import ScriptedServer, send
from .crashkit import record_case, rows

ROBOTS = b"User-agent: *\nDisallow: /private/\n"
POST = (b'<html><head><title>Post</title></head><body><article><p>It cites <a href="/open.html">an open page</a>'
        b' and <a href="/private/closed.html">a closed one</a>.</p><img src="/pic.png">'
        b'<img src="/private/pic.png"></article></body></html>')
CLOSED = {"/private/closed.html", "/private/pic.png"}


class PoliteSite:
    """A post whose links robots.txt partly disallows; records what each request looked like."""

    def __init__(self, robots_status: int = 200) -> None:
        self.server = ScriptedServer()
        self.agents: list[str] = []
        self.started: list[tuple[str, float]] = []  # (path, monotonic time) of each request
        self.active = 0
        self.most_active = 0
        self._lock = threading.Lock()
        self._arrived = threading.Event()
        self.route("/robots.txt", ROBOTS, "text/plain", status=robots_status)
        self.route("/post.html", POST)
        self.route("/private/typed.html", POST)
        self.route("/open.html", b"<p>open</p>")
        self.route("/private/closed.html", b"<p>closed</p>")
        self.route("/pic.png", b"\x89PNG" * 100, "image/png")
        self.route("/private/pic.png", b"\x89PNG" * 200, "image/png")
        for n in range(4):
            self.route(f"/img{n}.png", bytes([n]) * 500, "image/png")

    def route(self, path: str, body: bytes, content_type: str = "text/html", status: int = 200) -> None:
        def handle(request) -> None:
            with self._lock:
                self.agents.append(request.headers["User-Agent"])
                self.started.append((path, time.monotonic()))
                self.active += 1
                self.most_active = max(self.most_active, self.active)
                self._arrived.set()
            if path.startswith("/img"):  # hold the answer until another request comes, or 1 s
                self._arrived.clear()
                self._arrived.wait(1.0)
            with self._lock:
                self.active -= 1
            send(request, status, body, content_type)

        self.server.route(path, handle)

    def url(self, path: str) -> str:
        return self.server.base + path

    @property
    def hits(self) -> list[str]:
        return self.server.hits


@pytest.fixture
def polite():
    site = PoliteSite()
    yield site
    site.server.close()


def capture(home, *args, env=None):
    run = run_archiver if "--processes" in args else invoke_archiver  # limits across processes: the real command
    result = run("capture", *args, "--home", str(home), "--allow-private", "--json", env=env)
    assert "Traceback" not in result.stderr
    return result


def warcinfo(home) -> dict[str, str]:
    [path] = (home / "snapshots").glob("*.warc.gz")
    with open(path, "rb") as fh:
        record = next(iter(ArchiveIterator(fh)))
        text = record.content_stream().read().decode()
    return dict(line.split(": ", 1) for line in text.splitlines())


def test_links_robots_txt_disallows_are_refused_and_catalogued(polite, home, request):
    result = capture(home, polite.url("/post.html"))
    assert result.returncode == 0, result.stderr
    refused = [row for row in rows(home, cat.fetches) if row["error_kind"] == "robots-disallowed"]
    record_case(case="robots.txt disallows two followed links", test=request.node.name,
                expected="not fetched; each refusal catalogued (outcome blocked); robots.txt archived",
                result="pass" if not CLOSED & set(polite.hits) and len(refused) == 2 else "FAIL")
    assert not CLOSED & set(polite.hits)
    assert polite.hits.count("/robots.txt") == 1 and "/open.html" in polite.hits and "/pic.png" in polite.hits
    assert sorted((row["url"], row["outcome"], row["error"]) for row in refused) == [
        (polite.url(path), "blocked", f"{polite.url(path)}: disallowed by {polite.url('/robots.txt')} "
                                      "(--ignore-robots fetches it)") for path in sorted(CLOSED)]
    assert "2 links disallowed by robots.txt were not fetched (--ignore-robots fetches them)" in result.stderr
    [response] = rows(home, cat.records, cat.records.c.role == "robots", cat.records.c.record_type == "response")
    assert (response["target_uri"], response["http_status"]) == (polite.url("/robots.txt"), 200)
    assert response["payload_sha256"] == hashlib.sha256(ROBOTS).hexdigest()
    [note] = rows(home, cat.records, cat.records.c.refers_to == response["warc_record_id"])
    path = next(home / f["path"] for f in rows(home, cat.warc_files) if f["id"] == note["warc_file_id"])
    with open(path, "rb") as fh:
        fh.seek(note["offset"])
        fields = next(iter(ArchiveIterator(fh))).content_stream().read().decode()
    assert fields == (f"robots-policy: obey\r\nrobots-verdict: rules\r\n"
                      f"robots-reason: robots.txt rules ({len(ROBOTS)} bytes)\r\n"
                      f"robots-txt-sha256: {hashlib.sha256(ROBOTS).hexdigest()}\r\n")
    assert warcinfo(home)["robots"] == ROBOTS_OBEYED
    assert {r["role"] for r in json.loads(result.stdout)["records"]} == {"post", "embed", "cited", "robots"}


def test_a_typed_url_is_fetched_whatever_robots_txt_says(polite, home, request):
    result = capture(home, polite.url("/private/typed.html"))
    assert result.returncode == 0, result.stderr
    assert polite.hits[0] == "/private/typed.html"
    passed(request, "robots.txt disallows the URL typed", "fetched: the archivist chose it")


def passed(request, case: str, expected: str) -> None:
    """A politeness case that reached its end: every assertion before it held."""
    record_case(case=case, test=request.node.name, expected=expected, result="pass")


@pytest.mark.parametrize("how", ["flag", "env", "config"])
def test_ignore_robots_from_flag_env_or_config(polite, home, how, request):
    args, env = [polite.url("/post.html")], None
    if how == "flag":
        args.append("--ignore-robots")
    elif how == "env":
        env = {"ARCHIVER_IGNORE_ROBOTS": "1"}
    else:
        home.mkdir(parents=True)
        (home / "archiver.toml").write_text("ignore_robots = true\n")
    result = capture(home, *args, env=env)
    assert result.returncode == 0, result.stderr
    assert CLOSED <= set(polite.hits) and "/robots.txt" not in polite.hits
    assert warcinfo(home)["robots"] == ROBOTS_IGNORED
    passed(request, f"--ignore-robots given by {how}", "disallowed links fetched; robots.txt not asked; "
                                                         "warcinfo says ignore")


@pytest.mark.parametrize("status, fetched", [(503, set()), (404, {"/open.html", "/pic.png", *CLOSED})])
def test_robots_txt_5xx_disallows_every_followed_link_4xx_none(home, status, fetched, request):
    site = PoliteSite(robots_status=status)
    try:
        result = capture(home, site.url("/post.html"))
    finally:
        site.server.close()
    assert result.returncode == 0, result.stderr
    followed = {"/open.html", "/pic.png", *CLOSED}
    assert followed & set(site.hits) == fetched
    refused = {row["url"] for row in rows(home, cat.fetches) if row["error_kind"] == "robots-disallowed"}
    assert refused == {site.url(path) for path in followed - fetched}
    passed(request, f"robots.txt answers {status}", "5xx: every followed link refused and catalogued; "
                                                    "4xx: every one fetched")


def test_user_agent_names_archiver_its_version_and_the_contact_in_config(polite, home, request):
    home.mkdir(parents=True)
    (home / "archiver.toml").write_text('contact = "mailto:jane@example.org"\n')
    result = capture(home, polite.url("/post.html"))
    assert result.returncode == 0, result.stderr
    agent = f"archiver/{__version__} (+https://github.com/archiver-project/archiver; mailto:jane@example.org)"
    assert set(polite.agents) == {agent}  # robots.txt and pages alike
    assert warcinfo(home)["http-header-user-agent"] == agent
    passed(request, "contact set in archiver.toml", "every request's User-Agent names archiver, its version, "
                                                    "the contact")


def images_post(site: PoliteSite, name: str = "gallery") -> str:
    html = "<html><body><article><p>Pictures</p>" + "".join(f'<img src="/img{n}.png">' for n in range(4))
    site.route(f"/{name}.html", (html + "</article></body></html>").encode())
    return site.url(f"/{name}.html")


@pytest.mark.parametrize("per_host", [1, 2])
def test_per_host_concurrency(polite, home, per_host, request):
    result = capture(home, images_post(polite), "--per-host", str(per_host))
    assert result.returncode == 0, result.stderr
    assert polite.most_active == per_host
    passed(request, f"--per-host {per_host}", f"at most {per_host} requests at once to the host")


def test_host_delay_spaces_the_requests_to_one_host(polite, home, request):
    result = capture(home, images_post(polite), "--per-host", "4", "--host-delay", "0.3s")
    assert result.returncode == 0, result.stderr
    assert [path for path, _ in polite.started][:2] == ["/gallery.html", "/robots.txt"]
    starts = [moment for _, moment in polite.started]
    assert len(starts) == 6  # the post, robots.txt and four images, each after its turn
    # six turns 0.3 s apart span at least 1.5 s; the bound allows one turn of scheduling delay
    assert starts[-1] - starts[0] >= 4 * 0.3
    passed(request, "--host-delay 0.3s", "six requests to the host span at least 1.2 s")


def test_per_host_and_host_delay_hold_across_processes(polite, home, request):
    posts = [images_post(polite, name) for name in ("gallery", "gallery2")]  # each process fetches 4 images
    result = capture(home, *posts, "--processes", "2", "--per-host", "1")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["warc_files"]) == 2 and polite.hits.count("/img0.png") == 2
    assert polite.most_active == 1
    polite.started.clear()
    result = capture(home, *posts, "--processes", "2", "--per-host", "4", "--host-delay", "0.3s")
    assert result.returncode == 0, result.stderr
    starts = sorted(moment for _, moment in polite.started)
    assert len(starts) == 12  # per process: its post, robots.txt and four images
    # 0.3 s between the starts of two fetches, whichever process made them (less the server's jitter)
    assert min(later - earlier for earlier, later in itertools.pairwise(starts)) >= 0.25
    passed(request, "--processes 2 with --per-host 1, then --host-delay 0.3s",
           "one request at a time to the host across both processes; starts 0.3 s apart")


def test_a_followed_link_redirecting_to_a_disallowed_url_stops_there(polite, home, request):
    other = PoliteSite()  # another origin, whose robots.txt disallows /private/
    try:
        polite.server.route("/moved.html", lambda r: send(r, 301, b"", headers={
            "Location": other.url("/private/closed.html")}))
        polite.route("/cites-moved.html", b'<html><body><article><p>See <a href="/moved.html">this</a>.</p>'
                                          b'</article></body></html>')
        result = capture(home, polite.url("/cites-moved.html"))
    finally:
        other.server.close()
    assert result.returncode == 0, result.stderr
    assert other.hits == ["/robots.txt"]  # asked for its rules, not for the page
    fetches = {row["url"]: row for row in rows(home, cat.fetches)}
    refused = fetches[other.url("/private/closed.html")]
    assert (refused["outcome"], refused["error_kind"]) == ("blocked", "robots-disallowed")
    assert refused["redirect_from_id"] == fetches[polite.url("/moved.html")]["id"]
    assert {row["url"] for row in fetches.values() if row["role"] == "robots"} == {
        polite.url("/robots.txt"), other.url("/robots.txt")}
    passed(request, "a followed link redirects to a URL robots.txt disallows", "the chain stops before it; the "
                                                                               "refusal catalogued as its last hop")
