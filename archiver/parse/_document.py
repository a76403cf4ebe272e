"""Parse a captured page into a :class:`Document`: what an archivist reads and queries.

Title, author, published and updated dates, language and canonical URL come
from the strongest evidence present (schema.org JSON-LD, OpenGraph and meta
tags, microdata, ``<time>``, the page's own date line such as Blogger's
"Sunday, 24 May 2015"), and the document says which source decided each.
The main text is read within the body :func:`archiver.parse._links.find_body` finds,
as clean paragraphs without captions, share buttons, ads, comment forms or
footers, by a vote of three extractors (the element's own blocks, readability,
trafilatura: see :func:`_main_text`); where no structural evidence exists,
trafilatura's extraction is used. The page cites what that text holds: the
anchors of the paragraphs kept (:func:`_cited`) and the reference list.
Captions are split into text and credit ("Hassan Nasrallah / AlJazeera").
The reference list ("Publisher: Title (Language) – [link]") is parsed into
entries. Parsing reads a copy of the payload; archived bytes never change.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import json
import re
from typing import Any, Callable, Iterator

from lxml import etree

from ._html import AD, CHROME, COMMENT, SHARE, Element, Link, Loaded, absolute, load, names, site
from ._links import READABILITY_MIN_TEXT, Cited, Page, find_body, read_page, readability_body

PARSER_NAME = "archiver-document"
PARSER_VERSION = "4"
MAX_PARSED_BYTES = 8 * 1024 * 1024
# Body evidence too generic to trust for the text itself (bench/RESULTS.md, "by how archiver found the
# body"): the element still decides captions, references and link classes; trafilatura gives the text.
_WEAK_EVIDENCE = ("entry-content", "content-class", "articles", "main")
# Evidence that bounds the post well but holds more than its prose: readability's text within it.
_BOUNDED_EVIDENCE = ("article", "schema.org-articleBody")
VOTE_MAX_BYTES = 2 * 1024 * 1024  # larger pages are read by the structural evidence alone
PROSE_WORDS = 10  # readability's text is completed with paragraphs of at least this many words, not short lines
SHINGLE, HOLDS = 3, 0.5  # a text holds a paragraph when it has this share of the paragraph's word 3-grams
DATE_LINE_MAX = 80  # a leading block this short that reads as a date is a date line, not prose
_SITE_SUFFIX = re.compile(r"\s*[-|–—:·»]\s*[^\n]{1,60}")
_DATE_LINE_PARTS = re.compile(r"\s*[·•|–—]\s*")
LINK_DENSITY = 0.6  # a short block with more of its text in links than this is navigation, not prose
FALLBACK_LONGER, FALLBACK_HOLDS = 2.0, 0.8  # readability's text replaces trafilatura's when this long and this close
LINK_LIST_MAX = 200  # larger pages are archived whole but parsed this far
CITING_OWN_WORDS = 1  # a paragraph cites its links when it has this many words outside them
CONTEXT_WORDS = 5  # a link-only paragraph cites when the text has it with this many words around it
CITING_WORDS = 8  # a paragraph of the page this long cites its links when the text holds it, even reworded

_BLOCK = {"p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol",
          "dl", "dt", "dd", "blockquote", "pre", "table", "tr", "td", "th", "tbody", "thead", "hr", "address",
          "center"}
_HEADINGS = {"h2", "h3", "h4", "h5", "h6"}
_SKIP = {"script", "style", "noscript", "template", "iframe", "form", "button", "select", "textarea", "svg",
         "nav", "aside", "footer", "header", "object", "embed", "video", "audio", "canvas", "head", "title"}
_INVISIBLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
# Slide shows inside a body: their text is slide counters and repeated captions, not prose.
_MEDIA = frozenset({"gallery", "slideshow", "carousel"})
MEDIA_MOST = 0.9
_NOT_PROSE = SHARE | COMMENT | AD | _MEDIA  # names of blocks skipped wherever they are (chrome: not as the body)
_CREDIT = re.compile(r"^(?P<text>.+?)\s+/\s+(?P<credit>[^/]{1,80})$|"
                     r"^(?P<text2>.+?)\s*[\(\[]?\s*(?:photo|picture|image|credit|source|©|\(c\))\s*:?\s*"
                     r"(?P<credit2>[^()\[\]]{1,80}?)[\)\]]?$|"
                     r"^(?P<text3>.+?[.!?])\s*\((?P<credit3>[^()]{2,80})\)\.?$", re.I | re.S)
_REFERENCE = re.compile(r"^(?P<publisher>[^:\n]{2,80}?):\s*(?P<title>.+?)\s*(?:\((?P<language>[A-Za-z ]{2,30})\))?\s*$",
                        re.S)
_REFERENCE_HEADING = re.compile(r"^\s*(references?|sources?|notes|bibliography|further reading|links)\s*:?\s*$",
                                re.I)
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_LATIN = re.compile(r"[A-Za-z]")
_ORDINAL = re.compile(r"(\d)(st|nd|rd|th)\b", re.I)
_DATE_FORMATS = ("%A, %d %B %Y", "%A, %B %d, %Y", "%d %B %Y", "%B %d, %Y", "%b %d, %Y", "%d %b %Y",
                 "%A %d %B %Y", "%a, %d %b %Y", "%Y/%m/%d", "%d/%m/%Y", "%B %Y")
_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_ENGLISH_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                   "October", "November", "December")
_ARABIC_MONTHS = sorted([  # (name, month): Egyptian/Gulf and Levantine names, longest first
    ("يناير", 1), ("فبراير", 2), ("مارس", 3), ("أبريل", 4), ("ابريل", 4), ("مايو", 5), ("يونيو", 6),
    ("يوليو", 7), ("أغسطس", 8), ("اغسطس", 8), ("سبتمبر", 9), ("أكتوبر", 10), ("اكتوبر", 10), ("نوفمبر", 11),
    ("ديسمبر", 12), ("كانون الثاني", 1), ("شباط", 2), ("آذار", 3), ("نيسان", 4), ("أيار", 5), ("حزيران", 6),
    ("تموز", 7), ("آب", 8), ("أيلول", 9), ("تشرين الأول", 10), ("تشرين الثاني", 11), ("كانون الأول", 12),
], key=lambda item: -len(item[0]))
_ENGLISH_STOPWORDS = frozenset("the and of to in that is was for on with as by at from his has have it".split())
_POST_TITLE = './/*[contains(@class, "post-title") or contains(@class, "entry-title")]'
_BYLINE = " | ".join([
    '//*[@itemprop="author"]//*[@itemprop="name"]', '//*[contains(@class, "post-author")]//*[contains(@class, "fn")]',
    '//*[@rel="author"]', '//*[contains(@class, "byline")]', '//*[contains(@class, "author-name")]',
])
_AUTHOR_NEAR_HEADLINE = './/*[contains(concat(" ", normalize-space(@class), " "), " author ")]'
_DATE_ATTRIBUTES = ("content", "datetime", "title")
_DATE_LINES = ('//*[contains(@class, "date-header")] | //*[contains(@class, "post-date")]'
               ' | //*[contains(@class, "entry-date")] | //*[contains(@class, "published")]')
_DATES_NEAR_HEADLINE = './/*[contains(@class, "date") or contains(@class, "meta") or contains(@class, "time")]'
_ARTICLE_TYPES = {"article", "newsarticle", "blogposting", "reportagenewsarticle", "webpage", "posting",
                  "socialmediaposting", "analysisnewsarticle", "opinionnewsarticle"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Caption:
    text: str
    credit: str | None
    image_url: str | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class DocumentLink:
    url: str
    text: str
    kind: str
    context: str  # the sentence around the link, when it is in the body
    position: int  # order among the page's links


@dataclasses.dataclass(frozen=True, kw_only=True)
class Reference:
    publisher: str | None
    title: str
    language: str | None
    url: str | None


@dataclasses.dataclass(kw_only=True)
class Document:
    url: str
    title: str | None = None
    author: str | None = None
    published: str | None = None
    updated: str | None = None
    language: str | None = None
    canonical: str | None = None
    text: str = ""
    captions: list[Caption] = dataclasses.field(default_factory=list)
    links: list[DocumentLink] = dataclasses.field(default_factory=list)
    references: list[Reference] = dataclasses.field(default_factory=list)
    encoding: str | None = None
    encoding_source: str | None = None
    body_found_by: str | None = None
    sources: dict[str, str] = dataclasses.field(default_factory=dict)  # field -> evidence that decided it
    warnings: list[str] = dataclasses.field(default_factory=list)

    def as_json(self, *, captured_at: str | None = None) -> dict[str, Any]:
        return {
            "url": self.url,
            "captured_at": captured_at,
            "title": self.title,
            "author": self.author,
            "published": self.published,
            "updated": self.updated,
            "language": self.language,
            "canonical": self.canonical,
            "text": self.text,
            "captions": [dataclasses.asdict(caption) for caption in self.captions],
            "links": [dataclasses.asdict(link) for link in self.links],
            "references": [dataclasses.asdict(reference) for reference in self.references],
            "encoding": self.encoding,
            "encoding_source": self.encoding_source,
            "body_found_by": self.body_found_by,
            "sources": self.sources,
            "parser": {"name": PARSER_NAME, "version": PARSER_VERSION},
            "warnings": self.warnings,
        }


def extract_document(payload: bytes, *, url: str, content_type: str | None = None) -> Document:
    """Parse HTML bytes served at ``url``; never raises on bad HTML, records warnings instead."""
    return analyse(payload, url=url, content_type=content_type)[1]


def analyse(payload: bytes, *, url: str, content_type: str | None = None) -> tuple[Page, Document]:
    """One parse for both consumers: the capture's :class:`Page` (what to fetch next) and the
    :class:`Document` (what to catalogue). The document's text is decided first: the page cites what
    it holds (:func:`_cited`). A page without an article cites nothing: no main text, or without
    structural evidence of a body, less than ``READABILITY_MIN_TEXT`` characters of it (what
    trafilatura reads from a page of menus)."""
    cut = len(payload) > MAX_PARSED_BYTES
    loaded = load(payload[:MAX_PARSED_BYTES], url=url, content_type=content_type)
    body, found_by = find_body(loaded.root) if loaded.root is not None else (None, None)
    document = _document(loaded, body, found_by, vote=loaded.root is not None and len(payload) <= VOTE_MAX_BYTES)
    article = bool(document.text) and (
        found_by not in (None, "readability") or len(document.text) >= READABILITY_MIN_TEXT)
    page = read_page(loaded, body=body, found_by=found_by, article=article,
                     cited=_cited(loaded, body, found_by, document) if article else Cited())
    document.links = _links(loaded, body, found_by, page.links)
    if cut and loaded.root is not None:
        document.warnings.append(f"page of {len(payload)} bytes: only its first {MAX_PARSED_BYTES} were parsed "
                                 "(the archived record is whole)")
    return page, document


def page_only(payload: bytes, *, url: str, content_type: str | None = None) -> Page:
    """:func:`analyse`'s :class:`Page` alone, from the same bytes, for a payload whose document is
    already catalogued (a re-crawl's revisit): what to fetch next. What a page cites depends on its
    main text, so this costs the extraction too: the same bytes must lead to the same pages."""
    return analyse(payload, url=url, content_type=content_type)[0]


def _document(loaded: Loaded, body: Element | None, found_by: str | None, *, vote: bool = False) -> Document:
    url = loaded.url
    document = Document(url=url, encoding=loaded.encoding, encoding_source=loaded.encoding_source)
    if loaded.encoding_source in ("detected", "default"):
        document.warnings.append(f"character set {loaded.encoding} was {loaded.encoding_source}, not declared")
    elif loaded.encoding_source == "overridden":
        document.warnings.append(f"the declared character set does not fit the bytes; decoded as {loaded.encoding}")
    if loaded.root is None or not len(loaded.root):
        document.warnings.append("no HTML could be parsed from the payload")
        return document
    root = loaded.root
    structured = _json_ld(root, document)
    _metadata(root, body, loaded, structured, document)
    if body is not None and found_by is not None and found_by != "readability":
        document.text, document.body_found_by = _main_text(root, body, found_by, vote=vote)
        document.captions = _captions(_article_scope(root, body), loaded)
        document.references = _references(body, loaded)
    else:
        document.text, document.body_found_by = _fallback_text(root, body)
        scope = _article_scope(root, None)
        document.captions = _captions(scope, loaded) if scope is not root else []
        document.warnings.append("no structural evidence of the body; "
                                 f"main text by {document.body_found_by or 'nothing'}")
    document.text = _without_captions(_without_heading_lines(document.text, document.title), document.captions)
    if not document.text:
        document.warnings.append("no main text found")
    return document


def _cited(loaded: Loaded, body: Element | None, found_by: str | None, document: Document) -> Cited:
    """What the page cites: the anchors of the paragraphs that its main text holds (:func:`_held`), and
    its reference list."""
    ancestors = {body, *body.iterancestors()} if body is not None and found_by != "readability" else set()
    segments = _segments(loaded.root, keep=ancestors)
    return Cited(anchors=frozenset(anchor for segment in _held(segments, document.text) for anchor in segment.anchors)
                 | _caption_anchors(loaded.root, segments, document.captions),
                 urls=frozenset(reference.url for reference in document.references if reference.url))


def _caption_anchors(root: Element, segments: list[_Segment], captions: list[Caption]) -> frozenset[Element]:
    """The anchors of the page's captions (a credit's link is the image's source): of each ``<figcaption>``
    or Blogger caption cell, and of each paragraph, whose words are those of a caption the document
    kept (captions are taken out of the main text, so :func:`_held` never sees them)."""
    kept = {tuple(_words(f"{caption.text} {caption.credit or ''}")) for caption in captions}
    if not kept:
        return frozenset()
    elements = root.xpath('//figcaption | //*[contains(concat(" ", normalize-space(@class), " "), " tr-caption ")]')
    return frozenset(
        [anchor for element in elements if tuple(_words(element.text_content())) in kept
         for anchor in element.iter("a")]
        + [anchor for segment in segments if tuple(_words(segment.text)) in kept for anchor in segment.anchors])


def _held(segments: list[_Segment], text: str) -> Iterator[_Segment]:
    """The segments with anchors that ``text`` holds, compared as words (however trafilatura split,
    joined or reworded its lines): one with words of its own around its links (:attr:`_Segment.citing`)
    whose words the text has in a row, or most of them when it has ``CITING_WORDS``; or one the text
    has in a row with the words around it, up to ``CONTEXT_WORDS`` on each side and at least that many
    in all, on both sides for a link without words (a table cell or a list item that is all link, an
    image link between two paragraphs). A tag word or a menu item the text holds by accident is neither."""
    held = _Shingles(text.split("\n\n"))
    every: list[str] = []  # the words of all segments, in order
    spans = []
    for segment in segments:
        spans.append((len(every), len(every) + len(words := _words(segment.text)), words))
        every += words
    for segment, (start, end, words) in zip(segments, spans, strict=True):
        if not segment.anchors:
            continue
        around = every[max(0, start - CONTEXT_WORDS):end + CONTEXT_WORDS]
        if segment.citing and (
                held.has(words) or len(words) >= CITING_WORDS and held.holds(segment.text)) or (
                len(around) - len(words) >= CONTEXT_WORDS and (words or 0 < start and end < len(every))
                and held.has(around)):
            yield segment


# -- main text --------------------------------------------------------------------------------


def _invisible(element: Element) -> bool:
    return element.get("hidden") is not None or element.get("aria-hidden") == "true" or bool(
        _INVISIBLE.search(element.get("style") or ""))


def _skipped(element: Element) -> bool:
    """Not prose by its tag or its class names (a guess: never applied to most of a body)."""
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in _SKIP:
        return True
    if tag == "table" and "tr-caption-container" in (element.get("class") or ""):
        return True
    return names(element, _NOT_PROSE) or names(element, CHROME) and tag not in ("article", "main", "body")


def _most(element: Element) -> float:
    """The share of a body's text above which a block named as chrome is kept all the same (a class
    name is a guess, never applied to most of a body); a slide show is skipped unless it is
    nearly the whole body, however many slides it has."""
    return MEDIA_MOST if names(element, _MEDIA) else 0.5


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Segment:
    """A paragraph of a page as :func:`_segments` walks it, with the anchors it holds."""

    text: str
    linked: int  # characters inside <a>
    own: int  # words outside <a>, counted for a paragraph with anchors (0 without: nothing to cite)
    anchors: tuple[Element, ...]

    @property
    def prose(self) -> bool:
        """Text, not a short block that is mostly link text (related stories, tags, menus)."""
        return bool(self.text) and not (len(self.text) < LINK_LIST_MAX and self.linked > LINK_DENSITY * len(self.text))

    @property
    def citing(self) -> bool:
        """Prose whose links can be citations: at least ``CITING_OWN_WORDS`` words of its own around them
        (a tag cloud, a menu, a run of links in a navigation box have none, however long)."""
        return self.own >= CITING_OWN_WORDS


def _paragraphs(node: Element) -> list[str]:
    """The text of ``node`` as paragraphs: block elements and <br> break, chrome and captions skipped,
    and short blocks that are mostly link text (lists of related stories, tags, menus) dropped."""
    return [segment.text for segment in _segments(node) if segment.prose]


def _segments(node: Element, *, keep: set[Element] | None = None) -> list[_Segment]:
    """The paragraphs of ``node`` with their anchors: block elements and <br> break, chrome and captions
    skipped unless in ``keep`` (the body's ancestors: Blogger's post sits in a "widget")."""
    segments: list[_Segment] = []
    current: list[str] = []
    anchors: list[Element] = []
    linked = [0]  # characters of the current paragraph inside <a>
    unlinked: list[str] = []  # its text outside <a>, whose words are counted when it has anchors
    in_link = [0]
    kept = keep or set()

    def add(text: str) -> None:
        current.append(text)
        if in_link[0]:
            linked[0] += len(text.strip())
        else:
            unlinked.append(text)

    def flush() -> None:
        text = " ".join("".join(current).split())
        if text or anchors:
            own = len(_words(" ".join(unlinked))) if anchors else 0  # " ": no word across two pieces
            segments.append(_Segment(text=text, linked=linked[0], own=own, anchors=tuple(anchors)))
        current.clear()
        anchors.clear()
        unlinked.clear()
        linked[0] = 0

    skipping = None
    total = len(node.text_content())
    for event, element in etree.iterwalk(node, events=("start", "end")):
        if skipping is not None:
            if event == "end" and element is skipping:
                skipping = None
                if element.tail:
                    add(element.tail)
            continue
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if element is not node and element not in kept and (_invisible(element) or (
                    _skipped(element) or tag == "figure") and not (
                    tag not in _SKIP and len(element.text_content()) > total * _most(element))):
                skipping = element
                if tag in _BLOCK or tag in _SKIP or tag in ("figure", "table"):
                    flush()
                continue
            if tag in _BLOCK:
                flush()
            if tag == "br":
                flush()
            if tag == "a":
                in_link[0] += 1
                anchors.append(element)
            if element.text and tag not in ("br",):
                add(element.text)
        else:
            if tag == "a":
                in_link[0] -= 1
            if tag in _BLOCK:
                flush()
            if element is not node and element.tail:
                add(element.tail)
    flush()
    return segments


def _fallback_text(root: Element, readability_body: Element | None) -> tuple[str, str | None]:
    """trafilatura's main text when no structural evidence exists; readability's when trafilatura
    found nothing, or when readability's text holds most of trafilatura's and is much longer
    (trafilatura stopped short of the body: bench/RESULTS.md, "by how archiver found the body")."""
    text = "\n\n".join(_trafilatura_paragraphs(root))
    other = "\n\n".join(_paragraphs(readability_body)) if readability_body is not None else ""
    if other and (not text or _holds_and_exceeds(other, text)):
        return other, "readability"
    return (text, "trafilatura") if text else ("", None)


def _trafilatura_paragraphs(root: Element) -> list[str]:
    """trafilatura's main text of the page's tree, as lines (trafilatura works on a copy of a tree it is given)."""
    import trafilatura

    text = trafilatura.extract(root, include_comments=False, include_tables=True, favor_precision=False)
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _readability_paragraphs(root: Element) -> list[str]:
    readable, _ = readability_body(root)
    return _paragraphs(readable) if readable is not None else []


def _holds_and_exceeds(longer: str, shorter: str) -> bool:
    big, small = (collections.Counter(re.findall(r"\w+", t.lower())) for t in (longer, shorter))
    size = sum(small.values())
    return sum(big.values()) > FALLBACK_LONGER * size and sum((big & small).values()) >= FALLBACK_HOLDS * size


def _main_text(root: Element, body: Element, found_by: str, *, vote: bool) -> tuple[str, str]:
    """The main text of a body found by structural evidence, and what decided it.

    The element bounds the post, but what is inside it is not all prose: an ``<article>`` or an
    ``articleBody`` also holds headlines, bylines, galleries, video players and share bars, which
    readability's scoring prunes better than a walk over blocks, so readability's text is taken
    when it finds a post, completed by the prose paragraphs it left out that the element and
    trafilatura both hold. Weak evidence (``_WEAK_EVIDENCE``) takes trafilatura's text, completed
    by the paragraphs it left out that the element and readability both hold: two extractors
    outvote the third. An element without prose is no evidence at all. Pages larger than
    ``VOTE_MAX_BYTES`` (``vote`` false) are read without the vote: it would take seconds."""
    own = _paragraphs(body)
    if not own:
        text, by = _fallback_text(root, None)
        return text, f"{by} (empty {found_by})" if by else found_by
    if found_by in _BOUNDED_EVIDENCE and vote:
        readable, _ = readability_body(root)
        if readable is not None and (paragraphs := _paragraphs(readable)):
            prose = [paragraph for paragraph in own if len(_words(paragraph)) >= PROSE_WORDS]
            completed = _completed(paragraphs, prose, lambda: _trafilatura_paragraphs(root))
            return "\n\n".join(completed), f"readability (within {found_by})"
    elif found_by in _WEAK_EVIDENCE:
        text, by = _fallback_text(root, None)
        if text:
            completed = _completed(text.split("\n\n"), own, lambda: _readability_paragraphs(root)) if vote else [text]
            return "\n\n".join(completed), f"{by} (within {found_by})"
    return "\n\n".join(own), found_by


def _completed(paragraphs: list[str], own: list[str], other: Callable[[], list[str]]) -> list[str]:
    """``paragraphs`` with the paragraphs of ``own`` that the ``other`` extractor's holds too but
    ``paragraphs`` lacks: two extractors outvote the third. Each is put before the first of
    ``paragraphs`` that follows it in ``own``. ``other`` is run only when ``own`` has such a paragraph."""
    have = _Shingles(paragraphs)
    candidates = [index for index, paragraph in enumerate(own) if not have.holds(paragraph)]
    if not candidates:
        return paragraphs
    agree, each = _Shingles(other()), [_Shingles([mine]) for mine in own]
    at = [next((i for i, mine in enumerate(each) if mine.holds_split(*split)), len(own))
          for split in map(_split, paragraphs)]  # each paragraph split once, not once per paragraph of own
    result = list(paragraphs)
    for index in reversed(candidates):
        if agree.holds(own[index]):
            before = next((i for i, position in enumerate(at) if position > index), len(result))
            result.insert(before, own[index])
            at.insert(before, index)
    return result


class _Shingles:
    """Word 3-grams of a text, to ask whether it holds a paragraph (most of the paragraph's 3-grams,
    or for a paragraph under three words, its words in a row)."""

    def __init__(self, paragraphs: list[str]) -> None:
        words = [word for paragraph in paragraphs for word in _words(paragraph)]
        self.grams = _grams(words)
        self.flat = f" {' '.join(words)} "

    def holds(self, paragraph: str) -> bool:
        return self.holds_split(*_split(paragraph))

    def holds_split(self, words: list[str], grams: set[tuple[str, ...]]) -> bool:
        """:meth:`holds` for a paragraph already split by :func:`_split` (asked of many texts)."""
        if len(words) < SHINGLE:
            return self.has(words)
        return len(grams & self.grams) >= HOLDS * len(grams)

    def has(self, words: list[str]) -> bool:
        """Does the text hold these words in a row?"""
        return f" {' '.join(words)} " in self.flat


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _grams(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


def _split(paragraph: str) -> tuple[list[str], set[tuple[str, ...]]]:
    """A paragraph's words and 3-grams."""
    words = _words(paragraph)
    return words, _grams(words)


