"""Parsing pages, never their archived bytes: links (requisites and citations; what a stylesheet or a
frame's document loads), the document (title, dates, main text, captions, references) and versions
(fingerprints, word diffs).

Knows nothing of the catalogue, capture or queries.
"""

from ._document import MAX_PARSED_BYTES, Document, analyse, extract_document, page_only
from ._html import FOLLOWED_KINDS, Link, LinkKind
from ._links import EXTRACTOR, Outlinks, Page
from ._requisites import (
    FRAME_TAGS,
    HTML_TYPES,
    OPAQUE_TYPES,
    STYLESHEET_TYPES,
    embedded_links,
    is_stylesheet,
)
from ._versions import Fingerprints, caption_lines, citation_urls, fingerprints, list_diff, word_diff

__all__ = [
    "EXTRACTOR",
    "FOLLOWED_KINDS",
    "FRAME_TAGS",
    "HTML_TYPES",
    "MAX_PARSED_BYTES",
    "OPAQUE_TYPES",
    "STYLESHEET_TYPES",
    "Document",
    "Fingerprints",
    "Link",
    "LinkKind",
    "Outlinks",
    "Page",
    "analyse",
    "caption_lines",
    "citation_urls",
    "embedded_links",
    "extract_document",
    "fingerprints",
    "is_stylesheet",
    "list_diff",
    "page_only",
    "word_diff",
]
