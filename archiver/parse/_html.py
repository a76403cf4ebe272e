"""The HTML vocabulary that parse/ shares: loading a page (its character set decided, its tree
parsed from a copy of the bytes), what a link is, the class and id tokens that name a page's parts (chrome,
share, comment and ad containers), and resolving a link to an absolute http(s) URL."""

from __future__ import annotations

import codecs
import dataclasses
import enum
import functools
import re
import urllib.parse
from typing import Any

import lxml.html
from lxml import etree

from ..net import quote_unsafe

# An lxml.html element (HtmlElement). lxml-stubs give what iter(), xpath() and the ancestors return as
# plain etree elements (no text_content()) or unions, so the precise type would need a cast at every step.
Element = Any
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
MAX_TAG = 1 << 16  # tags longer than this (in characters) have their attributes counted ...
MAX_ATTRIBUTES = 1000  # ... and those past this many are left out of the parsing copy
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
# Names of containers, matched against whole class and id tokens (see ``names``).
SHARE = frozenset({"share", "sharer", "sharing", "addthis", "sharethis", "social", "sharedaddy"})
COMMENT = frozenset({"comment", "comments", "respond", "reply", "disqus", "commentlist"})
AD = frozenset({"ad", "ads", "advert", "advertisement", "adsbygoogle", "sponsored", "dfp", "banner-ad"})
# Containers whose links are never the body's, wherever they sit.
CHROME = frozenset({"nav", "navbar", "navigation", "menu", "sidebar", "widget", "footer", "header", "breadcrumb",
                    "breadcrumbs", "related", "share", "social", "comment", "comments", "pager", "tags", "labels"})


class LinkKind(enum.StrEnum):
    """What a link of a page is (``links.kind``; ``fetches.link_kind`` of the fetch it led to), most
    specific first: :func:`archiver.parse._links._dedupe` keeps the first of a URL's kinds in this order."""

    EMBED = "embed"  # images, stylesheets, scripts, icons, frames: page requisites
    CITATION = "citation"  # a link in the article's text or reference list, to another site
    INLINE = "inline"  # a link in the article's text or reference list, to the same site
    SHARE = "share"  # share / social buttons (share endpoints, share widgets)
    COMMENT = "comment"  # comment forms and threads
    AD = "ad"  # in an advertisement's container
    TAG = "tag"  # rel=tag, tag / label / category containers and URLs
    PAGER = "pager"  # rel=next/prev, pager and pagination containers
    RELATED = "related"  # related, more-stories and recommended containers
    SIDEBAR = "sidebar"  # <aside>, sidebar and widget containers
    NAVIGATION = "navigation"  # every other link: menus, headers, footers, archives, links beside the text


FOLLOWED_KINDS = (LinkKind.CITATION, LinkKind.INLINE)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Link:
    """A link of a page: its absolute URL, its class (``embed``, ``citation``, ...), its text, and the tag
    (or, for a requisite, the construct: ``style``, ``css``, ``css-import``) it came from."""

    url: str
    kind: str
    text: str = ""
    tag: str = "a"

    @property
    def followed(self) -> bool:
        return self.kind in FOLLOWED_KINDS


def names(element: Element, words: frozenset[str]) -> bool:
    """Does a class or id token of ``element`` name one of ``words``?

    A token names a word when it is the word, or starts or ends with it as a
    hyphenated part ("post-footer", "share-buttons"); a word inside a longer
    name ("content-with-sidebar-wrp", "field-label-hidden") does not count.
    """
    return not name_parts(element).isdisjoint(words)


def name_parts(element: Element) -> frozenset[str]:
    """What :func:`names` matches words against: each class and id token of ``element``, lower-cased,
    and its first and last hyphenated and underscored parts."""
    parts: set[str] = set()
    for token in f"{element.get('class') or ''} {element.get('id') or ''}".lower().split():
        parts.update((token, token.partition("-")[0], token.rpartition("-")[2], token.partition("_")[0],
                      token.rpartition("_")[2]))
    return frozenset(parts)


