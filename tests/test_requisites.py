"""What a browser loads without running scripts: requisites of HTML documents and stylesheets
(archiver.parse.embedded_links and the page's requisites), broken and hostile input included."""

from __future__ import annotations

import gzip
import sys

import pytest

from archiver.parse import FRAME_TAGS, embedded_links, page_only
from archiver.parse._css import (
    MAX_CSS_BYTES,
    MAX_CSS_URLS,
    _preprocessed,
    _scanned_urls,
    _token_urls,
    _Unusual,
)
from archiver.parse._html import load
from archiver.parse._requisites import srcset_urls

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from corpus import absent_message, find_corpus  # noqa: E402

CORPUS = find_corpus()

BASE = "http://blog.example/2015/06/post.html"
CSS = "http://blog.example/static/css/site.css"


def found(payload: bytes | str, url: str = BASE, content_type: str | None = "text/html; charset=utf-8"
          ) -> list[tuple[str, str]]:
    data = payload.encode() if isinstance(payload, str) else payload
    return [(link.tag, link.url) for link in embedded_links(data, url=url, content_type=content_type)]


def css(text: bytes | str, content_type: str | None = "text/css") -> list[tuple[str, str]]:
    return found(text, url=CSS, content_type=content_type)


def test_every_construct_a_browser_loads_without_scripts_is_found_with_its_tag():
    html = """<!DOCTYPE html><html><head>
<link rel="stylesheet" href="/s.css"><link rel="preload" as="font" href="/f.woff2">
<link rel="modulepreload" href="/m.js"><link rel="shortcut icon" href="/favicon.ico">
<link rel="apple-touch-icon" href="/touch.png"><link rel="manifest" href="/site.webmanifest">
<link rel="alternate" href="/feed.xml"><link rel="canonical" href="/canonical.html">
<meta property="og:image" content="/og.png"><meta name="twitter:image" content="/tw.png">
<meta name="description" content="/not-a-url.png">
<style>@import "imported.css"; .a { background: url(block.png) }</style>
<script src="/app.js"></script></head><body>
<img src="/a.png" srcset="/a-1x.png 1x, /a-2x.png 2x">
<img data-src="/lazy.png" data-srcset="/lazy-1x.png 1x" data-lazy-src="/lazy-src.png" data-original="/orig.png">
<picture><source srcset="/p1.webp 1x, /p2.webp 2x" data-srcset="/p3.webp"><img src="/p.png"></picture>
<noscript><img src="/noscript.png"></noscript>
<iframe src="/frame.html"></iframe><frameset><frame src="/old-frame.html"></frameset>
<embed src="/e.swf"><object data="/o.pdf"></object>
<video src="/v.mp4" poster="/poster.jpg"><source src="/v.webm"><track src="/v.vtt"></video>
<audio src="/a.mp3"></audio><input type="image" src="/button.png"><input type="text" src="/no.png">
<p style="background: url('/styled.png')">x</p><a href="/page.html">a page</a>
<table background="/table.png"><tr><td background="/cell.png">x</td></tr></table></body></html>"""
    assert [(tag, url.removeprefix("http://blog.example")) for tag, url in found(html)] == [
        ("link", "/s.css"), ("link", "/f.woff2"), ("link", "/m.js"), ("link", "/favicon.ico"), ("link", "/touch.png"),
        ("link", "/site.webmanifest"), ("meta", "/og.png"), ("meta", "/tw.png"),
        ("css-import", "/2015/06/imported.css"), ("style", "/2015/06/block.png"), ("script", "/app.js"),
        ("img", "/a.png"), ("img", "/a-1x.png"), ("img", "/a-2x.png"), ("img", "/lazy.png"), ("img", "/lazy-src.png"),
        ("img", "/orig.png"), ("img", "/lazy-1x.png"), ("source", "/p1.webp"), ("source", "/p2.webp"),
        ("source", "/p3.webp"), ("img", "/p.png"), ("img", "/noscript.png"), ("iframe", "/frame.html"),
        ("frame", "/old-frame.html"), ("embed", "/e.swf"), ("object", "/o.pdf"), ("video", "/v.mp4"),
        ("video", "/poster.jpg"), ("source", "/v.webm"), ("track", "/v.vtt"), ("audio", "/a.mp3"),
        ("input", "/button.png"), ("style", "/styled.png"), ("table", "/table.png"), ("td", "/cell.png"),
    ]
    assert FRAME_TAGS == {"iframe", "frame", "embed", "object"}