def _without_heading_lines(text: str, title: str | None) -> str:
    """The text without a leading headline (the title, or the title less a " - Site name" suffix)
    and without a leading date line ("Oct 15, 2015 · 18 min read"): both are metadata."""
    first, _, rest = text.partition("\n\n")
    if title and (first == title or title.startswith(first) and _SITE_SUFFIX.fullmatch(title[len(first):])):
        return _without_heading_lines(rest, None)
    if len(first) <= DATE_LINE_MAX and any(_iso(part) for part in _DATE_LINE_PARTS.split(first)):
        return rest
    return text


# -- captions and references ------------------------------------------------------------------


def split_credit(text: str) -> tuple[str, str | None]:
    """"Hassan Nasrallah / AlJazeera" -> ("Hassan Nasrallah", "AlJazeera"); no credit -> (text, None)."""
    text = " ".join(text.replace("\xa0", " ").split())
    match = _CREDIT.match(text)
    if not match:
        return text, None
    caption = (match.group("text") or match.group("text2") or match.group("text3") or "").strip(" -–—,;")
    credit = (match.group("credit") or match.group("credit2") or match.group("credit3") or "").strip(" .")
    if not caption or not credit:
        return text, None
    return caption, credit


def _captions(body: Element, loaded: Loaded) -> list[Caption]:
    captions = []
    for table in body.xpath('.//table[contains(concat(" ", normalize-space(@class), " "), " tr-caption-container ")]'):
        cells = table.xpath('.//*[contains(concat(" ", normalize-space(@class), " "), " tr-caption ")]')
        captions += _caption(cells[0] if cells else None, table, loaded)
    for figure in body.iter("figure"):
        caption = figure.find(".//figcaption")
        captions += _caption(caption, figure, loaded)
    for image in body.iter("img"):
        if any(a.tag == "figure" or "tr-caption-container" in (a.get("class") or "") for a in image.iterancestors()):
            continue
        following = _text_right_after(image)
        if following and len(following) <= 200 and (_CREDIT.match(following) or _looks_like_caption(image)):
            text, credit = split_credit(following)
            captions.append(Caption(text=text, credit=credit, image_url=_image_url(image, loaded)))
    return captions


