"""Parsing pages, never their archived bytes: links (requisites and citations), the document
(title, dates, main text, captions, references) and versions (fingerprints, word diffs).

Knows nothing of the catalogue, capture or queries.
"""

from ._document import MAX_PARSED_BYTES, Document, analyse, extract_document, page_only
from ._links import EXTRACTOR, FOLLOWED_KINDS, Link, LinkKind, Outlinks, Page
from ._versions import Fingerprints, caption_lines, citation_urls, fingerprints, list_diff, word_diff

__all__ = [
    "EXTRACTOR",
    "FOLLOWED_KINDS",
    "MAX_PARSED_BYTES",
    "Document",
    "Fingerprints",
    "Link",
    "LinkKind",
    "Outlinks",
    "Page",
    "analyse",
    "caption_lines",
    "citation_urls",
    "extract_document",
    "fingerprints",
    "list_diff",
    "page_only",
    "word_diff",
]