def test_images_in_advertisement_containers_are_requisites_like_any_other():
    html = ('<html><body><div class="ad_body"><img src="/layout.png"></div><div id="ads">'
            '<ins class="adsbygoogle"><img src="/banner.png"></ins></div>'
            '<article><p>Text.</p><a href="http://news.example/story">a source</a></article></body></html>')
    page = page_only(html.encode(), url=BASE, content_type="text/html")
    assert [link.url for link in page.requisites] == ["http://blog.example/layout.png", "http://blog.example/banner.png"]


def test_noscript_markup_is_read_and_escaped_text_in_it_is_not():
    html = b'<html><head><noscript><img src="/head.png"></noscript></head><body><noscript><img src="/body.png">' \
           b'</noscript><noscript>&lt;iframe src="//tracker.example/ns.html"&gt;</noscript></body></html>'
    # a browser without scripts shows the escaped iframe as text and loads nothing for it
    assert found(html) == [("img", "http://blog.example/head.png"), ("img", "http://blog.example/body.png")]


def test_data_javascript_and_other_schemes_load_nothing_from_the_network():
    html = """<html><head><style>.a{background:url(data:image/png;base64,iVBORw0KGgo=)}</style></head><body>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" srcset="data:image/png;base64,AAAA 1x, /real.png 2x">
<iframe src="about:blank"></iframe><iframe src="javascript:void(0)"></iframe><embed src="file:///etc/passwd">
<img src="ftp://files.example/a.png"><img src="mailto:someone@example.org"><img src="  ">
<p style="background:url('data:image/svg+xml;utf8,<svg></svg>')">x</p></body></html>"""
    assert found(html) == [("img", "http://blog.example/real.png")]


def test_srcset_candidates_may_hold_commas():
    assert list(srcset_urls("a.png 1x, b,c.png 2x,d.png, e.png (max-width: 1px, 2px) 3x , f.png")) == [
        "a.png", "b,c.png", "d.png", "e.png", "f.png"]
    assert list(srcset_urls("data:image/png;base64,AAA= 1x, x.png 2x")) == ["data:image/png;base64,AAA=", "x.png"]
    assert list(srcset_urls(" ,, ")) == [] and list(srcset_urls(") a.png")) == [")"]  # "a.png": a descriptor


def test_a_stylesheets_urls_everywhere_resolved_against_the_stylesheet():
    text = """@charset "utf-8";
@import url(reset.css);
@import "print.css" print;
@import url("theme.css") screen and (min-width: 100px);
/* url(commented.png) and @import "commented.css"; */
@font-face { font-family: X; src: url(../fonts/x.woff2) format("woff2"), url('../fonts/x.woff') format("woff"); }
body { background: url( ../img/bg.png ) repeat-x; content: "url(not-a-url.png)"; }
@media (min-width: 800px) { @supports (display: grid) { .deep { background-image: URL("../img/deep.png") } } }
.set { background-image: image-set("../img/set-1x.png" 1x, url(../img/set-2x.png) 2x); }
.escaped { background: url(../img/esc\\61 ped.png); }
.same { background: url(../img/bg.png); }"""
    assert css(text) == [
        ("css-import", "http://blog.example/static/css/reset.css"),
        ("css-import", "http://blog.example/static/css/print.css"),
        ("css-import", "http://blog.example/static/css/theme.css"),
        ("css", "http://blog.example/static/fonts/x.woff2"), ("css", "http://blog.example/static/fonts/x.woff"),
        ("css", "http://blog.example/static/img/bg.png"), ("css", "http://blog.example/static/img/deep.png"),
        ("css", "http://blog.example/static/img/set-1x.png"), ("css", "http://blog.example/static/img/set-2x.png"),
        ("css", "http://blog.example/static/img/escaped.png"),
    ]


def test_a_stylesheet_importing_itself_is_one_link_to_itself():
    assert css('@import "site.css"; @import url(site.css); .a { background: url(site.css) }') == [
        ("css-import", CSS)]


