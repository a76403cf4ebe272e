"""First-version extraction: body finding, link classes, requisites, character sets."""

from __future__ import annotations

import gzip

import pytest

from archiver.parse import analyse, page_only
from archiver.parse._html import decide_encoding
from archiver.warc import decode_content

BLOGGER = """<!DOCTYPE html><html><head><title>A post</title>
<link rel="stylesheet" href="/css/bundle.css"><link rel="icon" href="/favicon.ico">
<script src="/js/widgets.js"></script><link rel="alternate" href="/feeds/posts/default"></head>
<body><div class="navbar"><a href="/">Home</a></div>
<div class="widget Blog" id="Blog1"><div class="post hentry">
<div class="post-body entry-content">
<p>Fighting near <a href="http://news.example/story">Arsal</a>, see also
<a href="/2015/04/older.html">my earlier post</a>.</p>
<table class="tr-caption-container"><tr><td><a href="/img/big.jpg"><img src="/img/small.jpg"></a></td></tr>
<tr><td class="tr-caption">Fighters / twitter</td></tr></table>
<div class="share-buttons"><a href="https://twitter.com/intent/tweet?url=x">Tweet</a></div>
</div>
<div class="post-footer"><a href="/search/label/Syria">Syria</a>
<a class="comment-link" href="https://www.blogger.com/comment.g?blogID=1">No comments</a>
<a href="https://www.blogger.com/share-post.g?blogID=1&target=facebook">Share to Facebook</a></div>
</div></div>
<div class="sidebar"><div class="widget BlogArchive"><a href="/2015/05/">May</a></div>
<img src="/img/profile.jpg"><div class="adsbygoogle"><img src="http://ads.example/banner.gif">
<a href="http://ads.example/click">Buy</a></div></div></body></html>"""


def links_of(html: str, url: str = "http://blog.example/2015/05/post.html"):
    page = page_only(html.encode(), url=url, content_type="text/html; charset=utf-8")
    return page, {link.url: link.kind for link in page.links}


def test_blogger_post_body_links_are_cited_and_chrome_is_not():
    page, kinds = links_of(BLOGGER)
    assert page.body_found_by == "blogger-post-body"
    assert kinds["http://news.example/story"] == "citation"
    assert kinds["http://blog.example/2015/04/older.html"] == "inline"
    assert kinds["https://twitter.com/intent/tweet?url=x"] == "share"
    assert kinds["https://www.blogger.com/share-post.g?blogID=1&target=facebook"] == "share"
    assert kinds["https://www.blogger.com/comment.g?blogID=1"] == "comment"
    assert kinds["http://blog.example/search/label/Syria"] == "tag"
    assert kinds["http://blog.example/2015/05/"] == "sidebar"
    assert kinds["http://blog.example/"] == "navigation"
    assert kinds["http://ads.example/click"] == "ad"
    assert [link.url for link in page.cited] == ["http://news.example/story",
                                                  "http://blog.example/2015/04/older.html"]


def test_requisites_include_full_size_images_and_ads():
    page, _ = links_of(BLOGGER)
    assert {link.url for link in page.requisites} == {
        "http://blog.example/css/bundle.css", "http://blog.example/favicon.ico",
        "http://blog.example/js/widgets.js", "http://blog.example/img/small.jpg",
        "http://blog.example/img/big.jpg", "http://blog.example/img/profile.jpg",
        "http://ads.example/banner.gif",  # an ad's image is loaded like any other
    }


@pytest.mark.parametrize("wrapper, found_by", [
    ('<div itemprop="articleBody">{}</div>', "schema.org-articleBody"),
    ("<article>{}</article>", "article"),
    ("<main>{}</main>", "main"),
])
def test_structural_evidence_for_the_body(wrapper, found_by):
    body = wrapper.format('<p>Text citing <a href="http://source.example/a">a source</a>.</p>')
    html = f'<html><body><nav><a href="http://source.example/nav">nav</a></nav>{body}</body></html>'
    page, kinds = links_of(html)
    assert page.body_found_by == found_by
    assert kinds == {"http://source.example/a": "citation", "http://source.example/nav": "navigation"}


def test_readability_finds_a_body_without_markup_hints():
    paragraphs = "".join(f"<p>{'Long sentence about the offensive and its sources. ' * 8}</p>" for _ in range(6))
    html = (f'<html><body><div id="menu"><a href="http://x.example/menu">menu</a></div>'
            f'<div id="c">{paragraphs}<p>Source: <a href="http://source.example/s">report</a></p></div></body></html>')
    page, kinds = links_of(html)
    assert page.body_found_by == "readability"
    assert kinds["http://source.example/s"] == "citation"
    assert kinds["http://x.example/menu"] == "navigation"


