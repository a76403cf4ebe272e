#!/usr/bin/env python3
"""Extraction quality: archiver's main-text extraction against trafilatura and readability-lxml.

Scores three extractors in one run, on the same real pages, against the ground truth that
ships with four public test sets (read from the shared corpus, never copied into the repo):

* ``article-extraction-benchmark/`` (news and a few blog pages, gzipped HTML;
  ``ground-truth.dev.json``: sha256 -> articleBody, url): token precision / recall / F1;
* ``mozilla-readability/`` (``source.html``; the ground-truth text is the text of
  ``expected.html``, readability.js's own output): token precision / recall / F1;
* ``trafilatura/`` (``evaldata.subset.dev.json``: url -> file, snippets that must appear
  ("with"), must not appear ("without"), and comment snippets): snippet recall and precision;
  six entries are keyed "hard::file.html" instead of a URL: their page's canonical URL is used;
* ``goose3/`` (expected ``cleaned_text``, a prefix of the article text): whether the prefix
  appears in the output, and the recall of its tokens.

Extractors (each page goes through all three in turn, so caches and disk are equally warm):

1. archiver: ``archiver.parse.extract_document(html_bytes, url=url, content_type=None).text``
   (bytes in: archiver decides the charset itself). If the module does not exist yet the row
   says so and the run goes on;
2. trafilatura: ``trafilatura.extract(html, url=url, favor_precision=False,
   include_comments=False, include_tables=True)``, otherwise default settings;
3. readability-lxml: ``readability.Document(html).summary(html_partial=True)``, then the text
   of that HTML (lxml ``text_content()`` after a line break is put around every block element,
   so that ``<p>a</p><p>b</p>`` does not become the token "ab"; whitespace collapsed).

trafilatura and readability get a str: a BOM, else the first ``<meta charset>`` /
``http-equiv`` charset in the first 32 KB (latin-1 and ascii read as windows-1252, as browsers
do), else UTF-8; undecodable bytes are replaced (U+FFFD).

Token scores: text is lowercased and split into ``\\w+`` runs (punctuation dropped; the same
tokeniser as the article-extraction-benchmark's evaluate.py, so CJK runs stay whole); the
prediction and the ground truth are bags of tokens; tp = size of the Counter intersection,
P = tp / predicted tokens, R = tp / true tokens, F1 per page; the table shows the mean over
pages, and a failed or empty output counts as P = R = F1 = 0. The column "AEB F1" is the
benchmark's own figure: 4-gram shingles (case kept), per-page tp/fp/fn normalised, mean P over
non-empty outputs, mean R, F1 of the two means.

Categories (a page can be in several): **blog** if the URL's host is a blog platform
(blogspot, blogger, wordpress.com, tumblr, typepad, livejournal, medium.com) or starts with
``blog.``, or the URL path has a ``/blog/`` segment, or the page is Blogger's (generator meta
Blogger, or its ``BlogArchive`` widget), or the URL path has a ``/20xx/`` segment and the page is
WordPress (generator meta, ``wp-content/``) with a personal-blog marker (archive, recent-comments
or blogroll widget, a ``id="respond"`` comment form, "Leave a Reply"): news sites on WordPress
have the first two, rarely the third; **news** = article-extraction-benchmark pages that are
not blogs (the benchmark is a news set); **arabic** if at least half of the letters of the ground truth are
Arabic script; **non-latin** if at least half are outside the Latin script (Arabic included).
For mozilla-readability pages (served as http://fakehost/) the URL used for the category is
the page's canonical / og:url when it has one.

Prints Markdown tables; ``--write-results`` replaces (or adds) the "## Extraction quality"
section of bench/RESULTS.md and leaves every other byte of the file alone. Run it with the
project's virtualenv:

    .venv/bin/python bench/extraction.py                  # every page (about 30 s on 2 cores)
    .venv/bin/python bench/extraction.py --limit 10       # 10 pages of each set
    .venv/bin/python bench/extraction.py --worst 10       # also archiver's 10 lowest-F1 pages
    .venv/bin/python bench/extraction.py --write-results --worst 10

The corpus is ``../shared/corpus`` next to the repository, or ``--corpus DIR``, or
``$ARCHIVER_CORPUS``; exit status 2 when it is absent.
"""

from __future__ import annotations

import argparse
import codecs
import collections
import contextlib
import dataclasses
import datetime as dt
import gzip
import io
import json
import logging
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import time
import unicodedata
import urllib.parse
from pathlib import Path
from typing import Callable

import lxml.html
from corpus import corpus_argument, require_corpus

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS = BENCH_DIR / "RESULTS.md"
SECTION = "## Extraction quality"

AEB = "article-extraction-benchmark"
MOZ = "mozilla-readability"
TRAF = "trafilatura"
GOOSE = "goose3"
SETS = (AEB, MOZ, TRAF, GOOSE)
TOKEN_SETS = (AEB, MOZ)

