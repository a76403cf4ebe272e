#!/usr/bin/env python3
"""Real pages: the scope and completeness of a capture of real posts (issue 14).

Builds a site in a temporary folder from the real pages of the shared corpus (never copied into the
repository), serves it on loopback hosts and runs ``archiver capture`` on its posts:

* posts, on 127.0.0.10: Readability's test pages (``mozilla-readability/test/test-pages/<name>/
  source.html``), one post each at ``/<name>.html``. Into one paragraph of each article, the first
  paragraph of Readability's ``expected.html`` with at least 100 characters that is found in
  ``source.html`` (else a shorter one, else the block holding the article's text: see
  ``article_paragraph``), three citations are inserted as a reader writes them, ``... claim
  (<a href=...>source</a>). Next ...`` (before sentence ends, else at the paragraph's end);
* cited pages, on 127.0.0.11-13: each citation is a distinct URL ``/<post>/<sha>.html`` holding an
  article-extraction-benchmark page (``html/<sha>.html.gz``), three consecutive pages of the
  benchmark's sorted list a post, one on each host;
* navigation, on 127.0.0.20: every other link of a post (``<a>``/``<area>`` href, ``<link>`` of a rel
  that is not a requisite below, such as canonical or alternate, ``og:url``, form actions,
  ``cite``) becomes a unique URL ``/<post>/n<k>.html`` serving a tiny page; links the article itself
  holds (their URL is in ``expected.html``) are told apart;
* requisites, on 127.0.0.21: every URL a browser loads without scripts becomes a unique URL
  ``/<post>/r<k>.<ext>`` serving a small body of its type (1x1 PNG or GIF, SVG, empty CSS or JS, a
  tiny HTML frame, an MP4 header, WebVTT, a WOFF2 header). "Present requisites" are counted by this
  script's own walker (not archiver's, which it judges): ``img`` src / srcset / data-src / data-srcset
  / data-lazy-src / data-original (every srcset candidate counts), ``picture source`` srcset,
  ``video`` / ``audio`` / ``source`` / ``track`` / ``embed`` src, ``object`` data, ``poster``,
  ``input type=image``, ``iframe`` / ``frame``, ``script src``, ``link rel`` stylesheet / icon /
  apple-touch-icon / mask-icon / preload / modulepreload / manifest, ``og:image`` / ``twitter:image`` metas,
  ``background`` attributes, ``url()`` and ``@import`` in ``<style>`` and ``style=""`` (``noscript``
  content included: lxml parses it as markup). A URL repeated in a post is one requisite.
  ``<base>`` is removed (every URL is rewritten absolute) and the page is written as UTF-8 with
  ``<meta charset="utf-8">``.

The cited pages are rewritten the same way under ``/aeb-<sha>/`` (their requisites served, their
links left as 404s on the navigation host), so nothing of the capture leaves the machine; their
figures are reported but not held to the aims. Fetches are read from the server's access log
(nginx from Debian, else the Python fallback server of bench/sitegen.py, said in the output), not
from archiver's catalogue; the catalogue is read only to find URLs fetched outside these hosts.

Aims (issue 14): 100 % of citations fetched, at most 1 % of navigation links followed and never
more than 10 from one post, 100 % of the posts' requisites fetched. "Navigation" is every link of a
post outside its article as Readability's expected.html shows it. The article's own links (those in
expected.html) are citations by the issue's own rule ("a citation is a link in the article's text"),
written by the same authors in the same paragraphs as the inserted ones, so no rule could leave them
and follow the three: they are reported apart (followed is right), not counted as navigation. A test
page whose article has fewer than ``ARTICLE_CHARACTERS`` characters ("Test") has no article: its citations are
reported apart too, since a page without an article cites nothing.

Speed against the peer pipeline (issue 15: archiver's default capture at least 1.5x faster than what a user
scripts instead): after archiver, on the same served site, bench/capture.py's :func:`run_pipeline` runs ``wget
-p -H --warc-file -e robots=off --domains=<the bench's hosts>`` given the posts and every page archiver fetched
from their links (its citations, and the article's own links it followed: the pages it fetched as cited pages,
read from the access log), keeping the files, then ``trafilatura --parallel N`` (N = the machine's cores) on
every HTML file wget saved (told by a sniff of its first bytes). Reported: archiver's wall, wget's,
trafilatura's, the pipeline's (wget's plus trafilatura's), and archiver's speed-up over the pipeline and over
wget alone (the other wall / archiver's); the posts' requisites wget fetched are counted from the access log.
``--repeat N`` interleaves N repetitions of archiver then the pipeline (medians reported; the aims of issue 14
are judged on the first capture and any other capture missing one is said); ``--no-peers`` runs archiver only.

    .venv/bin/python bench/real_site.py                 # every Readability test page
    .venv/bin/python bench/real_site.py --posts 6 --check
    .venv/bin/python bench/real_site.py --posts 10 --repeat 3

Prints a table then one JSON line (``--json``: the JSON line only; the pipeline's figures under ``peers``);
``--check`` exits 1 when an aim of issue 14 is missed (not on the speed aim).
The corpus is found as bench/extraction.py finds it (bench/corpus.py); exit 2 without it.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import gzip
import json
import os
import re
import shlex
import shutil
import sqlite3
import statistics
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any, Iterable

import lxml.html

sys.path.insert(0, str(Path(__file__).resolve().parent))
from capture import (  # noqa: E402
    PIPELINE_AIM,
    Pipeline,
    Server,
    Static,
    clean_env,
    find_archiver,
    find_trafilatura,
    find_wget,
    free_port,
    log,
    pipeline_aim,
    run_json,
    run_main,
    run_pipeline,
    serving,
    temporary_folder,
)
from corpus import corpus_argument, require_corpus  # noqa: E402
from extraction import decode_html, squash  # noqa: E402

POST_HOST = "127.0.0.10"
CITED_HOSTS = ("127.0.0.11", "127.0.0.12", "127.0.0.13")
NAV_HOST = "127.0.0.20"
REQUISITE_HOST = "127.0.0.21"
HOSTS = (POST_HOST, *CITED_HOSTS, NAV_HOST, REQUISITE_HOST)
READY = "/ready.txt"  # a file on every host, polled until the server answers
READABILITY_BASE = "http://fakehost/test/page.html"  # the URL Readability's tests give each page

# A Readability test page whose article is shorter (in characters: Japanese has no spaces between words) is a
# parser's unit test ("Test"), not a post: archiver cites nothing from a page without an article (issue 14),
# so its citations are counted apart, not aimed at.
ARTICLE_CHARACTERS = 100
AIMS = {"citations": 1.0, "navigation share": 0.01, "navigation per post": 10, "requisites": 1.0}

BODIES: dict[str, bytes] = {
    "png": bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                         "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"),
    "gif": bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c"
                         "00000000010001000002024401003b"),
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>\n',
    "css": b"/* requisite */\n",
    "js": b"/* requisite */\n",
    "html": b"<!DOCTYPE html><title>frame</title><p>frame</p>\n",
    "mp4": bytes.fromhex("0000001866747970" "69736f6d00000200" "69736f6d6d703432"),  # an ftyp box
    "vtt": b"WEBVTT\n",
    "woff2": b"wOF2" + bytes(44),
    "webmanifest": b'{"name": "requisite"}\n',
}
NAVIGATION_PAGE = b"<!DOCTYPE html><title>navigation</title><p>A page a post links to.</p>\n"
_BY_EXTENSION = {"gif": "gif", "svg": "svg", "png": "png", "jpg": "png", "jpeg": "png", "webp": "png",
                 "ico": "png", "bmp": "png", "avif": "png", "css": "css", "js": "js", "mjs": "js",
                 "woff": "woff2", "woff2": "woff2", "ttf": "woff2", "otf": "woff2", "eot": "woff2", "mp4": "mp4",
                 "webm": "mp4", "ogg": "mp4", "ogv": "mp4", "mp3": "mp4", "m4a": "mp4", "wav": "mp4",
                 "mov": "mp4", "vtt": "vtt", "html": "html", "htm": "html", "json": "webmanifest",
                 "webmanifest": "webmanifest"}
_PRELOAD_AS = {"style": "css", "script": "js", "font": "woff2", "image": "png", "document": "html",
               "video": "mp4", "audio": "mp4", "track": "vtt"}
_ICON_RELS = {"icon", "apple-touch-icon", "apple-touch-icon-precomposed", "mask-icon", "fluid-icon"}
_IMAGE_METAS = {"og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src"}
_NOT_FETCHED = ("#", "javascript:", "mailto:", "tel:", "data:", "about:", "blob:", "sms:")
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]*?)\1\s*\)|@import\s+(['"])([^'"]+)\3""", re.I)
_BLOCKS = {"p", "div", "td", "th", "li", "dd", "pre", "blockquote", "section", "article", "main", "body", "center"}
_SENTENCE_END = re.compile(r"[.!?](?=\s+[\"'“‘(\[]?[A-Z0-9])|[。！？](?=.)")


