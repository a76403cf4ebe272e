"""Full-text search over captured pages' text and captions (SQLite FTS5)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from archiver import catalogue as cat
from archiver.capture import capture, reparse
from archiver.collection import open_collection
from archiver.config import resolve
from archiver.errors import InputError
from archiver.query import search

from .conftest import older_catalogue


@pytest.fixture(scope="module")
def captured(site, tmp_path_factory):
    home = tmp_path_factory.mktemp("search")
    collection = open_collection(resolve({"home": home, "allow_private": True}), mode="write")
    capture([site.post_url], collection=collection, command="test")
    yield collection
    collection.close()


def test_ranked_hits_with_snippets_and_capture_time(captured, site, manifest):
    hits = search(captured.catalogue, text="Nasrallah victory")
    aljazeera = manifest["references"][1]["url"]
    assert hits[0].url in {aljazeera, manifest["chunked"]}  # the Al Jazeera page, reached by a redirect
    assert "[Nasrallah]" in hits[0].snippet or "[victory]" in hits[0].snippet
    assert [hit.rank for hit in hits] == sorted(hit.rank for hit in hits)
    assert dt.datetime.fromisoformat(hits[0].captured_at).tzinfo is not None


def test_captions_and_their_credits_are_searched(captured, site):
    [hit] = search(captured.catalogue, text="AlJazeera", role="post")
    assert hit.url == site.post_url and "[AlJazeera]" in hit.snippet


@pytest.mark.parametrize("filters, expect_post", [
    ({"role": "post"}, True),
    ({"role": "cited"}, False),
    ({"site": "127.0.0.1"}, True),
    ({"site": "127.0.0.2"}, False),
])
def test_filters(captured, site, filters, expect_post):
    urls = {hit.url for hit in search(captured.catalogue, text="Qalamoun", **filters)}
    assert urls and (site.post_url in urls) is expect_post


def test_time_filters(captured):
    now = dt.datetime.now(dt.timezone.utc)
    assert search(captured.catalogue, text="Qalamoun", since=now) == []
    assert search(captured.catalogue, text="Qalamoun", until=now)


def test_a_reparse_does_not_double_the_hits(captured, site):
    before = [(hit.url, hit.record_id) for hit in search(captured.catalogue, text="Qalamoun", limit=100)]
    reparse(captured, urls=[site.post_url])
    after = search(captured.catalogue, text="Qalamoun", limit=100)
    assert sorted((hit.url, hit.record_id) for hit in after) == sorted(before)
    [post] = [hit for hit in after if hit.url == site.post_url]
    assert post.document_id == max(row["id"] for row in captured.catalogue.rows(
        cat.documents, cat.documents.c.url == site.post_url))


@pytest.mark.parametrize("text, message", [
    ('"unbalanced', "search '\"unbalanced': unterminated string (FTS5 syntax: words, \"a phrase\", OR, NOT, "
                    "prefix*)"),
    ("   ", "give words to search for"),
])
def test_bad_queries(captured, text, message):
    with pytest.raises(InputError) as error:
        search(captured.catalogue, text=text)
    assert str(error.value) == message


def test_documents_of_an_older_catalogue_are_indexed_by_the_upgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'archiver.db'}"
    with older_catalogue(url, "0003") as (connection, now):
        connection.execute(sa.text(
            "INSERT INTO warc_files (id, filename, path, opened_at, status) VALUES (1, 'f', 'f', :now, 'closed')"),
            {"now": now})
        connection.execute(sa.text(
            "INSERT INTO records (id, warc_record_id, capture_event_id, warc_file_id, offset, length, record_type, "
            "target_uri, warc_date, content_length, block_sha256, role) VALUES (1, '<urn:uuid:1>', 1, 1, 0, 1, "
            "'response', 'http://old.example/post', :now, 1, 'x', 'post')"), {"now": now})
        connection.execute(sa.text(
            "INSERT INTO documents (id, record_id, parser, parser_version, parsed_at, url, title, text, sources, "
            "warnings) VALUES (1, 1, 'archiver-document', '1', :now, 'http://old.example/post', 'Old post', "
            "'Text from before the index', '{}', '[]')"), {"now": now})
        connection.execute(sa.text(
            "INSERT INTO captions (document_id, position, text, credit) VALUES (1, 0, 'Tallat Moussa', 'SANA')"))
    catalogue = cat.Catalogue.open(url)  # upgraded on first use
    try:
        assert [hit.url for hit in search(catalogue, text="before index")] == ["http://old.example/post"]
        [hit] = search(catalogue, text="SANA")
        assert hit.snippet == "Tallat Moussa / [SANA]"
    finally:
        catalogue.close()
