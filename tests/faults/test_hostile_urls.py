"""Hostile pages and URLs: SSRF, other schemes, and paths chosen by the network.

Everything runs on loopback, so "public" is what the tests trust: the URL typed on the command line
is fetched wherever it points (the operator chose it); every link followed from it, and every
redirect, is checked on the address actually connected to. One test stands in a second loopback
address for a public host by widening the policy for that one address, to show a followed link's
redirect checked at its own hop.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest

import archiver.net._fetch
from archiver.capture import capture
from archiver.collection import open_collection
from archiver.config import resolve
from archiver.errors import InvalidURL
from archiver.net import Fetcher, Limits, check_url

from ..conftest import invoke_archiver
from ..servers import send
from . import badserver as b
from .conftest import check_store, rows

# Spellings of non-public addresses: host part -> the address it must be refused as.
LOOPBACK_SPELLINGS = {
    "127.0.0.1": "127.0.0.1", "2130706433": "127.0.0.1", "0177.0.0.1": "127.0.0.1", "0x7f.0.0.1": "127.0.0.1",
    "0x7f000001": "127.0.0.1", "017700000001": "127.0.0.1", "127.1": "127.0.0.1", "0.0.0.0": "0.0.0.0",
    "0": "0.0.0.0", "[::ffff:127.0.0.1]": "::ffff:127.0.0.1", "[::ffff:7f00:1]": "::ffff:127.0.0.1",
    "localhost": "127.0.0.1", "LOCALHOST": "127.0.0.1",
}
UNREACHABLE_PRIVATE = {
    "127.9.9.9": "127.9.9.9", "[::1]": "::1", "[::]": "::", "10.0.0.1": "10.0.0.1", "172.16.0.1": "172.16.0.1",
    "172.31.255.254": "172.31.255.254", "192.168.0.1": "192.168.0.1", "169.254.169.254": "169.254.169.254",
    "[::ffff:169.254.169.254]": "::ffff:169.254.169.254", "[fc00::1]": "fc00::1", "[fd12:3456::1]": "fd12:3456::1",
    "[fe80::1]": "fe80::1", "100.64.0.1": "100.64.0.1", "224.0.0.1": "224.0.0.1",
}
NEVER_FETCHED = ["file:///etc/passwd", "ftp://127.0.0.1/pub/x", "data:text/html,<p>x</p>",
                 "javascript:alert(document.cookie)", "gopher://127.0.0.1:70/_x", "mailto:a@b.example"]


@pytest.fixture
def canary():
    """A loopback server that must never be asked anything."""
    server = b.BadServer()
    server.route("/", b.ok(b"<html><body>canary</body></html>"))
    server.route("/latest/meta-data/", b.ok(b"secret-token", "text/plain"))
    yield server
    server.close()


def fetcher() -> Fetcher:
    return Fetcher(limits=Limits(connect_timeout=1, total_timeout=2))


@pytest.mark.parametrize("host", [*LOOPBACK_SPELLINGS, *UNREACHABLE_PRIVATE])
def test_followed_link_to_a_non_public_address_is_refused_before_connecting(canary, tally, host):
    tally.tried(f"ssrf {host}")
    url = f"http://{host}:{canary.port}/latest/meta-data/"
    [exchange] = fetcher().fetch(url, allow_private=False)
    address = {**LOOPBACK_SPELLINGS, **UNREACHABLE_PRIVATE}[host]
    assert (exchange.error.kind, str(exchange.error)) == ("blocked-address", (
        f"{url} resolves to the non-public address {address}; "
        "pass --allow-private to follow links to such addresses"))
    assert exchange.request == b"" and not exchange.has_response and canary.hits == []


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
def test_allow_private_reaches_the_same_spellings(canary, host):
    """The refusals above are the policy's: with --allow-private each spelling reaches the canary."""
    [exchange] = fetcher().fetch(f"http://{host}:{canary.port}/", allow_private=True)
    assert exchange.status == 200 and canary.hits == ["/"]


def test_backslash_host_trick_is_refused_and_names_both_hosts(canary, tally):
    """urlsplit reads example.org, urllib3 would connect to 127.0.0.1: refused as a URL, not fetched."""
    tally.tried("urlsplit backslash-@ host trick")
    url = f"http://127.0.0.1:{canary.port}\\@example.org/"
    for allow_private in (False, True):
        [exchange] = fetcher().fetch(url, allow_private=allow_private)
        assert exchange.error.kind == "refused-url"
        assert str(exchange.error) == (f"{url!r} names the host 'example.org', but a connection would go to "
                                       "'127.0.0.1': refused")
    assert canary.hits == []


@pytest.mark.parametrize("url", ["http://bücher.example/", "http://straße.example/", "http://[2001:db8::1]:8080/x",
                                 "http://Example.ORG/", "http://user:p@ss@example.org/"])
def test_hosts_both_parsers_agree_on_are_kept(url):
    assert check_url(url) == url


