"""Capturing what a reader's browser loads without scripts: the sample site's constructs post
(stylesheets that @import each other, fonts, CSS backgrounds, lazy images, a frame with its own
requisites, media, ad blocks), and the bounds on frames within frames and @import chains."""

from __future__ import annotations

import pytest
from warcio.archiveiterator import ArchiveIterator

from archiver import Settings, open_collection
from archiver import catalogue as cat
from archiver.capture import capture
from archiver.capture._tasks import MAX_EMBED_DEPTH, MAX_FRAME_DEPTH

from .servers import page, send


@pytest.fixture(scope="module")
def constructs(site):
    return site.manifest()["constructs"]


@pytest.fixture(scope="module")
def captured(site, constructs, tmp_path_factory):
    """The constructs post captured once, with the requests the site answered for each URL meanwhile."""
    urls = [entry["url"] for entry in constructs["expected"]] + constructs["not_fetched"]
    before = {url: site.requests(url) for url in urls}
    collection = open_collection(Settings(home=tmp_path_factory.mktemp("constructs"), allow_private=True,
                                          operator="tester"), mode="write")
    result = capture([constructs["post"]], collection=collection, command="archiver capture test")
    requested = {url: site.requests(url) - before[url] for url in urls}
    yield result, collection, requested
    collection.close()


@pytest.fixture(scope="module")
def fetches(captured):
    _, collection, _ = captured
    return collection.catalogue.rows(cat.fetches)


def test_the_capture_completes_without_failures(captured):
    result, _, _ = captured
    assert (result.outcome, result.failures, result.seed_errors) == ("complete", [], {})


def test_every_resource_is_fetched_exactly_once_and_nothing_else(captured, constructs, fetches, site):
    _, _, requested = captured
    expected = {entry["url"] for entry in constructs["expected"]}
    fresh = [row["url"] for row in fetches if row["outcome"] != "duplicate" and row["role"] != "robots"]
    assert sorted(fresh) == sorted(expected)
    assert {url: count for url, count in requested.items() if url in expected} == dict.fromkeys(expected, 1)
    assert {url: requested[url] for url in constructs["not_fetched"]} == dict.fromkeys(constructs["not_fetched"], 0)
    assert [row["url"] for row in fetches if row["role"] == "robots"] == [site.bases["blog"] + "/robots.txt"]


def test_each_resource_is_catalogued_under_the_fetch_and_tag_that_referenced_it(constructs, fetches):
    by_id = {row["id"]: row for row in fetches}
    fresh = {row["url"]: row for row in fetches if row["outcome"] != "duplicate" and row["role"] != "robots"}
    found = {url: (row["role"], row["http_status"], by_id[row["parent_fetch_id"]]["url"]
                   if row["parent_fetch_id"] else None, row["link_tag"]) for url, row in fresh.items()}
    assert found == {entry["url"]: (entry["role"], entry["status"], entry.get("parent"), entry.get("tag"))
                     for entry in constructs["expected"]}
    assert {row["link_kind"] for row in fresh.values() if row["role"] == "embed"} == {"embed"}


def test_a_stylesheet_imported_again_is_a_duplicate_under_its_importer(constructs, fetches):
    by_id = {row["id"]: row for row in fetches}
    duplicates = [(row["url"], by_id[row["parent_fetch_id"]]["url"], by_id[row["duplicate_of_id"]]["url"])
                  for row in fetches if row["outcome"] == "duplicate"]
    assert duplicates == [(again["url"], again["parent"], again["url"]) for again in constructs["referenced_again"]]


def _metadata_of(collection, url: str) -> list[str]:
    records = collection.catalogue.rows(cat.records)
    [response] = [r for r in records if r["target_uri"] == url and r["record_type"] == "response"]
    [meta] = [r for r in records if r["record_type"] == "metadata" and r["refers_to"] == response["warc_record_id"]]
    [path] = [f["path"] for f in collection.catalogue.rows(cat.warc_files) if f["id"] == meta["warc_file_id"]]
    with open(collection.resolve(path), "rb") as fh:
        fh.seek(meta["offset"])
        return next(iter(ArchiveIterator(fh))).content_stream().read().decode().splitlines()


def test_a_stylesheets_and_a_frames_metadata_record_say_why_each_url_was_fetched(captured, constructs):
    _, collection, _ = captured
    children: dict[str, list[str]] = {}
    for entry in constructs["expected"] + constructs["referenced_again"]:
        if entry.get("parent") and entry["parent"] != constructs["post"]:
            children.setdefault(entry["parent"], []).append(entry["url"])
    assert len(children) == 4  # two stylesheets importing each other, the frame and its stylesheet
    for parent, urls in children.items():
        lines = _metadata_of(collection, parent)
        assert lines[0].startswith("extractor: archiver-extract/")
        assert sorted(lines[1:]) == sorted(f"outlink: {url} embed followed" for url in urls)