def _caption(element: Element | None, container: Element, loaded: Loaded) -> list[Caption]:
    if element is None:
        return []
    raw = " ".join(element.text_content().split())
    if not raw:
        return []
    image = container.find(".//img")
    text, credit = split_credit(raw)
    return [Caption(text=text, credit=credit, image_url=_image_url(image, loaded) if image is not None else None)]


def _image_url(image: Element, loaded: Loaded) -> str | None:
    return absolute(loaded.base, image.get("src") or image.get("data-src"))


def _text_right_after(image: Element) -> str:
    """Text directly under an image: its tail, a caption element after it, or the next block
    (line breaks between the image and its caption are passed over)."""
    anchor = image.getparent() if image.getparent() is not None and image.getparent().tag == "a" else image
    following = anchor
    while following.tag == "br" or following is anchor:
        if following.tail and following.tail.strip():
            return " ".join(following.tail.split())
        following = following.getnext()
        if following is None:
            break
    if following is not None and _caption_like(following):
        return " ".join(following.text_content().split())
    holder = anchor.getparent()
    if holder is not None and " ".join(holder.text_content().split()) == "":
        sibling = holder.getnext()
        if sibling is not None and sibling.tag in ("p", "div", "span", "em", "small", "i"):
            return " ".join(sibling.text_content().split())
    return ""