def decide_encoding(raw: bytes, content_type: str | None) -> tuple[str, str]:
    """(codec name, which source decided): ``http-header``, ``bom``, ``meta``, ``detected``, ``default``,
    or ``overridden`` when the bytes contradict every declaration: a page declared windows-1252 or
    ISO-8859-1 whose non-ASCII bytes are valid UTF-8 (the commonest mojibake), or one declared
    UTF-8 whose bytes are not."""
    sample = raw[:65536]
    meta = _META_CHARSET.search(raw[:4096])
    boms = [(name, "bom") for bom, name in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"),
                                            (codecs.BOM_UTF16_BE, "utf-16")) if raw.startswith(bom)]
    label = charset_label(content_type)
    declared = [(_codec(label) if label else None, "http-header"), *boms,
                (_codec(meta.group(1).decode("ascii", "replace")) if meta else None, "meta")]
    contradicted = False
    for name, source in declared:
        if name is None:
            continue
        if source != "bom" and _contradicted(sample, name):
            contradicted = True
            continue
        return name, source
    name = "utf-8" if _is_utf8(sample) else _detect(sample)
    if name is None:
        return "windows-1252", "default"
    return name, "overridden" if contradicted else "detected"


def _is_utf8(sample: bytes) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)  # a cut sequence at the end is fine
        return True
    except UnicodeDecodeError:
        return False


def _contradicted(sample: bytes, name: str) -> bool:
    if name == "utf-8":
        return not _is_utf8(sample)
    if name in ("cp1252", "ascii") and not sample.isascii():
        return _is_utf8(sample)  # non-ASCII bytes that happen to be valid UTF-8 are UTF-8
    return False


def _detect(sample: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    return _codec(best.encoding) if best is not None else None


def charset_label(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type header, as written (None if it has none)."""
    if not content_type:
        return None
    match = re.search(r"charset\s*=\s*[\"']?([^\s;\"']+)", content_type, re.I)
    return match.group(1) if match else None


def _codec(label: str) -> str | None:
    """Python codec for a charset label, with the WHATWG aliases browsers apply."""
    label = label.strip().lower()
    if label in ("iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii"):
        label = "windows-1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


@dataclasses.dataclass(kw_only=True)
class Loaded:
    """An HTML payload decoded and parsed: the tree, and how its characters were decided."""

    url: str
    base: str  # for resolving links: the URL, or the document's <base href>
    root: Element | None  # lxml root element; None when nothing could be parsed
    encoding: str
    encoding_source: str


def load(payload: bytes, *, url: str, content_type: str | None) -> Loaded:
    """Decode (charset decided by :func:`decide_encoding`) and parse HTML bytes served at ``url``."""
    encoding, source = decide_encoding(payload, content_type)
    # characters no HTML document may hold (NUL, C0 controls) are dropped from the parsing copy
    text = _cut_long_tags(_CONTROL.sub("", payload.decode(encoding, errors="replace")))
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, huge_tree=True)
    try:
        root = lxml.html.document_fromstring(text.encode("utf-8"), parser=parser)
    except (etree.ParserError, ValueError):
        root = None
    base = url
    for element in root.iter("base") if root is not None else ():
        if element.get("href"):
            base = absolute(url, element.get("href")) or url
            break
    return Loaded(url=url, base=base, root=root, encoding=encoding, encoding_source=source)


def _cut_long_tags(text: str) -> str:
    """The parsing copy with every tag of more than ``MAX_ATTRIBUTES`` attributes cut after that many.

    libxml2 compares each attribute of a tag with the ones before it: a tag of 800,000 attributes
    (8 MB) would hold the parse for half an hour. One pass; only tags longer than ``MAX_TAG`` are
    counted (a long data: URI is one attribute, and is kept whole).
    """
    parts = []
    position = 0
    while True:
        start = text.find("<", position)
        if start < 0:
            break
        end = text.find(">", start)
        end = len(text) if end < 0 else end
        if end - start > MAX_TAG and text.count("=", start, end) > MAX_ATTRIBUTES:
            cut = start
            for _ in range(MAX_ATTRIBUTES + 1):
                cut = text.find("=", cut + 1, end)
            parts.append(text[position:max(text.rfind(" ", start, cut), start + 1)])
            position = end  # the tag's own ">" closes what is left of it
        else:
            parts.append(text[position:end + 1])
            position = end + 1
    if not parts:
        return text
    parts.append(text[position:])
    return "".join(parts)


@functools.lru_cache(maxsize=1 << 13)  # a page repeats its links (menus, share buttons, a site's images)
def absolute(base: str, value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    try:
        target = urllib.parse.urljoin(base, value)
        parts = urllib.parse.urlsplit(target)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return quote_unsafe(urllib.parse.urlunsplit(parts._replace(fragment="")))


def requisite_url(base: str, value: str | None) -> str | None:
    """:func:`absolute`, but a blank value names nothing: ``src=" "`` loads nothing, not the page itself."""
    return absolute(base, value) if value and not value.isspace() else None


def site(url: str) -> str:
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host