@pytest.mark.parametrize("url, named, connects_to", [
    ("http://127.0.0.1:1\\@exämple.org/", "exämple.org", "127.0.0.1"),
    ("http://a.example\\.b.example/", "a.example\\.b.example", "a.example"),
])
def test_hosts_the_parsers_disagree_on_are_refused(tally, url, named, connects_to):
    tally.tried(f"urlsplit/urllib3 disagree: {url}")
    with pytest.raises(InvalidURL) as error:
        check_url(url)
    assert str(error.value) == (f"{url!r} names the host {named!r}, but a connection would go to "
                                f"{connects_to!r}: refused")


@pytest.mark.parametrize("target", NEVER_FETCHED)
def test_redirect_to_another_scheme_is_a_catalogued_refusal(bad, tally, target):
    tally.tried(f"redirect to {target.split(':')[0]}:")
    url = bad.route("/r", b.redirect(target))
    hops = list(fetcher().fetch(url, allow_private=True))
    assert [hop.status for hop in hops] == [302, None]
    assert hops[-1].error.kind == "refused-url" and str(hops[-1].error).startswith(f"{url}: redirect to {target!r}")


def test_redirects_to_other_schemes_in_a_capture(bad, home, tally):
    """A citation redirecting to file: is a catalogued refusal beside a complete capture; a typed post
    redirecting to javascript: fails as a fetch (exit 3), not as bad input nor an internal error."""
    tally.tried("redirect to another scheme, in a capture")
    cited = bad.route("/cited", b.redirect("file:///etc/passwd"))
    post = bad.route("/post", b.ok(b'<html><body><article><p>It has <a href="/cited">cited</a> this.</p></article>'
                                   b'</body></html>'))
    result = invoke_archiver("capture", post, "--home", str(home), "--allow-private")
    assert result.returncode == 0, result.stderr
    [refused] = rows(home, "fetches", url="file:///etc/passwd")
    assert (refused["outcome"], refused["error_kind"], refused["error"]) == ("blocked", "refused-url", (
        f"{cited}: redirect to 'file:///etc/passwd' has the scheme 'file': only http and https can be captured"))
    typed = bad.route("/typed", b.redirect("javascript:alert(1)"))
    result = invoke_archiver("capture", typed, "--home", str(home))
    assert (result.returncode, result.stderr.splitlines()[-1]) == (3, (
        f"Error: {typed}: redirect to 'javascript:alert(1)' has the scheme 'javascript': only http and https "
        "can be captured"))
    check_store(home)


def test_redirect_from_a_trusted_address_to_a_private_one_is_checked_where_it_connects(bad, canary, tally):
    tally.tried("redirect trusted -> private (typed URL)")
    url = bad.route("/moved", b.redirect(f"http://localhost:{canary.port}/latest/meta-data/"))
    hops = list(fetcher().fetch(url, allow_private=False, trust_first=True))
    assert [hop.status for hop in hops] == [302, None] and hops[-1].error.kind == "blocked-address"
    assert canary.hits == []


@pytest.fixture
def public_127_0_0_2(monkeypatch):
    """Let 127.0.0.2 stand in for a public host: the policy treats that one address as public."""
    real = archiver.net._fetch.address_is_public
    monkeypatch.setattr(archiver.net._fetch, "address_is_public", lambda ip: ip == "127.0.0.2" or real(ip))
    server = b.BadServer("127.0.0.2")
    yield server
    server.close()


def test_followed_link_from_a_public_host_redirecting_to_a_private_one(public_127_0_0_2, canary, home, tally):
    """A citation on a (stand-in) public host that redirects to loopback: its first hop is captured,
    the redirect refused at the address it would connect to, and both catalogued."""
    tally.tried("redirect public -> private (followed link)")
    public = public_127_0_0_2
    target = f"http://127.0.0.1:{canary.port}/latest/meta-data/"
    cited = public.route("/cited", b.redirect(target))
    post = public.route("/post", b.ok(f'<html><body><article><p>See <a href="{cited}">this</a>.</p>'
                                      '</article></body></html>'.encode()))
    settings = resolve({"home": str(home), "total_timeout": "2s"}, env={})
    collection = open_collection(settings, mode="write")
    try:
        result = capture([post], collection=collection, command="test", stop=threading.Event())
    finally:
        collection.close()
    assert result.outcome == "complete" and canary.hits == []
    fetches = {row["url"]: row for row in rows(home, "fetches")}
    assert (fetches[cited]["outcome"], fetches[cited]["http_status"]) == ("captured", 302)
    assert (fetches[target]["outcome"], fetches[target]["error_kind"]) == ("blocked", "blocked-address")
    assert fetches[target]["redirect_from_id"] == fetches[cited]["id"]
    check_store(home)