def _caption_like(element: Element) -> bool:
    return "caption" in (element.get("class") or "").lower() or element.tag in ("figcaption", "em", "small")


def _looks_like_caption(image: Element) -> bool:
    following = image.getnext()
    while following is not None and following.tag == "br" and not (following.tail or "").strip():
        following = following.getnext()
    holder_next = image.getparent().getnext() if image.getparent() is not None else None
    return any(sibling is not None and _caption_like(sibling) for sibling in (following, holder_next))


def _without_captions(text: str, captions: list[Caption]) -> str:
    """The text without the paragraphs that are an image's caption: those are kept as captions."""
    known = {tuple(_words(f"{caption.text} {caption.credit or ''}")) for caption in captions}
    return "\n\n".join(paragraph for paragraph in text.split("\n\n") if tuple(_words(paragraph)) not in known)


def _references(body: Element, loaded: Loaded) -> list[Reference]:
    """Entries of the reference list: "Publisher: Title (Language) – [link]" lines, or the items
    under a "References"/"Sources" heading (up to the next heading, or the end of the list they are in)."""
    references: list[Reference] = []
    seen: set[str] = set()
    page_site = site(loaded.url)
    under_heading = False
    listed = None  # the list of the first item under the heading
    for block in body.iter("p", "div", "li", *_HEADINGS, "span", "strong", "b"):
        if block.find(".//div") is not None or block.find(".//p") is not None:
            continue  # only the innermost blocks
        text = " ".join(block.text_content().replace("\xa0", " ").split())
        if not text:
            continue
        if _REFERENCE_HEADING.match(text):
            under_heading, listed = True, None
            continue
        if block.tag in _HEADINGS or block.tag == "li" and listed is not None and listed not in block.iterancestors():
            under_heading = False
        anchors = [a for a in block.iter("a") if absolute(loaded.base, a.get("href"))]
        if len(anchors) != 1:
            continue
        url = absolute(loaded.base, anchors[0].get("href"))
        if url is None or url in seen or site(url) == page_site and not under_heading:
            continue
        label = " ".join(anchors[0].text_content().split())
        entry = re.sub(r"\s+[–—-]+\s*\[?\s*" + re.escape(label) + r"\s*\]?\s*$", "", text) if label else text
        match = _REFERENCE.match(entry) if entry != text or not label else None
        if match:
            references.append(Reference(publisher=match.group("publisher").strip(), title=match.group("title").strip(),
                                        language=(match.group("language") or "").strip() or None, url=url))
            seen.add(url)
        elif under_heading and block.tag == "li":
            publisher, _, title = text.partition(":") if ":" in text[:80] else ("", "", text)
            references.append(Reference(publisher=publisher.strip() or None, title=(title or text).strip(),
                                        language=None, url=url))
            seen.add(url)
            listed = block.getparent() if listed is None else listed
    return references