def test_no_body_means_nothing_is_cited():
    page, kinds = links_of('<html><body><a href="http://x.example/">x</a></body></html>')
    assert page.cited == [] and kinds == {"http://x.example/": "navigation"}


PROSE = ("The offensive in the mountains began in early May, when the coalition moved its fighters "
         "from the northern towns into the valleys along the border. ")
MAIN = f"""<html><head><title>Post</title></head><body><header><a href="/">Home</a></header><main>
<h1>The offensive</h1><p>{PROSE * 2}</p>
<p>{PROSE} According to <a href="http://news.example/story">a report by the observatory</a>, 36 were killed.</p>
<p>{PROSE * 2}</p>
<div class="tags"><a href="/topics/syria">Syria</a> <a href="/topics/lebanon">Lebanon</a>
<a href="/2015/">2015</a></div>
<div class="pagination"><a href="/page/2">Older posts</a> <a href="/archive">Archive</a></div>
<p><a rel="next" href="/2015/06/next.html">Next post</a></p>
<aside><a href="http://partner.example/">Our partner</a></aside>
</main><footer><a href="/about">About</a></footer></body></html>"""
ARTICLE = f"""<html><head><title>Post</title></head><body><article><h1>The offensive</h1><p>{PROSE * 2}</p>
<p>{PROSE * 2} See <a href="/2015/04/older.html">my earlier post</a> on the battle for the city.</p>
<p>{PROSE * 2}</p>
<h3>References</h3>
<ul><li><a href="http://dailystar.example/a">Hezbollah assault on Qalamoun ruled out</a></li>
<li><a href="http://aljazeera.example/b">Nasrallah declares victory</a></li></ul>
<div class="related-posts"><h3>Related</h3><ul><li><a href="/2015/03/one.html">Fighting in Idlib</a></li>
<li><a href="/2015/02/two.html">A siege lifted</a></li></ul></div>
</article></body></html>"""
BLOGGER_LINES = f"""<html><body><div class="widget Blog"><div class="post hentry"><div class="post-body entry-content">
{PROSE}<br>Hezbollah took the hill, <a href="http://sohr.example/tallat">according to SOHR</a>, with 36 dead.<br>
{PROSE}<br><br><a href="http://elsewhere.example/">Elsewhere</a><br>{PROSE}
</div><div class="post-footer">Labels: <a href="/search/label/Syria">Syria</a></div></div></div></body></html>"""
NO_ARTICLE = """<html><body><div class="menu"><a href="/">Home</a> <a href="http://x.example/">Friends</a></div>
<ul><li><a href="/a">A story</a></li><li><a href="http://y.example/b">Another story</a></li></ul></body></html>"""


def test_in_main_only_the_paragraphs_link_is_cited_not_its_tags_pager_or_aside():
    page, kinds = links_of(MAIN)
    assert page.body_found_by == "main" and page.article
    assert kinds == {
        "http://blog.example/": "navigation", "http://news.example/story": "citation",
        "http://blog.example/topics/syria": "tag", "http://blog.example/topics/lebanon": "tag",
        "http://blog.example/2015/": "tag", "http://blog.example/page/2": "pager",
        "http://blog.example/archive": "pager",
        "http://blog.example/2015/06/next.html": "pager", "http://partner.example/": "sidebar",
        "http://blog.example/about": "navigation"}
    assert [link.url for link in page.cited] == ["http://news.example/story"]
    outlinks = [value for name, value in page.metadata_fields() if name == "outlink"]
    assert outlinks[:3] == ["http://blog.example/ navigation not-followed",
                            "http://news.example/story citation followed",
                            "http://blog.example/topics/syria tag not-followed"]


def test_in_an_article_the_text_and_reference_list_are_cited_not_the_related_list():
    page, kinds = links_of(ARTICLE)
    assert page.body_found_by == "article"
    assert kinds == {
        "http://blog.example/2015/04/older.html": "inline", "http://dailystar.example/a": "citation",
        "http://aljazeera.example/b": "citation", "http://blog.example/2015/03/one.html": "related",
        "http://blog.example/2015/02/two.html": "related"}


def test_a_blogger_body_of_lines_cites_the_lines_of_text_not_a_lone_link_line():
    page, kinds = links_of(BLOGGER_LINES)
    assert page.body_found_by == "blogger-post-body"
    assert kinds == {"http://sohr.example/tallat": "citation", "http://elsewhere.example/": "navigation",
                     "http://blog.example/search/label/Syria": "tag"}