# --- rewriting a page ---------------------------------------------------------------------------------


@dataclasses.dataclass
class Ref:
    """A URL the bench put in a page: where it is served and how the page refers to it."""

    url: str
    how: str  # "a href", "img srcset", "style url()", ...
    in_article: bool = False  # navigation: the link is in Readability's expected.html


def comparable(url: str) -> str:
    """A URL as Readability serialises it in expected.html (an empty path is "/", the host lower case, no
    fragment), to tell whether a link of source.html is one of the article's."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc.lower(), parts.path or "/", parts.query, ""))


def kind_of(url: str, default: str) -> str:
    """The body type served for a requisite: by the original URL's extension, else ``default``."""
    extension = urllib.parse.urlsplit(url).path.rpartition(".")[2].lower()
    return _BY_EXTENSION.get(extension, default)


def srcset_spans(value: str) -> list[tuple[int, int]]:
    """(start, end) of each candidate URL in a srcset (HTML's parsing: a URL ends at whitespace, or at
    commas ending it; descriptors run to the next comma), so URLs holding commas stay whole."""
    spans, position = [], 0
    while position < len(value):
        while position < len(value) and (value[position].isspace() or value[position] == ","):
            position += 1
        start = position
        while position < len(value) and not value[position].isspace():
            position += 1
        end = position
        while end > start and value[end - 1] == ",":
            end -= 1
        if end > start:
            spans.append((start, end))
        if end == position:  # descriptors follow, up to the next comma outside parentheses
            depth = 0
            while position < len(value) and not (value[position] == "," and depth == 0):
                depth += {"(": 1, ")": -1}.get(value[position], 0)
                position += 1
    return spans