# -- metadata ---------------------------------------------------------------------------------


def _json_ld(root: Element, document: Document) -> dict[str, Any]:
    """The first schema.org article-like object in the page's JSON-LD, or {}."""
    for script in root.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text or "")
        except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's stack
            document.warnings.append("unreadable JSON-LD block ignored")
            continue
        for item in _walk_json_ld(data):
            kinds = item.get("@type")
            kinds = kinds if isinstance(kinds, list) else [kinds]
            if any(isinstance(kind, str) and kind.lower() in _ARTICLE_TYPES for kind in kinds):
                return item
    return {}


def _walk_json_ld(data: Any) -> Iterator[dict[str, Any]]:
    """Each object of a JSON-LD block, and of its @graph, in document order (with a stack of our
    own: a block may nest as deep as the JSON parser allows)."""
    stack = [data]
    while stack:
        data = stack.pop()
        if isinstance(data, list):
            stack.extend(reversed(data))
        elif isinstance(data, dict):
            yield data
            if "@graph" in data:
                stack.append(data["@graph"])


def _metadata(root: Element, body: Element | None, loaded: Loaded, structured: dict[str, Any],
              document: Document) -> None:
    meta = {}
    for element in root.iter("meta"):
        key = (element.get("property") or element.get("name") or element.get("itemprop") or "").strip().lower()
        if key and element.get("content") and key not in meta:
            meta[key] = " ".join(element.get("content").split())

    def pick(field: str, candidates: list[tuple[str, Callable[[], object]]]) -> str | None:
        """The first candidate's text; each is looked for only when those before it have none."""
        for source, find in candidates:
            value = find()
            if not isinstance(value, str):
                continue  # None, or JSON-LD's list or object where a text belongs
            value = " ".join(value.split())
            if value:
                document.sources[field] = source
                return value
        return None

    scope = _article_scope(root, body)
    document.title = pick("title", [
        ("json-ld", lambda: structured.get("headline")),
        ("og:title", lambda: meta.get("og:title")),
        ("post-title", lambda: _first_text(scope, _POST_TITLE)),
        ("h1", lambda: _first_text(root, "//h1")),
        ("title", lambda: root.findtext(".//title")),
    ])
    document.author = pick("author", [
        ("json-ld", lambda: _json_ld_name(structured.get("author"))),
        ("meta author", lambda: next((value for value in (meta.get("author"), meta.get("article:author"))
                                      if value and not value.startswith("http")), None)),
        ("byline", lambda: _first_text(root, _BYLINE)),
        ("author near headline", lambda: _first_text(scope, _AUTHOR_NEAR_HEADLINE)),
    ])
    if document.author:
        document.author = re.sub(r"^(posted by|by)\s+", "", document.author, flags=re.I).strip()
    document.published = pick("published", [
        ("json-ld", lambda: _iso(structured.get("datePublished"))),
        ("article:published_time", lambda: _iso(meta.get("article:published_time"))),
        ("meta date", lambda: _iso(meta.get("date") or meta.get("pubdate") or meta.get("datepublished"))),
        ("itemprop datePublished", lambda: _iso(_attribute(root, '//*[@itemprop="datePublished"]', _DATE_ATTRIBUTES))),
        ("time", lambda: _iso(_attribute(scope, ".//time[@datetime]", ("datetime",)))),
        ("date line", lambda: _first_date(root, _DATE_LINES)),
        ("date near headline", lambda: _first_date(scope, _DATES_NEAR_HEADLINE)),
    ])
    document.updated = pick("updated", [
        ("json-ld", lambda: _iso(structured.get("dateModified"))),
        ("article:modified_time", lambda: _iso(meta.get("article:modified_time") or meta.get("og:updated_time"))),
        ("itemprop dateModified", lambda: _iso(_attribute(root, '//*[@itemprop="dateModified"]', _DATE_ATTRIBUTES))),
    ])
    document.canonical = pick("canonical", [
        ("link canonical", lambda: absolute(loaded.base, _attribute(root, '//link[@rel="canonical"]', ("href",)))),
        ("og:url", lambda: absolute(loaded.base, meta.get("og:url"))),
    ])
    document.language = pick("language", [
        ("html lang", lambda: (root.get("lang") or root.get("xml:lang") or "").split("-")[0].lower() or None),
        ("content-language", lambda: (meta.get("content-language") or "").split("-")[0].lower() or None),
        ("og:locale", lambda: (meta.get("og:locale") or "").split("_")[0].lower() or None),
    ])
    if document.language is None:
        document.language = _guess_language((body if body is not None else scope).text_content()[:5000])
        if document.language:
            document.sources["language"] = "script and stopwords"


