"""Re-crawls against a loopback site that changes between crawls, and one whose boilerplate churns."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading

import pytest
import sqlalchemy as sa

from archiver import catalogue as cat
from archiver.capture import _run as run
from archiver.capture import capture, recrawl
from archiver.collection import open_collection
from archiver.config import resolve
from archiver.query import changes_since, diff, history
from archiver.warc import read_http_payload, read_record
from archiver.warc._writer import warc_date

from .changing_site import ChangingSite
from .conftest import assert_warcs_valid
from .servers import conditional, page, send


@pytest.fixture
def changing():
    site = ChangingSite()
    yield site
    site.close()


@pytest.fixture
def collection(home):
    opened = open_collection(resolve({"home": home, "allow_private": True}), mode="write")
    yield opened
    opened.close()


def again(collection, *urls):
    result = recrawl(collection=collection, urls=list(urls), command="test", stop=threading.Event())
    return {change.url: change.change for change in result.changes}


def first(collection, *urls):
    return capture(list(urls), collection=collection, command="test")


def test_unchanged_site_gives_revisits_and_stores_payloads_once(changing, collection, home):
    first(collection, changing.post_url)
    found = again(collection, changing.post_url)
    assert set(found.values()) == {"unchanged"}
    assert set(found) == {changing.post_url, changing.blog.base + "/logo.png", changing.a_url, changing.b_url,
                          changing.etag_url}
    rows = collection.catalogue.rows(cat.records, cat.records.c.record_type == "revisit")
    profiles = {row["target_uri"]: row["revisit_profile"].rsplit("/", 1)[1] for row in rows}
    assert profiles[changing.etag_url] == "server-not-modified"  # If-None-Match sent, 304 answered
    assert changing.state.etag_hits == ["", '"v1"']
    assert profiles[changing.post_url] == "identical-payload-digest"
    assert len(rows) == 5
    # every revisit points at the original response, whose bytes hold the same payload
    for row in rows:
        original = collection.catalogue.rows(cat.records, cat.records.c.id == row["revisit_of_id"])[0]
        assert original["record_type"] == "response" and original["target_uri"] == row["target_uri"]
        assert original["payload_sha256"] == row["payload_sha256"]
        warc = collection.catalogue.rows(cat.warc_files, cat.warc_files.c.id == original["warc_file_id"])[0]
        assert read_record(home / warc["path"], original["offset"]).payload_sha256 == row["payload_sha256"]
    assert_warcs_valid(home / "snapshots")


@pytest.mark.parametrize("edit, url_of, expected", [
    (lambda s: s.paragraphs.__setitem__(1, "The Lebanese army withdrew from Arsal."), "post_url", "edited"),
    (lambda s: setattr(s, "dead", 46), "post_url", "edited"),
    (lambda s: setattr(s, "caption", "Jaysh al-Fateh fighters / AlJazeera"), "post_url", "captions-changed"),
    (lambda s: setattr(s, "cite_b", False), "post_url", "links-changed"),
    (lambda s: setattr(s, "b_status", 404), "b_url", "gone"),
    (lambda s: setattr(s, "etag_version", "v2"), "etag_url", "unchanged"),  # new ETag, same text
    (lambda s: setattr(s, "a_moved", True), "a_url", "moved"),
    (lambda s: setattr(s, "logo", b"\x89PNG\r\n\x1a\n" + b"new logo" * 40), "logo_url", "replaced"),
])
def test_each_edit_is_detected_and_classified(changing, collection, edit, url_of, expected):
    first(collection, changing.post_url)
    edit(changing.state)
    found = again(collection, changing.post_url)
    url = getattr(changing, url_of)
    assert found[url] == expected
    others = {u: c for u, c in found.items() if u != url and c != "unchanged"}
    assert others == {}


def test_a_changed_figure_shows_in_the_word_diff(changing, collection):
    first(collection, changing.post_url)
    changing.state.dead = 46
    again(collection, changing.post_url)
    data = diff(collection.catalogue, changing.post_url)
    assert [(hunk["removed"], hunk["added"]) for hunk in data["text"]] == [("36", "46")]
    assert data["text_rendered"][0].startswith("… ") and "[-36-]{+46+}" in data["text_rendered"][0]
    assert data["captions"] == {"removed": [], "added": []} and data["changed"] is True


def test_churning_boilerplate_is_never_an_edit(changing, collection):
    first(collection, changing.churn_url)
    for _ in range(20):
        found = again(collection, changing.churn_url)
        assert found[changing.churn_url] == "unchanged"
    assert changes_since(collection.catalogue) == []


def test_dead_citation_is_flagged_on_the_citing_post_with_its_last_good_capture(changing, collection):
    first(collection, changing.post_url)
    changing.state.b_status = 404
    again(collection, changing.post_url)
    [gone] = [item for item in changes_since(collection.catalogue) if item["change"] == "gone"]
    assert gone["url"] == changing.b_url and gone["citing"] == [changing.post_url]
    assert gone["last_good"]["record_id"].startswith("<urn:uuid:")
    changing.state.b_status = 200
    assert again(collection, changing.post_url)[changing.b_url] == "back"


def test_soft_404_is_confirmed_by_one_refetch_then_reported_gone(changing, collection):
    first(collection, changing.a_url)
    changing.cited.route("/a.html", page(
        "<html><head><title>Page not found</title></head><body><p>Sorry, page not found.</p></body></html>"))
    found = again(collection, changing.a_url)
    assert found[changing.a_url] == "gone"
    fetches = collection.catalogue.rows(cat.fetches, cat.fetches.c.url == changing.a_url)
    assert [row["link_kind"] for row in fetches] == ["seed", "seed", "confirm"]


def test_history_lists_versions_oldest_first(changing, collection):
    first(collection, changing.post_url)
    again(collection, changing.post_url)
    changing.state.dead = 46
    again(collection, changing.post_url)
    rows = history(collection.catalogue, changing.post_url)
    assert [(row["record_type"], row["change"], row["changed"]) for row in rows] == [
        ("response", "new", False), ("revisit", "unchanged", False), ("response", "edited", True)]
    assert rows[0]["payload_sha256"] == rows[1]["payload_sha256"] != rows[2]["payload_sha256"]


def test_two_recrawls_at_once_never_fetch_a_url_twice(changing, collection, home):
    first(collection, changing.post_url)
    settings = resolve({"home": home, "allow_private": True})
    results = []

    def run():
        other = open_collection(settings, mode="write")
        try:
            results.append(recrawl(collection=other, urls=[changing.post_url], command="test",
                                   stop=threading.Event()))
        finally:
            other.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with collection.catalogue.reader() as reader:
        fetched = reader.execute(sa.select(cat.fetches.c.url, sa.func.count()).where(
            cat.fetches.c.capture_event_id > 1, cat.fetches.c.outcome == "captured")
            .group_by(cat.fetches.c.url)).all()
        leased = reader.execute(sa.select(sa.func.count()).select_from(cat.leases)).scalar_one()
    assert fetched and all(count == 1 for _, count in fetched)
    assert leased == 0
    assert_warcs_valid(home / "snapshots")
    assert json.dumps([r.as_json() for r in results])  # both runs ended with a result


def test_a_failing_site_is_recorded_and_the_schedule_goes_on(changing, collection):
    from archiver.capture import due, schedules, set_schedule

    first(collection, changing.post_url)
    set_schedule(collection.catalogue, [changing.post_url], every=1)
    changing.cited.route("/a.html", page("<html><body>overloaded</body></html>", status=500))
    moment = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=2)
    assert due(collection.catalogue, moment) == [changing.post_url]
    result = recrawl(collection=collection, urls=None, command="test", stop=threading.Event(), due_by=moment)
    found = {change.url: change.change for change in result.changes}
    assert found[changing.a_url] == "failed" and found[changing.post_url] == "unchanged"
    [policy] = schedules(collection.catalogue)
    assert policy["last_run_at"] is not None
    assert dt.datetime.fromisoformat(policy["next_due_at"]) > dt.datetime.fromisoformat(policy["last_run_at"])
    assert changes_since(collection.catalogue) == []  # a failure is not a change


def test_revisit_records_carry_what_warc_1_1_asks_and_read_back_in_full(changing, collection, home):
    from warcio.archiveiterator import ArchiveIterator

    first(collection, changing.post_url)
    again(collection, changing.post_url)
    rows = {row["warc_record_id"]: row for row in collection.catalogue.rows(
        cat.records, cat.records.c.record_type == "revisit")}
    seen = 0
    for path in sorted((home / "snapshots").glob("*.warc.gz")):
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type != "revisit":
                    continue
                headers = dict(record.rec_headers.headers)
                row = rows[headers["WARC-Record-ID"]]
                original = collection.catalogue.rows(cat.records, cat.records.c.id == row["revisit_of_id"])[0]
                identical = headers["WARC-Profile"].endswith("/identical-payload-digest")
                assert set(headers) == {
                    "WARC-Type", "WARC-Record-ID", "WARC-Date", "WARC-Target-URI", "WARC-IP-Address", "WARC-Profile",
                    "WARC-Refers-To", "WARC-Refers-To-Target-URI", "WARC-Refers-To-Date", "Content-Type",
                    "WARC-Block-Digest", "WARC-Warcinfo-ID", "Content-Length", "WARC-Payload-Digest",
                    *(() if identical else ("WARC-HTTP-Response-Line", "WARC-HTTP-Response-Digest"))}
                assert headers["WARC-Refers-To"] == original["warc_record_id"]
                assert headers["WARC-Refers-To-Target-URI"] == original["target_uri"]
                assert headers["WARC-Refers-To-Date"] == warc_date(original["warc_date"])
                assert headers["WARC-Payload-Digest"] == original["payload_digest"]
                # a 304's revisit holds the original's status line, for replay; the catalogue keeps the 304
                assert (record.http_headers.get_statuscode(), row["http_status"]) == (
                    ("200", 200) if identical else ("200", 304))
                assert row["refers_to"] == original["warc_record_id"]
                assert row["payload_sha256"] == original["payload_sha256"]
                warc = collection.catalogue.rows(cat.warc_files, cat.warc_files.c.id == original["warc_file_id"])[0]
                assert read_record(home / warc["path"], original["offset"]).payload_sha256 == row["payload_sha256"]
                seen += 1
    assert seen == len(rows) == 5
    assert_warcs_valid(home / "snapshots")


def test_a_304_is_kept_as_received_in_its_revisit_beside_its_request(changing, collection, home):
    from warcio.archiveiterator import ArchiveIterator

    first(collection, changing.etag_url)
    again(collection, changing.etag_url)
    records = []
    for path in sorted((home / "snapshots").glob("*.warc.gz")):
        with open(path, "rb") as fh:
            records += [(record.rec_type, record.rec_headers.headers, record.http_headers.to_bytes()
                         if record.rec_type == "request" else record.content_stream().read())
                        for record in ArchiveIterator(fh)]
    [(_, revisit, _)] = [record for record in records if record[0] == "revisit"]
    fields = dict(revisit)
    about = [record for record in records if fields["WARC-Record-ID"] in
             (dict(record[1]).get("WARC-Refers-To"), dict(record[1]).get("WARC-Concurrent-To"))]
    [(_, request, sent)] = about  # the request, and no other record: the 304 is in the revisit's fields
    lines = [value for name, value in revisit if name == "WARC-HTTP-Response-Line"]
    received = "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n"
    assert (lines[0], fields["WARC-HTTP-Response-Digest"]) == (
        "HTTP/1.1 304 Not Modified", "sha256:" + hashlib.sha256(received).hexdigest())
    assert 'ETag: "v1"' in lines and fields["WARC-Target-URI"] == changing.etag_url
    assert b'If-None-Match: "v1"' in sent and dict(request)["WARC-Target-URI"] == changing.etag_url
    [entry, confirmed] = history(collection.catalogue, changing.etag_url)
    assert (entry["http_status"], confirmed["http_status"], confirmed["change"]) == (200, 304, "unchanged")
    assert_warcs_valid(home / "snapshots")


@pytest.fixture
def not_modified(server):
    """A site whose every page and image answers If-None-Match with 304: a post citing a page that
    cites another (a cited page's citations are not followed from the post)."""

    html = "text/html; charset=utf-8"
    server.route("/post.html", conditional(b'<html><body><article><p>The offensive began in May.</p>'
                                        b'<img src="/logo.png"><p>Source: <a href="/cited.html">the report</a>.'
                                        b'</p></article></body></html>', html))
    server.route("/cited.html", conditional(b'<html><body><article><p>The report.</p><img src="/map.png">'
                                         b'<p>See <a href="/other.html">the earlier report</a> on the fighting.</p>'
                                         b'</article></body></html>', html))
    server.route("/other.html", conditional(b"<html><body><article><p>Earlier.</p></article></body></html>", html))
    for name in ("/logo.png", "/map.png"):
        server.route(name, conditional(b"\x89PNG\r\n\x1a\n" + name.encode() * 20, "image/png"))
    return server


def fetched(collection, event_id: int) -> list[tuple]:
    """The event's fetches of the site's pages (robots.txt, asked once per host, left out)."""
    rows = [row for row in collection.catalogue.rows(cat.fetches, cat.fetches.c.capture_event_id == event_id)
            if row["role"] != "robots"]
    urls = {row["id"]: row["url"] for row in rows}
    return sorted((row["url"], row["role"], row["link_kind"], row["link_tag"], row["link_text"],
                   urls.get(row["parent_fetch_id"]), row["http_status"]) for row in rows)


def unchanged_twice(collection, post: str, urls: int) -> tuple[list[tuple], list[tuple]]:
    """Capture ``post`` and re-crawl it, nothing changed: the ``urls`` URLs unchanged, each reached from
    the same parent by the same link (and tag); the fetches of the capture and of the re-crawl."""
    first(collection, post)
    found = again(collection, post)
    assert set(found.values()) == {"unchanged"} and len(found) == urls
    before, after = fetched(collection, 1), fetched(collection, 2)
    assert [row[:6] for row in after] == [row[:6] for row in before]
    return before, after


def test_pages_not_modified_lead_where_their_originals_led(not_modified, collection, home):
    before, after = unchanged_twice(collection, not_modified.base + "/post.html", urls=4)
    assert {row[6] for row in after} == {304} and {row[6] for row in before} == {200}
    assert ("/map.png", "cited-embed", "embed", "img") in {(row[0].removeprefix(not_modified.base), *row[1:4])
                                                    for row in after}
    assert_warcs_valid(home / "snapshots")


def test_pages_whose_links_were_catalogued_without_tags_are_read_again(not_modified, collection, monkeypatch):
    """Fetches catalogued before revision 0006 have no link tag: a page not modified since is read from its
    archived payload (whose links have tags), not rebuilt from them."""
    post = not_modified.base + "/post.html"
    first(collection, post)
    with collection.catalogue.transaction() as connection:
        connection.execute(sa.update(cat.fetches).values(link_tag=None))
    read = []
    monkeypatch.setattr(run, "read_http_payload", lambda *args, **kwargs: read.append(args) or read_http_payload(
        *args, **kwargs))
    assert set(again(collection, post).values()) == {"unchanged"}
    assert len(read) == 2  # the post and the page it cites
    assert [(row[0].removeprefix(not_modified.base), row[3]) for row in fetched(collection, 2)] == [
        ("/cited.html", "a"), ("/logo.png", "img"), ("/map.png", "img"), ("/post.html", None)]


def test_a_page_not_modified_recrawled_in_another_role_follows_that_roles_links(not_modified, collection):
    first(collection, not_modified.base + "/post.html")
    cited = not_modified.base + "/cited.html"
    found = again(collection, cited)  # now a post: its citations are followed too
    assert found == {cited: "unchanged", not_modified.base + "/map.png": "unchanged",
                     not_modified.base + "/other.html": "new"}
    roles = {row[0].removeprefix(not_modified.base): row[1] for row in fetched(collection, 2)}
    assert roles == {"/cited.html": "post", "/map.png": "embed", "/other.html": "cited"}


@pytest.mark.parametrize("extractor", ["same", "older"])
def test_stylesheets_and_frames_not_modified_lead_to_their_own_requisites(server, collection, home, monkeypatch,
                                                                           extractor):
    """Their links are read from the catalogue; or, when another link extractor wrote the capture, from
    the archived stylesheet or frame (an image not modified is not read)."""
    css = "text/css"
    server.route("/post.html", conditional(b'<html><head><link rel="stylesheet" href="/a.css"></head><body><article>'
                                        b'<p>The offensive began in May.</p><iframe src="/frame.html"></iframe>'
                                        b'</article></body></html>', "text/html; charset=utf-8"))
    server.route("/a.css", conditional(b'@import "b.css"; body { background: url(bg.png) }', css))
    server.route("/b.css", conditional(b'@import "a.css"; @font-face { src: url(f.woff2) }', css))
    server.route("/frame.html", conditional(b'<html><body><img src="/in-frame.png"></body></html>', "text/html"))
    for name in ("/bg.png", "/f.woff2", "/in-frame.png"):
        server.route(name, conditional(name.encode() * 20, "application/octet-stream"))
    if extractor == "older":
        monkeypatch.setattr(run._Run, "_extractor", lambda self, path: "archiver-extract/0")
    read = []
    monkeypatch.setattr(run, "read_http_payload", lambda *args, **kwargs: read.append(args) or read_http_payload(
        *args, **kwargs))
    before, after = unchanged_twice(collection, server.base + "/post.html", urls=7)
    assert len(read) == (4 if extractor == "older" else 0)  # the post, the frame and the two stylesheets
    assert {row[6] for row in after} == {304, None} and {row[6] for row in before} == {200, None}  # None: a.css again
    parents = {(row[0].removeprefix(server.base), (row[5] or "").removeprefix(server.base)) for row in after}
    assert parents == {("/post.html", ""), ("/a.css", "/post.html"), ("/frame.html", "/post.html"),
                       ("/b.css", "/a.css"), ("/bg.png", "/a.css"), ("/a.css", "/b.css"), ("/f.woff2", "/b.css"),
                       ("/in-frame.png", "/frame.html")}
    assert_warcs_valid(home / "snapshots")


def test_a_frame_changed_in_a_post_not_modified_is_parsed_for_its_new_requisites(server, collection, home):
    """The post answers 304, so its links (the frame's among them, with its tag) come from the catalogue;
    the frame answers 200 with a new image, which is fetched as the frame's requisite."""
    server.route("/post.html", conditional(b'<html><body><article><p>The offensive began in May.</p>'
                                        b'<iframe src="/frame.html"></iframe></article></body></html>',
                                        "text/html; charset=utf-8"))
    for name in ("/old.png", "/new.png"):
        server.route(name, conditional(b"\x89PNG\r\n\x1a\n" + name.encode() * 20, "image/png"))
    server.route("/frame.html", conditional(b'<html><body><img src="/old.png"></body></html>', "text/html"))
    first(collection, server.base + "/post.html")
    server.route("/frame.html", conditional(b'<html><body><img src="/new.png"></body></html>', "text/html"))
    found = again(collection, server.base + "/post.html")
    assert {url.removeprefix(server.base): change for url, change in found.items()} == {
        "/post.html": "unchanged", "/frame.html": "replaced", "/new.png": "new"}
    assert [(row[0].removeprefix(server.base), *row[1:5], (row[5] or "").removeprefix(server.base), row[6])
            for row in fetched(collection, 2)] == [
        ("/frame.html", "embed", "embed", "iframe", None, "/post.html", 200),
        ("/new.png", "embed", "embed", "img", None, "/frame.html", 200),
        ("/post.html", "post", "seed", None, None, "", 304)]
    assert_warcs_valid(home / "snapshots")


def test_a_payload_archived_before_is_a_revisit_of_its_own_urls_response_first(server, collection):
    """A payload an earlier capture holds becomes an identical-payload revisit: of the same URL's response
    when there is one, even if another URL's with the same payload is newer; else of the newest of any URL."""
    body = b"the same bytes under three names"
    a, b, c = (server.route(f"/{name}.txt", lambda request: send(request, 200, body, "text/plain"))
               for name in "abc")
    first(collection, a, b)  # two responses of the payload in one event (fetched side by side: either first)

    def records(record_type):
        rows = collection.catalogue.rows(cat.records, cat.records.c.record_type == record_type)
        return {row["target_uri"]: row["id" if record_type == "response" else "revisit_of_id"] for row in rows}

    response = records("response")
    older, newer = sorted((a, b), key=response.__getitem__)
    first(collection, older, c)
    assert records("revisit") == {older: response[older], c: response[newer]}
