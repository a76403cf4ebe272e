"""Find what a captured page embeds and what it cites.

First version, for the capture spine: it decides the character set, finds the
post or article body from structural evidence (schema.org ``articleBody``,
Blogger's ``post-body``, ``<article>``, ``<main>``; readability-lxml's choice
when none is present), and classifies every link:

* ``embed``      images, stylesheets, scripts, icons, frames: page requisites
* ``citation``   a body link to another site (a source in the text or reference list)
* ``inline``     a body link to the same site
* ``share``      share / social buttons (share endpoints, share widgets)
* ``comment``    comment forms and threads
* ``navigation`` every other link (menus, sidebars, archives, labels, pagers, ads)

Only ``citation`` and ``inline`` links are followed as cited pages. Parsing
works on a copy of the payload; the archived bytes are never touched.
"""

from __future__ import annotations

import dataclasses
import re
import urllib.parse
from typing import Iterator

import lxml.html

from ._html import (
    AD,
    CHROME,
    COMMENT,
    SHARE,
    Element,
    Loaded,
    absolute,
    load,
    names,
    site,
)
from ._html import Link as Link  # where the other modules of parse/ have always found it
from ._requisites import requisites

# _has_ancestor's answers: (ancestor, words, stop) -> found
_Known = dict[tuple[Element, frozenset[str], Element | None], bool]

READABILITY_MIN_TEXT = 250
DOMINANT = 2  # the largest of several <article>s is the post only when this many times the next
BODY_MIN_TEXT = 200  # a body candidate chosen among several must have at least this much text
EXTRACTOR = "archiver-extract/2"  # 2: every requisite (none skipped as an ad), CSS and lazy images

# Share and comment endpoints, recognised in a link's URL.
_SHARE_URL = re.compile(r"(sharer|share-post|/share\b|/share\?|intent/tweet|addthis|sharethis|shareArticle|"
                        r"pin/create|whatsapp://send)", re.I)
_COMMENT_URL = re.compile(r"(comment\.g|#comments?\b|#respond\b|/comments?/|[?&]replytocom=|showComment=)", re.I)
_IMAGE_EXT = re.compile(r"\.(jpe?g|png|gif|webp|svg|bmp|avif)$", re.I)




class Outlinks:
    """What a page's ``links`` lead a capture to: its requisites, and the pages it cites."""

    links: list[Link]

    @property
    def requisites(self) -> list[Link]:
        return [link for link in self.links if link.kind == "embed"]

    @property
    def cited(self) -> list[Link]:
        return [link for link in self.links if link.followed]

    def outlink_fields(self) -> list[tuple[str, str]]:
        """Every outlink with its class and whether it was followed (``outlink: URL citation followed``),
        as a WARC metadata record lists them."""
        fields = []
        for link in self.links:
            followed = "followed" if link.followed or link.kind == "embed" else "not-followed"
            fields.append(("outlink", f"{link.url} {link.kind} {followed}"))
        return fields


@dataclasses.dataclass(kw_only=True)
class Page(Outlinks):
    url: str
    encoding: str
    encoding_source: str  # http-header, bom, meta, detected, default
    title: str
    body_found_by: str | None
    links: list[Link]

    def metadata_fields(self) -> list[tuple[str, str]]:
        """What the WARC metadata record of this page says: how it was read, and every outlink
        with its class and whether it was followed (``outlink: URL citation followed``)."""
        fields = [("extractor", EXTRACTOR), ("charset", f"{self.encoding} ({self.encoding_source})"),
                  ("body-found-by", self.body_found_by or "none")]
        if self.title:
            fields.append(("title", " ".join(self.title.split())))
        return fields + self.outlink_fields()





















def classify_links(loaded: Loaded, body: Element | None, found_by: str | None) -> list[Link]:
    """Every requisite and anchor of the page, one per URL, classified."""
    if loaded.root is None:
        return []
    known: _Known = {}  # _has_ancestor's answers, shared by every link of the page
    links = list(requisites(loaded.root, loaded.base)) + list(
        _anchors(loaded.root, body, loaded.base, page_host=site(loaded.url), detached=found_by == "readability",
                 known=known))
    return _dedupe(links)


def parse(payload: bytes, *, url: str, content_type: str | None) -> Page:
    """Parse HTML bytes served at ``url`` into what the capture needs: requisites and citations."""
    return read_page(load(payload, url=url, content_type=content_type))[0]


def read_page(loaded: Loaded) -> tuple[Page, Element | None]:
    """The :class:`Page` of a loaded document, and the element holding its body (None if none was found)."""
    if loaded.root is None:
        return Page(url=loaded.url, encoding=loaded.encoding, encoding_source=loaded.encoding_source, title="",
                    body_found_by=None, links=[]), None
    body, found_by = find_body(loaded.root)
    return Page(url=loaded.url, encoding=loaded.encoding, encoding_source=loaded.encoding_source,
                title=(loaded.root.findtext(".//title") or "").strip(), body_found_by=found_by,
                links=classify_links(loaded, body, found_by)), body