def _guess_language(sample: str) -> str | None:
    """Arabic by script; English by its commonest words; otherwise unknown."""
    arabic, latin = len(_ARABIC.findall(sample)), len(_LATIN.findall(sample))
    if arabic > latin:
        return "ar"
    words = re.findall(r"[a-z]+", sample.lower())
    if len(words) >= 20 and sum(word in _ENGLISH_STOPWORDS for word in words) / len(words) > 0.12:
        return "en"
    return None


def _article_scope(root: Element, body: Element | None) -> Element:
    """Where a post's own metadata sits: around the body, else around the first <h1>."""
    if body is not None and body.getparent() is not None:
        return body.getparent()
    headline = root.find(".//h1")
    if headline is not None and headline.getparent() is not None:
        return headline.getparent()
    return root


def _first_date(scope: Element, xpath: str) -> str | None:
    """The first element matching ``xpath`` whose text (or title/datetime) reads as a date."""
    for element in scope.xpath(xpath):
        for value in (element.get("datetime"), element.get("title"), element.text_content()):
            date = _iso(value)
            if date:
                return date
    return None


def _first_text(scope: Element, xpath: str) -> str | None:
    for element in scope.xpath(xpath):
        text = " ".join(element.text_content().split())
        if text:
            return text
    return None


def _attribute(scope: Element, xpath: str, names: tuple[str, ...]) -> str | None:
    for element in scope.xpath(xpath):
        for name in names:
            if element.get(name):
                value: str = element.get(name)
                return value.strip()
        text = " ".join(element.text_content().split())
        if text:
            return text
    return None


