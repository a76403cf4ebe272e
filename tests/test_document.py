"""Parsing captured pages into documents: the sample site, then hostile input."""

from __future__ import annotations

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archiver.parse import FOLLOWED_KINDS, extract_document
from archiver.parse._document import _iso, split_credit

CHROME_TEXT = ["No comments", "Post a Comment", "Posted by", "Labels:", "Share to", "Blog Archive",
               "Newer Post", "Older Post", "Subscribe to"]


def parsed(url: str):
    response = requests.get(url, timeout=10)
    return extract_document(response.content, url=url, content_type=response.headers.get("Content-Type"))


@pytest.fixture(scope="module")
def post(site):
    return parsed(site.post_url)


def test_post_metadata(post, manifest):
    assert post.title == manifest["title"] == "2015 Qalamoun Offensive"
    assert post.author == manifest["author"]
    assert post.published.startswith("2015-05-24")
    assert post.language == "en" and post.body_found_by == "blogger-post-body"
    assert post.warnings == []


def test_post_text_is_the_body_paragraphs_only(post):
    paragraphs = post.text.split("\n\n")
    assert paragraphs[0].startswith("On 4 May, Nusra Front and allied Syrian revolutionaries")
    assert "fits ighters" in paragraphs[0]  # the seed's typos are kept: we archive, we do not edit
    assert any(p.startswith("The Battle of Qalamoun is not important") for p in paragraphs)
    assert paragraphs[-1].startswith("SOHR: Hezbollah advances in al- Qalamoun area")
    for chrome in CHROME_TEXT:
        assert chrome not in post.text
    for caption in ("Nusra Front fighters during training / twitter", "Hassan Nasrallah / AlJazeera"):
        assert caption not in post.text  # captions are their own list


def test_post_captions_with_credit_and_image(post, manifest):
    assert [(c.text, c.credit, c.image_url) for c in post.captions] == [
        (c["text"], c["credit"], c["image"]) for c in manifest["captions"]]


def test_post_reference_list(post, manifest):
    assert [(r.publisher, r.title, r.language, r.url) for r in post.references] == [
        (r["publisher"], r["title"], r["language"], r["url"]) for r in manifest["references"]]


def test_post_links_classified_with_context(post, manifest):
    kinds = {link.url: link for link in post.links}
    for reference in manifest["references"]:
        assert kinds[reference["url"]].kind == "citation"
        assert kinds[reference["url"]].context.startswith(reference["publisher"] + ":")
    sohr_arabic = kinds[manifest["charset_windows_1256"]]
    assert sohr_arabic.kind == "citation" and "According to SOHR" in sohr_arabic.context
    positions = [link.position for link in post.links]
    assert positions == sorted(positions)


@pytest.mark.parametrize("role", ["cited"])
def test_cited_pages_yield_headline_date_and_body_without_chrome(site, manifest, role):
    pages = [e["url"] for e in manifest["expected"] if e["role"] == role and e["status"] == 200]
    assert len(pages) == 5
    for url in pages:
        document = parsed(url)
        assert document.title and document.published and len(document.text) > 400, url
        chrome = [link.text for link in document.links if link.kind not in ("embed", *FOLLOWED_KINDS)
                  and len(link.text) >= 20]
        assert chrome, url
        for text in chrome:
            assert text not in document.text, (url, text)


def test_arabic_page_in_windows_1256(manifest):
    document = parsed(manifest["charset_windows_1256"])
    assert document.encoding == "cp1256" and document.encoding_source == "http-header"
    assert document.language == "ar" and document.published == "2015-05-13"
    assert "القلمون" in document.title and "حزب الله" in document.text


@pytest.mark.parametrize("text, caption, credit", [
    ("Hassan Nasrallah / AlJazeera", "Hassan Nasrallah", "AlJazeera"),
    ("Jaysh al-Fateh Qalamoun logo / twitter\xa0", "Jaysh al-Fateh Qalamoun logo", "twitter"),
    ("Fighters near Arsal. (Photo: Reuters)", "Fighters near Arsal.", "Reuters"),
    ("The hills of Qalamoun. (The Daily Star/Hassan Shaaban)", "The hills of Qalamoun.",
     "The Daily Star/Hassan Shaaban"),
    ("A caption with no credit", "A caption with no credit", None),
])
def test_split_credit(text, caption, credit):
    assert split_credit(text) == (caption, credit)


