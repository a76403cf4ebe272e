"""Find what a captured page embeds and what it cites.

It finds the post or article body from structural evidence (schema.org ``articleBody``, Blogger's
``post-body``, ``<article>``, ``<main>``; readability-lxml's choice when none is present), takes its
requisites from :mod:`._requisites`, and classifies every anchor (:class:`LinkKind`). A link is cited
when it is in the article's text, not merely in the element that holds the text:
:mod:`archiver.parse._document` decides the main text and says which anchors and reference-list URLs
it kept (:class:`Cited`); only those are followed, as ``citation`` (another site) or ``inline`` (the
same site). Parsing works on a copy of the payload; the archived bytes are never touched.
"""

from __future__ import annotations

import copy
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
    Link,
    LinkKind,
    Loaded,
    absolute,
    name_parts,
    names,
    site,
)
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
_TAG_URL = re.compile(r"/(tags?|labels?|category|categories|topics?)/", re.I)
_PAGER_RELS = {"next", "prev", "previous"}
# The containers an anchor not in the text can sit in, by their class and id tokens (see ``names``),
# the most specific first; <aside> is a sidebar and <nav>, <header>, <footer> navigation besides.
_CONTAINERS = (
    (LinkKind.AD, AD),
    (LinkKind.TAG, frozenset({"tag", "tags", "label", "labels", "category", "categories", "topics", "tagcloud"})),
    (LinkKind.PAGER, frozenset({"pager", "pagination", "paging", "pagenav"})),
    (LinkKind.RELATED, frozenset({"related", "more-stories", "recommended", "recommendations", "read-more"})),
    (LinkKind.SIDEBAR, frozenset({"sidebar", "widget", "widgets"})),
    (LinkKind.NAVIGATION, frozenset({"nav", "navbar", "navigation", "menu", "footer", "header", "breadcrumb",
                                     "breadcrumbs"})),
)
_CONTAINER_TAGS = {"aside": LinkKind.SIDEBAR, "nav": LinkKind.NAVIGATION, "header": LinkKind.NAVIGATION,
                   "footer": LinkKind.NAVIGATION}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Cited:
    """What the main text kept, so what a page cites: the anchors of the paragraphs in its text, and
    the URLs of its reference list (:func:`archiver.parse._document.analyse` decides both)."""

    anchors: frozenset[Element] = frozenset()
    urls: frozenset[str] = frozenset()


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
    article: bool  # an article's text was found; without one nothing is cited

    def metadata_fields(self) -> list[tuple[str, str]]:
        """What the WARC metadata record of this page says: how it was read, and every outlink
        with its class and whether it was followed (``outlink: URL citation followed``)."""
        fields = [("extractor", EXTRACTOR), ("charset", f"{self.encoding} ({self.encoding_source})"),
                  ("body-found-by", self.body_found_by or "none")]
        if self.title:
            fields.append(("title", " ".join(self.title.split())))
        return fields + self.outlink_fields()





















def classify_links(loaded: Loaded, body: Element | None, found_by: str | None, *, cited: Cited) -> list[Link]:
    """Every requisite and anchor of the page, one per URL, classified."""
    if loaded.root is None:
        return []
    known: _Known = {}  # _has_ancestor's answers, shared by every link of the page
    links = list(requisites(loaded.root, loaded.base)) + list(
        _anchors(loaded.root, None if found_by == "readability" else body, loaded.base, cited=cited,
                 page_host=site(loaded.url), known=known, named=_Named()))
    return _dedupe(links)