def _json_ld_name(value: object) -> str | None:
    if isinstance(value, list):
        names = [_json_ld_name(item) for item in value]
        return ", ".join(name for name in names if name) or None
    if isinstance(value, dict):
        name = value.get("name")
        return name if isinstance(name, str) else None  # a name may itself be an object
    return value if isinstance(value, str) else None


def _iso(value: str | None) -> str | None:
    """An ISO 8601 date or date-time from the forms pages use; None when it is not a date."""
    if not value or not isinstance(value, str):
        return None
    text = " ".join(value.split())
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment.isoformat() if (moment.hour, moment.minute, moment.second) != (0, 0, 0) or "T" in text \
            else moment.date().isoformat()
    except ValueError:
        pass
    cleaned = _ORDINAL.sub(r"\1", text.translate(_ARABIC_DIGITS)).split("|")[0].strip(" .,")
    cleaned = re.sub(r"\b([A-Za-z]{3})\.", r"\1", cleaned)
    for name, number in _ARABIC_MONTHS:
        cleaned = cleaned.replace(name, _ENGLISH_MONTHS[number - 1])
    for candidate in (cleaned, re.sub(r"\s+\d{1,2}:\d{2}.*$", "", cleaned)):
        for form in _DATE_FORMATS:
            try:
                return dt.datetime.strptime(candidate, form).date().isoformat()
            except ValueError:
                continue
    return None


