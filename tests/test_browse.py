"""archiver.browse: the canned queries against real catalogues, and Datasette serving them read-only."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import re
import sqlite3
import threading

import pytest
import sqlalchemy as sa

from archiver import catalogue as cat
from archiver.capture import capture, recrawl
from archiver.collection import open_collection
from archiver.config import resolve
from archiver.query import _browse as browse
from archiver.query import changes_since, dead_citations, history
from archiver.warc import read_record

from .changing_site import ChangingSite


@pytest.fixture(scope="module")
def changed(tmp_path_factory):
    """A post captured, then re-crawled after it was edited, one citation died (404) and one moved (301)."""
    site = ChangingSite()
    home = tmp_path_factory.mktemp("browse") / "collection"
    collection = open_collection(resolve({"home": home, "allow_private": True}), mode="write")
    try:
        capture([site.post_url], collection=collection, command="test")
        site.state.dead, site.state.b_status, site.state.a_moved = 46, 404, True
        recrawl(collection=collection, urls=[site.post_url], command="test", stop=threading.Event())
        yield site, collection
    finally:
        collection.close()
        site.close()


def run(collection, name: str, **params) -> list[dict]:
    """A canned query run with sqlite3 straight against the catalogue file."""
    with contextlib.closing(browse.connect_read_only(browse.catalogue_file(collection.settings.db_url))) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute(browse.QUERIES[name]["sql"], params)]


def moment(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def test_history_query_is_archiver_history(changed):
    site, collection = changed
    for url in (site.post_url, site.b_url, site.cited.base + "/2015/a.html"):
        rows = run(collection, "history", url=url)
        expected = history(collection.catalogue, url)
        assert [{**row, "captured_at": moment(row["captured_at"]), "changed": bool(row["changed"])} for row in rows] \
            == [{**row, "captured_at": moment(row["captured_at"])} for row in expected]
    assert [row["change"] for row in run(collection, "history", url=site.post_url)] == ["new", "edited"]
    assert run(collection, "history", url=site.blog.base + "/never-captured") == []


def test_changes_query_is_archiver_changes(changed):
    site, collection = changed
    every = changes_since(collection.catalogue)
    assert {(item["url"], item["change"]) for item in every} == {
        (site.post_url, "edited"), (site.b_url, "gone"), (site.a_url, "moved")}
    sinces = [("", None), ("2999-01-01", dt.datetime(2999, 1, 1, tzinfo=dt.timezone.utc))]
    for item in every:  # whole milliseconds: the precision of SQLite's time functions
        at = dt.datetime.fromisoformat(item["at"])
        at += dt.timedelta(microseconds=-at.microsecond % 1000)
        sinces += [(at.isoformat(), at), (at.isoformat().replace("+00:00", "Z"), at),
                   (at.astimezone(dt.timezone(dt.timedelta(hours=2))).isoformat(), at)]
    for since, when in sinces:
        assert [as_change(row) for row in run(collection, "changes", since=since)] == [
            as_change(item) for item in changes_since(collection.catalogue, when)], since
    [edited] = [row for row in run(collection, "changes", since="") if row["change"] == "edited"]
    assert edited["record_id"] != edited["previous_record_id"] and edited["capture_id"]


def as_change(item: dict) -> dict:
    """A row of the changes query, or an item of archiver.history.changes_since, in one shape."""
    if "citing" in item and isinstance(item["citing"], str):  # the query's row
        last_good = ({"captured_at": item["last_good_at"], "record_id": item["last_good_record_id"]}
                     if item["change"] == "gone" else None)
        item = {key: item[key] for key in ("url", "at", "change", "http_status")} | {
            "citing": json.loads(item["citing"]), "parts": json.loads(item["parts"]), "last_good": last_good}
    last_good = item.get("last_good")
    return {**item, "at": moment(item["at"]), "last_good": last_good and {
        **last_good, "captured_at": moment(last_good["captured_at"])}}


def test_dead_citations_query_lists_the_gone_citation_with_its_last_good_capture(changed):
    site, collection = changed
    newest_post = max(row["id"] for row in collection.catalogue.rows(cat.documents,
                                                                     cat.documents.c.url == site.post_url))
    [expected] = dead_citations(collection.catalogue, newest_post)
    [row] = run(collection, "dead_citations")
    assert (row["url"], moment(row["gone_since"]), json.loads(row["citing"]), row["http_status"]) == (
        site.b_url, moment(expected["since"]), [site.post_url], 404)
    assert (moment(row["last_good_at"]), row["last_good_record_id"]) == (
        moment(expected["last_good"]["captured_at"]), expected["last_good"]["record_id"])


def test_a_dead_citation_is_dead_since_its_first_failed_check_after_the_last_good_one(tmp_path):
    site = ChangingSite()
    collection = open_collection(resolve({"home": tmp_path / "collection", "allow_private": True}), mode="write")
    try:
        capture([site.post_url], collection=collection, command="test")
        for status in (404, 500, 404):  # gone, failed (transient), gone again: one run of failures
            site.state.b_status = status
            recrawl(collection=collection, urls=[site.post_url], command="test", stop=threading.Event())
        checks = [row for row in collection.catalogue.rows(cat.changes, cat.changes.c.url == site.b_url)]
        assert [row["change"] for row in checks] == ["new", "gone", "failed", "gone"]
        newest_post = max(row["id"] for row in collection.catalogue.rows(cat.documents,
                                                                         cat.documents.c.url == site.post_url))
        [dead] = dead_citations(collection.catalogue, newest_post)
        [row] = run(collection, "dead_citations")
    finally:
        collection.close()
        site.close()
    first_failure = checks[1]["at"].replace(tzinfo=dt.timezone.utc)
    assert (dead["url"], moment(dead["since"])) == (site.b_url, first_failure)
    assert (row["url"], moment(row["gone_since"])) == (site.b_url, first_failure)


def test_provenance_query_traces_a_moved_citation_to_its_bytes_fetch_and_capture(changed):
    site, collection = changed
    final = site.cited.base + "/2015/a.html"
    [taken] = history(collection.catalogue, final)
    [row] = run(collection, "provenance", record_id=taken["record_id"])
    assert run(collection, "provenance", record_id=taken["record_id"].strip("<>")) == [row]
    assert (row["record_id"], row["record_type"], row["target_uri"], row["warc_file"], row["offset"]) == (
        taken["record_id"], "revisit", final, taken["warc_file"], taken["offset"])
    assert json.loads(row["redirect_chain"]) == [{"url": site.a_url, "http_status": 301},
                                                 {"url": final, "http_status": 200}]
    assert (row["parent_url"], row["parent_role"], row["fetch_url"], row["fetch_outcome"], row["link_kind"],
            row["link_tag"]) == (site.post_url, "post", final, "captured", "citation", "a")
    [event] = [e for e in collection.catalogue.rows(cat.capture_events) if e["uuid"] == taken["capture_id"]]
    assert {key: row[key] for key in ("capture_id", "tool", "tool_version", "operator", "hostname", "command")} == {
        "capture_id": event["uuid"], "tool": event["tool"], "tool_version": event["tool_version"],
        "operator": event["operator"], "hostname": event["hostname"], "command": "test"}
    assert (moment(row["capture_started_at"]), moment(row["capture_ended_at"])) == (event["started_at"],
                                                                                    event["ended_at"])
    path = collection.resolve(row["warc_path"])
    assert read_record(path, row["offset"]).record_id == row["record_id"]
    request = read_record(path, row["request_offset"])
    assert (request.record_id, request.record_type, request.headers["WARC-Concurrent-To"]) == (
        row["request_record_id"], "request", row["record_id"])
    assert row["revisit_of"] == history(collection.catalogue, site.a_url)[0]["record_id"]
    assert run(collection, "provenance", record_id="<urn:uuid:00000000-0000-0000-0000-000000000000>") == []


def test_history_and_provenance_look_records_up_by_index(changed):
    _, collection = changed
    with contextlib.closing(browse.connect_read_only(browse.catalogue_file(collection.settings.db_url))) as db:
        for name in ("history", "provenance"):
            plan = [row[3] for row in db.execute("explain query plan " + browse.QUERIES[name]["sql"],
                                                 {"url": "x", "record_id": "x"})]
            scans = [step for step in plan if step.startswith("SCAN ")
                     and not re.fullmatch(r"SCAN (chain|\(subquery-\d+\))", step)]
            assert scans == [], (name, plan)


def test_every_query_runs_on_an_empty_catalogue_and_every_table_is_described(tmp_path):
    catalogue = cat.Catalogue.open(f"sqlite:///{tmp_path / 'archiver.db'}")
    catalogue.close()
    path = browse.catalogue_file(f"sqlite:///{tmp_path / 'archiver.db'}")
    with contextlib.closing(browse.connect_read_only(path)) as db:
        for query in browse.QUERIES.values():
            assert db.execute(query["sql"], {"url": "", "since": "", "record_id": ""}).fetchall() == []
        tables = {row[0] for row in db.execute("select name from sqlite_master where type = 'table' "
                                               "and name not like 'documents_fts_%'")}
    assert tables == set(browse.TABLES) == set(cat.metadata.tables) | {cat.FTS_TABLE, "alembic_version"}
    assert all(table["description"] for table in browse.TABLES.values())


def test_datasette_serves_the_queries_and_cannot_write(changed):
    site, collection = changed
    path = browse.catalogue_file(collection.settings.db_url)
    app = browse.datasette(catalogue=path)
    before = counts(collection)

    async def scenario():
        listed = (await app.client.get("/-/databases.json")).json()
        served = (await app.client.get("/archiver/history.json", params={"url": site.post_url, "_shape": "array"}))
        sneaked = await app.client.get("/archiver.json", params={
            "sql": "with x as (select 1) insert into schedules (url, interval_seconds, next_due_at, enabled, "
                   "created_at) select 'http://x.example/', 60, '2026-01-01', 1, '2026-01-01' from x"})
        with pytest.raises(sqlite3.OperationalError, match="attempt to write a readonly database"):
            await app.get_database(browse.DATABASE).execute_write("delete from records")
        return listed, served.json(), sneaked

    listed, rows, sneaked = asyncio.run(scenario())
    assert [(db["name"], db["path"]) for db in listed] == [("archiver", str(path))]
    assert rows == run(collection, "history", url=site.post_url)
    assert (sneaked.status_code, sneaked.json()["error"]) == (400, "attempt to write a readonly database")
    assert counts(collection) == before


def counts(collection) -> dict[str, int]:
    with collection.catalogue.reader() as reader:
        return {name: reader.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                for name, table in cat.metadata.tables.items()}


def test_browsing_sees_each_transaction_committed_while_the_catalogue_is_written(tmp_path):
    url = f"sqlite:///{tmp_path / 'archiver.db'}"
    cat.Catalogue.open(url).close()  # the schema checkpointed into the main file
    catalogue = cat.Catalogue.open(url)
    path = browse.catalogue_file(url)
    app = browse.datasette(catalogue=path)
    query = {"sql": "select count(*) as n from schedules", "_shape": "array"}
    with catalogue.engine.connect() as writer:  # held open, so the WAL is not checkpointed on close
        writer.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
        writer.commit()
        for n in (1, 2):
            with writer.begin():
                writer.execute(cat.schedules.insert().values(
                    url=f"http://x.example/{n}", interval_seconds=60, enabled=True,
                    next_due_at=dt.datetime.now(dt.timezone.utc), created_at=dt.datetime.now(dt.timezone.utc)))
            assert asyncio.run(app.client.get("/archiver.json", params=query)).json() == [{"n": n}]
        # what Datasette's immutable mode would have shown: the main file alone, without the WAL
        with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?immutable=1", uri=True)) as immutable:
            assert immutable.execute("select count(*) from schedules").fetchone() == (0,)
    catalogue.close()
