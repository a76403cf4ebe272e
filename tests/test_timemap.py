"""Memento TimeMaps (RFC 7089) of captured URLs, read back with a strict link-format parser and
checked against the catalogue."""

from __future__ import annotations

import csv
import datetime as dt
import email.utils
import io
import json
import re
import shutil
import sqlite3

import pytest
import requests.utils

from archiver.capture import capture
from archiver.catalogue import Catalogue
from archiver.collection import open_collection
from archiver.config import resolve
from archiver.errors import InputError
from archiver.query import replay_base, timemap

from .conftest import invoke_archiver
from .servers import ScriptedServer, page
from .test_export import capture_twice

LINK = re.compile(r'<([^<>\s]*)>((?:; [a-z]+="[^"]*")+)')
PARAM = re.compile(r'; ([a-z]+)="([^"]*)"')


def parse_link_format(text: str) -> list[tuple[str, dict[str, str]]]:
    """RFC 6690 links as RFC 7089 writes TimeMaps: ``<URI>; name="value"...``, separated by a comma
    and a line break, the last one ending the text with a line break. Anything else fails."""
    assert text.endswith("\n") and not text.endswith(",\n"), text[-40:]
    links = []
    for line in text[:-1].split(",\n"):
        match = LINK.fullmatch(line)
        assert match, f"not a link: {line!r}"
        params = PARAM.findall(match.group(2))
        names = [name for name, _ in params]
        assert len(names) == len(set(names)), f"repeated parameter: {line!r}"
        links.append((match.group(1), dict(params)))
    return links


def http_date(text: str) -> dt.datetime:
    assert re.fullmatch(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                        r"\d{4} \d\d:\d\d:\d\d GMT", text), text
    return email.utils.parsedate_to_datetime(text)


@pytest.fixture(scope="module")
def home(site, tmp_path_factory):
    home = tmp_path_factory.mktemp("timemap") / "collection"
    capture_twice(home, [site.post_url])
    return home


def captures(home, url: str) -> list[tuple[dt.datetime, str]]:
    """(WARC-Date, record type) of each response and revisit of ``url``, oldest first, from the catalogue."""
    with sqlite3.connect(home / "archiver.db") as db:
        rows = db.execute("SELECT warc_date, record_type FROM records WHERE target_uri = ? AND record_type IN "
                          "('response', 'revisit') ORDER BY warc_date, id", (url,)).fetchall()
    return [(dt.datetime.fromisoformat(when).replace(tzinfo=dt.timezone.utc), kind) for when, kind in rows]


def test_the_timemap_lists_every_capture_as_link_format(home, site):
    result = invoke_archiver("timemap", site.post_url, "--home", str(home))
    assert (result.returncode, result.stderr) == (0, "")
    links = parse_link_format(result.stdout)
    expected = captures(home, site.post_url)
    assert [kind for _, kind in expected] == ["response", "revisit"]
    base = "http://localhost:8080/archive/"
    (original, original_params), (gate, gate_params), (self_uri, self_params), *mementos = links
    assert (original, original_params) == (site.post_url, {"rel": "original"})
    assert (gate, gate_params) == (base + site.post_url, {"rel": "timegate"})
    assert self_uri == f"{base}timemap/link/{site.post_url}"
    assert (self_params["rel"], self_params["type"]) == ("self", "application/link-format")
    assert http_date(self_params["from"]) == expected[0][0].replace(microsecond=0)
    assert http_date(self_params["until"]) == expected[-1][0].replace(microsecond=0)
    assert [params["rel"] for _, params in mementos] == ["first memento", "last memento"]
    for (uri, params), (when, _) in zip(mementos, expected, strict=True):
        assert uri == f"{base}{when:%Y%m%d%H%M%S}/{site.post_url}"
        assert http_date(params["datetime"]) == when.replace(microsecond=0)
    # requests reads the same links from the TimeMap as one HTTP Link header
    header = result.stdout.replace("\n", " ").strip()
    assert [(item.pop("url"), item) for item in requests.utils.parse_header_links(header)] == links


def test_json_and_csv_carry_the_mementos(home, site):
    document = json.loads(invoke_archiver("timemap", site.post_url, "--home", str(home), "--json").stdout)
    expected = captures(home, site.post_url)
    assert (document["original"], document["from"], document["until"]) == (
        site.post_url, expected[0][0].isoformat(), expected[-1][0].isoformat())
    assert [(dt.datetime.fromisoformat(item["datetime"]), item["record_type"]) for item in document["mementos"]] \
        == expected
    table = invoke_archiver("timemap", site.post_url, "--home", str(home), "--csv")
    assert [row["uri"] for row in csv.DictReader(io.StringIO(table.stdout))] == [
        item["uri"] for item in document["mementos"]]