ARCHIVER = "archiver"
TRAFILATURA = "trafilatura"
READABILITY = "readability-lxml"
EXTRACTORS = (ARCHIVER, TRAFILATURA, READABILITY)
CATEGORIES = ("news", "blog", "arabic", "non-latin")


def log(text: str) -> None:
    print(f"[extraction {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# --- text helpers ---------------------------------------------------------------------------------

_TOKEN = re.compile(r"\w+", re.UNICODE)
_SPACE = re.compile(r"\s+")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def squash(text: str) -> str:
    """NFC, whitespace collapsed to single spaces: the form snippets are matched in."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "br", "caption", "dd", "details", "dialog", "div",
    "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
    "h6", "header", "hgroup", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}


def html_text(markup: str) -> str:
    """Text of an HTML fragment, a line break around each block element, whitespace collapsed."""
    if not markup or not markup.strip():
        return ""
    root = lxml.html.fromstring(markup)
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag in ("script", "style", "template", "noscript"):
            element.text = ""
            continue
        if element.tag in _BLOCK_TAGS:
            element.text = "\n" + (element.text or "")
            element.tail = "\n" + (element.tail or "")
    return squash(root.text_content())


_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")


def script_shares(text: str) -> tuple[float, float]:
    """(share of letters in Arabic script, share of letters outside the Latin script)."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 0.0, 0.0
    arabic = sum(1 for ch in letters if _ARABIC.match(ch))
    latin = sum(1 for ch in letters if ch < "\u0250" or "\u1e00" <= ch <= "\u1eff")
    return arabic / len(letters), (len(letters) - latin) / len(letters)


# --- decoding for the str-based extractors -------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_AS_CP1252 = {"iso-8859-1", "latin-1", "latin1", "iso8859-1", "us-ascii", "ascii", "l1"}


def decode_html(data: bytes) -> tuple[str, str]:
    """(text, how): BOM, else meta charset in the first 32 KB, else UTF-8; errors replaced."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(name, errors="replace"), f"bom:{name}"
    match = _META_CHARSET.search(data[:32768])
    if match:
        declared = match.group(1).decode("ascii", "ignore").lower()
        name = "cp1252" if declared in _AS_CP1252 else declared
        if name.startswith("utf-16"):  # a meta cannot truthfully say utf-16 (HTML spec: read as utf-8)
            name = "utf-8"
        try:
            codecs.lookup(name)
        except LookupError:
            pass
        else:
            return data.decode(name, errors="replace"), f"meta:{declared}"
    return data.decode("utf-8", errors="replace"), "default:utf-8"


# --- pages ---------------------------------------------------------------------------------------


@dataclasses.dataclass(kw_only=True)
class Page:
    set: str
    key: str                      # file or id within the set
    url: str
    data: bytes
    truth: str = ""               # token sets: ground-truth text; goose3: the expected prefix
    with_: list[str] = dataclasses.field(default_factory=list)
    without: list[str] = dataclasses.field(default_factory=list)
    comments: list[str] = dataclasses.field(default_factory=list)
    categories: set[str] = dataclasses.field(default_factory=set)
    decoded: str = ""
    decoding: str = ""


def load_aeb(root: Path) -> list[Page]:
    truth = json.loads((root / "ground-truth.dev.json").read_text(encoding="utf-8"))
    pages = []
    for sha, item in sorted(truth.items()):
        path = root / "html" / f"{sha}.html.gz"
        if not path.exists():
            log(f"{AEB}: {path.name} missing, skipped")
            continue
        pages.append(Page(set=AEB, key=sha[:12], url=item.get("url", ""), data=gzip.decompress(path.read_bytes()),
                          truth=item.get("articleBody") or ""))
    return pages


def load_moz(root: Path) -> list[Page]:
    pages = []
    for folder in sorted(p for p in (root / "test" / "test-pages").iterdir() if p.is_dir()):
        source, expected = folder / "source.html", folder / "expected.html"
        if not (source.exists() and expected.exists()):
            continue
        pages.append(Page(set=MOZ, key=folder.name, url="http://fakehost/test/page.html", data=source.read_bytes(),
                          truth=html_text(expected.read_text(encoding="utf-8"))))
    return pages


def load_traf(root: Path) -> list[Page]:
    spec = json.loads((root / "tests" / "evaldata.subset.dev.json").read_text(encoding="utf-8"))
    pages = []
    for url, item in spec.items():
        path = next((root / "tests" / sub / item["file"] for sub in ("eval", "cache")
                     if (root / "tests" / sub / item["file"]).exists()), None)
        if path is None:
            log(f"{TRAF}: {item['file']} missing, skipped")
            continue
        data = path.read_bytes()
        if not url.startswith(("http://", "https://")):  # "hard::file.html": the page's own canonical URL
            match = _CANONICAL.search(data[:200_000])
            url = (match.group(1) or match.group(2)).decode("utf-8", "replace") if match else f"http://localhost/{path.name}"
        pages.append(Page(set=TRAF, key=item["file"], url=url, data=data,
                          with_=list(item.get("with", [])), without=list(item.get("without", [])),
                          comments=list(item.get("comments", []))))
    return pages


def load_goose(root: Path) -> list[Page]:
    pages = []
    for spec_path in sorted((root / "tests" / "data" / "content").glob("*.json")):
        html_path = spec_path.with_suffix(".html")
        if not html_path.exists():
            continue
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
        prefix = (spec.get("expected") or {}).get("cleaned_text") or ""
        if not prefix.strip():
            continue
        pages.append(Page(set=GOOSE, key=html_path.stem, url=spec.get("url", ""), data=html_path.read_bytes(),
                          truth=prefix))
    return pages


LOADERS = {AEB: load_aeb, MOZ: load_moz, TRAF: load_traf, GOOSE: load_goose}


_BLOG_HOST = re.compile(r"(blogspot\.|blogger\.|wordpress\.com|tumblr\.com|typepad\.|livejournal\.|"
                        r"(^|\.)medium\.com$|^blog\.)", re.I)
_BLOG_PATH = re.compile(r"(^|/)blog(/|$)", re.I)
_YEAR_PATH = re.compile(r"/20\d\d/")
# the generator meta, attributes in either order: only it says content="Blogger" / "WordPress x.y"
_BLOGGER = re.compile(rb"""<meta[^>]+content=["']?blogger["'\s>/]|BlogArchive""", re.I)
_WORDPRESS = re.compile(rb"""<meta[^>]+content=["']?wordpress[\s"'>/]|wp-content/""", re.I)
_PERSONAL = re.compile(rb"""widget_archive|widget_recent_comments|blogroll|id=["']respond["']|"""
                       rb"""Leave a (Reply|Comment)""", re.I)
_CANONICAL = re.compile(rb"""<link[^>]+rel=["']?canonical["']?[^>]*href=["']([^"']+)|"""
                        rb"""<meta[^>]+property=["']og:url["'][^>]*content=["']([^"']+)""", re.I)


def is_blog(url: str, data: bytes) -> bool:
    parts = urllib.parse.urlsplit(url)
    if _BLOG_HOST.search((parts.hostname or "").lower()) or _BLOG_PATH.search(parts.path):
        return True
    head = data[:1_000_000]
    if _BLOGGER.search(head):
        return True
    return bool(_YEAR_PATH.search(parts.path) and _WORDPRESS.search(head) and _PERSONAL.search(head))


def categorise(page: Page) -> None:
    url = page.url
    if urllib.parse.urlsplit(url).hostname in (None, "fakehost"):
        match = _CANONICAL.search(page.data[:200_000])
        if match:
            url = (match.group(1) or match.group(2)).decode("utf-8", "replace")
    if is_blog(url, page.data):
        page.categories.add("blog")
    elif page.set == AEB:
        page.categories.add("news")
    basis = page.truth or " ".join(page.with_)
    arabic, non_latin = script_shares(basis)
    if arabic >= 0.5:
        page.categories.add("arabic")
    if non_latin >= 0.5:
        page.categories.add("non-latin")


# --- extractors ----------------------------------------------------------------------------------


@dataclasses.dataclass(kw_only=True)
class Extractor:
    name: str
    run: Callable[[Page], str | tuple[str, str | None]] | None  # text, or (text, how the body was found)
    version: str = ""
    unavailable: str = ""         # why run is None
    seconds: float = 0.0
    calls: int = 0


def make_archiver() -> Extractor:
    try:
        from archiver.parse import extract_document
    except ImportError as error:
        return Extractor(name=ARCHIVER, run=None, unavailable=f"archiver.parse not available yet ({error})")

    def run(page: Page) -> tuple[str, str | None]:
        document = extract_document(page.data, url=page.url, content_type=None)
        return document.text or "", getattr(document, "body_found_by", None)

    return Extractor(name=ARCHIVER, run=run)


def make_trafilatura() -> Extractor:
    try:
        import trafilatura
    except ImportError as error:
        return Extractor(name=TRAFILATURA, run=None,
                         unavailable=f"trafilatura not installed ({error}): .venv/bin/pip install trafilatura")
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    logging.getLogger("htmldate").setLevel(logging.CRITICAL)

    def run(page: Page) -> str:
        return trafilatura.extract(page.decoded, url=page.url, favor_precision=False, include_comments=False,
                                   include_tables=True) or ""

    return Extractor(name=TRAFILATURA, run=run, version=package_version("trafilatura"))


def make_readability() -> Extractor:
    try:
        import readability
    except ImportError as error:
        return Extractor(name=READABILITY, run=None, unavailable=f"readability-lxml not installed ({error}): "
                         ".venv/bin/pip install readability-lxml")
    logging.getLogger("readability").setLevel(logging.CRITICAL)
    logging.getLogger("readability.readability").setLevel(logging.CRITICAL)

    def run(page: Page) -> str:
        return html_text(readability.Document(page.decoded).summary(html_partial=True))

    return Extractor(name=READABILITY, run=run, version=package_version("readability-lxml"))


def package_version(name: str) -> str:
    from importlib import metadata
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


# --- scoring -------------------------------------------------------------------------------------


@dataclasses.dataclass(kw_only=True)
class Result:
    page: Page
    extractor: str
    text: str = ""
    error: str = ""
    how: str | None = None        # archiver: Document.body_found_by
    seconds: float = 0.0
    p: float = 0.0
    r: float = 0.0
    f1: float = 0.0
    shingle: tuple[float, float, float] = (0.0, 0.0, 0.0)   # AEB-normalised tp, fp, fn
    snip_tp: int = 0
    snip_fn: int = 0
    snip_fp: int = 0
    snip_tn: int = 0
    comments_leaked: int = 0
    missed: list[str] = dataclasses.field(default_factory=list)   # 'with' snippets not found
    leaked: list[str] = dataclasses.field(default_factory=list)   # 'without' and comment snippets found
    prefix_found: bool = False

    @property
    def empty(self) -> bool:
        return not self.error and not _TOKEN.search(self.text)


def token_prf(pred: str, true: str) -> tuple[float, float, float]:
    predicted, expected = collections.Counter(tokens(pred)), collections.Counter(tokens(true))
    n_pred, n_true = sum(predicted.values()), sum(expected.values())
    if not n_pred or not n_true:
        return (1.0, 1.0, 1.0) if n_pred == n_true else (0.0, 0.0, 0.0)
    tp = sum((predicted & expected).values())
    p, r = tp / n_pred, tp / n_true
    return p, r, (2 * p * r / (p + r) if tp else 0.0)


def aeb_shingles(pred: str, true: str, n: int = 4) -> tuple[float, float, float]:
    """article-extraction-benchmark evaluate.py: tp/fp/fn over 4-gram shingles, normalised per page."""
    def grams(text: str) -> collections.Counter:
        toks = _TOKEN.findall(text or "")
        return collections.Counter(tuple(toks[i:i + n]) for i in range(max(1, len(toks) - n + 1)) if toks[i:i + n])
    t, p = grams(true), grams(pred)
    tp = sum((t & p).values())
    fp, fn = sum((p - t).values()), sum((t - p).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def aeb_f1(shingles: list[tuple[float, float, float]]) -> float:
    def prec(tp, fp, fn):
        return 1.0 if fp == fn == 0 else (0.0 if tp == fp == 0 else tp / (tp + fp))

    def rec(tp, fp, fn):
        return 1.0 if fp == fn == 0 else (0.0 if tp == fn == 0 else tp / (tp + fn))
    ps = [prec(*s) for s in shingles if s[0] + s[1] > 0]
    rs = [rec(*s) for s in shingles if s[0] + s[2] > 0]
    if not ps or not rs:
        return 0.0
    p, r = statistics.mean(ps), statistics.mean(rs)
    return 2 * p * r / (p + r) if p + r else 0.0


def score(result: Result) -> None:
    page, text = result.page, result.text
    if page.set in TOKEN_SETS:
        result.p, result.r, result.f1 = token_prf(text, page.truth) if not result.error else (0.0, 0.0, 0.0)
        result.shingle = aeb_shingles(text, page.truth)
    elif page.set == TRAF:
        flat = squash(text)
        for snippet in page.with_:
            if squash(snippet) in flat:
                result.snip_tp += 1
            else:
                result.snip_fn += 1
                result.missed.append(snippet)
        for snippet in page.without:
            if squash(snippet) in flat:
                result.snip_fp += 1
                result.leaked.append(snippet)
            else:
                result.snip_tn += 1
        comments = [snippet for snippet in page.comments if squash(snippet) in flat]
        result.comments_leaked = len(comments)
        result.leaked += [f"(comment) {snippet}" for snippet in comments]
    elif page.set == GOOSE:
        prefix = squash(page.truth)
        result.prefix_found = bool(prefix) and prefix in squash(text)
        expected = collections.Counter(tokens(page.truth))
        got = collections.Counter(tokens(text))
        result.r = sum((expected & got).values()) / max(1, sum(expected.values()))


def run_page(extractor: Extractor, page: Page) -> Result:
    result = Result(page=page, extractor=extractor.name)
    start = time.perf_counter()
    try:
        text = extractor.run(page)
        if isinstance(text, tuple):
            text, result.how = text
        result.text = text if isinstance(text, str) else str(text or "")
    except Exception as error:  # noqa: BLE001 - every failure is counted, whatever it is
        result.error = f"{type(error).__name__}: {error}"[:300]
    result.seconds = time.perf_counter() - start
    extractor.seconds += result.seconds
    extractor.calls += 1
    score(result)
    return result


# --- tables --------------------------------------------------------------------------------------


def mean(values: list[float]) -> float:
    return statistics.mean(values) if values else float("nan")


def fmt(value: float, digits: int = 3) -> str:
    return "-" if value != value else f"{value:.{digits}f}"


def failures(results: list[Result]) -> str:
    errors = sum(1 for r in results if r.error)
    empty = sum(1 for r in results if r.empty)
    return f"{errors} / {empty}"


def unavailable_row(extractor: Extractor, columns: int) -> str:
    return f"| {extractor.name} | " + " | ".join([f"*{extractor.unavailable}*"] + ["-"] * (columns - 2)) + " |"


def per_page_ms(results: list[Result]) -> str:
    return f"{sum(r.seconds for r in results):.1f} s, {1000 * mean([r.seconds for r in results]):.0f}"


def token_table(results: dict[str, list[Result]], extractors: list[Extractor], set_name: str) -> str:
    head = ["extractor", "pages", "P", "R", "F1", "AEB F1 (4-gram shingles)", "failed / empty",
            "time (total, ms/page)"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for extractor in extractors:
        if extractor.run is None:
            rows.append(unavailable_row(extractor, len(head)))
            continue
        mine = [r for r in results[extractor.name] if r.page.set == set_name]
        if not mine:
            continue
        rows.append(f"| {extractor.name} | {len(mine)} | {fmt(mean([r.p for r in mine]))} "
                    f"| {fmt(mean([r.r for r in mine]))} | **{fmt(mean([r.f1 for r in mine]))}** "
                    f"| {fmt(aeb_f1([r.shingle for r in mine]))} | {failures(mine)} | {per_page_ms(mine)} |")
    return "\n".join(rows)


def snippet_counts(mine: list[Result]) -> tuple[float, float, float, float]:
    tp = sum(r.snip_tp for r in mine)
    fn = sum(r.snip_fn for r in mine)
    fp = sum(r.snip_fp for r in mine)
    tn = sum(r.snip_tn for r in mine)
    recall = tp / (tp + fn) if tp + fn else float("nan")
    precision = tp / (tp + fp) if tp + fp else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = (tp + tn) / (tp + tn + fp + fn) if tp + tn + fp + fn else float("nan")
    return recall, precision, f1, accuracy


def snippet_table(results: dict[str, list[Result]], extractors: list[Extractor]) -> str:
    head = ["extractor", "pages", "'with' found (recall)", "'without' found", "'with' / all found (precision)",
            "F1", "accuracy", "comment snippets found", "failed / empty", "time (total, ms/page)"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for extractor in extractors:
        if extractor.run is None:
            rows.append(unavailable_row(extractor, len(head)))
            continue
        mine = [r for r in results[extractor.name] if r.page.set == TRAF]
        if not mine:
            continue
        recall, precision, f1, accuracy = snippet_counts(mine)
        tp = sum(r.snip_tp for r in mine)
        fp = sum(r.snip_fp for r in mine)
        n_with = sum(len(r.page.with_) for r in mine)
        n_without = sum(len(r.page.without) for r in mine)
        leaked = sum(r.comments_leaked for r in mine)
        n_comments = sum(len(r.page.comments) for r in mine)
        rows.append(f"| {extractor.name} | {len(mine)} | {tp}/{n_with} = {fmt(recall)} | {fp}/{n_without} "
                    f"| {fmt(precision)} | **{fmt(f1)}** | {fmt(accuracy)} | {leaked}/{n_comments} "
                    f"| {failures(mine)} | {per_page_ms(mine)} |")
    return "\n".join(rows)


def goose_table(results: dict[str, list[Result]], extractors: list[Extractor]) -> str:
    head = ["extractor", "pages", "prefix found", "prefix-token recall", "failed / empty", "time (total, ms/page)"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for extractor in extractors:
        if extractor.run is None:
            rows.append(unavailable_row(extractor, len(head)))
            continue
        mine = [r for r in results[extractor.name] if r.page.set == GOOSE]
        if not mine:
            continue
        found = sum(1 for r in mine if r.prefix_found)
        rows.append(f"| {extractor.name} | {len(mine)} | {found}/{len(mine)} = {fmt(found / len(mine), 2)} "
                    f"| {fmt(mean([r.r for r in mine]))} | {failures(mine)} | {per_page_ms(mine)} |")
    return "\n".join(rows)


def category_table(results: dict[str, list[Result]], extractors: list[Extractor], pages: list[Page]) -> str:
    head = ["category", "extractor", "token pages", "P", "R", "F1", "snippet pages", "snippet R", "snippet P",
            "goose pages", "prefix found"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for category in ("all", *CATEGORIES):
        members = [p for p in pages if category == "all" or category in p.categories]
        chosen = {id(p) for p in members}
        if not members:
            rows.append(f"| {category} | - | 0 | " + " | ".join(["-"] * (len(head) - 3)) + " |")
            continue
        for extractor in extractors:
            if extractor.run is None:
                continue
            mine = [r for r in results[extractor.name] if id(r.page) in chosen]
            tok = [r for r in mine if r.page.set in TOKEN_SETS]
            snip = [r for r in mine if r.page.set == TRAF]
            goose = [r for r in mine if r.page.set == GOOSE]
            recall, precision, _, _ = snippet_counts(snip) if snip else (float("nan"),) * 4
            found = f"{sum(1 for r in goose if r.prefix_found)}/{len(goose)}" if goose else "-"
            rows.append(f"| {category} | {extractor.name} | {len(tok)} | {fmt(mean([r.p for r in tok]))} "
                        f"| {fmt(mean([r.r for r in tok]))} | {fmt(mean([r.f1 for r in tok]))} | {len(snip)} "
                        f"| {fmt(recall)} | {fmt(precision)} | {len(goose)} | {found} |")
    return "\n".join(rows)


def source_table(results: dict[str, list[Result]], extractors: list[Extractor]) -> str:
    """archiver's token scores split by how it found the body, with the others on the same pages."""
    mine = [r for r in results[ARCHIVER] if r.page.set in TOKEN_SETS]
    if not mine:
        return ""
    others = [e for e in extractors if e.name != ARCHIVER and e.run is not None]
    by_page = {e.name: {(r.page.set, r.page.key): r for r in results[e.name]} for e in others}
    head = ["archiver body found by", "token pages", "archiver P", "archiver R", "archiver F1"] + [
        f"{e.name} F1, same pages" for e in others]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    groups: dict[str, list[Result]] = collections.defaultdict(list)
    for r in mine:
        groups["(failed)" if r.error else (r.how or "(nothing)")].append(r)
    for how, group in sorted(groups.items(), key=lambda item: -len(item[1])):
        same = [fmt(mean([by_page[e.name][(r.page.set, r.page.key)].f1 for r in group
                          if (r.page.set, r.page.key) in by_page[e.name]])) for e in others]
        rows.append(f"| {how} | {len(group)} | {fmt(mean([r.p for r in group]))} | {fmt(mean([r.r for r in group]))} "
                    f"| {fmt(mean([r.f1 for r in group]))} | " + " | ".join(same) + " |")
    return "\n".join(rows)


def category_counts(pages: list[Page]) -> str:
    parts = []
    for category in CATEGORIES:
        by_set = collections.Counter(p.set for p in pages if category in p.categories)
        detail = ", ".join(f"{name} {count}" for name, count in sorted(by_set.items()))
        parts.append(f"{category}: {sum(by_set.values())}" + (f" ({detail})" if detail else ""))
    return "; ".join(parts)


def one_line(text: str, width: int = 200) -> str:
    flat = squash(text)
    return (flat[:width] + "…") if len(flat) > width else flat


def worst_pages(results: list[Result], count: int) -> str:
    scored = sorted((r for r in results if r.page.set in TOKEN_SETS), key=lambda r: (r.f1, r.page.key))
    lines = []
    for rank, r in enumerate(scored[:count], 1):
        page = r.page
        what = "FAILED " + r.error if r.error else ("EMPTY OUTPUT" if r.empty else "")
        found = f"; body found by {r.how}" if r.extractor == ARCHIVER else ""
        lines.append(f"{rank}. [{page.set} {page.key}] {page.url}  "
                     f"(categories: {', '.join(sorted(page.categories)) or '-'}{found})")
        lines.append(f"   P={r.p:.3f} R={r.r:.3f} F1={r.f1:.3f}; tokens: ours {len(tokens(r.text))}, "
                     f"truth {len(tokens(page.truth))} {what}".rstrip())
        lines.append(f"   ours : {one_line(r.text)!r}")
        lines.append(f"   truth: {one_line(page.truth)!r}")
    return "\n".join(lines)


def worst_snippet_pages(results: list[Result], count: int) -> str:
    scored = [r for r in results if r.page.set == TRAF and (r.missed or r.leaked or r.error)]
    scored.sort(key=lambda r: (-(len(r.missed) + len(r.leaked) + 10 * bool(r.error)), r.page.key))
    lines = []
    for rank, r in enumerate(scored[:count], 1):
        found = f"; body found by {r.how}" if r.extractor == ARCHIVER else ""
        lines.append(f"{rank}. [{TRAF} {r.page.key}] {r.page.url}  "
                     f"(categories: {', '.join(sorted(r.page.categories)) or '-'}{found})")
        if r.error:
            lines.append(f"   FAILED {r.error}")
        for snippet in r.missed:
            lines.append(f"   missed : {one_line(snippet, 120)!r}")
        for snippet in r.leaked:
            lines.append(f"   leaked : {one_line(snippet, 120)!r}")
        lines.append(f"   ours   : {one_line(r.text, 160)!r}")
    return "\n".join(lines)


# --- environment ---------------------------------------------------------------------------------


def machine() -> str:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPUs ({cpu}), Linux {platform.release()}, Python {platform.python_version()}"


def git_state() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "archiver"], cwd=REPO,
                               capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (f" + uncommitted changes in {len(dirty.splitlines())} archiver path(s)" if dirty else "")


def write_results(section: str) -> None:
    """Replace the section (its heading to the next '## ' heading) or append it; nothing else changes."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}[ \t]*\n.*?(?=^## |\Z)", re.S | re.M)
    match = pattern.search(text)
    body = section.rstrip("\n") + "\n"
    if match:
        follows = match.end() < len(text)
        text = text[:match.start()] + body + ("\n" if follows else "") + text[match.end():]
    else:
        separator = "" if text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        text = text + separator + body
    RESULTS.write_text(text, encoding="utf-8")
    log(f"wrote the '{SECTION}' section of {RESULTS}")


# --- main ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    corpus_argument(parser)
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="at most N pages of each set")
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated subset of {','.join(SETS)}")
    parser.add_argument("--worst", type=int, default=0, metavar="N",
                        help="print archiver's N lowest-F1 pages (token-scored sets; trafilatura's when "
                             "archiver.parse is not available)")
    parser.add_argument("--pages-json", type=Path, default=None, metavar="FILE",
                        help="write every page's scores and outputs as JSON (keep it outside the repo)")
    parser.add_argument("--write-results", action="store_true", help=f"replace '{SECTION}' in {RESULTS}")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    corpus = require_corpus(args.corpus, "extraction benchmark")
    chosen = [name.strip() for name in args.sets.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(SETS))
    if unknown:
        print(f"unknown set(s): {', '.join(unknown)}; choose among {', '.join(SETS)}", file=sys.stderr)
        return 2

    pages: list[Page] = []
    skipped_sets = []
    for name in chosen:
        root = corpus / name
        if not root.is_dir():
            skipped_sets.append(f"{name} (not in {corpus})")
            log(f"{name}: not in the corpus, skipped")
            continue
        loaded = LOADERS[name](root)
        if args.limit is not None:
            loaded = loaded[:args.limit]
        pages.extend(loaded)
        log(f"{name}: {len(loaded)} pages")
    if not pages:
        print(f"no pages with ground truth found under {corpus}", file=sys.stderr)
        return 2
    decodings = collections.Counter()
    replaced = 0
    for page in pages:
        page.decoded, page.decoding = decode_html(page.data)
        decodings[page.decoding.split(":")[0]] += 1
        replaced += "\ufffd" in page.decoded
        categorise(page)

    extractors = [make_archiver(), make_trafilatura(), make_readability()]
    for extractor in extractors:
        if extractor.run is None:
            log(f"{extractor.name}: {extractor.unavailable}")
    active = [e for e in extractors if e.run is not None]
    results: dict[str, list[Result]] = {e.name: [] for e in extractors}
    started = time.perf_counter()
    for number, page in enumerate(pages, 1):
        for extractor in active:
            results[extractor.name].append(run_page(extractor, page))
        if number % 50 == 0:
            log(f"{number}/{len(pages)} pages, {time.perf_counter() - started:.0f}s")
    wall = time.perf_counter() - started

    archiver = extractors[0]
    command = "cd /work/main && .venv/bin/python bench/extraction.py " + shlex.join(argv if argv is not None
                                                                                     else sys.argv[1:])
    versions = ", ".join(f"{e.name} {e.version}" for e in extractors if e.run is not None and e.version)
    out = io.StringIO()
    w = out.write
    w(f"{SECTION}\n\n")
    w(f"Generated by `bench/extraction.py` on {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC.\n\n")
    w(f"Command: `{command.strip()}`\n\n")
    w(f"Machine: {machine()}; {versions}; archiver at {git_state()}.\n\n")
    counts = collections.Counter(p.set for p in pages)
    w("Pages: " + ", ".join(f"{name} {counts[name]}" for name in chosen if counts[name])
      + (f" (limit {args.limit} per set)" if args.limit is not None else "") + f", {len(pages)} in all; "
      f"categories: {category_counts(pages)}.\n\n")
    if archiver.run is None:
        w(f"**archiver: {archiver.unavailable}.** Its rows are placeholders until the module exists.\n\n")
    for name, title in ((AEB, "article-extraction-benchmark (news; token scores against articleBody)"),
                        (MOZ, "mozilla-readability (token scores against the text of expected.html)")):
        if counts[name]:
            w(f"**{title}**\n\n{token_table(results, extractors, name)}\n\n")
    if counts[TRAF]:
        w("**trafilatura evaldata (snippets that must / must not appear, summed over pages)**\n\n"
          f"{snippet_table(results, extractors)}\n\n")
    if counts[GOOSE]:
        w("**goose3 (the expected text prefix must appear in the output)**\n\n"
          f"{goose_table(results, extractors)}\n\n")
    w("**By category**, \"all\" being every page (token scores: article-extraction-benchmark + "
      "mozilla-readability pages; snippet scores: trafilatura pages; prefix: goose3 pages)\n\n")
    w(category_table(results, extractors, pages) + "\n\n")
    if archiver.run is not None and source_table(results, extractors):
        w("**archiver by body source** (token-scored pages; `trafilatura` means archiver found no structural "
          "evidence and used trafilatura's text, called without the URL)\n\n")
        w(source_table(results, extractors) + "\n\n")
    total = ", ".join(f"{e.name} {e.seconds:.1f} s ({1000 * e.seconds / max(1, e.calls):.0f} ms/page)"
                      for e in extractors if e.run is not None)
    w(f"Time: {total}; whole loop {wall:.1f} s.\n\n")
    w("How to read it: P is the share of an extractor's words that are in the ground truth (low P: "
      "boilerplate, related links or comments kept), R the share of the ground truth's words it found "
      "(low R: part of the body missed), both as bags of lowercased `\\w+` tokens, averaged over pages, "
      "with a failed or empty output scoring 0. \"AEB F1\" is the article-extraction-benchmark's own "
      "metric (4-gram shingles, empty outputs left out of P), for comparison with its published "
      "numbers. The snippet table counts, over all pages, the text snippets that must appear "
      "(recall) and those that must not (boilerplate; precision = must-appear found / all found); "
      "comment snippets found means comments were kept. goose3's \"prefix found\" is strict (its expected "
      "text sometimes starts with the page's description or skips a lead paragraph); prefix-token recall is "
      "the fairer guide there. Home advantage: trafilatura is tuned on its "
      "own evaldata and readability.js wrote mozilla-readability's expected.html (readability-lxml "
      "is an older port of it); the article-extraction-benchmark is neutral. "
      f"Decoding for trafilatura and readability: {decodings.get('meta', 0)} pages by meta charset, "
      f"{decodings.get('default', 0)} as UTF-8 by default, {decodings.get('bom', 0)} by BOM; "
      f"{replaced} pages had bytes replaced by U+FFFD.\n")
    if not any("arabic" in p.categories for p in pages):
        w("\nNo page of these sets has a mostly Arabic ground truth (the only Arabic text in the corpus is "
          "inside a few WARC/ARC test files, without ground truth), so the arabic row is empty; non-latin "
          "(CJK, Cyrillic, ...) stands in for pages in another script.\n")
    if skipped_sets:
        w(f"\nSkipped: {'; '.join(skipped_sets)}.\n")
    report = out.getvalue()
    print(report)

    if args.worst:
        target = archiver if archiver.run is not None else next((e for e in extractors[1:] if e.run), None)
        if target is not None:
            note = "" if target is archiver else " (archiver.parse not available: showing trafilatura)"
            print(f"### {args.worst} lowest-F1 pages for {target.name}{note}\n")
            print(worst_pages(results[target.name], args.worst))
            print()
            snippets = worst_snippet_pages(results[target.name], args.worst)
            if snippets:
                print(f"### {target.name}: trafilatura-set pages with the most snippet errors{note}\n")
                print(snippets)
                print()

    if args.pages_json:
        dump = []
        for name, rows in results.items():
            for r in rows:
                dump.append({"extractor": name, "set": r.page.set, "key": r.page.key, "url": r.page.url,
                             "categories": sorted(r.page.categories), "p": r.p, "r": r.r, "f1": r.f1,
                             "snippets": [r.snip_tp, r.snip_fn, r.snip_fp, r.snip_tn],
                             "comments_leaked": r.comments_leaked, "missed": r.missed, "leaked": r.leaked,
                             "prefix_found": r.prefix_found,
                             "error": r.error, "how": r.how, "seconds": r.seconds, "text": r.text})
        args.pages_json.write_text(json.dumps(dump, ensure_ascii=False, indent=1), encoding="utf-8")
        log(f"wrote {len(dump)} page results to {args.pages_json}")

    if args.write_results:
        write_results(report)
    return 0



if __name__ == "__main__":
    sys.exit(main())