def find_body(root: Element) -> tuple[Element | None, str | None]:
    """The element holding the post or article text, and which evidence found it."""
    for xpath, name in (
        ('//*[@itemprop="articleBody"]', "schema.org-articleBody"),
        ('//*[contains(concat(" ", normalize-space(@class), " "), " post-body ")]', "blogger-post-body"),
        ('//*[contains(concat(" ", normalize-space(@class), " "), " entry-content ")]', "entry-content"),
        ('//*[contains(concat(" ", normalize-space(@class), " "), " post-content ")'
         ' or contains(concat(" ", normalize-space(@class), " "), " article-body ")'
         ' or contains(concat(" ", normalize-space(@class), " "), " article-content ")'
         ' or contains(concat(" ", normalize-space(@class), " "), " story-body ")]', "content-class"),
        ("//article", "article"),
        ('//main | //*[@role="main"]', "main"),
    ):
        found = [element for element in root.xpath(xpath) if not _in_chrome(element)]
        sized = [(len(" ".join(element.text_content().split())), element) for element in found]
        least = BODY_MIN_TEXT if len(found) > 1 else 1  # an empty match is no evidence
        sized = sorted(((size, element) for size, element in sized if size >= least), key=lambda item: -item[0])
        if sized:
            if name == "article" and len(sized) > 1 and sized[0][0] < DOMINANT * sized[1][0]:
                name = "articles"  # several <article>s of like size: sections or teasers, not one post
            return sized[0][1], name
    return readability_body(root)


def _in_chrome(element: Element) -> bool:
    """A candidate body inside comments, sidebars or related blocks is not the post's body."""
    return any(names(ancestor, COMMENT) or names(ancestor, CHROME - {"header", "widget"})
               for ancestor in element.iterancestors())


def readability_body(root: Element) -> tuple[Element | None, str | None]:
    """readability-lxml's choice of the article, as a detached fragment; (None, None) when it finds too
    little text to be a post."""
    from readability import Document

    try:
        summary = Document(lxml.html.tostring(root, encoding="unicode")).summary(html_partial=True)
        fragment = lxml.html.fragment_fromstring(summary, create_parent="div")
    except Exception:  # readability and lxml raise bare Exceptions and AssertionErrors on odd documents
        return None, None
    if len(" ".join(fragment.text_content().split())) < READABILITY_MIN_TEXT:
        return None, None  # too little text to be a post: cite nothing rather than guess
    return fragment, "readability"


def _anchors(root: Element, body: Element | None, base: str, *, page_host: str, detached: bool, known: _Known
             ) -> Iterator[Link]:
    """Classified anchors; a ``detached`` body (readability's copy) is matched by href."""
    in_body = set(body.iter("a")) if body is not None and not detached else set()
    body_hrefs = {a.get("href") for a in body.iter("a")} if body is not None and detached else set()
    for anchor in root.iter("a", "area"):
        href = anchor.get("href")
        target = absolute(base, href) if href else None
        if not target:
            continue
        text = " ".join(anchor.text_content().split())[:500]
        if _is_image_link(anchor, target):
            yield Link(url=target, kind="embed", text=text, tag="a")
            continue
        if anchor in in_body:
            stop = body
        elif href in body_hrefs:
            stop = anchor.getroottree().getroot()
        else:
            stop = None
        yield Link(url=target, kind=_kind(anchor, target, body=stop, page_host=page_host, known=known), text=text)


def _kind(anchor: Element, target: str, *, body: Element | None, page_host: str, known: _Known) -> str:
    """Classify an anchor; ``body`` is the body element it sits in, or None."""
    def inside(words: frozenset[str]) -> bool:
        return _has_ancestor(anchor, words, stop=body, known=known)

    if _SHARE_URL.search(target) or names(anchor, SHARE) or inside(SHARE):
        return "share"
    if _COMMENT_URL.search(target) or names(anchor, COMMENT) or inside(COMMENT):
        return "comment"
    if body is not None and not inside(CHROME) and not inside(AD):
        return "inline" if site(target) == page_host else "citation"
    return "navigation"


def _has_ancestor(element: Element, words: frozenset[str], *, stop: Element | None, known: _Known) -> bool:
    """Is there, between ``element`` and ``stop`` (or <body>), a container named by ``words``?

    ``known`` keeps the answer for each ancestor passed, so that the links of a page cost their
    number plus its depth, not their number times its depth (20,000 links 500 deep took a minute).
    """
    passed = []
    found = False
    for ancestor in element.iterancestors():
        if ancestor is stop or ancestor.tag == "body":
            break
        key = (ancestor, words, stop)
        if key in known:
            found = known[key]
            break
        passed.append(key)
        if (words is CHROME and ancestor.tag in ("nav", "footer", "header", "aside")) or names(ancestor, words):
            found = True
            break
    for key in passed:
        known[key] = found
    return found


def _is_image_link(anchor: Element, target: str) -> bool:
    """``<a href=big.jpg><img></a>``: Blogger's full-size image behind a thumbnail."""
    path = urllib.parse.urlsplit(target).path
    return bool(_IMAGE_EXT.search(path)) and anchor.find(".//img") is not None






def _dedupe(links: list[Link]) -> list[Link]:
    """One link per URL; the most specific kind wins (embed > citation > inline > others)."""
    rank = {"embed": 0, "citation": 1, "inline": 2, "share": 3, "comment": 4, "navigation": 5}
    best: dict[str, Link] = {}
    for link in links:
        kept = best.get(link.url)
        if kept is None or rank[link.kind] < rank[kept.kind]:
            best[link.url] = link if kept is None or link.text or not kept.text else dataclasses.replace(
                link, text=kept.text)
    return list(best.values())