# -- links ------------------------------------------------------------------------------------


def _links(loaded: Loaded, body: Element | None, found_by: str | None, classified: list[Link]) -> list[DocumentLink]:
    if loaded.root is None:
        return []
    anchors = {link.url: link for link in classified if link.tag in ("a", "area")}
    context: dict[str, str] = {}
    order: dict[str, int] = {}
    in_body = set(body.iter("a")) if body is not None and found_by != "readability" else set()
    for position, anchor in enumerate(loaded.root.iter("a", "area")):
        url = absolute(loaded.base, anchor.get("href"))
        if url is None or url in order:
            continue
        order[url] = position
        if anchor in in_body:
            context[url] = _sentence_around(anchor)
    return [
        DocumentLink(url=url, text=link.text, kind=link.kind, context=context.get(url, ""),
                     position=order.get(url, -1))
        for url, link in sorted(anchors.items(), key=lambda item: order.get(item[0], 1 << 30))
    ]


def _sentence_around(anchor: Element) -> str:
    block = anchor
    while block.getparent() is not None and block.tag not in _BLOCK:
        block = block.getparent()
    text = " ".join(block.text_content().split())
    label = " ".join(anchor.text_content().split())
    if not label or label not in text:
        return text[:300]
    start = text.find(label)
    left = max(text.rfind(". ", 0, start), text.rfind("? ", 0, start), text.rfind("! ", 0, start))
    end_candidates = [i for i in (text.find(". ", start + len(label)), text.find("? ", start + len(label)))
                      if i >= 0]
    end = min(end_candidates) + 1 if end_candidates else len(text)
    return text[left + 2 if left >= 0 else 0:end].strip()[:500]