@pytest.mark.parametrize("text, iso", [
    ("Sunday, 24 May 2015", "2015-05-24"),
    ("May. 06, 2015 | 12:09 AM", "2015-05-06"),
    ("13 مايو 2015", "2015-05-13"),
    ("١٣ أيار ٢٠١٥", "2015-05-13"),
    ("2015-05-24T14:32:00+03:00", "2015-05-24T14:32:00+03:00"),
    ("2015-05-16", "2015-05-16"),
    ("11th May 2015", "2015-05-11"),
    ("not a date", None),
])
def test_dates(text, iso):
    assert _iso(text) == iso


@pytest.mark.parametrize("payload", [
    b"",
    b"\x00\x01\x02\xff" * 1000,
    b"<html><body><article><p>cut sho",
    b"<script>var a = 1;</script>" * 100,
    b"<div>" * 50_000 + b"deep" + b"</div>" * 50_000,
    "<p>العربية</p>".encode("cp1256"),
])
def test_bad_input_never_raises(payload):
    document = extract_document(payload, url="http://x.example/", content_type="text/html; charset=utf-8")
    assert isinstance(document.text, str)
    assert document.as_json()["parser"]["name"] == "archiver-document"


def test_empty_page_warns():
    document = extract_document(b"", url="http://x.example/")
    assert "no main text found" in document.warnings or "no HTML could be parsed from the payload" in document.warnings


html_fragments = st.lists(st.sampled_from([
    "<div>", "</div>", "<p>", "</p>", "<article>", "</article>", "<a href='/x'>", "</a>", "<img src='i.png'>",
    "<br>", "<table class='tr-caption-container'>", "<td class='tr-caption'>", "</table>", "<script>", "</script>",
    "text / credit", "Publisher: Title (English) – [", "]", "&amp;", "<", ">", "\u0627\u0644", "\x00",
]), max_size=200).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(html_fragments)
def test_random_html_never_crashes(html):
    document = extract_document(html.encode("utf-8", "surrogatepass"), url="http://x.example/a")
    assert isinstance(document.as_json(), dict)