def test_the_replay_base_is_where_mementos_point(home, site):
    result = invoke_archiver("timemap", site.post_url, "--home", str(home), "--replay-base",
                          "https://replay.example.org/my-archive")
    links = parse_link_format(result.stdout)
    assert all(uri.startswith("https://replay.example.org/my-archive/") for uri, params in links
               if params["rel"] != "original")
    assert links[3][0] == (f"https://replay.example.org/my-archive/{captures(home, site.post_url)[0][0]:%Y%m%d%H%M%S}"
                           f"/{site.post_url}")


def test_a_single_capture_is_first_and_last(tmp_path):
    server = ScriptedServer()
    try:
        url = server.route("/once.html", page("<html><body><article><p>Once only.</p></article></body></html>"))
        opened = open_collection(resolve({"home": tmp_path, "allow_private": True}), mode="write")
        try:
            assert capture([url], collection=opened, command="test").outcome == "complete"
        finally:
            opened.close()
    finally:
        server.close()
    links = parse_link_format(invoke_archiver("timemap", url, "--home", str(tmp_path)).stdout)
    [(when, _)] = captures(tmp_path, url)
    assert links[3:] == [(f"http://localhost:8080/archive/{when:%Y%m%d%H%M%S}/{url}",
                          {"rel": "first last memento", "datetime": email.utils.format_datetime(when, usegmt=True)})]
    assert (links[2][1]["from"], links[2][1]["until"]) == (links[3][1]["datetime"],) * 2


def test_urls_are_escaped_where_link_format_needs_it(home, site, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(home, copy)
    odd = 'http://x.example/a b"<c>é'
    with sqlite3.connect(copy / "archiver.db") as db:
        db.execute("UPDATE records SET target_uri = ? WHERE target_uri = ?", (odd, site.post_url))
    catalogue = Catalogue.open(resolve({"home": copy}).db_url)
    try:
        found = timemap(catalogue, url=odd)
    finally:
        catalogue.close()
    assert found.original == "http://x.example/a%20b%22%3Cc%3E%C3%A9"
    assert [memento.uri.endswith("/" + found.original) for memento in found.mementos] == [True, True]
    assert [uri for uri, _ in parse_link_format(found.link_format())][0] == found.original


@pytest.mark.parametrize("args, message", [
    (["http://x.example/never"],
     "Error: http://x.example/never: no capture in the catalogue (archiver capture http://x.example/never "
     "archives it)\n"),
    (["x.example/never"], "Error: 'x.example/never' is not a URL: give it with http:// or https://\n"),
    (["http://x.example/", "--replay-base", "localhost:8080"],
     "Error: --replay-base 'localhost:8080': give the http(s) URL replay serves the collection at, e.g. "
     "http://localhost:8080/archive/\n"),
])
def test_bad_input_is_one_line_and_exit_2(home, args, message):
    result = invoke_archiver("timemap", *args, "--home", str(home))
    assert (result.returncode, result.stderr, result.stdout) == (2, message, "")


def test_a_deleted_warc_is_a_store_error(home, site, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(home, copy)
    with sqlite3.connect(copy / "archiver.db") as db:
        [(name,)] = db.execute("SELECT f.filename FROM records r JOIN warc_files f ON f.id = r.warc_file_id "
                               "WHERE r.target_uri = ? AND r.record_type = 'revisit'", (site.post_url,)).fetchall()
    (copy / "snapshots" / name).unlink()
    result = invoke_archiver("timemap", site.post_url, "--home", str(copy))
    assert (result.returncode, result.stdout) == (5, "")
    assert result.stderr == (f"Error: {copy / 'snapshots' / name} is missing (1 catalogued record): mementos of "
                             f"{site.post_url} are in it (restore the file from a copy)\n")


def test_replay_base_is_checked_and_ends_in_a_slash():
    assert replay_base("http://localhost:8080/coll") == "http://localhost:8080/coll/"
    assert replay_base("https://x.example/") == "https://x.example/"
    for bad in ("ftp://x.example/", "http://", "http://x.example/?a=1", "/archive/"):
        with pytest.raises(InputError, match="give the http"):
            replay_base(bad)