@pytest.mark.parametrize("text, expected", [
    ("", []),
    ('.a { background: url("unterminated.png', [("css", "http://blog.example/static/css/unterminated.png")]),
    (".a { background: url(unclosed.png", [("css", "http://blog.example/static/css/unclosed.png")]),
    (".a { background: url(bad url.png) } .b { background: url(good.png) }",
     [("css", "http://blog.example/static/css/good.png")]),
    ("@import ; @import 12px; @import url(); .a { background: url() }", []),
    ("}}}{{{ .a { background: url(x.png) ]]] ))) ", [("css", "http://blog.example/static/css/x.png")]),
    ('.a { content: "never closed \n .b { background: url(after-newline.png) }',
     [("css", "http://blog.example/static/css/after-newline.png")]),
    ("(" * 100_000 + "url(nested.png)", [("css", "http://blog.example/static/css/nested.png")]),
    ("\x00\ufffd\udcff .a{background:url(\x00.png)}", [("css", "http://blog.example/static/css/\ufffd.png")]),
])
def test_broken_css_is_read_as_far_as_it_goes_and_never_raises(text, expected):
    assert css(text.encode("utf-8", "surrogatepass")) == expected


def scanned(text: str) -> list[tuple[str, bool]] | None:
    """The scanner's URLs of CSS ``text``, beside tinycss2's (the reference); None where it gives way."""
    text = _preprocessed(text)
    try:
        urls = _scanned_urls(text)
    except _Unusual:
        return None
    assert urls == list(_token_urls(text)), text
    return urls


# (CSS, whether the scanner reads it itself rather than giving way to tinycss2)
TRICKY_CSS = [
    ("/* url(a.png) @import 'b.css'; */ .a { content: 'url(c.png)'; background: url(d.png) }", True),
    ('.a { content: "\\"url(e.png)"; } .b { content: "\\f101" } .c:after { content: \'it\\\'s url(f.png)\' }',
     True),
    ("URL(g.png) Url( 'h.png' ) uRl(  i.png  ) url(\"j.png\" x) url() url(  )", True),
    ('@import "a.css" screen; @IMPORT url(b.css); @import/**/ "c.css"; @import\t\n"d.css"; @imports "e.css"', True),
    ('@import x "a.css"; @import ("a.css") "b.css"; (@import) "c.css"; @import; "d.css"', True),
    ('image-set("a.png" 1x, "b.png" 2x) -webkit-image-set(url(c.png) 1x) IMAGE-SET(("d.png") 1x) image-set(x("e.png"))',
     True),
    ('url("a.png" url(b.png) "c.png") "d.png" @import url("e.css" @import "f.css") "g.css"', True),
    ("@media (min-width: 1px) { @supports (x: y) { .a { background: url(deep.png) } } } [x=url(y.png)]", True),
    ("}} ]) .a { background: url(after-unmatched.png) } { ( [ url(in-open-blocks.png)", True),
    ("url(a\\29.png) url(\\68.png) url(\\69 ) 'x\\\ny' image-set('c\\\nd.png')", True),
    ("url(\\68 .png)", False),
    ("url(/*no-comment*/a.png) url(a{b}.png) /* unclosed url(x.png)", True),
    ("url(bad url.png) url(good.png)", False),
    ("url(bad(.png) url(good.png)", False),
    ('url(bad".png) url(good.png)', False),
    ("url(unclosed.png", False),
    ('.a { content: "bad \n string" } url(a.png)', False),
    ('url("unclosed.png', False),
    *[(unusual, False) for unusual in (
        "\\75rl(a.png)", "u\\72l(a.png)", "@\\69mport 'a.css'", "\\@import 'a.css'", "image-s\\65t('a.png')",
        "xurl(a.png)", "-url(a.png)", "--url(a.png)", "#url(a.png)", "@url(a.png)", "1url(a.png)",
        "-moz-image-set('a.png')", "u+aurl(a.png)", "<!--url(a.png)")],
    ("U+?url(b.png) -->url(d.png) 1.url(e.png) 1e+url(f.png) 10%url(g.png) @import\\\n'h.css'", True),
    ("\\31 x { background: url(a.png) } .md\\:flex { background: url(b.png) } a\\\nb url(c.png)", True),
    ("\r\n\f\x00 url(a\x00.png)\rurl(b.png)\fimage-set(\r'c.png')", True),
    ("url(a.png", False),
    ("a\\", False),
]


@pytest.mark.parametrize("text, read", TRICKY_CSS)
def test_the_css_scanner_finds_what_tinycss2_finds_or_gives_way(text, read):
    assert (scanned(text) is not None) == read


