"""robots.txt as RFC 9309 has it: matching (protego) and what each answer to /robots.txt means."""

from __future__ import annotations

import gzip
import threading
import urllib.robotparser

import pytest
from protego import Protego

from archiver.errors import ConnectFailed, RobotsDisallowed
from archiver.net import Fetcher, Limits, RobotsCache, RobotsPolicy
from archiver.net._robots import (
    ALLOW_ALL,
    DISALLOW_ALL,
    MAX_BYTES,
    MAX_REDIRECTS,
    NOT_CONSULTED,
    RULES,
    decide,
    robots_url,
)

from .servers import send

RULES_TXT = """\
User-agent: *
Disallow: /

User-agent: archiver
Disallow: /private/
Allow: /private/press/
Disallow: /*.pdf$
Allow: /tie
Disallow: /tie
"""


def policy(text: str) -> RobotsPolicy:
    return RobotsPolicy(url="http://example.org/robots.txt", verdict=RULES, reason="test", rules=Protego.parse(text))


@pytest.mark.parametrize("path, allowed", [
    ("/post.html", True),  # the archiver group, not '*', applies
    ("/private/notes.html", False),
    ("/private/press/release.html", True),  # the longer Allow wins, wherever it stands in the file
    ("/paper.pdf", False),
    ("/paper.pdf?download=1", True),  # '$' anchors the end
    ("/tie", True),  # an Allow and a Disallow of the same length: Allow
])
def test_longest_match_for_the_archiver_group(path, allowed):
    assert policy(RULES_TXT).allows("http://example.org" + path) is allowed


def test_order_does_not_matter_unlike_urllib_robotparser():
    text = "User-agent: *\nDisallow: /a/\nAllow: /a/b/\n"
    assert policy(text).allows("http://example.org/a/b/c") is True
    stdlib = urllib.robotparser.RobotFileParser()
    stdlib.parse(text.splitlines())
    assert stdlib.can_fetch("archiver", "http://example.org/a/b/c") is False  # first match: why protego


def test_robots_url_is_per_origin():
    assert robots_url("https://Example.org:8443/a/b?c#d") == "https://Example.org:8443/robots.txt"


@pytest.fixture
def fetch():
    fetcher = Fetcher(limits=Limits(max_body=MAX_BYTES, max_redirects=MAX_REDIRECTS, total_timeout=10))
    return lambda url: list(fetcher.fetch(url, allow_private=True))


def fetched_policy(server, fetch, handler):
    url = server.route("/robots.txt", handler)
    return decide(url, fetch(url))


@pytest.mark.parametrize("status, verdict", [(404, ALLOW_ALL), (403, ALLOW_ALL), (410, ALLOW_ALL),
                                             (500, DISALLOW_ALL), (503, DISALLOW_ALL)])
def test_4xx_allows_everything_5xx_disallows_everything(server, fetch, status, verdict):
    found = fetched_policy(server, fetch, lambda r: send(r, status, b"User-agent: *\nAllow: /\n", "text/plain"))
    assert (found.verdict, found.status) == (verdict, status)
    assert found.allows(server.base + "/page.html") is (verdict == ALLOW_ALL)
    if verdict == DISALLOW_ALL:
        assert isinstance(found.refusal(server.base + "/page.html"), RobotsDisallowed)


def test_200_rules_and_their_digest(server, fetch):
    import hashlib

    body = b"User-agent: *\nDisallow: /private/\n"
    found = fetched_policy(server, fetch, lambda r: send(r, 200, body, "text/plain"))
    assert (found.verdict, found.sha256) == (RULES, hashlib.sha256(body).hexdigest())
    assert found.allows(server.base + "/a.html") and not found.allows(server.base + "/private/b.html")
    assert str(found.refusal(server.base + "/private/b.html")) == (
        f"{server.base}/private/b.html: disallowed by {server.base}/robots.txt (--ignore-robots fetches it)")
    assert dict(found.metadata_fields("obey"))["robots-txt-sha256"] == found.sha256


def test_gzip_encoded_robots_txt_is_decoded(server, fetch):
    body = gzip.compress(b"User-agent: *\nDisallow: /x\n")
    found = fetched_policy(server, fetch, lambda r: send(r, 200, body, "text/plain",
                                                         headers={"Content-Encoding": "gzip"}))
    assert found.verdict == RULES and not found.allows(server.base + "/x")


def test_rules_past_500_kib_are_not_read(server, fetch):
    body = b"User-agent: *\nDisallow: /early\n" + b"# padding\n" * (MAX_BYTES // 10) + b"Disallow: /late\n"
    found = fetched_policy(server, fetch, lambda r: send(r, 200, body, "text/plain"))
    assert found.verdict == RULES
    assert not found.allows(server.base + "/early") and found.allows(server.base + "/late")


@pytest.mark.parametrize("hops, verdict", [(MAX_REDIRECTS, RULES), (MAX_REDIRECTS + 1, ALLOW_ALL)])
def test_five_redirects_are_followed_six_mean_unavailable(server, fetch, hops, verdict):
    for n in range(1, hops):  # /robots.txt -> /hop1 -> ... -> /hop{hops}: that many redirects
        server.route(f"/hop{n}", lambda r, n=n: send(r, 301, b"", headers={"Location": f"/hop{n + 1}"}))
    server.route(f"/hop{hops}", lambda r: send(r, 200, b"User-agent: *\nDisallow: /\n", "text/plain"))
    found = fetched_policy(server, fetch, lambda r: send(r, 301, b"", headers={"Location": "/hop1"}))
    assert found.verdict == verdict


def test_unreachable_robots_txt_disallows_and_keeps_the_connection_error(fetch):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/robots.txt"
    found = decide(url, fetch(url))
    assert found.verdict == DISALLOW_ALL
    refusal = found.refusal(url.replace("robots.txt", "page.html"))
    assert isinstance(refusal, ConnectFailed) and "its robots.txt is unreachable" in str(refusal)


def test_a_refused_address_is_left_to_the_fetch_that_would_be_refused_too(server):
    fetcher = Fetcher(limits=Limits())
    url = server.base + "/robots.txt"
    found = decide(url, list(fetcher.fetch(url, allow_private=False)))
    assert found.verdict == NOT_CONSULTED and found.allows(server.base + "/page.html")


def test_the_cache_fetches_each_origin_once_however_many_ask(server, fetch):
    server.route("/robots.txt", lambda r: send(r, 200, b"User-agent: *\nDisallow: /no\n", "text/plain"))
    cache = RobotsCache(fetch)
    answers = []
    threads = [threading.Thread(target=lambda n=n: answers.append(cache.policy(f"{server.base}/page{n}")))
               for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert server.hits.count("/robots.txt") == 1
    assert sum(1 for _, hops in answers if hops) == 1  # one caller archives the exchange
    assert {policy.verdict for policy, _ in answers} == {RULES}