class Rewriter:
    """Rewrites every URL of one page to the bench's hosts, and remembers what it put there."""

    def __init__(self, base: str, prefix: str, port: int, article: frozenset[str] = frozenset()) -> None:
        self.base, self.prefix, self.port, self.article = base, prefix, port, article
        self.navigation: dict[str, Ref] = {}
        self.requisites: dict[str, Ref] = {}
        self.bodies: dict[str, bytes] = {}  # requisite URL -> body
        self._seen: dict[tuple[str, str], str] = {}  # (original absolute URL, "nav" or a body kind) -> URL

    def _absolute(self, value: str) -> str | None:
        value = value.strip()
        if not value or value.lower().startswith(_NOT_FETCHED):
            return None
        try:
            return urllib.parse.urljoin(self.base, value)
        except ValueError:
            return None

    def navigation_url(self, value: str, how: str) -> str:
        original = self._absolute(value)
        if original is None:
            return value
        key = (original, "nav")
        if key not in self._seen:
            url = f"http://{NAV_HOST}:{self.port}/{self.prefix}/n{len(self.navigation)}.html"
            self._seen[key] = url
            self.navigation[url] = Ref(url, how, in_article=comparable(original) in self.article)
        return self._seen[key]

    def requisite_url(self, value: str, how: str, default: str) -> str:
        original = self._absolute(value)
        if original is None:
            return value
        kind = kind_of(original, default)
        key = (original, kind)
        if key not in self._seen:
            url = f"http://{REQUISITE_HOST}:{self.port}/{self.prefix}/r{len(self.requisites)}.{kind}"
            self._seen[key] = url
            self.requisites[url] = Ref(url, how)
            self.bodies[url] = BODIES[kind]
        return self._seen[key]

    def srcset(self, value: str, how: str) -> str:
        for start, end in reversed(srcset_spans(value)):
            value = value[:start] + self.requisite_url(value[start:end], how, "png") + value[end:]
        return value

    def css(self, text: str, how: str) -> str:
        def replace(match: re.Match[str]) -> str:
            if match.group(4) is not None:  # @import "..."
                return f'@import "{self.requisite_url(match.group(4), how, "css")}"'
            return f'url("{self.requisite_url(match.group(2), how, "png")}")'

        return _CSS_URL.sub(replace, text)

    def rewrite(self, root: lxml.html.HtmlElement) -> None:
        """Every URL-bearing attribute and stylesheet of the page, in place."""
        for base in list(root.iter("base")):  # relative URLs resolve against it, then it goes
            self.base = self._absolute(base.get("href") or "") or self.base
            base.drop_tree()
        for element in list(root.iter()):
            if not isinstance(element.tag, str) or ":" in element.tag:
                continue  # a prefixed tag (<a0:img>) is an unknown element to a browser: it loads nothing
            tag = element.tag.lower()
            where = "noscript " if any(a.tag == "noscript" for a in element.iterancestors()) else ""
            if tag == "style" and element.text:
                element.text = self.css(element.text, f"{where}style url()")
            for name, value in list(element.attrib.items()):
                rewritten = self._attribute(element, tag, name.lower(), value, where)
                if rewritten != value:
                    element.set(name, rewritten)

    def _attribute(self, element: lxml.html.HtmlElement, tag: str, name: str, value: str, where: str) -> str:
        how = f"{where}{tag} {name}"
        in_picture = tag == "source" and element.getparent() is not None and element.getparent().tag == "picture"
        if name == "style":
            return self.css(value, f"{where}style attribute url()")
        if (name in ("srcset", "data-srcset") and tag in ("img", "source")) or (tag, name) == ("link", "imagesrcset"):
            return self.srcset(value, how)
        if name in ("src", "data-src", "data-lazy-src", "data-original"):
            if name != "src" and tag not in ("img", "source", "iframe"):
                return value  # a lazy URL on another element: no browser and no script here loads it
            default = {"script": "js", "iframe": "html", "frame": "html", "track": "vtt", "video": "mp4",
                       "audio": "mp4", "embed": "html"}.get(tag, "mp4" if tag == "source" and not in_picture
                                                               else "png")
            return self.requisite_url(value, how, default)
        if name in ("poster", "background"):
            return self.requisite_url(value, how, "png")
        if tag == "object" and name == "data":
            return self.requisite_url(value, how, "html")
        if tag == "link" and name == "href":
            rels = set((element.get("rel") or "").lower().split())
            if "stylesheet" in rels:
                return self.requisite_url(value, "link stylesheet", "css")
            if rels & _ICON_RELS:
                return self.requisite_url(value, "link icon", "png")
            if "manifest" in rels:  # the issue counts it a requisite: browsers fetch it to offer installing
                return self.requisite_url(value, "link manifest", "webmanifest")
            if rels & {"preload", "modulepreload"}:
                return self.requisite_url(value, "link preload",
                                          _PRELOAD_AS.get((element.get("as") or "").lower(), "js"))
            return self.navigation_url(value, f"link {' '.join(sorted(rels)) or 'href'}")
        if tag == "meta" and name == "content":
            meta = (element.get("property") or element.get("name") or "").lower()
            if meta in _IMAGE_METAS:
                return self.requisite_url(value, f"meta {meta}", "png")
            if meta.endswith(":url") and value.strip().startswith(("http:", "https:", "/")):
                return self.navigation_url(value, f"meta {meta}")
            return value
        if name in ("href", "action", "formaction", "cite", "longdesc"):
            return self.navigation_url(value, "a href" if tag in ("a", "area") and name == "href" else how)
        return value


def read_page(data: bytes) -> lxml.html.HtmlElement:
    text, _ = decode_html(data)
    text = re.sub(r"^\s*<\?xml[^>]*>", "", text)  # lxml refuses a str with an encoding declaration
    return lxml.html.document_fromstring(text)