def test_a_post_citing_every_hostile_url(server, canary, home, tally):
    """The typed post is fetched; none of what it cites or embeds at a non-public address or another
    scheme is; every refusal is a catalogued fetch; the capture completes."""
    private = [f"http://{host}:{canary.port}/latest/meta-data/" for host in [*LOOPBACK_SPELLINGS,
                                                                                 *UNREACHABLE_PRIVATE]]
    backslash = f"http://127.0.0.1:{canary.port}\\@example.org/"
    anchors = "".join(f'<p>Source: <a href="{url}">{n}</a>.</p>' for n, url in enumerate(
        [*private, backslash, *NEVER_FETCHED]))
    html = (f'<html><body><article>{anchors}<img src="{private[0]}x.png">'
            f'<iframe src="{NEVER_FETCHED[0]}"></iframe></article></body></html>')
    post = server.route("/post.html", lambda request: send(request, 200, html.encode()))
    result = invoke_archiver("capture", post, "--home", str(home), "--json", "--connect-timeout", "1s",
                          "--total-timeout", "2s", "--workers", "16", "--per-host", "16")
    assert result.returncode == 0, result.stderr
    assert canary.hits == []
    fetches = rows(home, "fetches")
    refused = {row["url"]: (row["outcome"], row["error_kind"]) for row in fetches if row["role"] != "post"}
    expected = {url: ("blocked", "blocked-address") for url in [*private, private[0] + "x.png"]}
    expected[backslash] = ("blocked", "refused-url")
    assert refused == expected
    assert not [row for row in fetches if not row["url"].startswith("http")]  # other schemes never reach a fetch
    for case in NEVER_FETCHED:
        tally.tried(f"link to {case.split(':')[0]}:")
    for host in [*LOOPBACK_SPELLINGS, *UNREACHABLE_PRIVATE]:
        tally.tried(f"ssrf {host}")
    summary = json.loads(result.stdout)
    assert summary["outcome"] == "complete" and len(summary["failures"]) == len(expected)
    assert f"{len(expected) - 1} links to non-public addresses were not followed" in result.stderr
    check_store(home)


def test_typed_url_with_the_backslash_trick_is_unusable_input(home):
    result = invoke_archiver("capture", "http://127.0.0.1:9\\@example.org/", "--home", str(home))
    assert (result.returncode, result.stderr) == (2, (
        "Error: 'http://127.0.0.1:9\\\\@example.org/' names the host 'example.org', but a connection "
        "would go to '127.0.0.1': refused\n"))


def test_check_url_refuses_unparseable_hosts():
    with pytest.raises(InvalidURL):
        check_url("http://exa mple.org/")


# --- path safety ------------------------------------------------------------------------------

TOKEN = "escaped-token-6a"


def tree(root) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*")}


def test_nothing_from_the_network_chooses_a_path(server, home, tmp_path, tally):
    """URLs with ../ and %2e%2e, absurdly long names, Content-Disposition filenames that climb out:
    the only files written are the catalogue and WARC files named by archiver, under the collection."""
    dispositions = [f'attachment; filename="../../../../{TOKEN}"',
                    f"attachment; filename*=UTF-8''..%2F..%2F..%2F{TOKEN}", f'inline; filename="/tmp/{TOKEN}"',
                    f'attachment; filename="{"A" * 5000}"']
    for n, value in enumerate(dispositions):
        server.route(f"/file{n}", lambda request, value=value: send(
            request, 200, b"payload", "application/octet-stream", headers={"Content-Disposition": value}))
    paths = [f"/../../../../{TOKEN}", f"/%2e%2e/%2e%2e/%2E%2E/{TOKEN}", f"/a/..%2f..%2f..%2f{TOKEN}",
             f"/{'x' * 8000}", f"/..\\..\\{TOKEN}", f"/file0?name=../../{TOKEN}"]
    links = [f"/file{n}" for n in range(len(dispositions))] + paths
    anchors = "".join(f'<p><a href="{link}">{n}</a></p>' for n, link in enumerate(links))
    server.route("/post", lambda request: send(request, 200, (
        f'<html><body><article>{anchors}<img src="/{"y" * 5000}.png"></article></body></html>').encode(),
        headers={"Content-Disposition": f'attachment; filename="../{TOKEN}.html"'}))
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    before = tree(tmp_path)
    result = invoke_archiver("capture", server.base + "/post", "--home", str(home), "--allow-private", cwd=cwd,
                          env={"ARCHIVER_WARC_PREFIX": "../../climb"})
    assert result.returncode == 0, result.stderr
    for case in ("content-disposition ../", "url path ../ and %2e%2e", "long names", "warc prefix ../"):
        tally.tried(f"path safety: {case}")
    created = tree(tmp_path) - before
    assert not [path for path in created if TOKEN in path] and not (Path("/tmp") / TOKEN).exists()
    warcs = {path for path in created if path.startswith("collection/snapshots/")}
    assert created - warcs == {"collection", "collection/snapshots", "collection/archiver.db",
                               "collection/archiver.db-wal", "collection/archiver.db-shm"} & created
    # the prefix's slashes are replaced: it names a file, never a folder
    assert warcs and all(re.fullmatch(r"collection/snapshots/\.\._\.\._climb-\d{17}-\d{5}-[A-Za-z0-9._-]+"
                                      r"\.warc\.gz", path) for path in warcs), warcs
    assert len([row for row in rows(home, "fetches") if row["role"] != "robots"]) == 2 + len(links)
    check_store(home)