def test_only_the_pages_stylesheets_and_frames_have_metadata_records(captured, constructs, site):
    _, collection, _ = captured
    records = collection.catalogue.rows(cat.records)
    about = {r["refers_to"] for r in records if r["record_type"] == "metadata"}
    described = {r["target_uri"] for r in records if r["record_type"] == "response" and r["warc_record_id"] in about}
    parents = {entry["parent"] for entry in constructs["expected"] if entry.get("parent")}
    assert described == parents | {site.bases["blog"] + "/robots.txt"}  # robots.txt: its verdict
    assert len(parents) == 5  # the post, its frame, and three stylesheets


def _chain(server, name: str, count: int, make) -> list[str]:
    """``count`` documents /NAME0 .. /NAME{count-1}, each referring to the next (and the first to itself)."""
    urls = [f"{server.base}/{name}{n}" for n in range(count)]
    for n, url in enumerate(urls):
        nxt = urls[n + 1] if n + 1 < count else f"{server.base}/{name}-last"
        server.route(url.removeprefix(server.base), make(url, nxt, urls[0]))
    return urls


def test_frames_nest_two_levels_and_imports_chain_five_and_cycles_end(server, tmp_path):
    def frame(url, nxt, first):
        return page(f'<html><body><img src="{url}.png"><iframe src="{nxt}"></iframe><iframe src="{first}">'
                    '</iframe></body></html>')

    def sheet(url, nxt, first):
        body = f'@import "{nxt}"; @import url({url}); .a {{ background: url({url}.png) }}'.encode()
        return lambda request: send(request, 200, body, content_type="text/css")

    frames = _chain(server, "frame", MAX_FRAME_DEPTH + 2, frame)
    sheets = _chain(server, "sheet", MAX_EMBED_DEPTH + 2, sheet)
    server.route("/post.html", page(f'<html><head><link rel="stylesheet" href="{sheets[0]}"></head><body>'
                                    f'<iframe src="{frames[0]}"></iframe></body></html>'))
    with open_collection(Settings(home=tmp_path, allow_private=True, operator="t"), mode="write") as collection:
        result = capture([server.base + "/post.html"], collection=collection, command="t")
        rows = collection.catalogue.rows(cat.fetches)
    assert result.outcome == "complete"
    fetched = sorted(row["url"] for row in rows if row["outcome"] != "duplicate" and row["role"] == "embed")
    parsed_frames = frames[:MAX_FRAME_DEPTH]  # the third frame is fetched but not parsed
    parsed_sheets = sheets[:MAX_EMBED_DEPTH]
    assert fetched == sorted(frames[:MAX_FRAME_DEPTH + 1] + [f"{url}.png" for url in parsed_frames]
                             + sheets[:MAX_EMBED_DEPTH + 1] + [f"{url}.png" for url in parsed_sheets])
    assert server.hits.count("/frame0") == 1 and server.hits.count("/sheet0") == 1


def test_a_cited_pages_stylesheet_leads_to_its_own_requisites_as_cited_embeds(server, tmp_path):
    server.route("/post.html", page('<html><body><article><p>The offensive began in May.</p>'
                                    '<p>Source: <a href="/cited.html">the report</a>.</p></article></body></html>'))
    server.route("/cited.html", page('<html><head><link rel="stylesheet" href="/cited.css"></head><body><article>'
                                     '<p>The report.</p><iframe src="/cited-frame.html"></iframe></article></body>'
                                     '</html>'))
    server.route("/cited.css", lambda request: send(request, 200, b".a { background: url(bg.png) }", "text/css"))
    server.route("/cited-frame.html", page('<html><body><img src="/in-frame.png"></body></html>'))
    with open_collection(Settings(home=tmp_path, allow_private=True, operator="t"), mode="write") as collection:
        capture([server.base + "/post.html"], collection=collection, command="t")
        rows = collection.catalogue.rows(cat.fetches)
    urls = {row["id"]: row["url"].removeprefix(server.base) for row in rows}
    assert sorted((urls[row["id"]], row["role"], urls.get(row["parent_fetch_id"])) for row in rows
                  if row["role"] != "robots") == [
        ("/bg.png", "cited-embed", "/cited.css"), ("/cited-frame.html", "cited-embed", "/cited.html"),
        ("/cited.css", "cited-embed", "/cited.html"), ("/cited.html", "cited", "/post.html"),
        ("/in-frame.png", "cited-embed", "/cited-frame.html"), ("/post.html", "post", None)]
