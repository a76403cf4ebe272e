"""What a browser loads for a page without running its scripts: its requisites, every one (an image
in an advertisement's container is loaded like any other).

* images: ``img`` ``src`` and ``srcset`` (and ``<image src>``, which HTML parsers read as ``<img>``),
  the lazy-loading attributes (``data-src``, ``data-srcset``,
  ``data-lazy-src``, ``data-original``) on ``img`` and ``source``, ``<picture><source srcset>``,
  ``<input type=image>``, ``og:image`` and ``twitter:image``, and what ``<noscript>`` holds (as a browser
  without scripts does, and as lxml does, it is parsed as markup; text escaped in it, ``&lt;img``,
  is text to both);
* frames and objects: ``iframe``, ``frame``, ``embed src``, ``object data`` (:data:`FRAME_TAGS`);
* media: ``video src poster``, ``audio``, ``source``, ``track``; the ``background`` attribute of
  ``body``, ``table``, ``td`` and ``th`` (obsolete, still loaded);
* ``<link rel>`` stylesheet, preload, modulepreload, icon, apple-touch-icon, manifest; ``script src``;
* CSS: ``url()`` and ``@import`` in ``<style>`` blocks and ``style=`` attributes (:mod:`._css`).

Each is a ``Link(kind="embed")`` whose tag names where it was found. Only http(s) URLs are kept
(``data:``, ``javascript:`` and the like load nothing from the network).
"""

from __future__ import annotations

from typing import Iterator

from ..net import media_type
from ._css import css_links, stylesheet_links
from ._html import Element, Link, load, requisite_url

FRAME_TAGS = frozenset({"iframe", "frame", "embed", "object"})  # whose documents have requisites of their own
STYLESHEET_TYPES = frozenset({"text/css"})
OPAQUE_TYPES = frozenset({None, "application/octet-stream", "text/plain"})  # a stylesheet if its path says .css
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_LAZY = ("data-src", "data-lazy-src", "data-original")
# the attributes holding one URL, and those holding a srcset, of each tag (link, meta and input: when they load)
_URLS = {"img": ("src", *_LAZY), "image": ("src",), "source": ("src", *_LAZY), "script": ("src",), "iframe": ("src",),
         "frame": ("src",), "embed": ("src",), "object": ("data",), "video": ("src", "poster"), "audio": ("src",),
         "track": ("src",), "input": ("src",), "link": ("href",), "meta": ("content",),
         **dict.fromkeys(("body", "table", "td", "th"), ("background",))}
_SRCSETS = {"img": ("srcset", "data-srcset"), "source": ("srcset", "data-srcset")}
_RELS = frozenset({"stylesheet", "preload", "modulepreload", "icon", "shortcut", "apple-touch-icon",
                   "apple-touch-icon-precomposed", "mask-icon", "fluid-icon", "manifest"})
_IMAGE_META = frozenset({"og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src"})


def embedded_links(payload: bytes, *, url: str, content_type: str | None) -> list[Link]:
    """What an embedded document served at ``url`` loads, one link per URL: a stylesheet's (type
    ``text/css``, or no or an opaque type and a ``.css`` path) ``url()`` and ``@import`` links, resolved
    against the stylesheet; an HTML document's (a frame's) requisites, resolved against its base
    (no main text is looked for); anything else nothing."""
    media = media_type(content_type)
    if is_stylesheet(url=url, media_type=media):
        links = stylesheet_links(payload, url=url, content_type=content_type)
    elif media in HTML_TYPES or media is None:
        loaded = load(payload, url=url, content_type=content_type)
        links = list(requisites(loaded.root, loaded.base)) if loaded.root is not None else []
    else:
        return []
    unique: dict[str, Link] = {}
    for link in links:
        unique.setdefault(link.url, link)
    return list(unique.values())



def is_stylesheet(*, url: str, media_type: str | None) -> bool:
    """Is a response of ``media_type`` (no parameters) served at ``url`` a stylesheet?"""
    path = url.partition("?")[0].partition("#")[0]
    return media_type in STYLESHEET_TYPES or (media_type in OPAQUE_TYPES and path.lower().endswith(".css"))


def requisites(root: Element, base: str) -> Iterator[Link]:
    """Every requisite of the document ``root``, URLs resolved against ``base``, in document order
    (repeats included)."""
    for element in root.iter():
        tag = element.tag
        if not isinstance(tag, str):
            continue  # a processing instruction
        style = element.get("style")
        if style:
            yield from css_links(style, base=base, tag="style")
        if tag == "style":
            yield from css_links(element.text_content(), base=base, tag="style")
        if tag not in _URLS or not _loads(element):
            continue  # (every tag with a srcset has URLs)
        for attribute in _URLS[tag]:
            target = requisite_url(base, element.get(attribute))
            if target:
                yield Link(url=target, kind="embed", tag=tag)
        for attribute in _SRCSETS.get(tag, ()):
            for candidate in srcset_urls(element.get(attribute) or ""):
                target = requisite_url(base, candidate)
                if target:
                    yield Link(url=target, kind="embed", tag=tag)


def _loads(element: Element) -> bool:
    """Does a browser load the URL of this ``link``, ``meta`` or ``input``? (Every other tag's: yes.)"""
    if element.tag == "link":
        return bool(set((element.get("rel") or "").lower().split()) & _RELS)
    if element.tag == "meta":
        return (element.get("property") or element.get("name") or "").lower() in _IMAGE_META
    if element.tag == "input":
        return (element.get("type") or "").lower() == "image"
    return True


def srcset_urls(value: str) -> Iterator[str]:
    """The URL of each candidate of a ``srcset`` (HTML's parsing: a URL may hold commas, a candidate's
    descriptors end at a comma outside parentheses)."""
    position, end = 0, len(value)
    while position < end:
        while position < end and (value[position].isspace() or value[position] == ","):
            position += 1
        start = position
        while position < end and not value[position].isspace():
            position += 1
        candidate = value[start:position]
        if candidate.endswith(","):
            candidate = candidate.rstrip(",")
        else:
            depth = 0
            while position < end and (value[position] != "," or depth):
                depth = max(0, depth + {"(": 1, ")": -1}.get(value[position], 0))
                position += 1
        if candidate:
            yield candidate
