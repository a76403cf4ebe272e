"""Issue 14's aims on real pages: bench/real_site.py's site (Readability's test pages as posts, each
citing three article-extraction-benchmark pages) built for a sample of 6 posts and captured by archiver.

Needs the shared corpus (``../shared/corpus`` or ``$ARCHIVER_CORPUS``): skipped, saying so, without it.
The site is served by nginx when it is installed, else by the bench's Python server (printed). The bench's peer
pipeline (wget, then trafilatura: a speed comparison, not an aim of issue 14) is left out (``peers=False``, the
bench's ``--no-peers``): it would add about half the time; its HTML sniff is tested here alone."""

from __future__ import annotations

import sys

import pytest

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import real_site  # noqa: E402
from capture import is_html  # noqa: E402
from corpus import absent_message, find_corpus  # noqa: E402

POSTS = 6


@pytest.fixture(scope="module")
def measured() -> real_site.Measure:
    corpus = find_corpus()
    if corpus is None:
        pytest.skip(f"bench/real_site.py: {absent_message()}")
    result = real_site.run(real_site.Bench(corpus, posts=POSTS, peers=False))
    print(f"real pages, {POSTS} posts, served by {result.server}:\n{real_site.table(result)}")
    return result


def test_the_bench_builds_serves_and_counts_the_sample(measured):
    assert measured.posts == measured.posts_fetched == POSTS, measured.left_out
    assert measured.citations[1] == 3 * POSTS
    assert measured.navigation[1] > 0 and measured.requisites[1] > 0
    assert measured.off_site == []  # every URL of the site is on the bench's hosts


def test_a_capture_meets_the_aims_on_real_pages(measured):
    assert measured.missed() == []
    assert measured.article_links[0] > 0  # the articles' own links are citations too, and followed


def test_srcset_candidates_keep_commas_inside_urls():
    value = "https://img.example/w_100,h_50/a.jpg 1x, b.jpg 2x,c.jpg"
    assert [value[start:end] for start, end in real_site.srcset_spans(value)] == [
        "https://img.example/w_100,h_50/a.jpg", "b.jpg", "c.jpg"]


def test_the_peer_pipeline_tells_html_pages_by_their_first_bytes(tmp_path):
    pages = {"post": b"\xef\xbb\xbf<!-- saved -->\n<!DOCTYPE HTML>\n<title>t</title>", "bare": b"<html lang=en><p>x",
             "style.css": b"body{color:red}", "image": b"\x89PNG\r\n\x1a\n", "svg.svg": b"<svg><text>html</text></svg>",
             "late": b" " * 2000 + b"<html>"}
    for name, body in pages.items():
        (tmp_path / name).write_bytes(body)
    assert sorted(name for name in pages if is_html(tmp_path / name)) == ["bare", "post"]