CAPTIONS = """<html><body><div class="post-body entry-content">
<p>Fighters took the hills above the town on Tuesday, a week after the offensive began in the region.</p>
<figure><img src="/a.jpg"><figcaption>Fighters on the ridge / <a href="http://photos.example/a">Reuters</a>
</figcaption></figure>
<table class="tr-caption-container"><tr><td><img src="/b.jpg"></td></tr><tr><td class="tr-caption">
The statement / <a href="https://twitter.com/someone/status/1">twitter</a></td></tr></table>
<a href="/c.jpg"><img src="/c-small.jpg"></a><br>Hassan Nasrallah / <a href="http://aje.example/">AlJazeera</a>
<p>The group said that it had lost few men in the fighting, and that the hills would be held this year.</p>
<div class="widget"><a href="http://elsewhere.example/">Elsewhere</a></div>
</div></body></html>"""


def test_a_captions_credit_link_is_cited_whatever_holds_the_caption():
    page, kinds = links_of(CAPTIONS)
    assert {url: kind for url, kind in kinds.items() if kind != "embed"} == {
        "http://photos.example/a": "citation", "https://twitter.com/someone/status/1": "citation",
        "http://aje.example/": "citation", "http://elsewhere.example/": "sidebar"}


def test_a_page_without_an_article_cites_nothing():
    page, kinds = links_of(NO_ARTICLE)
    assert (page.body_found_by, page.article, page.cited) == (None, False, [])
    assert kinds == {"http://blog.example/": "navigation", "http://x.example/": "navigation",
                     "http://blog.example/a": "navigation", "http://y.example/b": "navigation"}


@pytest.mark.parametrize("html", [BLOGGER, MAIN, ARTICLE, BLOGGER_LINES])
def test_page_only_follows_what_analyse_follows(html):
    """A re-crawl's revisit reads the page alone: the same bytes must lead to the same pages."""
    url, payload = "http://blog.example/2015/05/post.html", html.encode()
    page, _ = analyse(payload, url=url, content_type="text/html")
    assert page_only(payload, url=url, content_type="text/html") == page and page.cited


def test_base_href_and_non_http_links():
    html = ('<html><head><base href="http://other.example/dir/"></head><body><article><p>The report is'
            ' <a href="page.html">here</a>, and <a href="mailto:x@y">m</a><a href="javascript:void(0)">j</a>'
            '<a href="ftp://f.example/x">f</a><img src="data:image/png;base64,AAAA"> are not.</p>'
            '</article></body></html>')
    page, kinds = links_of(html)
    assert kinds == {"http://other.example/dir/page.html": "citation"}


ARABIC = "<html><body><article><p>المرصد السوري لحقوق الإنسان: اشتباكات في القلمون</p></article></body></html>"


def test_charset_from_http_header_wins():
    raw = ARABIC.encode("cp1256")
    assert decide_encoding(raw, "text/html; charset=windows-1256") == ("cp1256", "http-header")
    page = page_only(raw, url="http://sohr.example/ar", content_type="text/html; charset=windows-1256")
    assert page.encoding == "cp1256"


def test_charset_from_meta():
    raw = ('<meta http-equiv="Content-Type" content="text/html; charset=windows-1256">' + ARABIC).encode("cp1256")
    assert decide_encoding(raw, "text/html") == ("cp1256", "meta")


def test_charset_from_bom():
    assert decide_encoding(b"\xef\xbb\xbf<p>x</p>", None) == ("utf-8", "bom")


def test_charset_detected_for_undeclared_arabic():
    raw = (ARABIC * 5).encode("cp1256")
    name, source = decide_encoding(raw, "text/html")
    assert source == "detected"
    assert "القلمون" in raw.decode(name)


def test_latin1_label_means_windows_1252():
    assert decide_encoding(b"x", "text/html; charset=ISO-8859-1") == ("cp1252", "http-header")


def test_decode_content_is_bounded():
    bomb = gzip.compress(b"\0" * 10_000_000)
    assert len(decode_content(bomb, "gzip", limit=1000)) == 1000
    assert decode_content(b"plain", None, limit=1000) == b"plain"
    assert decode_content(b"not gzip", "gzip", limit=1000) == b"not gzip"


def test_utf8_bytes_declared_latin1_are_read_as_utf8():
    raw = "<p>Café in al-Qalamoun – القلمون</p>".encode("utf-8")
    assert decide_encoding(raw, "text/html; charset=ISO-8859-1") == ("utf-8", "overridden")


def test_cp1256_bytes_declared_utf8_are_detected():
    raw = (ARABIC * 5).encode("cp1256")
    name, source = decide_encoding(raw, "text/html; charset=utf-8")
    assert source == "overridden"
    assert "القلمون" in raw.decode(name)


def test_a_declaration_the_bytes_fit_is_kept():
    raw = (ARABIC * 5).encode("cp1256")
    assert decide_encoding(raw, "text/html; charset=windows-1256") == ("cp1256", "http-header")
    assert decide_encoding(b"plain ascii", "text/html; charset=ISO-8859-1") == ("cp1252", "http-header")