def write_page(root: lxml.html.HtmlElement, path: Path) -> None:
    """The page as UTF-8, saying so in its only charset declaration."""
    for meta in list(root.iter("meta")):
        if meta.get("charset") is not None or (meta.get("http-equiv") or "").lower() == "content-type":
            meta.drop_tree()
    head = root.find("head")
    if head is None:
        head = lxml.html.Element("head")
        root.insert(0, head)
    head.insert(0, lxml.html.Element("meta", charset="utf-8"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(lxml.html.tostring(root, encoding="utf-8", doctype="<!DOCTYPE html>"))


# --- citations ------------------------------------------------------------------------------------


def article_paragraph(source: lxml.html.HtmlElement, expected: lxml.html.HtmlElement
                      ) -> tuple[lxml.html.HtmlElement, str] | None:
    """The block of ``source`` to cite from, and how it was found.

    Readability's ``expected`` output is searched, in turn, for its paragraphs of at least 100
    characters, its other paragraphs, and its whole text (a page without ``<p>``); the first of them
    found in ``source`` gives the block: the innermost block with the same whitespace-collapsed text
    ("same text"), else the innermost block whose text holds its first 60 characters ("containing":
    Readability makes paragraphs of ``<br>``-separated text and of some ``<div>``s)."""
    body = source.find("body")
    blocks = [element for element in (body if body is not None else source).iter() if element.tag in _BLOCKS]
    texts = [squash(element.text_content()) for element in blocks]
    innermost = dict(zip(texts, blocks, strict=True))  # the last block with a text is the deepest
    paragraphs = [squash(p.text_content()) for p in expected.iter("p")]
    tiers = [[text for text in paragraphs if len(text) >= 100], [text for text in paragraphs if 0 < len(text) < 100],
             [squash(expected.text_content())]]
    for tier, label in zip(tiers, ("", " (a short paragraph)", " (no paragraph: the article's text)"), strict=True):
        for text in tier:
            if text in innermost:
                return innermost[text], "same text" + label
        for text in filter(None, tier):
            holding = [(len(found), index) for index, found in enumerate(texts) if text[:60] in found]
            if holding:
                return blocks[min(holding)[1]], "containing" + label
    return None


def insert_citations(paragraph: lxml.html.HtmlElement, urls: list[str]) -> None:
    """``(<a href=URL>source</a>)`` before a sentence end of the paragraph's text (outside its links)
    for each URL, the ends spread over the paragraph (a full stop, or 。！？); the rest after its last words,
    in order."""
    segments = _segments(paragraph, inside_link=False)
    text = [getattr(element, part) or "" for element, part in segments]
    ends = [(index, match.start()) for index, piece in enumerate(text) for match in _SENTENCE_END.finditer(piece)]
    step = max(1, len(ends) // len(urls))
    marks = ends[::step][:len(urls)]
    last = max((index for index, piece in enumerate(text) if piece.strip()), default=len(segments) - 1)
    marks += [(last, len(text[last].rstrip()))] * (len(urls) - len(marks))  # after the last words, not a <br>
    # from the last mark back, so that earlier offsets stay true (at one mark, the last citation first)
    for (index, offset), _, url in sorted(zip(marks, range(len(urls)), urls, strict=True), reverse=True):
        element, part = segments[index]
        current = getattr(element, part) or ""
        anchor = lxml.html.Element("a", href=url)
        anchor.text = "source"
        anchor.tail = ")" + current[offset:]
        setattr(element, part, current[:offset] + " (")
        if part == "text":
            element.insert(0, anchor)
        else:
            element.addnext(anchor)


def _segments(element: lxml.html.HtmlElement, inside_link: bool) -> list[tuple[lxml.html.HtmlElement, str]]:
    """The text segments under ``element`` in reading order, as (element, "text" or "tail"), leaving
    out those inside a link."""
    found = [] if inside_link else [(element, "text")]
    for child in element:
        if isinstance(child.tag, str):
            found += _segments(child, inside_link or child.tag == "a")
        if not inside_link:
            found.append((child, "tail"))
    return found


# --- the site -----------------------------------------------------------------------------------


@dataclasses.dataclass
class Post:
    name: str
    url: str
    citations: list[str]
    navigation: dict[str, Ref]
    requisites: dict[str, Ref]
    paragraph: str  # how the cited paragraph was found
    article: bool  # Readability's article has ARTICLE_CHARACTERS or more: a post, whose citations are aimed at


@dataclasses.dataclass
class Site:
    root: Path
    port: int
    posts: list[Post]
    left_out: dict[str, str]  # post name -> why no post was made of it
    cited_navigation: dict[str, Ref]  # the cited pages' links (following them is a second hop)
    cited_requisites: set[str]

    def static(self, access_log: Path) -> Static:
        return Static(self.root, HOSTS, self.port, [f"http://{host}:{self.port}{READY}" for host in HOSTS],
                      access_log)


def readability_pages(corpus: Path) -> list[Path]:
    folder = corpus / "mozilla-readability" / "test" / "test-pages"
    return sorted(path for path in folder.iterdir() if (path / "source.html").exists()
                  and (path / "expected.html").exists()) if folder.is_dir() else []


def sample(pages: list[Path], count: int | None) -> list[Path]:
    """``count`` pages spread evenly over the sorted list (all of them without ``count``)."""
    if count is None or count >= len(pages):
        return pages
    return [pages[index * len(pages) // count] for index in range(count)]


def aeb_pages(corpus: Path) -> list[Path]:
    return sorted((corpus / "article-extraction-benchmark" / "html").glob("*.html.gz"))


def _write(root: Path, url: str, body: bytes) -> None:
    split = urllib.parse.urlsplit(url)
    path = root / (split.hostname or "") / split.path.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)


def build_site(corpus: Path, root: Path, port: int, posts: int | None = None) -> Site:
    """The site of ``posts`` Readability test pages (all by default) under ``root/<host>/``."""
    cited = aeb_pages(corpus)
    if not cited:
        raise SystemExit(f"no article-extraction-benchmark pages under {corpus}")
    site = Site(root, port, [], {}, {}, set())
    for host in HOSTS:
        _write(root, f"http://{host}{READY}", b"ready\n")
    masters: dict[Path, Path] = {}
    for folder in sample(readability_pages(corpus), posts):
        name = folder.name
        source = read_page((folder / "source.html").read_bytes())
        expected = lxml.html.document_fromstring((folder / "expected.html").read_text(encoding="utf-8"))
        found = article_paragraph(source, expected)
        if found is None:
            site.left_out[name] = "no paragraph of expected.html found in source.html"
            continue
        paragraph, matched = found
        article = frozenset(comparable(urllib.parse.urljoin(READABILITY_BASE, link.get("href", "")))
                            for link in expected.iter("a"))
        rewriter = Rewriter(READABILITY_BASE, name, port, article)
        rewriter.rewrite(source)
        citations = []
        for offset, host in enumerate(CITED_HOSTS):
            page = cited[(3 * len(site.posts) + offset) % len(cited)]
            sha = page.name.removesuffix(".html.gz")[:16]
            citations.append(f"http://{host}:{port}/{name}/{sha}.html")
            if page not in masters:
                masters[page] = _cited_master(page, sha, root, port, site)
            target = root / host / name / f"{sha}.html"
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(masters[page], target)
        insert_citations(paragraph, citations)
        url = f"http://{POST_HOST}:{port}/{name}.html"
        write_page(source, root / POST_HOST / f"{name}.html")
        for served, body in [*rewriter.bodies.items(), *((link, NAVIGATION_PAGE) for link in rewriter.navigation)]:
            _write(root, served, body)
        is_post = len(squash(str(expected.xpath("string()")))) >= ARTICLE_CHARACTERS
        site.posts.append(Post(name, url, citations, rewriter.navigation, rewriter.requisites, matched, is_post))
    return site


def _cited_master(page: Path, sha: str, root: Path, port: int, site: Site) -> Path:
    """The cited page rewritten once (its requisites served, its links not), outside the hosts' folders."""
    document = read_page(gzip.decompress(page.read_bytes()))
    rewriter = Rewriter(f"http://cited.invalid/{sha}.html", f"aeb-{sha}", port)
    rewriter.rewrite(document)
    master = root / "cited" / f"{sha}.html"
    write_page(document, master)
    for target, body in rewriter.bodies.items():
        _write(root, target, body)
    site.cited_navigation |= rewriter.navigation
    site.cited_requisites |= set(rewriter.requisites)
    return master


# --- measuring ----------------------------------------------------------------------------------


@dataclasses.dataclass
class Peers:
    """The peer pipeline (bench/capture.py's :func:`run_pipeline`: ``wget -p -H --warc-file`` keeping its files,
    then trafilatura on every HTML page it saved) on the site archiver captured, once per repetition.

    wget is given the posts and the pages archiver fetched from their links (the citations, and any other link
    of a post it followed: the article's own), as bench/capture.py's list wget is given the posts and the
    cited pages: the same pages, each with its requisites."""

    given: int  # URLs given to wget
    pipelines: list[Pipeline]
    requisites: tuple[int, int]  # the posts' requisites wget fetched (first repetition), present

    def seconds(self) -> dict[str, float]:
        """Median wall seconds of wget, trafilatura and the pipeline."""
        return {"wget": statistics.median(p.wget_wall for p in self.pipelines),
                "trafilatura": statistics.median(p.trafilatura_wall for p in self.pipelines),
                "pipeline": statistics.median(p.wall for p in self.pipelines)}

    def ratios(self, archiver: float) -> dict[str, float]:
        """How much faster archiver (wall ``archiver``) is than the pipeline and than its wget alone."""
        seconds = self.seconds()
        return {"vs_pipeline": seconds["pipeline"] / archiver, "vs_wget": seconds["wget"] / archiver}


@dataclasses.dataclass
class Measure:
    """What a capture fetched of a site, as the server's access log shows it."""

    server: str
    seconds: float
    posts: int
    left_out: dict[str, str]
    citations: tuple[int, int]  # fetched, inserted
    citations_missed: dict[str, int]  # post -> its citations not fetched
    citations_no_article: tuple[int, int]  # fetched, inserted into posts without an article (not aimed at)
    navigation: tuple[int, int]  # followed, present: the links outside the article (Readability's expected.html)
    article_links: tuple[int, int]  # the article's own links (in expected.html), followed, present: citations too
    navigation_outside: dict[str, int]  # how the post refers to the links followed outside the article -> links
    worst_post: tuple[str, int, int]  # name, followed, present (outside the article)
    posts_over_cap: int  # posts more than AIMS["navigation per post"] of whose links were followed
    requisites: tuple[int, int]  # fetched, present
    requisites_missing: dict[str, tuple[int, int]]  # how the post refers to them -> (not fetched, present)
    cited_requisites: tuple[int, int]
    cited_navigation_followed: dict[str, int]  # how the cited page refers to them -> links followed
    paragraphs: dict[str, int]  # how the cited paragraph was found -> posts
    posts_fetched: int
    off_site: list[str]  # URLs archiver fetched off the bench's hosts (its catalogue says)
    unknown: list[str]  # URLs requested on the bench's hosts that the bench never wrote
    problems: list[str]
    runs: list[float] = dataclasses.field(default_factory=list)  # archiver's wall s in each repetition
    other_runs_missed: list[str] = dataclasses.field(default_factory=list)  # aims the other repetitions missed
    peers: Peers | None = None  # the peer pipeline on the same site (issue 15), unless --no-peers

    def share(self, pair: tuple[int, int]) -> float:
        return pair[0] / pair[1] if pair[1] else 1.0

    def missed(self) -> list[str]:
        """The aims this capture misses, said."""
        missed = []
        if self.share(self.citations) < AIMS["citations"]:
            missed.append(f"citations fetched {self.citations[0]}/{self.citations[1]} (aim: all)")
        if self.share(self.navigation) > AIMS["navigation share"]:
            missed.append(f"navigation followed {self.navigation[0]}/{self.navigation[1]} (aim: at most 1 %)")
        if self.worst_post[1] > AIMS["navigation per post"]:
            missed.append(f"{self.worst_post[1]} navigation links followed from {self.worst_post[0]} (aim: at most "
                          f"{AIMS['navigation per post']})")
        if self.share(self.requisites) < AIMS["requisites"]:
            missed.append(f"requisites fetched {self.requisites[0]}/{self.requisites[1]} (aim: all)")
        return missed + self.other_runs_missed

    def archiver_seconds(self) -> float:
        """archiver's wall: the median over the repetitions."""
        return statistics.median(self.runs) if self.runs else self.seconds


def read_access_log(path: Path, start: int) -> set[str]:
    """URLs requested (query dropped) after byte ``start`` of an access log of ``<ip> <status> <path>`` lines."""
    with open(path, "rb") as log_file:
        log_file.seek(start)
        lines = log_file.read().decode("utf-8", "replace").splitlines()
    fetched = set()
    for line in lines:
        host, _, rest = line.partition(" ")
        target = rest.partition(" ")[2].partition("?")[0]
        fetched.add(f"{host}{target}")
    return fetched


def _key(url: str) -> str:
    split = urllib.parse.urlsplit(url)
    return f"{split.hostname}{split.path}"


def tally(values: Iterable[str]) -> dict[str, int]:
    """Each value and how often it comes, the most frequent first."""
    return dict(collections.Counter(values).most_common())


def measure(site: Site, fetched: set[str], seconds: float, server: str, off_site: list[str],
            problems: list[str]) -> Measure:
    def count(urls: Iterable[str]) -> tuple[int, int]:
        keys = [_key(url) for url in urls]
        return sum(key in fetched for key in keys), len(keys)

    def outside(post: Post) -> list[str]:
        return [url for url, ref in post.navigation.items() if not ref.in_article]

    navigation = [ref for post in site.posts for ref in post.navigation.values()]
    per_post = sorted(((count(outside(post))[0], post.name, len(outside(post))) for post in site.posts),
                      reverse=True)
    aimed = [post for post in site.posts if post.article]
    worst = (per_post[0][1], per_post[0][0], per_post[0][2]) if per_post else ("-", 0, 0)
    requisites = [ref for post in site.posts for ref in post.requisites.values()]
    present = collections.Counter(ref.how for ref in requisites)
    known = {_key(url) for post in site.posts for url in
             [post.url, *post.citations, *post.navigation, *post.requisites]}
    known |= {_key(url) for url in [*site.cited_navigation, *site.cited_requisites]}
    unknown = sorted(key for key in fetched if key not in known and not key.endswith(("/robots.txt", READY)))
    return Measure(
        server=server, seconds=seconds, posts=len(site.posts), left_out=site.left_out,
        citations=count([url for post in aimed for url in post.citations]),
        citations_missed={post.name: missed for post in aimed
                          if (missed := len(post.citations) - count(post.citations)[0])},
        citations_no_article=count([url for post in site.posts if not post.article for url in post.citations]),
        navigation=count([ref.url for ref in navigation if not ref.in_article]),
        article_links=count([ref.url for ref in navigation if ref.in_article]),
        navigation_outside=tally(ref.how for ref in navigation if not ref.in_article and _key(ref.url) in fetched),
        worst_post=worst,
        posts_over_cap=sum(followed > AIMS["navigation per post"] for followed, _, _ in per_post),
        requisites=count([url for post in site.posts for url in post.requisites]),
        requisites_missing={how: (missing, present[how]) for how, missing in tally(
            ref.how for ref in requisites if _key(ref.url) not in fetched).items()},
        cited_requisites=count(site.cited_requisites),
        cited_navigation_followed=tally(ref.how for ref in site.cited_navigation.values() if _key(ref.url) in fetched),
        paragraphs=tally(post.paragraph for post in site.posts),
        posts_fetched=count([post.url for post in site.posts])[0],
        off_site=off_site, unknown=[f"http://{key}" for key in unknown], problems=problems)


def off_site_fetches(home: Path) -> list[str]:
    """URLs archiver's catalogue says it fetched off the bench's hosts (none should be)."""
    database = home / "archiver.db"
    if not database.exists():
        return []
    connection = sqlite3.connect(database)
    try:
        urls = [url for (url,) in connection.execute("SELECT DISTINCT url FROM fetches")]
    finally:
        connection.close()
    return sorted(url for url in urls if urllib.parse.urlsplit(url).hostname not in HOSTS)


def capture_site(site: Site, server: Server, access_log: Path, workdir: Path, archiver: str,
                 home_name: str = "home", flags: tuple[str, ...] = ()) -> tuple[Measure, set[str]]:
    """``archiver capture [FLAGS]`` of the site's posts (fresh home ``workdir/home_name``), measured; and
    the URLs (host and path) it fetched."""
    home = workdir / home_name
    home.mkdir()
    start = access_log.stat().st_size if access_log.exists() else 0
    command = [archiver, "capture", "--home", str(home), "--allow-private", "--json", *flags,
               *(post.url for post in site.posts)]
    began = time.perf_counter()
    _, _, _, problems = run_json(command, home, workdir, clean_env(), keep=True)
    seconds = time.perf_counter() - began
    fetched = read_access_log(access_log, start)
    server_name = f"{server.kind} ({server.version})"
    return measure(site, fetched, seconds, server_name, off_site_fetches(home), problems), fetched


def pages_followed(site: Site, fetched: set[str]) -> list[str]:
    """The posts, then the pages of their links (citations, navigation) among ``fetched``: what archiver
    fetched as cited pages."""
    return [post.url for post in site.posts] + [url for post in site.posts for url in [*post.citations,
                                                                                        *post.navigation]
                                                if _key(url) in fetched]


def pipeline_site(site: Site, access_log: Path, out: Path, wget: str, trafilatura: str, given: Path
                  ) -> tuple[Pipeline, tuple[int, int]]:
    """The peer pipeline on the site, wget given the URLs of file ``given`` and kept to the bench's hosts
    (``--domains``: a URL the bench did not rewrite, such as one in a script, is not fetched off the machine,
    as archiver fetches none); and the posts' requisites it fetched (the access log says), present."""
    start = access_log.stat().st_size if access_log.exists() else 0
    pipeline = run_pipeline(wget, trafilatura, given, out, extra=(f"--domains={','.join(HOSTS)}",))
    fetched = read_access_log(access_log, start)
    keys = [_key(url) for post in site.posts for url in post.requisites]
    return pipeline, (sum(key in fetched for key in keys), len(keys))


@dataclasses.dataclass
class Bench:
    corpus: Path
    posts: int | None = None
    server: str = "auto"
    archiver: str | None = None
    keep: bool = False
    peers: bool = True  # also time the peer pipeline (wget, then trafilatura) on the same site
    repeat: int = 1  # repetitions, interleaved: archiver, then the pipeline
    flags: tuple[str, ...] = ()  # more options of archiver capture (e.g. --parse later)


def run(bench: Bench) -> Measure:
    """Build, serve and capture the site (``bench.repeat`` times, each followed by the peer pipeline unless
    not ``bench.peers``); the temporary folder is removed (unless ``bench.keep``).

    The aims are judged on the first repetition's capture; an aim another one misses is added to its
    ``other_runs_missed``. Its ``runs`` hold every repetition's archiver wall."""
    archiver = find_archiver(bench.archiver)
    wget = find_wget(skip=not bench.peers)
    trafilatura = find_trafilatura(archiver) if bench.peers else None
    with temporary_folder("archiver-real-site-", bench.keep) as workdir:
        port = free_port(HOSTS)
        log(f"building the site under {workdir} (port {port})")
        site = build_site(bench.corpus, workdir / "site", port, bench.posts)
        log(f"{len(site.posts)} posts, {sum(len(p.citations) for p in site.posts)} citations, "
            f"{sum(len(p.navigation) for p in site.posts)} navigation links, "
            f"{sum(len(p.requisites) for p in site.posts)} requisites"
            + (f"; left out: {site.left_out}" if site.left_out else ""))
        access_log = workdir / "access.log"
        with serving(bench.server, site.static(access_log), workdir, 1) as server:
            result: Measure | None = None
            pipelines: list[Pipeline] = []
            given = workdir / "wget-urls.txt"
            for rep in range(max(1, bench.repeat)):
                log(f"run {rep + 1}/{bench.repeat}: archiver capture")
                measured, fetched = capture_site(site, server, access_log, workdir, archiver, f"home{rep}", bench.flags)
                log(f"  {measured.seconds:.1f}s")
                if result is None:
                    result = measured
                    given.write_text("\n".join(pages_followed(site, fetched)) + "\n")
                else:
                    result.other_runs_missed += [f"run {rep + 1}: {aim}" for aim in measured.missed()]
                result.runs.append(measured.seconds)
                if not bench.keep:
                    shutil.rmtree(workdir / f"home{rep}", ignore_errors=True)
                if wget and trafilatura:
                    log(f"run {rep + 1}/{bench.repeat}: the peer pipeline (wget, then trafilatura)")
                    out = workdir / f"pipeline{rep}"
                    pipeline, requisites = pipeline_site(site, access_log, out, wget, trafilatura, given)
                    log(f"  {pipeline.wall:.1f}s: {pipeline.parts()}"
                        + "".join(f"; *** {problem}" for problem in pipeline.problems))
                    pipelines.append(pipeline)
                    if result.peers is None:
                        result.peers = Peers(len(given.read_text().split()), pipelines, requisites)
                    if not bench.keep:
                        shutil.rmtree(out, ignore_errors=True)
            assert result is not None
            return result


# --- report -------------------------------------------------------------------------------------


def percent(pair: tuple[int, int]) -> str:
    return f"{pair[0]}/{pair[1]} = {100 * pair[0] / pair[1]:.1f} %" if pair[1] else "0/0"


def table(result: Measure) -> str:
    worst = result.worst_post
    rows = [
        ("citations fetched / inserted", percent(result.citations), "100 %"),
        (f"  in posts without an article (under {ARTICLE_CHARACTERS} characters)", percent(result.citations_no_article),
         ""),
        ("navigation links followed / present (outside the article)", percent(result.navigation), "at most 1 %"),
        ("the article's own links followed / present", percent(result.article_links), ""),
        ("  worst post", f"{worst[0]}: {worst[1]}/{worst[2]}", f"at most {AIMS['navigation per post']}"),
        (f"  posts following more than {AIMS['navigation per post']}", f"{result.posts_over_cap}/{result.posts}",
         "none"),
        ("requisites fetched / present", percent(result.requisites), "100 %"),
        ("seconds (archiver capture, wall)", seconds_cell(result.runs or [result.seconds]), ""),
    ]
    peers = result.peers
    if peers is not None:
        archiver = result.archiver_seconds()
        ratios = peers.ratios(archiver)
        rows += [
            ("seconds (wget -p -H --warc-file, files kept)", seconds_cell([p.wget_wall for p in peers.pipelines]), ""),
            ("seconds (trafilatura on every HTML page wget saved)",
             seconds_cell([p.trafilatura_wall for p in peers.pipelines]), ""),
            ("seconds (peer pipeline: wget, then trafilatura)", seconds_cell([p.wall for p in peers.pipelines]), ""),
            ("archiver vs pipeline (pipeline wall / archiver wall)", f"{ratios['vs_pipeline']:.2f}x",
             f"at least {PIPELINE_AIM:g}x"),
            ("archiver vs wget alone (wget wall / archiver wall)", f"{ratios['vs_wget']:.2f}x", ""),
        ]
    lines = ["| figure | measured | aim |", "|---|---|---|"] + [f"| {a} | {b} | {c} |" for a, b, c in rows]
    notes = [
        f"posts: {result.posts} served, {result.posts_fetched} fetched; server: {result.server}",
        f"cited pages' requisites (not aimed at): {percent(result.cited_requisites)}; cited pages' links "
        f"followed (a second hop): {sum(result.cited_navigation_followed.values())} "
        f"({', '.join(f'{how} {n}' for how, n in result.cited_navigation_followed.items()) or 'none'})",
        "navigation links followed outside the article, by how the post refers to them: "
        + (", ".join(f"{how} {n}" for how, n in result.navigation_outside.items()) or "none"),
        "the cited paragraph was found by " + ", ".join(f"{how}: {n}" for how, n in result.paragraphs.items()),
        "requisites not fetched, by how the post refers to them: "
        + (", ".join(f"{how} {n} of {present}" for how, (n, present) in result.requisites_missing.items())
           or "none"),
    ]
    if result.left_out:
        notes.append(f"left out: {result.left_out}")
    if result.citations_missed:
        notes.append("citations not fetched, by post: "
                     + ", ".join(f"{name} {n}" for name, n in result.citations_missed.items()))
    if result.off_site:
        notes.append(f"{len(result.off_site)} URLs fetched off the bench's hosts, e.g. {result.off_site[:3]}")
    if result.unknown:
        notes.append(f"{len(result.unknown)} URLs requested that the site does not have (port left out), e.g. "
                     f"{result.unknown[:3]}")
    if result.problems:
        notes.append("archiver: " + "; ".join(result.problems))
    if peers is not None:
        first = peers.pipelines[0]
        notes += [
            pipeline_aim(result.archiver_seconds(), peers.seconds()["pipeline"], "on this real-page site"
                         + (" (medians)" if len(peers.pipelines) > 1 else "")) + " Before issue 14, archiver "
            "took 139 s and wget 19 s on the issue's real pages (0.14x); not an aim of this run's --check.",
            f"peer pipeline: wget given {peers.given} URLs (the posts and the pages archiver fetched from their "
            f"links); {first.parts()}; wget fetched {percent(peers.requisites)} of the posts' requisites",
        ]
        problems = sorted({problem for pipeline in peers.pipelines for problem in pipeline.problems})
        if problems:
            notes.append("peer pipeline problems: " + "; ".join(problems))
    missed = result.missed()
    notes.append("aims: " + ("all met" if not missed else "missed: " + "; ".join(missed)))
    return "\n".join(lines + [""] + [f"- {note}" for note in notes])


def seconds_cell(walls: list[float]) -> str:
    """The median of ``walls``, with their spread when there are several."""
    if len(walls) == 1:
        return f"{walls[0]:.1f}"
    return f"{statistics.median(walls):.1f} ({len(walls)} runs: {min(walls):.1f}-{max(walls):.1f})"


def as_json(result: Measure) -> str:
    document: dict[str, Any] = dataclasses.asdict(result)
    document["aims_missed"] = result.missed()
    document["archiver_seconds"] = result.archiver_seconds()
    if result.peers is not None:
        document["peers"] |= {f"{name}_seconds": value for name, value in result.peers.seconds().items()}
        document["peers"] |= result.peers.ratios(result.archiver_seconds())
        document["peers"]["aim_vs_pipeline"] = PIPELINE_AIM
    return json.dumps(document, sort_keys=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=None, metavar="N",
                        help="N Readability test pages spread evenly over the sorted list [all]")
    corpus_argument(parser)
    parser.add_argument("--server", choices=("auto", "nginx", "python"), default="auto",
                        help="nginx, the Python fallback server, or nginx when installed [auto]")
    parser.add_argument("--archiver", help="archiver executable [.venv/bin/archiver, else on PATH]")
    parser.add_argument("--json", action="store_true", help="print the JSON line only")
    parser.add_argument("--check", action="store_true", help="exit 1 when an aim is missed")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (site, home, access log)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="repetitions, interleaved (archiver, then the peer pipeline); medians reported [1]")
    parser.add_argument("--archiver-flags", default="", metavar="ARGS",
                        help="more options of archiver capture, e.g. '--parse later' [none]")
    parser.add_argument("--no-peers", action="store_true",
                        help="archiver only: no peer pipeline (wget -p -H, then trafilatura)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    corpus = require_corpus(args.corpus, "real-site benchmark")
    result = run(Bench(corpus, args.posts, args.server, args.archiver, args.keep, peers=not args.no_peers,
                       repeat=args.repeat, flags=tuple(shlex.split(args.archiver_flags))))
    if not args.json:
        print(table(result))
    print(as_json(result))
    return 1 if args.check and result.missed() else 0


if __name__ == "__main__":
    run_main(main)
