"""What makes a new version of a page: normalised text, fingerprints and word-level diffs.

A version is defined by a page's main text, captions and citations as the
parser extracted them, never by its bytes. Before fingerprinting, text is
normalised (Unicode NFKC, whitespace collapsed) and *recognised* churn is
masked: relative times ("updated 5 minutes ago"), view and read counters
("read 1,234 times"), clock times with seconds, ISO timestamps and long
random tokens. Plain numbers are never masked: a casualty count going from
36 to 46 is an edit.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import re
import unicodedata
import urllib.parse
from typing import Any, Iterable

from ._html import LinkKind

_UNITS = r"(?:second|sec|minute|min|hour|hr|day|week|month|year)s?"
_NUMBER = r"(?:\d[\d,.\s]*|an?|one|a\s+few|few|several)"
_MASKS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"), "‹time›"),
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:\s*[ap]\.?m\.?)?", re.I), "‹time›"),
    (re.compile(rf"\b{_NUMBER}\s*{_UNITS}\s+ago\b|\bjust\s+now\b|\bmoments?\s+ago\b", re.I), "‹ago›"),
    (re.compile(r"\b(?:read|viewed|seen|played|shared|visited)\s+[\d,.\s]+[km]?\s*times\b", re.I), "‹count›"),
    (re.compile(r"\b\d[\d,.]*\s*[km]?\s+(?:views|reads|readers|visits|shares|likes|plays)\b", re.I), "‹count›"),
    (re.compile(r"\b(?:views|reads|visits|shares|likes)\s*:\s*\d[\d,.]*\b", re.I), "‹count›"),
    # random tokens: long runs mixing letters and digits (session ids, CSRF tokens, cache busters)
    (re.compile(r"\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{20,}\b"), "‹token›"),
]
_TRACKING = re.compile(r"^(utm_[a-z]+|fbclid|gclid|mc_cid|mc_eid|ref_src)$", re.I)
_WORD = re.compile(r"\S+")


def normalise(text: str | None) -> str:
    """Text as versions compare it: NFKC, recognised churn masked, whitespace collapsed per paragraph."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    for pattern, mask in _MASKS:
        text = pattern.sub(mask, text)
    paragraphs = (" ".join(paragraph.split()) for paragraph in re.split(r"\n\s*\n", text))
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph)


def normalise_url(url: str) -> str:
    """A cited URL as versions compare it: no fragment, no tracking parameters, lower-case host."""
    parts = urllib.parse.urlsplit(url.strip())
    query = urllib.parse.urlencode([(key, value) for key, value in urllib.parse.parse_qsl(parts.query, True)
                                    if not _TRACKING.match(key)])
    return urllib.parse.urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", query, ""))


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclasses.dataclass(frozen=True, kw_only=True)
class Fingerprints:
    """sha256 of each normalised part of a document; only body, captions and citations make an edit."""

    title: str
    dates: str
    body: str
    captions: str
    citations: str

    EDIT_PARTS = ("body", "captions", "citations")

    def changed_parts(self, other: "Fingerprints") -> list[str]:
        return [part for part in self.EDIT_PARTS if getattr(self, part) != getattr(other, part)]


def caption_lines(captions: Iterable[dict[str, Any]]) -> list[str]:
    return [normalise(" / ".join(part for part in (item.get("text"), item.get("credit")) if part))
            for item in captions]


def citation_urls(links: Iterable[dict[str, Any]]) -> list[str]:
    return sorted({normalise_url(link["url"]) for link in links if link.get("kind") == LinkKind.CITATION})


def fingerprints(*, title: str | None, published: str | None, updated: str | None, text: str | None,
                 captions: Iterable[dict[str, Any]], links: Iterable[dict[str, Any]]) -> Fingerprints:
    """Fingerprints of one extraction (the fields of :meth:`archiver.parse.Document.as_json`)."""
    return Fingerprints(
        title=_sha(normalise(title)),
        dates=_sha(f"{published or ''}|{updated or ''}"),
        body=_sha(normalise(text)),
        captions=_sha("\n".join(caption_lines(captions))),
        citations=_sha("\n".join(citation_urls(links))),
    )


# -- word-level diff ----------------------------------------------------------------------------

PARAGRAPH = "¶"
CONTEXT_WORDS = 8


@dataclasses.dataclass(frozen=True, kw_only=True)
class Hunk:
    """One change in the main text, with a few words of context either side."""

    before: str
    removed: str
    added: str
    after: str

    def as_json(self) -> dict[str, str]:
        return dataclasses.asdict(self)

    def render(self) -> str:
        """wdiff style: ``… context [-old words-]{+new words+} context …``."""
        parts = [f"… {self.before}" if self.before else "…"]
        change = (f"[-{self.removed}-]" if self.removed else "") + (f"{{+{self.added}+}}" if self.added else "")
        parts.append(change)
        parts.append(f"{self.after} …" if self.after else "…")
        return " ".join(parts)


def _words(text: str) -> list[str]:
    words: list[str] = []
    for number, paragraph in enumerate(normalise(text).split("\n\n")):
        if number:
            words.append(PARAGRAPH)
        words += _WORD.findall(paragraph)
    return words


def word_diff(old: str | None, new: str | None) -> list[Hunk]:
    """The changed runs of words between two main texts (normalised, so masked churn never shows)."""
    a, b = _words(old or ""), _words(new or "")
    hunks = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        hunks.append(Hunk(before=" ".join(a[max(0, i1 - CONTEXT_WORDS):i1]), removed=" ".join(a[i1:i2]),
                          added=" ".join(b[j1:j2]), after=" ".join(a[i2:i2 + CONTEXT_WORDS])))
    return hunks


def list_diff(old: Iterable[str], new: Iterable[str]) -> dict[str, list[str]]:
    """Items removed and added between two lists (captions, citations), order kept."""
    old, new = list(old), list(new)
    return {"removed": [item for item in old if item not in new], "added": [item for item in new if item not in old]}