def read_page(loaded: Loaded, *, body: Element | None, found_by: str | None, cited: Cited, article: bool) -> Page:
    """The :class:`Page` of a loaded document whose body and main text are decided."""
    title = (loaded.root.findtext(".//title") or "").strip() if loaded.root is not None else ""
    return Page(url=loaded.url, encoding=loaded.encoding, encoding_source=loaded.encoding_source, title=title,
                body_found_by=found_by, links=classify_links(loaded, body, found_by, cited=cited), article=article)


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
    little text to be a post. readability reads a copy of the page's tree (it drops hidden elements from
    what it is given), not the page serialised and parsed again."""
    from readability import Document

    try:
        summary = Document(copy.deepcopy(root)).summary(html_partial=True)
        fragment = lxml.html.fragment_fromstring(summary, create_parent="div")
    except Exception:  # readability and lxml raise bare Exceptions and AssertionErrors on odd documents
        return None, None
    if len(" ".join(fragment.text_content().split())) < READABILITY_MIN_TEXT:
        return None, None  # too little text to be a post: cite nothing rather than guess
    return fragment, "readability"


def _anchors(root: Element, body: Element | None, base: str, *, cited: Cited, page_host: str, known: _Known,
             named: _Named) -> Iterator[Link]:
    """Classified anchors; ``body`` is the element holding the post (None when there is none in the
    page's tree): its ancestors are never containers of its anchors (Blogger's post sits in a "widget")."""
    in_body = set(body.iter("a")) if body is not None else set()
    containers = _Containers(set(body.iterancestors()) | {body} if body is not None else set(), named)
    for anchor in root.iter("a", "area"):
        href = anchor.get("href")
        target = absolute(base, href) if href else None
        if not target:
            continue
        text = " ".join(anchor.text_content().split())[:500]
        path = urllib.parse.urlsplit(target).path
        if _is_image_link(anchor, path):
            yield Link(url=target, kind=LinkKind.EMBED, text=text, tag="a")
            continue
        yield Link(url=target, text=text, kind=_kind(
            anchor, target, path, stop=body if anchor in in_body else None, followed=anchor in cited.anchors or (
                target in cited.urls), page_host=page_host, known=known, named=named, containers=containers))


def _kind(anchor: Element, target: str, path: str, *, stop: Element | None, followed: bool, page_host: str,
          known: _Known, named: _Named, containers: _Containers) -> LinkKind:
    """Classify an anchor (``path``: its target's); ``stop`` is the body element it sits in, or None;
    ``followed``: the main text kept it. Share and comment links are never followed, nor a kept anchor
    inside a container."""
    if _SHARE_URL.search(target) or named(anchor, SHARE) or _has_ancestor(anchor, SHARE, stop=stop, known=known,
                                                                           named=named):
        return LinkKind.SHARE
    if _COMMENT_URL.search(target) or named(anchor, COMMENT) or _has_ancestor(anchor, COMMENT, stop=stop,
                                                                               known=known, named=named):
        return LinkKind.COMMENT
    container = containers.nearest(anchor)
    if followed and container is None:
        return LinkKind.INLINE if site(target) == page_host else LinkKind.CITATION
    rels = set((anchor.get("rel") or "").lower().split())
    if "tag" in rels or _TAG_URL.search(path):
        return LinkKind.TAG
    if rels & _PAGER_RELS:
        return LinkKind.PAGER
    return container or LinkKind.NAVIGATION


class _Containers:
    """The nearest container of each element (:data:`_CONTAINERS`), up to the body's ``ancestors``
    (never containers) or <body>; each element is asked once, however many anchors it holds."""

    def __init__(self, ancestors: set[Element], named: _Named) -> None:
        self.ancestors = ancestors
        self.named = named
        self.known: dict[Element, LinkKind | None] = {}

    def nearest(self, element: Element) -> LinkKind | None:
        passed = []
        found = None
        while element is not None and element not in self.ancestors and element.tag != "body":
            if element in self.known:
                found = self.known[element]
                break
            passed.append(element)
            found = _container(element, self.named)
            if found is not None:
                break
            element = element.getparent()
        for each in passed:
            self.known[each] = found
        return found


def _container(element: Element, named: _Named) -> LinkKind | None:
    """The kind of container ``element`` is by its class and id tokens, else by its tag; None if none."""
    parts = named.parts_of(element)
    return next((kind for kind, words in _CONTAINERS if not parts.isdisjoint(words)), None) or _CONTAINER_TAGS.get(
        element.tag if isinstance(element.tag, str) else "")


def _has_ancestor(element: Element, words: frozenset[str], *, stop: Element | None, known: _Known,
                  named: _Named) -> bool:
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
        if named(ancestor, words):
            found = True
            break
    for key in passed:
        known[key] = found
    return found


class _Named:
    """:func:`names` over one page, each element's class and id tokens split once (every anchor asks
    its ancestors)."""

    def __init__(self) -> None:
        self.parts: dict[Element, frozenset[str]] = {}

    def __call__(self, element: Element, words: frozenset[str]) -> bool:
        return not self.parts_of(element).isdisjoint(words)

    def parts_of(self, element: Element) -> frozenset[str]:
        parts = self.parts.get(element)
        if parts is None:
            parts = self.parts[element] = name_parts(element)
        return parts


def _is_image_link(anchor: Element, path: str) -> bool:
    """``<a href=big.jpg><img></a>`` (``path``: the target's): Blogger's full-size image behind a thumbnail."""
    return bool(_IMAGE_EXT.search(path)) and anchor.find(".//img") is not None






def _dedupe(links: list[Link]) -> list[Link]:
    """One link per URL; the most specific kind wins (the order of :class:`LinkKind`)."""
    rank: dict[str, int] = {kind: number for number, kind in enumerate(LinkKind)}
    best: dict[str, Link] = {}
    for link in links:
        kept = best.get(link.url)
        if kept is None or rank[link.kind] < rank[kept.kind]:
            best[link.url] = link if kept is None or link.text or not kept.text else dataclasses.replace(
                link, text=kept.text)
    return list(best.values())
