"""`archiver show` and `archiver reparse`: documents of captured pages, with their parser's version."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from archiver import Settings, open_collection
from archiver import catalogue as cat
from archiver.capture import capture, reparse
from archiver.parse import _document as document_module
from archiver.query import newest_document

from .conftest import invoke_archiver, run_archiver


@pytest.fixture
def collection(site, tmp_path):
    collection = open_collection(Settings(home=tmp_path, allow_private=True), mode="write")
    capture([site.post_url], collection=collection, command="test")
    yield collection
    collection.close()


def documents_of(collection, url):
    query = (sa.select(cat.documents).join(cat.records, cat.records.c.id == cat.documents.c.record_id)
             .where(cat.records.c.target_uri == url).order_by(cat.documents.c.id))
    with collection.catalogue.reader() as reader:
        return [dict(row._mapping) for row in reader.execute(query)]


def test_capture_catalogues_a_document_per_page(collection, site, manifest):
    pages = [site.post_url] + [e["url"] for e in manifest["expected"] if e["role"] == "cited" and e["status"] == 200]
    for url in pages:
        [document] = documents_of(collection, url)
        assert document["parser"] == "archiver-document" and document["text"], url
    shown = newest_document(collection, site.post_url)
    assert [(c["text"], c["credit"]) for c in shown["captions"]] == [
        (c["text"], c["credit"]) for c in manifest["captions"]]
    assert [r["url"] for r in shown["references"]] == [r["url"] for r in manifest["references"]]


def test_reparse_keeps_every_version(collection, site, monkeypatch):
    [first] = documents_of(collection, site.post_url)
    monkeypatch.setattr(document_module, "PARSER_VERSION", "2-test")
    [redone] = reparse(collection, urls=[site.post_url])
    assert redone.parser_version == "2-test"
    versions = [(d["parser_version"], d["record_id"]) for d in documents_of(collection, site.post_url)]
    assert versions == [(first["parser_version"], first["record_id"]), ("2-test", first["record_id"])]
    assert newest_document(collection, site.post_url)["parser"] == {"name": "archiver-document",
                                                                     "version": "2-test"}
    assert documents_of(collection, site.post_url)[1]["text"] == first["text"]  # same bytes, same text


def test_reparse_all_reads_every_page_from_the_warcs(collection):
    done = reparse(collection)
    assert len(done) == 6  # the post and five cited pages (the redirect itself is not a page)


def test_show_json_from_the_command_line(collection, site):
    result = invoke_archiver("show", site.post_url, "--home", str(collection.settings.home), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["title"] == "2015 Qalamoun Offensive" and data["captured_at"]
    assert data["parser"]["name"] == "archiver-document"
    assert set(data) >= {"url", "captured_at", "title", "author", "published", "updated", "language", "text",
                         "captions", "links", "references", "parser", "warnings"}


def test_show_unknown_url(tmp_path):
    assert run_archiver("db", "upgrade", "--home", str(tmp_path)).returncode == 0  # a collection, empty
    result = run_archiver("show", "http://nowhere.example/", "--home", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr == ("Error: http://nowhere.example/: not in the catalogue "
                             "(archiver capture http://nowhere.example/ archives it)\n")


def test_show_of_a_capture_never_parsed_points_at_reparse_which_parses_it(collection, site, tmp_path):
    """A captured page without a document (its parse lost) is what `reparse` helps with, and show says so."""
    with collection.catalogue.transaction() as connection:
        for table in (cat.captions, cat.links, cat.reference_entries):
            connection.execute(sa.delete(table))
        connection.execute(sa.text(f"DELETE FROM {cat.FTS_TABLE}"))
        connection.execute(sa.delete(cat.documents))
    shown = invoke_archiver("show", site.post_url, "--home", str(tmp_path))
    assert (shown.returncode, shown.stdout) == (2, "")
    assert shown.stderr == f"Error: no parsed capture of {site.post_url} in this collection (see `archiver reparse`)\n"
    assert invoke_archiver("reparse", site.post_url, "--home", str(tmp_path)).returncode == 0
    assert json.loads(invoke_archiver("show", site.post_url, "--home", str(tmp_path), "--json").stdout)["title"]


def test_reparse_needs_urls_or_all(tmp_path):
    result = invoke_archiver("reparse", "--home", str(tmp_path))
    assert (result.returncode, result.stderr) == (2, "Error: give URLs to re-parse, or --all (not both)\n")


def test_reference_entries_lead_to_the_captured_cited_pages(collection, site):
    """Each entry of the post's reference list names a URL the same capture fetched as `cited`;
    following its redirects ends at a page whose own document is in the catalogue."""
    shown = newest_document(collection, site.post_url)
    fetches = collection.catalogue.rows(cat.fetches)
    by_redirect = {f["redirect_from_id"]: f for f in fetches if f["redirect_from_id"]}
    assert len(shown["references"]) == 3
    for reference in shown["references"]:
        [fetch] = [f for f in fetches if f["url"] == reference["url"] and f["outcome"] == "captured"]
        assert fetch["role"] == "cited"
        while fetch["http_status"] in (301, 302, 303, 307, 308):
            fetch = by_redirect[fetch["id"]]
        assert fetch["http_status"] == 200
        assert newest_document(collection, fetch["url"])["title"]


def test_a_parser_failure_costs_the_parse_not_the_capture(site, tmp_path, monkeypatch):
    import importlib

    def broken(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    # the module, not the function archiver/__init__ exports under the same name
    monkeypatch.setattr(importlib.import_module("archiver.capture._run"), "analyse", broken)
    collection = open_collection(Settings(home=tmp_path, allow_private=True), mode="write")
    try:
        result = capture([site.post_url], collection=collection, command="test")
        assert result.outcome == "complete"
        [document] = documents_of(collection, site.post_url)
        assert json.loads(document["warnings"]) == [
            "parser failed: RecursionError: maximum recursion depth exceeded"]
    finally:
        collection.close()


def cited_pages(manifest) -> list[str]:
    return sorted(e["url"] for e in manifest["expected"] if e["role"] == "cited" and e["status"] == 200)


def pending(collection) -> list[str]:
    query = (sa.select(cat.records.c.target_uri)
             .join(cat.pending_documents, cat.pending_documents.c.record_id == cat.records.c.id))
    with collection.catalogue.reader() as reader:
        return sorted(reader.execute(query).scalars())


def test_a_capture_leaves_nothing_pending(collection):
    assert pending(collection) == [] and collection.catalogue.pending_count() == 0


def test_parse_later_leaves_the_cited_pages_pending_and_parse_catalogues_them(site, manifest, collection, tmp_path):
    """`--parse later`: the post is parsed (what it cites depends on its text), each cited page is
    fetched with what it loads, and its document waits for `archiver parse`, which parses it from the
    WARC exactly as the capture would have; queries say meanwhile that documents are pending."""
    home = tmp_path / "later"
    result = invoke_archiver("capture", site.post_url, "--home", str(home), "--allow-private", "--parse", "later")
    assert result.returncode == 0, result.stderr
    cited = cited_pages(manifest)
    assert result.stderr.splitlines()[-1] == (f"{len(cited)} cited pages wait to be parsed (--parse later): "
                                              "run `archiver parse`")
    later = open_collection(Settings(home=home), mode="read")
    try:
        assert pending(later) == cited
        assert documents_of(later, site.post_url) and not any(documents_of(later, url) for url in cited)
        responses = [cat.records.c.record_type == "response"]  # the same fetches as the capture parsing at once
        assert ({row["target_uri"] for row in later.catalogue.rows(cat.records, *responses)}
                == {row["target_uri"] for row in collection.catalogue.rows(cat.records, *responses)})
    finally:
        later.close()

    note = (f"Note: {len(cited)} captured pages wait to be parsed (captured with --parse later; their documents "
            "are left out): run `archiver parse`\n")
    shown = invoke_archiver("show", cited[0], "--home", str(home))
    assert (shown.returncode, shown.stderr) == (2, note + f"Error: {cited[0]} was captured with --parse later and "
                                                          "is not parsed yet: run `archiver parse`\n")
    listed = invoke_archiver("history", site.post_url, "--home", str(home))
    assert (listed.returncode, listed.stderr) == (0, note)

    parsed = invoke_archiver("parse", "--home", str(home), "--json")
    assert parsed.returncode == 0, parsed.stderr
    assert sorted(item["url"] for item in json.loads(parsed.stdout)) == cited
    assert parsed.stderr == f"Parsed {len(cited)} pages\n"
    later = open_collection(Settings(home=home), mode="read")
    try:
        assert pending(later) == [] and later.catalogue.pending_count() == 0
        for url in cited:  # the same text as the capture that parsed it at once
            [document] = documents_of(later, url)
            [reference] = documents_of(collection, url)
            assert document["text"] == reference["text"] and document["title"] == reference["title"], url
    finally:
        later.close()
    again = invoke_archiver("parse", "--home", str(home), "--json", "--processes", "1")
    assert (again.returncode, again.stdout, again.stderr) == (0, "[]\n", "Parsed 0 pages\n")
    assert invoke_archiver("show", cited[0], "--home", str(home)).returncode == 0


def test_parse_later_from_the_environment_and_a_bad_value(site, tmp_path):
    home = tmp_path / "env"
    result = invoke_archiver("capture", site.post_url, "--home", str(home), "--allow-private",
                             env={"ARCHIVER_PARSE": "later"})
    assert result.returncode == 0, result.stderr
    assert "wait to be parsed (--parse later)" in result.stderr
    bad = invoke_archiver("capture", site.post_url, "--home", str(home), "--allow-private",
                          env={"ARCHIVER_PARSE": "soon"})
    assert (bad.returncode, bad.stdout, bad.stderr) == (2, "", "Error: ARCHIVER_PARSE: 'soon' is not when to parse "
                                                               "(now or later)\n")


def test_a_worker_killed_mid_parse_is_one_line_and_loses_nothing(site, tmp_path):
    """kill -9 of a worker process (ARCHIVER_CRASH_AT kills a worker at its second page): one readable
    line, exit 1; what was parsed before is catalogued, the rest still pending, and a second run
    parses exactly the rest."""
    home = tmp_path / "killed"
    assert invoke_archiver("capture", site.post_url, "--home", str(home), "--allow-private",
                           "--parse", "later").returncode == 0
    result = run_archiver("parse", "--processes", "2", "--home", str(home), "--json",
                          env={"ARCHIVER_CRASH_AT": "parse-page:2"})
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [
        "Error: parsing stopped: a worker process died (killed, or out of memory); the pages catalogued so far "
        "are kept: run it again, or with --processes 1"]
    collection = open_collection(Settings(home=home), mode="read")
    try:
        left = pending(collection)
        assert 0 < len(left) <= 5  # the page the worker died on at least; those whose results came back, kept
        parsed_before = [url for url in cited_urls(collection) if documents_of(collection, url)]
    finally:
        collection.close()
    again = run_archiver("parse", "--home", str(home), "--json")
    assert again.returncode == 0, again.stderr
    assert sorted(item["url"] for item in json.loads(again.stdout)) == left
    collection = open_collection(Settings(home=home), mode="read")
    try:
        assert pending(collection) == [] and len(parsed_before) + len(left) == 5
        assert all(len(documents_of(collection, url)) == 1 for url in cited_urls(collection))
    finally:
        collection.close()


def cited_urls(collection) -> list[str]:
    return sorted(row["target_uri"] for row in collection.catalogue.rows(
        cat.records, cat.records.c.role == "cited", cat.records.c.record_type == "response",
        cat.records.c.http_status == 200))


def test_parse_of_a_mistyped_home_is_an_error_and_creates_nothing(tmp_path):
    typo = tmp_path / "typo"
    result = invoke_archiver("parse", "--home", str(typo))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (f"Error: no collection at {typo}: {typo / 'archiver.db'} does not exist "
                             "(give --home, or capture something first)\n")
    assert not typo.exists()