@pytest.mark.slow
def test_the_css_scanner_finds_what_tinycss2_finds_in_the_corpus():
    """Every stylesheet of the shared corpus, and every ``<style>`` block and ``style`` attribute of
    every second of its pages (sorted by path, to keep the test to a few seconds; all of them agree)."""
    if CORPUS is None:
        pytest.skip(absent_message())
    pages = sorted([*(CORPUS / "article-extraction-benchmark" / "html").glob("*.html.gz"), *CORPUS.rglob("*.html"),
                    *CORPUS.rglob("*.htm")])[::2]
    texts = [path.read_text("utf-8", "replace") for path in CORPUS.rglob("*.css")]
    for path in pages:
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        root = load(data, url=BASE, content_type=None).root
        for element in root.iter() if root is not None else ():
            if isinstance(element.tag, str):
                texts += [element.get("style") or "", element.text_content() if element.tag == "style" else ""]
    read = [scanned(text) is not None for text in texts if text]
    assert len(read) > 2500 and sum(read) >= len(read) - 10  # the scanner reads nearly all


def test_css_is_decoded_as_css_says():
    url = "url(caf\xe9.png)"
    assert css(("@charset \"windows-1252\";" + url).encode("cp1252")) == [
        ("css", "http://blog.example/static/css/caf\xe9.png")]
    assert css(url.encode("cp1252"), content_type="text/css; charset=ISO-8859-1") == [
        ("css", "http://blog.example/static/css/caf\xe9.png")]
    assert css(b"\xef\xbb\xbf" + url.encode("utf-8"), content_type="text/css; charset=windows-1252") == [
        ("css", "http://blog.example/static/css/caf\xe9.png")]  # the BOM wins
    assert css(url.encode("cp1252")) == [("css", "http://blog.example/static/css/caf\ufffd.png")]


def test_a_stylesheet_is_known_by_its_type_or_by_its_path_when_its_type_says_nothing():
    text = b".a { background: url(a.png) }"
    for content_type in ("text/css", "text/css; charset=utf-8", "application/octet-stream", "text/plain", None):
        assert css(text, content_type=content_type) == [("css", "http://blog.example/static/css/a.png")]
    for url, content_type in ((CSS, "image/png"), (CSS, "application/javascript"),
                              ("http://blog.example/a.png", "application/octet-stream")):
        assert found(text, url=url, content_type=content_type) == []
    assert found(b'<img src="a.png">', url="http://blog.example/f/", content_type=None) == [
        ("img", "http://blog.example/f/a.png")]


def test_twenty_megabytes_of_css_are_read_up_to_the_cap():
    head = b".first { background: url(first.png) }\n"
    rule = b".r { color: red; margin: 0 auto; font: 12px/1.5 \"A\", serif }\n"
    filler = rule * ((20 * 1024 * 1024) // len(rule))
    text = head + filler + b".last { background: url(last.png) }"
    assert len(text) > 20 * 1024 * 1024 and len(head + filler[:MAX_CSS_BYTES]) > MAX_CSS_BYTES
    assert css(text) == [("css", "http://blog.example/static/css/first.png")]


def test_ten_thousand_urls_are_cut_to_the_cap():
    text = "".join(f".r{n} {{ background: url(img/{n}.png) }}\n" for n in range(10_000))
    links = css(text)
    assert MAX_CSS_URLS == 5_000
    assert links == [("css", f"http://blog.example/static/css/img/{n}.png") for n in range(MAX_CSS_URLS)]


@pytest.mark.parametrize("payload, expected", [
    (b"", []),
    (b"\x00\x01\x02\xff\xfe", []),
    (b"<img src=a.png><iframe src=", [("img", "http://blog.example/2015/06/a.png")]),
    (b"<html><head><base href='http://cdn.example/x/'></head><body><img src=b.png><img src='  c.png  '>",
     [("img", "http://cdn.example/x/b.png"), ("img", "http://cdn.example/x/c.png")]),
    (b"<p style='background:url(' ><img srcset=', , ,'><video poster>", []),
    (b"<noscript><<<img src=n.png>", [("img", "http://blog.example/2015/06/n.png")]),
    (b"<img src='http://[::1' ><img src='/a b.png'>", [("img", "http://blog.example/a%20b.png")]),
])
def test_broken_html_never_raises(payload, expected):
    assert found(payload) == expected


def test_image_tags_and_every_icon_rel_are_requisites_and_prefixed_tags_are_not():
    html = b"""<html><head><link rel="mask-icon" href="/pin.svg"><link rel="fluid-icon" href="/fluid.png">
<link rel="canonical" href="/post"></head><body><image src="/old.png"><a0:img src="/unknown.png"></body></html>"""
    assert found(html) == [("link", "http://blog.example/pin.svg"), ("link", "http://blog.example/fluid.png"),
                           ("image", "http://blog.example/old.png")]
