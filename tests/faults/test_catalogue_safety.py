"""Catalogue safety: hostile text and URLs stored and queried without error or injection.

Quotes and SQL in titles, text and URLs, NULs, 100 KB texts and URLs, bytes that are not UTF-8 (in
pages, in command-line arguments, in --input files), characters that would end a WARC header line.
Every query command is run on them; the catalogue must come out with every table and row intact.
"""

from __future__ import annotations

import json

import pytest

from ..conftest import invoke_archiver, run_archiver
from ..servers import page, send
from .conftest import check_store, rows

SQL = "'); DROP TABLE records; --"
TITLE = f'It\'s "quoted" {SQL} \\ % _ ☃'
LONG = "zebrafish " * 10_000  # 100 KB of text
TABLES = ("capture_events", "warc_files", "fetches", "records", "documents", "links", "captions", "changes")


@pytest.fixture
def hostile_site(server):
    """A post whose title, text, captions and links carry everything above, and the pages it cites."""
    quoted = "/it's \"q\"?a=' OR '1'='1"
    long_url = "/" + "z" * 100_000
    injected = "/a&#13;&#10;WARC-Type: revisit&#10;X: y"
    quoted_href = quoted.replace('"', "&quot;")
    html = (f"<html><head><title>{SQL}</title></head><body><article>"
            f"<h1>{TITLE}</h1><p>{LONG}</p><p>NUL\x00 and &#0; and bad \xff\xfe bytes and &#xD800; and {SQL}</p>"
            "<figure><img src=\"/photo.jpg\"><figcaption>A photo \"x\" / O'Brien; DROP TABLE captions</figcaption>"
            f"</figure><p>It cites <a href=\"{quoted_href}\">{SQL}</a> for its quotes, "
            f"<a href=\"{long_url}\">a long one</a> for its length, <a href=\"/nul%00byte\">a NUL</a> for its byte, "
            f"<a href=\"/sur%ED%A0%80\">a surrogate</a> for its character, <a href=\"{injected}\">a header</a> for "
            "its line breaks and <a href=\"/moved\">a bad redirect</a> for where it leads.</p></article></body></html>")
    body = html.encode("utf-8").replace("\xff\xfe".encode("utf-8"), b"\xff\xfe")
    post = server.route("/post", lambda request: send(request, 200, body))
    for path in ("/it's", "/nul%00byte", "/sur%ED%A0%80"):
        server.route(path, page(f"<html><head><title>{SQL}</title></head><body><p>cited</p></body></html>"))
    server.route("/moved", lambda request: (request.send_response(302), request.send_header(
        "Location", "/x\rWARC-Type: revisit"), request.send_header("Content-Length", "0"), request.end_headers()))
    server.route("/photo.jpg", page("jpeg", content_type="image/jpeg"))
    return {"post": post, "quoted": server.base + quoted, "long": server.base + long_url,
            "as_uri": server.base + "/it's%20%22q%22?a='%20OR%20'1'='1"}  # as requested: a valid URI


def test_hostile_text_and_urls_are_stored_and_queried_verbatim(hostile_site, home, tally):
    for case in ("quotes and SQL in text", "quotes and SQL in URLs", "NUL bytes", "100 KB text", "100 KB URL",
                 "invalid UTF-8 in a page", "surrogate character references", "CR/LF aimed at WARC headers"):
        tally.tried(f"catalogue: {case}")
    captured = invoke_archiver("capture", hostile_site["post"], "--home", str(home), "--allow-private", "--json")
    assert captured.returncode == 0, captured.stderr
    counts = {table: len(rows(home, table)) for table in TABLES}
    fetched = {row["url"] for row in rows(home, "fetches")}
    assert {hostile_site["as_uri"], hostile_site["long"]} <= fetched
    assert not [url for url in fetched if set(url) & set(' "\r\n\x00')]  # URIs, no header line breaks

    shown = invoke_archiver("show", hostile_site["post"], "--home", str(home), "--json")
    document = json.loads(shown.stdout)
    assert document["title"] == TITLE and LONG.strip() in document["text"]
    assert {link["url"] for link in document["links"]} >= {hostile_site["as_uri"], hostile_site["long"]}
    assert document["captions"][0]["credit"] == "O'Brien; DROP TABLE captions"
    history = invoke_archiver("history", hostile_site["quoted"], "--home", str(home), "--json")
    assert history.returncode == 0 and len(json.loads(history.stdout)) == 1, history.stderr
    exported = invoke_archiver("export", "--url", hostile_site["quoted"], "--home", str(home))
    assert {record["url"] for record in json.loads(exported.stdout)} == {hostile_site["as_uri"]}, exported.stderr
    long = invoke_archiver("history", hostile_site["long"], "--home", str(home), "--json")
    assert (long.returncode, long.stderr.count("\n")) == (2, 1)  # refused, so never archived: "not in the catalogue"
    assert long.stderr.startswith(f"Error: {hostile_site['long']}: not in the catalogue")
    [refused] = rows(home, "fetches", url=hostile_site["long"])
    assert (refused["outcome"], refused["error_kind"]) == ("blocked", "refused-url")
    assert refused["error"].endswith("characters long: longer than 8192, not fetched")
    provenance = invoke_archiver("provenance", hostile_site["quoted"], "--home", str(home), "--json")
    assert json.loads(provenance.stdout)["record"]["target_uri"] == hostile_site["as_uri"]
    found = invoke_archiver("search", "zebrafish", "--home", str(home), "--json")
    assert [hit["url"] for hit in json.loads(found.stdout)] == [hostile_site["post"]]
    for words in (SQL, TITLE, '"', "zebra*) OR 1=1 --", "caf\u00e9 \u2028 \x01"):
        searched = invoke_archiver("search", words, "--home", str(home))
        assert searched.returncode in (0, 2) and "Traceback" not in searched.stderr, searched.stderr
        assert searched.returncode == 0 or searched.stderr.count("\n") == 1
    assert {table: len(rows(home, table)) for table in TABLES} == counts  # nothing dropped, nothing added
    check_store(home)


@pytest.mark.parametrize("command", [["capture"], ["show"], ["provenance"], ["search"], ["export", "--url"]])
def test_arguments_that_are_not_utf8_are_refused_in_one_line(home, command, tally):
    tally.tried(f"argument not UTF-8: {command[0]}")
    result = run_archiver(*command, "http://example.org/\udcff", "--home", str(home))
    assert (result.returncode, result.stderr) == (2, "Error: the argument 'http://example.org/\\udcff' is not "
                                                     "UTF-8 text\n")


def test_input_file_that_is_not_utf8_is_refused_in_one_line(home, tmp_path, tally):
    tally.tried("--input file not UTF-8")
    urls = tmp_path / "urls.txt"
    urls.write_bytes(b"http://example.org/\xff\n")
    result = invoke_archiver("capture", "--input", str(urls), "--home", str(home))
    assert (result.returncode, result.stderr) == (2, f"Error: {urls}: not UTF-8 text\n")


def test_search_site_is_a_host_not_a_pattern(server, home, tally):
    tally.tried("search --site with LIKE wildcards")
    url = server.route("/p", page("<html><body><article><p>a findable page</p></article></body></html>"))
    assert invoke_archiver("capture", url, "--home", str(home)).returncode == 0
    for site, expected in (("127.0.0.1", [url]), ("%", []), ("127_0_0_1", []), ("1%", [])):
        result = invoke_archiver("search", "findable", "--site", site, "--home", str(home), "--json")
        assert [hit["url"] for hit in json.loads(result.stdout)] == expected, site
