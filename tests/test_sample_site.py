"""Tests of the bundled sample site, over real HTTP on loopback.

The ``site`` and ``manifest`` fixtures (conftest.py) serve the site once per session.
"""

from __future__ import annotations

import gzip
import html
import json
import re
import socket
from collections.abc import Iterator
from html.parser import HTMLParser
from http.client import HTTPConnection
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
import requests

from archiver.sample_site import HOSTS, MANIFEST_PATH, SampleSite, serve

MANIFEST: dict[str, Any] = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
REQUISITE_RELS = {"stylesheet", "icon", "shortcut icon"}


@pytest.fixture(scope="module")
def client() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


class _PageLinks(HTMLParser):
    """Requisites (img/script src, stylesheet and icon links) and other links of one page."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base
        self.requisites: set[str] = set()
        self.links: set[str] = set()

    def _add(self, into: set[str], value: str) -> None:
        url = urldefrag(urljoin(self.base, value.strip()))[0]
        if url.startswith(("http://", "https://")):
            into.add(url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value for name, value in attrs if value is not None}
        if tag in ("img", "script") and "src" in values:
            self._add(self.requisites, values["src"])
        elif tag == "link" and "href" in values:
            rel = " ".join(values.get("rel", "").lower().split())
            self._add(self.requisites if rel in REQUISITE_RELS else self.links, values["href"])
        elif tag == "a" and "href" in values:
            self._add(self.links, values["href"])


def _page_links(client: requests.Session, url: str) -> _PageLinks:
    response = client.get(url, allow_redirects=False)
    assert response.status_code == 200
    parser = _PageLinks(url)
    parser.feed(response.text)
    return parser


def _urls(manifest: dict[str, Any], *roles: str) -> set[str]:
    return {entry["url"] for entry in manifest["expected"] if entry["role"] in roles}


def test_hosts_listen_on_their_loopback_addresses(site: SampleSite) -> None:
    assert site.bases.keys() == HOSTS.keys()
    for name, base in site.bases.items():
        assert urlsplit(base).hostname == HOSTS[name]
    assert site.post_url == site.url(MANIFEST["post"])
    assert site.url("{{sohr}}/en/") == site.bases["sohr"] + "/en/"


def test_manifest_method_expands_every_placeholder(site: SampleSite, manifest: dict[str, Any]) -> None:
    assert site.manifest() == manifest
    assert "{{" not in json.dumps(manifest)


@pytest.mark.parametrize("entry", MANIFEST["expected"], ids=lambda entry: entry["url"])
def test_expected_url_answers_with_manifest_status(
    site: SampleSite, client: requests.Session, entry: dict[str, Any]
) -> None:
    response = client.get(site.url(entry["url"]), allow_redirects=False)
    assert response.status_code == entry["status"]
    if "redirected_from" in entry:
        old = client.get(site.url(entry["redirected_from"]), allow_redirects=False)
        assert old.status_code == 301
        assert old.headers["Location"] == site.url(entry["url"])


def test_successful_responses_carry_static_file_headers(manifest: dict[str, Any], client: requests.Session) -> None:
    for entry in manifest["expected"]:
        if entry["status"] != 200:
            continue
        response = client.get(entry["url"], allow_redirects=False)
        for header in ("Date", "Server", "ETag", "Last-Modified", "Content-Type"):
            assert response.headers.get(header), (entry["url"], header)
        content_type = response.headers["Content-Type"]
        if content_type.startswith(("text/", "application/javascript")):
            assert "charset=" in content_type, entry["url"]
    post = client.get(manifest["post"])
    assert post.headers["Content-Type"] == "text/html; charset=utf-8"
    assert post.headers["Server"] == "GSE"
    assert int(post.headers["Content-Length"]) == len(post.content)


def test_head_sends_headers_only(manifest: dict[str, Any]) -> None:
    split = urlsplit(manifest["post"])
    connection = HTTPConnection(split.hostname, split.port, timeout=10)
    try:
        connection.request("GET", split.path)
        full = connection.getresponse()
        body = full.read()
        connection.request("HEAD", split.path)
        head = connection.getresponse()
        assert head.status == 200
        assert head.read() == b""
        assert int(head.headers["Content-Length"]) == len(body)
        assert head.headers["ETag"] == full.headers["ETag"]
    finally:
        connection.close()


def test_connections_are_kept_alive(manifest: dict[str, Any]) -> None:
    split = urlsplit(manifest["post"])
    connection = HTTPConnection(split.hostname, split.port, timeout=10)
    try:
        paths = [split.path, "/favicon.ico", "/no/such/page.html", split.path]
        statuses = []
        for path in paths:
            connection.request("GET", path)
            if path == paths[0]:
                first_socket = connection.sock
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
            assert not response.will_close
        assert statuses == [200, 200, 404, 200]
        assert connection.sock is first_socket
    finally:
        connection.close()


def test_missing_file_is_a_small_html_404(site: SampleSite, client: requests.Session) -> None:
    response = client.get(site.url("{{dailystar}}/no/such/article.ashx"))
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "404 Not Found" in response.text


def test_chunked_page_arrives_in_several_chunks(manifest: dict[str, Any], client: requests.Session) -> None:
    response = client.get(manifest["chunked"], stream=True)
    assert response.status_code == 200
    assert response.raw.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in response.raw.headers
    chunks = list(response.raw.read_chunked(decode_content=False))
    assert len(chunks) > 1
    assert b"Nasrallah declares victory in Syria's Qalamoun" in b"".join(chunks)


def test_gzip_page_is_gzip_encoded_when_accepted(manifest: dict[str, Any], client: requests.Session) -> None:
    response = client.get(manifest["gzip"], headers={"Accept-Encoding": "gzip, deflate"}, stream=True)
    assert response.raw.headers["Content-Encoding"] == "gzip"
    assert response.raw.headers["Vary"] == "Accept-Encoding"
    raw = response.raw.read(decode_content=False)
    assert len(raw) == int(response.raw.headers["Content-Length"])
    assert b"Hezbollah assault on Qalamoun ruled out" in gzip.decompress(raw)

    plain = client.get(manifest["gzip"], headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    assert plain.content == gzip.decompress(raw)
    assert response.raw.headers["ETag"] != plain.headers["ETag"]


def test_windows_1256_page_is_arabic_in_cp1256(manifest: dict[str, Any], client: requests.Session) -> None:
    response = client.get(manifest["charset_windows_1256"])
    assert response.headers["Content-Type"] == "text/html; charset=windows-1256"
    with pytest.raises(UnicodeDecodeError):
        response.content.decode("utf-8")
    text = response.content.decode("cp1256")
    assert '<meta http-equiv="Content-Type" content="text/html; charset=windows-1256" />' in text
    assert "المرصد السوري لحقوق الإنسان" in text
    assert "حزب الله" in text


def test_placeholders_never_leak(manifest: dict[str, Any], site: SampleSite, client: requests.Session) -> None:
    urls = [entry["url"] for entry in manifest["expected"]]
    urls += [base + "/robots.txt" for base in site.bases.values()]
    for url in urls:
        response = client.get(url, allow_redirects=False, headers={"Accept-Encoding": "identity"})
        assert b"{{" not in response.content, url
        assert "{{" not in response.headers.get("Location", "")


def test_every_host_serves_an_allow_all_robots_txt(site: SampleSite, client: requests.Session) -> None:
    for base in site.bases.values():
        response = client.get(base + "/robots.txt")
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert response.text == "User-agent: *\nAllow: /\n"


def test_manifest_lists_exactly_the_requisites_and_links_of_the_pages(
    manifest: dict[str, Any], client: requests.Session
) -> None:
    expected = [entry["url"] for entry in manifest["expected"]]
    assert len(expected) == len(set(expected))
    assert len(manifest["not_followed"]) == len(set(manifest["not_followed"]))

    post = _page_links(client, manifest["post"])
    assert post.requisites == _urls(manifest, "embed")
    cited = {e["url"] for e in manifest["expected"] if e["role"] == "cited" and "redirected_from" not in e}
    assert cited <= post.links

    pages = [e["url"] for e in manifest["expected"] if e["role"] == "cited" and e["status"] == 200]
    links = set(post.links)
    cited_requisites: set[str] = set()
    for url in pages:
        page = _page_links(client, url)
        cited_requisites |= page.requisites
        links |= page.links
    assert cited_requisites - _urls(manifest, "embed") == _urls(manifest, "cited-embed")
    assert set(manifest["not_followed"]) == links - set(expected)


def test_captions_and_references_are_in_the_post(manifest: dict[str, Any], client: requests.Session) -> None:
    page = client.get(manifest["post"]).text
    tables = re.findall(r'<table[^>]*class="tr-caption-container".*?</table>', page, re.DOTALL)
    found = []
    for table in tables:
        image = urljoin(manifest["post"], html.unescape(re.search(r'<img[^>]* src="([^"]+)"', table).group(1)))
        caption = html.unescape(re.search(r'class="tr-caption"[^>]*>(.*?)</td>', table).group(1)).strip()
        text, credit = caption.rsplit(" / ", 1)
        found.append({"text": text, "credit": credit, "image": image})
    assert found == manifest["captions"]

    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert manifest["title"] in text and manifest["date"] in text and manifest["author"] in text
    for ref in manifest["references"]:
        assert f"{ref['publisher']}: {ref['title']} ({ref['language']}) – [link]" in text
        assert f'href="{ref["url"]}"' in page


def _refuses_connections(address: tuple[str, int]) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(address) != 0


def test_close_frees_the_ports_even_with_open_connections() -> None:
    site = serve()
    addresses = [(urlsplit(base).hostname, urlsplit(base).port) for base in site.bases.values()]
    session = requests.Session()
    assert session.get(site.post_url).status_code == 200  # leaves a keep-alive connection open
    site.close()
    site.close()
    for host, port in addresses:
        assert _refuses_connections((host, port))
        with socket.socket() as rebind:
            rebind.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            rebind.bind((host, port))
            rebind.listen()
    session.close()


def test_serve_binds_every_host_to_a_given_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with serve(port=port) as site:
        assert {urlsplit(base).port for base in site.bases.values()} == {port}
        assert requests.get(site.post_url, timeout=10).status_code == 200


def test_the_constructs_post_and_all_it_loads_are_served_with_their_types(
    manifest: dict[str, Any], client: requests.Session
) -> None:
    types = {}
    for entry in manifest["constructs"]["expected"]:
        response = client.get(entry["url"])
        assert response.status_code == entry["status"], entry["url"]
        types[urlsplit(entry["url"]).path.rpartition(".")[2]] = response.headers["Content-Type"]
    assert types == {"html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8", "png": "image/png",
                     "webp": "image/webp", "woff2": "font/woff2", "mp4": "video/mp4", "mp3": "audio/mpeg",
                     "vtt": "text/vtt; charset=utf-8"}
