"""The catalogue exported for other tools, judged against cdxj-indexer (pywb's indexer) run on the
same WARC files, and against the catalogue itself."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import tempfile
import threading

import pytest

from archiver import catalogue as cat
from archiver.capture import capture, recrawl
from archiver.collection import open_collection
from archiver.config import resolve
from archiver.errors import InputError
from archiver.query import Query, cdxj_lines, cdxj_query, file_problems, require_url, rows, write_csv, write_json
from archiver.query._export import FIELDS, sorted_lines, url_key

from .changing_site import ChangingSite
from .conftest import tool
from .servers import ScriptedServer, page, send

KEY_FIELDS = ("urlkey", "timestamp", "digest", "offset", "length", "filename")


def capture_twice(home, urls: list[str]) -> None:
    """Capture ``urls`` twice: the second capture writes revisit records for unchanged payloads."""
    for _ in range(2):
        collection = open_collection(resolve({"home": home, "allow_private": True}), mode="write")
        try:
            capture(urls, collection=collection, command="archiver capture test")
        finally:
            collection.close()


def raw(answer: bytes):
    """A handler that writes ``answer`` as the whole HTTP response, whatever it is."""
    def handler(request) -> None:
        request.wfile.write(answer)
    return handler


ODD = {  # answers whose headers cdxj-indexer reads in its own way
    "/upper.css": lambda r: send(r, 200, b"a{}", "  TEXT/CSS ;charset=x"),
    "/tab.css": lambda r: send(r, 200, b"b{}", "text/css\t; q=1"),
    "/no-semicolon.css": lambda r: send(r, 200, b"c{}", "text/css charset=utf-8"),
    "/untyped.png": raw(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"),
    "/empty-type.png": raw(b"HTTP/1.1 200 OK\r\nContent-Type: \r\nContent-Length: 3\r\n\r\nxyw"),
    "/two-types.png": raw(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Type: image/gif\r\n"
                          b"Content-Length: 3\r\n\r\nxyz"),
    "/folded.png": raw(b"HTTP/1.1 200 OK\r\nContent-Type: image/png;\r\n  foo=bar\r\nContent-Length: 3\r\n\r\nxyv"),
    "/odd-status.png": raw(b"HTTP/1.1 299 Whatever\r\nContent-Type: image/png\r\nContent-Length: 3\r\n\r\nxyu"),
    "/caf%C3%A9.png": lambda r: send(r, 200, b"cafe", "image/png"),
    "/Query.png": lambda r: send(r, 200, b"Q", "image/png"),
}


@pytest.fixture(scope="module")
def collection(site, tmp_path_factory):
    """The sample post, a changing blog and a page embedding odd answers, each captured twice; then
    the blog re-crawled after its cited pages moved (301), went (404) and answered 304 Not Modified."""
    home = tmp_path_factory.mktemp("export") / "collection"
    changing, odd = ChangingSite(), ScriptedServer()
    try:
        images = "".join(f'<img src="{odd.route(path, handler)}">' for path, handler in ODD.items())
        odd_post = odd.route("/odd.html", page(f"<html><body><article><p>Odd answers.</p>{images}"
                                               '<img src="/Query.png?B=2&amp;a=1&amp;jsessionid=1">'
                                               "</article></body></html>"))
        capture_twice(home, [site.post_url, changing.post_url, odd_post])
        changing.state.a_moved, changing.state.b_status = True, 404
        opened = open_collection(resolve({"home": home, "allow_private": True}), mode="write")
        recrawl(collection=opened, urls=[changing.post_url, changing.a_url, changing.b_url, changing.etag_url],
                command="test", stop=threading.Event())
    finally:
        changing.close()
        odd.close()
    yield opened
    opened.close()


def cdxj_indexer(collection, *options: str) -> list[str]:
    files = sorted(str(path) for path in collection.snapshots.glob("*.warc.gz"))
    done = subprocess.run([tool("cdxj-indexer"), *options, *files], capture_output=True, text=True, check=True)
    return done.stdout.splitlines(keepends=True)


def key_fields(line: str) -> dict[str, str]:
    urlkey, timestamp, data = line.rstrip("\n").split(" ", 2)
    fields = json.loads(data)
    return {"urlkey": urlkey, "timestamp": timestamp, **{name: fields.get(name) for name in KEY_FIELDS[2:]}}


def test_the_collection_has_what_the_comparison_needs(collection):
    """Responses, both kinds of revisit, redirects, a 404, odd answers captured twice, and records
    cdxj-indexer leaves out."""
    records = collection.catalogue.rows(cat.records)
    profiles = {row["revisit_profile"].rsplit("/", 1)[-1] for row in records if row["record_type"] == "revisit"}
    assert profiles == {"identical-payload-digest", "server-not-modified"}
    statuses = {row["http_status"] for row in records if row["record_type"] == "response"}
    assert {200, 299, 301, 404} <= statuses
    captured = [row["target_uri"].split("/", 3)[-1] for row in records if row["record_type"] in ("response", "revisit")]
    assert {path: captured.count(path[1:]) for path in ODD} == {path: 2 for path in ODD}
    assert {"warcinfo", "request", "metadata"} <= {row["record_type"] for row in records}


def test_cdxj_is_what_cdxj_indexer_writes_sorted_byte_for_byte(collection):
    ours = list(cdxj_lines(collection, Query()))
    theirs = cdxj_indexer(collection, "--sort")
    assert len(ours) == len(theirs) > 0
    for mine, reference in zip(ours, theirs, strict=True):
        assert key_fields(mine) == key_fields(reference)
    assert ours == theirs  # the whole line, order included


def test_cdxj_lists_the_records_cdxj_indexer_lists_unsorted_too(collection):
    ours = list(cdxj_lines(collection, Query()))
    theirs = cdxj_indexer(collection)
    assert ours != theirs and sorted(theirs) == ours


def test_cdxj_covers_every_response_and_revisit_and_nothing_else(collection):
    records = collection.catalogue.rows(cat.records)
    files = {row["id"]: row["filename"] for row in collection.catalogue.rows(cat.warc_files)}
    wanted = sorted((files[row["warc_file_id"]], str(row["offset"]), str(row["length"])) for row in records
                    if row["record_type"] in ("response", "revisit"))
    listed = sorted((fields["filename"], fields["offset"], fields["length"])
                    for fields in map(key_fields, cdxj_lines(collection, Query())))
    assert listed == wanted


def test_a_304s_revisit_is_listed_as_the_response_it_confirms_for_replay(collection, site):
    """Its block holds the original's status line and it carries the original's payload digest, as
    pywb and wabac.js need to resolve it; the catalogue keeps the 304 and its metadata record stays out."""
    records = collection.catalogue.rows(cat.records)
    by_id = {row["id"]: row for row in records}
    [confirmed] = [row for row in records if row["http_status"] == 304]
    original = by_id[confirmed["revisit_of_id"]]
    lines = [line for line in cdxj_lines(collection, Query(url=confirmed["target_uri"]))
             if key_fields(line)["offset"] == str(confirmed["offset"])]
    assert [json.loads(line.split(" ", 2)[2]) | {"offset": None, "length": None, "filename": None}
            for line in lines] == [{"url": confirmed["target_uri"], "mime": "warc/revisit", "status": "200",
                                    "digest": original["payload_digest"], "offset": None, "length": None,
                                    "filename": None}]


def test_a_query_gives_the_lines_of_its_records(collection, site):
    theirs = cdxj_indexer(collection, "--sort")
    post = [line for line in theirs if json.loads(line.split(" ", 2)[2])["url"] == site.post_url]
    assert len(post) == 2
    assert list(cdxj_lines(collection, Query(url=site.post_url))) == post
    revisits = [line for line in theirs if '"mime": "warc/revisit"' in line]
    assert list(cdxj_lines(collection, Query(types=("revisit",)))) == revisits
    embeds = list(cdxj_lines(collection, Query(roles=("embed",))))
    assert embeds and set(embeds) < set(theirs)


def test_cdxj_refuses_types_cdxj_indexer_never_indexes():
    with pytest.raises(InputError, match="--type request: CDXJ lists response, revisit, resource, metadata"):
        cdxj_query(Query(types=("revisit", "request")))
    assert cdxj_query(Query()).types == ("response", "revisit", "resource", "metadata")


def test_sorting_past_the_buffer_spills_runs_and_merges_them(collection, monkeypatch):
    runs = []
    real = tempfile.TemporaryFile

    def counted(*args, **kwargs):
        runs.append(real(*args, **kwargs))
        return runs[-1]

    monkeypatch.setattr(tempfile, "TemporaryFile", counted)
    spilled = list(cdxj_lines(collection, Query(), sort_buffer=4000))
    assert len(runs) > 5 and all(run.closed for run in runs)
    assert spilled == cdxj_indexer(collection, "--sort")


def test_sorted_lines_drop_repeats_as_cdxj_indexer_does():
    lines = ["b 1 {}\n", "a 2 {}\n", "b 1 {}\n", "c 0 {}\n"]
    assert list(sorted_lines(lines, buffer=1)) == list(sorted_lines(lines, buffer=10**6)) == [
        "a 2 {}\n", "b 1 {}\n", "c 0 {}\n"]


def test_url_key_is_surt_and_the_url_where_surt_fails():
    assert url_key("http://WWW.Example.com:80/A?b=2&a=1") == "com,example)/a?a=1&b=2"
    assert url_key(None) == "-"
    assert url_key("http://x.example/\udcff") == "http://x.example/\udcff"  # cannot be UTF-8: surt fails


def test_rows_are_the_catalogue_joined_with_file_event_and_original(collection):
    exported = list(rows(collection, Query()))
    records = collection.catalogue.rows(cat.records)
    assert [row["record_id"] for row in exported] == [
        row["warc_record_id"] for row in sorted(records, key=lambda row: (row["warc_file_id"], row["offset"]))]
    assert all(tuple(row) == FIELDS for row in exported)
    events = {row["id"]: row["uuid"] for row in collection.catalogue.rows(cat.capture_events)}
    by_pk = {row["id"]: row for row in records}
    for row, record in zip(exported, sorted(records, key=lambda row: (row["warc_file_id"], row["offset"])),
                           strict=True):
        assert row["capture_id"] == events[record["capture_event_id"]]
        assert row["warc_date"] == record["warc_date"].isoformat()
        assert (row["offset"], row["length"], row["payload_digest"]) == (
            record["offset"], record["length"], record["payload_digest"])
        original = by_pk.get(record["revisit_of_id"])
        assert row["revisit_of"] == (original["warc_record_id"] if original else None)
        assert row["http_headers"] == (json.loads(record["http_headers"]) if record["http_headers"] else None)


def test_rows_filtered_by_url_time_role_and_type(collection, site):
    records = collection.catalogue.rows(cat.records)
    middle = sorted(row["warc_date"] for row in records)[len(records) // 2]
    assert {row["record_id"] for row in rows(collection, Query(since=middle))} == {
        row["warc_record_id"] for row in records if row["warc_date"] >= middle}
    assert {row["record_id"] for row in rows(collection, Query(until=middle))} == {
        row["warc_record_id"] for row in records if row["warc_date"] <= middle}
    post = list(rows(collection, Query(url=site.post_url, types=("response", "revisit"), roles=("post",))))
    assert [row["record_type"] for row in post] == ["response", "revisit"]


def test_json_streams_an_array_and_lines(collection):
    exported = list(rows(collection, Query()))
    out = io.StringIO()
    assert write_json(iter(exported), out) == len(exported)
    assert json.loads(out.getvalue()) == exported
    assert out.getvalue().startswith("[\n{") and out.getvalue().endswith("}\n]\n")
    out = io.StringIO()
    write_json(iter(exported), out, lines=True)
    assert [json.loads(line) for line in out.getvalue().splitlines()] == exported
    out = io.StringIO()
    assert write_json(iter([]), out) == 0 and out.getvalue() == "[]\n"


def test_csv_has_a_header_and_every_row(collection):
    exported = list(rows(collection, Query()))
    out = io.StringIO()
    assert write_csv(iter(exported), out) == len(exported)
    read = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(read) == len(exported)
    for parsed, row in zip(read, exported, strict=True):
        assert parsed["record_id"] == row["record_id"] and parsed["offset"] == str(row["offset"])
        assert parsed["http_status"] == ("" if row["http_status"] is None else str(row["http_status"]))
        assert json.loads(parsed["http_headers"] or "null") == row["http_headers"]
    out = io.StringIO()
    write_csv(iter([]), out)
    assert out.getvalue() == ",".join(FIELDS) + "\n"


def test_an_unknown_url_is_an_input_error(collection):
    with pytest.raises(InputError, match=r"^http://x.example/never: not in the catalogue"):
        require_url(collection, "http://x.example/never")


def test_missing_and_truncated_files_are_found_without_reading_them(collection, tmp_path):
    home = tmp_path / "copy"
    shutil.copytree(collection.settings.home, home)
    copy = open_collection(resolve({"home": home}), mode="write")
    try:
        assert file_problems(copy, Query()) == []
        files = copy.catalogue.rows(cat.warc_files)
        gone, cut = (home / files[0]["path"]), (home / files[1]["path"])
        gone.unlink()
        size = cut.stat().st_size
        with open(cut, "r+b") as fh:
            fh.truncate(size - 10)
        problems = {problem.filename: problem for problem in file_problems(copy, Query())}
        assert set(problems) == {files[0]["filename"], files[1]["filename"]}
        assert problems[files[0]["filename"]].size is None
        assert str(problems[files[0]["filename"]]).endswith(" is missing (%d catalogued records)"
                                                           % problems[files[0]["filename"]].records)
        assert (problems[files[1]["filename"]].size, problems[files[1]["filename"]].end) == (size - 10, size)
        # only the files of the records asked about count: each warcinfo record is at the start of its file
        [problem] = file_problems(copy, Query(types=("warcinfo",)))
        assert (problem.filename, problem.records, problem.size) == (files[0]["filename"], 1, None)
    finally:
        copy.close()


def test_a_response_that_is_not_http_is_the_one_difference(tmp_path):
    """Where the status line could not be parsed archiver writes no WARC-Payload-Digest, and cdxj-indexer
    computes a sha1 of bytes the catalogue does not hold (and takes a word of the line as the status):
    that line has the same key, time and place, without status and digest."""
    server = ScriptedServer()

    def garbage(request) -> None:
        request.wfile.write(b"NOT HTTP AT ALL\r\n\r\n")
        request.close_connection = True

    try:
        broken = server.route("/garbage.png", garbage)
        post = server.route("/post.html", page(f'<html><body><article><p>A post.</p><img src="{broken}">'
                                               "</article></body></html>"))
        opened = open_collection(resolve({"home": tmp_path, "allow_private": True}), mode="write")
        try:
            capture([post], collection=opened, command="test")
            ours = list(cdxj_lines(opened, Query()))
        finally:
            opened.close()
    finally:
        server.close()
    theirs = cdxj_indexer(opened, "--sort")
    [(mine, reference)] = [(a, b) for a, b in zip(ours, theirs, strict=True) if a != b]
    assert {**key_fields(mine), "digest": None} == {**key_fields(reference), "digest": None}
    assert key_fields(mine)["digest"] is None and key_fields(reference)["digest"].startswith("sha1:")
    assert json.loads(mine.split(" ", 2)[2]) == {
        key: value for key, value in json.loads(reference.split(" ", 2)[2]).items() if key not in ("status", "digest")}