def test_huge_page_is_parsed_up_to_the_limit_and_says_so():
    from archiver.parse import MAX_PARSED_BYTES

    payload = b"<html><body><article>" + b"<p>paragraph of text</p>\n" * (MAX_PARSED_BYTES // 20) + b"</article>"
    document = extract_document(payload, url="http://x.example/")
    assert document.text.startswith("paragraph of text")
    assert document.body_found_by == "article"  # too large for the other extractors' vote
    assert document.warnings[-1] == (f"page of {len(payload)} bytes: only its first {MAX_PARSED_BYTES} were parsed "
                                     "(the archived record is whole)")


PROSE = " ".join(["The council met on Tuesday and agreed the budget after a long debate."] * 6)


def test_invisible_text_is_not_main_text_even_when_it_is_most_of_the_article():
    html = (f"<html><body><article><h1>Lorem</h1><p>{PROSE}</p>"
            f"<div style='visibility: hidden;'><p>Hidden draft paragraph. {PROSE} {PROSE}</p></div>"
            "</article></body></html>")
    document = extract_document(html.encode(), url="http://x.example/a")
    assert document.body_found_by == "readability (within article)"
    assert document.text == PROSE


def test_slide_show_inside_the_body_is_not_prose():
    html = (f"<html><body><article><p>{PROSE}</p><div class='story-gallery'><p>1/50</p><p>Next slide</p></div>"
            f"<p>{PROSE}</p></article></body></html>")
    assert extract_document(html.encode(), url="http://x.example/a").text == f"{PROSE}\n\n{PROSE}"


def test_several_articles_of_like_size_are_weak_evidence():
    teaser = "<article><h2>Teaser {n}</h2><p>" + PROSE + "</p></article>"
    html = "<html><body>" + "".join(teaser.format(n=n) for n in range(3)) + "</body></html>"
    document = extract_document(html.encode(), url="http://x.example/a")
    assert document.body_found_by.endswith("(within articles)") or document.body_found_by == "articles"


@pytest.mark.parametrize("longer, shorter, expected", [
    ("a b c d e f g h", "a b c", True),       # holds all of it, more than twice as long
    ("a b c d e", "a b c", False),            # not twice as long
    ("x y z w v u t s", "a b c", False),      # long but unrelated
])
def test_readability_replaces_trafilatura_only_when_it_holds_and_exceeds(longer, shorter, expected):
    from archiver.parse._document import _holds_and_exceeds

    assert _holds_and_exceeds(longer, shorter) is expected


# Main text by vote (parser version 3): a news story in an <article> with the chrome such pages carry.
STORY = ["The council met on Tuesday and agreed the budget after a long debate about the new library and the roads.",
         "Councillors voted eleven to four in favour, with two abstentions, after the mayor promised a review.",
         "The budget includes money for repairs to the bridge on Mill Lane, closed since the floods of last winter.",
         "Residents who spoke at the meeting said the closure had added twenty minutes to their journeys to work."]
LATE = "A second meeting in March will decide how the library, which has been shut since the roof leaked, is run."


def story_page(article: str, *, title: str = "Council agrees budget") -> bytes:
    return (f"<html><head><title>{title}</title></head><body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
            f"<article>{article}</article><footer>Town Gazette, 1 High Street</footer></body></html>").encode()


def story_text(*paragraphs: str) -> str:
    return "\n\n".join(paragraphs)


def test_readability_prunes_what_an_article_element_holds_besides_the_story():
    promo = "<div class='promo-box'><p>Get our newsletter: the week's news every Friday.</p></div>"
    page = story_page("<h1>Council agrees budget</h1>" + promo + "".join(f"<p>{p}</p>" for p in STORY))
    document = extract_document(page, url="http://gazette.example/news/budget")
    assert document.body_found_by == "readability (within article)"
    assert document.text == story_text(*STORY)


def test_prose_readability_leaves_out_is_kept_when_the_element_and_trafilatura_both_hold_it():
    article = ("<h1>Council agrees budget</h1><div class='story'>" + "".join(f"<p>{p}</p>" for p in STORY) + "</div>"
               f"<section><div class='more'><p>{LATE}</p></div></section>"
               "<div class='filed'><p>Filed under local news</p></div>")  # short lines are not voted back in
    document = extract_document(story_page(article), url="http://gazette.example/news/budget")
    assert document.body_found_by == "readability (within article)"
    assert document.text == story_text(*STORY, LATE)


def test_completed_puts_a_paragraph_two_extractors_agree_on_where_the_body_has_it():
    from archiver.parse._document import _completed

    own = [STORY[0], LATE, STORY[1], "Filed under"]
    assert _completed([STORY[0], STORY[1]], own, lambda: [LATE, "Filed under"]) == [
        STORY[0], LATE, STORY[1], "Filed under"]
    assert _completed([STORY[0], STORY[1]], own, lambda: [STORY[2]]) == [STORY[0], STORY[1]]  # no second voice
    assert _completed([STORY[0], STORY[1]], own, lambda: []) == [STORY[0], STORY[1]]


def test_the_other_extractor_is_run_only_when_the_element_holds_a_paragraph_the_text_lacks():
    from archiver.parse._document import _completed

    def other():
        raise AssertionError("not needed: nothing to vote on")

    assert _completed([STORY[0], STORY[1]], [STORY[0], STORY[1]], other) == [STORY[0], STORY[1]]


def test_readability_and_trafilatura_read_the_shared_tree_without_changing_it():
    from lxml import etree

    from archiver.parse._document import _trafilatura_paragraphs
    from archiver.parse._html import load
    from archiver.parse._links import readability_body

    hidden = "<div hidden><p>Draft.</p></div><div style='display: none'><p>Old draft.</p></div>"
    page = story_page(hidden + "".join(f"<p>{p}</p>" for p in STORY) + "<script>var x = 1;</script>")
    root = load(page, url="http://gazette.example/news/budget", content_type=None).root
    before = etree.tostring(root)
    readable, found_by = readability_body(root)
    assert found_by == "readability" and readable is not None and readable.getparent() is None
    assert _trafilatura_paragraphs(root)[-len(STORY):] == STORY
    assert etree.tostring(root) == before  # one parse per page: the tree is analyse's, later steps read it too


def test_an_article_element_without_prose_is_no_evidence():
    loader = "<script>window.player.load({clip: 'budget-vote', autoplay: false});</script>"
    html = (f"<html><head><title>Budget</title></head><body><article>{loader}</article>"
            "<div id='story'>" + "".join(f"<p>{p}</p>" for p in STORY) + "</div></body></html>")
    document = extract_document(html.encode(), url="http://gazette.example/news/budget")
    assert document.body_found_by == "trafilatura (empty article)"
    assert document.text == story_text(*STORY)


def test_a_caption_under_an_image_after_a_line_break_is_a_caption_not_text():
    article = (f"<p>{STORY[0]}</p><p><img src='/bridge.jpg'><br><em>Figure 2: the bridge on Mill Lane / Reuters</em>"
               f"</p><p>{STORY[1]}</p>")
    html = f"<html><body><div class='post-body'>{article}</div></body></html>"
    document = extract_document(html.encode(), url="http://gazette.example/news/budget")
    assert [(c.text, c.credit, c.image_url) for c in document.captions] == [
        ("Figure 2: the bridge on Mill Lane", "Reuters", "http://gazette.example/bridge.jpg")]
    assert document.text == story_text(STORY[0], STORY[1])


@pytest.mark.parametrize("lead", [
    "Council agrees budget",                        # the title itself
    "Oct 15, 2015 · 4 min read",                    # a date line
    "Tuesday, 24 May 2015",
])
def test_a_leading_headline_or_date_line_is_not_text(lead):
    html = (f"<html><head><title>Council agrees budget | Town Gazette</title></head><body><div class='post-body'>"
            f"<p>{lead}</p>" + "".join(f"<p>{p}</p>" for p in STORY) + "</div></body></html>")
    document = extract_document(html.encode(), url="http://gazette.example/news/budget")
    assert document.text == story_text(*STORY)


def test_a_short_lead_that_is_not_a_date_or_the_title_stays():
    html = ("<html><head><title>Council agrees budget | Town Gazette</title></head><body><div class='post-body'>"
            "<p>Council agrees</p>" + "".join(f"<p>{p}</p>" for p in STORY) + "</div></body></html>")
    assert extract_document(html.encode(), url="http://x.example/a").text == story_text("Council agrees", *STORY)


def test_a_slide_show_is_skipped_even_when_it_is_most_of_the_body():
    slides = "".join(f"<li><h2>{n}/8 Photo of the day</h2><p>{STORY[n % 4]}</p></li>" for n in range(1, 9))
    html = (f"<html><body><div class='post-body'><p>{STORY[0]}</p><div class='full-gallery'><ul>{slides}</ul></div>"
            f"<p>{STORY[1]}</p></div></body></html>")
    assert extract_document(html.encode(), url="http://x.example/a").text == story_text(STORY[0], STORY[1])


@pytest.mark.parametrize("fields", ['"headline": ["A list"]', '"author": {"name": {"@id": "#me"}}',
                                    '"author": [{"name": ["Two", "names"]}, {"name": "One"}]'])
def test_json_ld_values_that_are_not_text_are_passed_over(fields):
    """A JSON-LD headline or author name that is a list or an object is no title or author (it raised)."""
    html = ('<html><head><title>Page title</title><script type="application/ld+json">{"@type": "NewsArticle", '
            + fields + '}</script></head><body><article><p>' + "word " * 80 + "</p></article></body></html>")
    document = extract_document(html.encode(), url="http://example.com/post", content_type="text/html")
    assert document.title == "Page title"
    assert document.author in (None, "One")
