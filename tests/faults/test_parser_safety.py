"""Parser safety: generated and pathological HTML never crashes or hangs the parser.

tests/test_document.py feeds extract_document flat tag soup; here whole trees with the names the
classifier looks for, hostile attribute values and URLs, random bytes under random charset labels,
and documents built to find quadratic paths (deep nesting, 10,000 links 500 deep, a tag of 200,000
attributes, JSON-LD nested past Python's stack), all through :func:`archiver.document.analyse`,
which capture runs on every page.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archiver.net import quote_unsafe
from archiver.parse import analyse

TAGS = ["div", "p", "a", "article", "main", "section", "table", "tr", "td", "figure", "figcaption", "img", "span",
        "ul", "li", "nav", "footer", "header", "aside", "script", "style", "template", "svg", "math", "noscript",
        "iframe", "base", "time", "h1", "h2", "blockquote", "b", "i", "br", "form", "select", "frameset"]
CLASSES = ["post-body", "entry-content", "share", "comments", "sidebar", "ad", "tr-caption", "article-body",
           "widget", "post-footer", "social-share", "x-ad-y", "", "a b  c"]
URLS = ["/x", "http://e.example/a b", "https://e.example/%zz", "javascript:alert(1)", "data:,x", "//e.example",
        "\\\\evil\\x", "http://127.0.0.1:9\\@e.example/", "http://[::1", "http://e.example/\u0627?q=\"'<>",
        "http://e.example/a\r\nWARC-Type: x", "mailto:x", "", " ", "#frag", "http://0x7f.1/", "x.jpg"]
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40) | st.sampled_from(
    ["&#0;", "&#xD800;", "&amp;", "&#x10FFFF;", "<", ">", "]]>", "<!--", "Publisher: Title (English) – [", "]",
     "text / credit", "24 May 2015", "\u202e", "\x00"])


def element(children):
    attributes = st.fixed_dictionaries({}, optional={
        "class": st.sampled_from(CLASSES), "id": st.sampled_from(CLASSES), "href": st.sampled_from(URLS),
        "src": st.sampled_from(URLS), "srcset": st.lists(st.sampled_from(URLS), max_size=3).map(", ".join),
        "itemprop": st.just("articleBody"), "rel": st.sampled_from(["stylesheet", "icon", "canonical"]),
        "type": st.sampled_from(["application/ld+json", "image"]), "datetime": st.sampled_from(["2015-05-24", "x"])})

    def render(parts):
        tag, attrs, inner = parts
        rendered = "".join(f' {name}="{value}"' for name, value in attrs.items())
        return f"<{tag}{rendered}>{''.join(inner)}</{tag}>"

    return st.tuples(st.sampled_from(TAGS), attributes, st.lists(children, max_size=5)).map(render)


documents = st.recursive(TEXT, element, max_leaves=60).map(lambda body: f"<html><body>{body}</body></html>")
CHARSETS = [None, "text/html", "text/html; charset=utf-8", "text/html; charset=utf-16", "text/html; charset=x-bogus",
            "text/html; charset=windows-1256", "text/html; charset=utf-7", "application/xhtml+xml; charset=latin1"]


def assert_sound(page, document) -> None:
    """What capture relies on: links that are http(s) URIs it can fetch and catalogue, a document."""
    assert isinstance(document.as_json(), dict)
    for link in page.links:
        assert link.url.startswith(("http://", "https://")) and quote_unsafe(link.url) == link.url, link.url


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents, st.sampled_from(CHARSETS))
def test_generated_documents_never_crash(tally, html, content_type):
    tally.tried("parser: generated HTML trees")
    assert_sound(*analyse(html.encode("utf-8"), url="http://x.example/a/b", content_type=content_type))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000), st.sampled_from(CHARSETS))
def test_random_bytes_never_crash(tally, payload, content_type):
    tally.tried("parser: random bytes, random charset labels")
    assert_sound(*analyse(payload, url="http://x.example/", content_type=content_type))


LINKS_DEEP = (b"<html><body><article>" + b"<div>" * 500 + b"".join(
    b'<p>See the report of <a href="http://e%d.example/">source %d</a> on the fighting.</p>' % (n, n)
    for n in range(10_000))
    + b"</div>" * 500 + b"</article></body></html>")
PATHOLOGICAL = {
    "50,000 nested divs, no body markup": b"<html><body>" + b"<div>" * 50_000 + b"deep " * 100 + b"</div>" * 50_000,
    "5,000 nested articles": b"<html><body>" + b"<article>" * 5_000 + b"<p>x</p>" + b"</article>" * 5_000,
    "100,000 nested inline tags": b"<html><body><article><p>" + b"<b>" * 100_000 + b"bold" + b"</b>" * 100_000,
    "5,000 nested tables": b"<html><body>" + b"<table><tr><td>" * 5_000 + b"cell" + b"</td></tr></table>" * 5_000,
    "20,000 nested lists": b"<html><body>" + b"<ul><li>" * 20_000 + b"item" + b"</li></ul>" * 20_000,
    "20,000 unclosed anchors": b"<html><body><article>" + b"<a href='/x'>" * 20_000 + b"</article>",
    "200,000 comments": b"<html><body><article>" + b"<!-- c -->" * 200_000 + b"</article>",
    "a 4 MB class attribute": b"<html><body><article><p class='" + b"x " * 2_000_000 + b"'>t</p></article>",
    "7 MB of text without a tag": b"word " * 1_500_000,
    "8 MB of '<'": b"<" * 8_000_000,
}


@pytest.mark.slow
@pytest.mark.parametrize("name", PATHOLOGICAL)
def test_pathological_documents_finish(tally, name):
    tally.tried(f"parser: {name}")
    assert_sound(*analyse(PATHOLOGICAL[name], url="http://x.example/", content_type="text/html"))


@pytest.mark.slow
def test_10000_links_500_deep_are_classified_in_one_pass(tally):
    """Each anchor looked up its ancestors again (20,000 links x 500 ancestors x 4 questions took a
    minute); now each ancestor is asked each question once."""
    tally.tried("parser: 10,000 links 500 deep")
    page, _ = analyse(LINKS_DEEP, url="http://x.example/", content_type="text/html")
    assert [link.kind for link in page.links] == ["citation"] * 10_000


@pytest.mark.slow
def test_a_tag_of_200000_attributes_is_cut_not_parsed_pairwise(tally):
    """libxml2 compares each attribute with those before it: 200,000 took over a minute. The parsing
    copy keeps the first 64 KiB of such a tag; the page around it is still read."""
    tally.tried("parser: a tag of 200,000 attributes")
    attributes = b"".join(b"a%d='1' " % n for n in range(200_000))
    html = (b"<html><body><article><p " + attributes + b">first</p><p>It cites <a href='http://e.example/'>this</a>"
            b".</p></article></body></html>")
    page, document = analyse(html, url="http://x.example/", content_type="text/html")
    assert [(link.url, link.kind) for link in page.links] == [("http://e.example/", "citation")]
    assert "It cites this." in document.text


@pytest.mark.parametrize("depth", [900, 100_000])
def test_json_ld_nested_past_the_stack_is_ignored_not_fatal(tally, depth):
    tally.tried(f"parser: JSON-LD nested {depth} deep")
    json_ld = b"[" * depth + b'{"@type": "NewsArticle", "headline": "From JSON-LD"}' + b"]" * depth
    html = (b'<html><head><script type="application/ld+json">' + json_ld + b"</script></head><body><article>"
            b"<h1>From the page</h1><p>Cites <a href='http://e.example/'>this</a>.</p></article></body></html>")
    page, document = analyse(html, url="http://x.example/", content_type="text/html")
    assert [link.url for link in page.links] == ["http://e.example/"]
    if depth == 900:  # within what json parses: read through our own stack
        assert document.title == "From JSON-LD"
    else:
        assert "unreadable JSON-LD block ignored" in document.warnings and document.title == "From the page"
