"""Real pages judge what a post cites: Mozilla Readability's test pages, whose expected.html is the
article as Readability extracts it, so its links are the links of the article's text.

Of the anchors of source.html that expected.html does not hold (menus, tag clouds, pagers, related
stories, footers), at most 1 % may be followed over the pages and never more than 10 from one page;
of the article's http(s) links, at least the measured share must be followed. Every second page
(sorted by name) is read, to keep the test to a few seconds.

The corpus is the shared folder of public test data, found as the benches find it (bench/corpus.py:
``$ARCHIVER_CORPUS`` or ``../shared/corpus`` beside the repository); the test is skipped, saying
where it looked, when it is absent.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import lxml.html
import pytest

from archiver.parse import LinkKind, analyse
from archiver.parse._html import absolute

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from corpus import absent_message, find_corpus  # noqa: E402
from real_site import comparable  # noqa: E402

CORPUS = find_corpus()
PAGES = CORPUS / "mozilla-readability" / "test" / "test-pages" if CORPUS else None
URL = "http://fakehost/test/page.html"  # where Readability's tests say the pages were served
NAVIGATION_MOST, NAVIGATION_MOST_PER_PAGE = 0.01, 10
RECALL_LEAST = 0.90  # measured 0.911 over these pages (0.917 over all 90)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Judged:
    name: str
    navigation: int  # anchors of source.html that are not in the article
    navigation_followed: int
    article: int  # anchors of source.html that are in the article
    article_followed: int


def _anchors(html: bytes) -> set[str]:
    return {comparable(url) for anchor in lxml.html.fromstring(html).iter("a")
            if (url := absolute(URL, anchor.get("href")))}


def _judge(page: Path) -> Judged:
    source = (page / "source.html").read_bytes()
    parsed, _ = analyse(source, url=URL, content_type="text/html; charset=utf-8")
    embeds = {comparable(link.url) for link in parsed.links if link.kind == LinkKind.EMBED}  # fetched as requisites
    anchors = _anchors(source) - embeds
    article = _anchors((page / "expected.html").read_bytes()) & anchors
    followed = {comparable(link.url) for link in parsed.cited}
    return Judged(name=page.name, navigation=len(anchors - article), navigation_followed=len(followed - article),
                  article=len(article), article_followed=len(article & followed))


@pytest.fixture(scope="module")
def judged() -> list[Judged]:
    if PAGES is None or not PAGES.is_dir():
        pytest.skip(absent_message() if PAGES is None else f"no Readability test pages at {PAGES}")
    return [_judge(page) for page in sorted(PAGES.iterdir())[::2] if (page / "expected.html").is_file()]


def test_links_beside_the_article_are_not_followed(judged):
    navigation = sum(page.navigation for page in judged)
    followed = sum(page.navigation_followed for page in judged)
    assert navigation > 2000 and followed <= NAVIGATION_MOST * navigation, (followed, navigation)
    worst = max(judged, key=lambda page: page.navigation_followed)
    assert worst.navigation_followed <= NAVIGATION_MOST_PER_PAGE, worst


def test_links_in_the_article_are_followed(judged):
    article = sum(page.article for page in judged)
    followed = sum(page.article_followed for page in judged)
    assert article > 500 and followed >= RECALL_LEAST * article, (followed, article)
