"""Fixity checks on real captures of the sample site, damaged in copies the way disks and people damage them."""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import io
import os
import random
import shutil
import socket
import struct
import zlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from warcio.warcwriter import WARCWriter

from archiver import Settings, __version__, open_collection
from archiver import catalogue as cat
from archiver.capture import capture
from archiver.errors import CatalogueError, InputError, StoreError
from archiver.query import Scope, check, parse_targets, run_fixity
from archiver.warc import Unreadable, WarcWriter, walk_records
from archiver.warc._reader import _FIRST_READ

from .test_warc import WARCINFO, resource


@pytest.fixture(scope="module", name="captured")
def captured_fixture(site, tmp_path_factory):
    """A collection holding one capture of the sample site (test_cli_verify uses it too)."""
    home = tmp_path_factory.mktemp("captured")
    collection = open_collection(Settings(home=home, allow_private=True, operator="tester"), mode="write")
    try:
        capture([site.post_url], collection=collection, command="archiver capture test")
    finally:
        collection.close()
    return home


@pytest.fixture(name="home")
def home_fixture(captured, tmp_path):
    """A copy of that collection, to damage."""
    return Path(shutil.copytree(captured, tmp_path / "copy"))


def rows(home: Path, table: sa.Table, *where) -> list[dict]:
    catalogue = cat.Catalogue.open(f"sqlite:///{home / 'archiver.db'}")
    try:
        return catalogue.rows(table, *where)
    finally:
        catalogue.close()


def the_warc(home: Path) -> tuple[dict, Path]:
    [row] = rows(home, cat.warc_files)
    return row, home / row["path"]


def post_response(home: Path, site) -> dict:
    [row] = rows(home, cat.records, cat.records.c.target_uri == site.post_url,
                 cat.records.c.record_type == "response")
    return row


def verify(home: Path, scope: Scope | None = None, *, db: str | None = None):
    collection = open_collection(Settings(home=home, db=db, operator="checker"), mode="append")
    try:
        return run_fixity(collection, scope=scope or Scope(), command="archiver verify test")
    finally:
        collection.close()


def failures(result) -> list[tuple]:
    return [(f.reason, f.record_id, f.offset) for f in result.failures]


def deflate(data: bytes, level: int) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()


def flip_payload_byte(path: Path, offset: int, length: int) -> int:
    """Flip one bit of a byte of the HTTP body inside the gzip member at ``offset``, and write the
    member back recompressed as archiver compressed it (the level that gives back the very same
    member) to exactly its old length, so the gzip stays valid and every offset stays right: only
    the digests can tell. Returns the body position flipped."""
    data = path.read_bytes()
    original = data[offset:offset + length]
    raw = zlib.decompress(original, 31)
    [level] = [level for level in (6, 1) if deflate(raw, level) == original][:1]
    body = raw.index(b"\r\n\r\n", raw.index(b"\r\n\r\n") + 4) + 4
    for position in range(body, len(raw) - 4):
        changed = bytearray(raw)
        changed[position] ^= 0x01
        member = deflate(bytes(changed), level)
        if len(member) == length:
            path.write_bytes(data[:offset] + member + data[offset + length:])
            return position - body
    raise AssertionError("no byte of the body recompresses to the same length")


def resize_member(path: Path, offset: int, length: int, by: int, *, same_bytes: bool) -> None:
    """Write the gzip member at ``offset`` back ``by`` bytes longer (shorter if negative), so that every
    record after it is that far from its catalogued offset. ``same_bytes``: the member still decodes to
    the very same record (a file name in its gzip header, ``by`` > 0); else a byte of the body is
    changed (``by`` > 0) or bytes of the body are cut (``by`` < 0) until it compresses to that length."""
    data = path.read_bytes()
    raw = zlib.decompress(data[offset:offset + length], 31)
    body = raw.index(b"\r\n\r\n", raw.index(b"\r\n\r\n") + 4) + 4
    if same_bytes:
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        member = (bytes([0x1F, 0x8B, 8, 8, 0, 0, 0, 0, 0, 0xFF]) + b"x" * (by - 1) + b"\0"  # FNAME: by bytes
                  + compressor.compress(raw) + compressor.flush() + struct.pack("<II", zlib.crc32(raw), len(raw)))
        candidates = [member]
    elif by > 0:
        candidates = (deflate(raw[:at] + bytes([raw[at] ^ 0x01]) + raw[at + 1:], 6) for at in range(body, len(raw)))
    else:
        candidates = (deflate(raw[:at] + raw[at + cut:], 6) for cut in range(1, 200) for at in range(body, body + 50))
    member = next(member for member in candidates if len(member) == length + by)
    path.write_bytes(data[:offset] + member + data[offset + length:])


def cut_short(home: Path, divisor: int) -> tuple[dict, int, list[dict]]:
    """Truncate the collection's WARC to 1/divisor of its size: (its row, the new size, its records by offset)."""
    warc, path = the_warc(home)
    cut = warc["size"] // divisor
    with open(path, "r+b") as fh:
        fh.truncate(cut)
    return warc, cut, sorted(rows(home, cat.records), key=lambda r: r["offset"])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- intact ---------------------------------------------------------------------------------


def test_an_intact_collection_passes_and_the_run_is_recorded(home):
    [warc], all_records = rows(home, cat.warc_files), rows(home, cat.records)
    result = verify(home)
    assert (result.result, result.failures) == ("pass", [])
    assert (result.files_checked, result.records_checked, result.bytes_read) == (1, len(all_records), warc["size"])
    [event] = rows(home, cat.fixity_events)
    assert event["id"] == result.fixity_event_id
    assert {key: event[key] for key in ("result", "scope", "files_checked", "records_checked", "bytes_read",
                                        "failures", "report", "tool_version", "hostname", "operator", "command")} == {
        "result": "pass", "scope": '{"everything": true}', "files_checked": 1, "records_checked": len(all_records),
        "bytes_read": warc["size"], "failures": 0,
        "report": '{"failures": [], "failures_total": 0, "truncated": false}', "tool_version": __version__,
        "hostname": socket.gethostname(), "operator": "checker", "command": "archiver verify test"}
    assert event["started_at"] <= event["ended_at"]


def test_the_check_streams_one_finding_per_record_and_per_file(home):
    all_records = rows(home, cat.records)
    collection = open_collection(Settings(home=home), mode="append")
    try:
        findings = check(collection)
        first = next(findings)
        assert (first.kind, first.offset, first.ok) == ("record", 0, True)  # the warcinfo record, before the rest
        rest = list(findings)
    finally:
        collection.close()
    assert [f.record_id for f in [first, *rest] if f.kind == "record"] == [
        r["warc_record_id"] for r in sorted(all_records, key=lambda r: r["offset"])]
    assert [(f.kind, f.ok) for f in rest[-1:]] == [("file", True)]


class ShortReads(io.RawIOBase):
    """A file read a few bytes a call, as a pipe or a socket may return them."""

    def __init__(self, path: Path, size: int) -> None:
        self.fh, self.size = open(path, "rb"), size

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self.fh.read(self.size if size < 0 else min(size, self.size))

    def tell(self) -> int:
        return self.fh.tell()

    def close(self) -> None:
        self.fh.close()


@pytest.mark.parametrize("size", [7, 4096])
def test_digests_hold_when_reads_come_back_short(home, size):
    """warcio can end an HTTP header line at a buffer boundary when compressed bytes inflate to nothing;
    the line must be joined again, or the blank line after the headers is taken for payload."""
    _, path = the_warc(home)
    with open(path, "rb") as fh:
        whole = list(walk_records(fh))
    with ShortReads(path, size) as stream:
        short = list(walk_records(stream))
    assert short == whole
    assert [item.record_id for item in short
            if not (item.block_digest_ok and item.payload_digest_ok is not False)] == []


# -- damaged bytes ------------------------------------------------------------------------------


def test_one_byte_flipped_inside_a_payload_names_that_record(home, site):
    warc, path = the_warc(home)
    post = post_response(home, site)
    flip_payload_byte(path, post["offset"], post["length"])
    assert path.stat().st_size == warc["size"]
    result = verify(home)
    assert result.result == "fail"
    assert failures(result) == [("tampered", post["warc_record_id"], post["offset"]), ("file-changed", None, None)]
    tampered, changed = result.failures
    assert (tampered.target_uri, tampered.file) == (site.post_url, warc["path"])
    assert tampered.detail == ("block sha256 differs from the catalogue's; block does not match its "
                               "WARC-Block-Digest; payload sha256 differs from the catalogue's; payload does not "
                               "match its WARC-Payload-Digest")
    assert changed.detail == f"sha256 {sha256(path)[:16]}…, catalogued {warc['sha256'][:16]}…"
    assert result.records_checked == len(rows(home, cat.records))  # every other record was still read


def flip_compressed_byte(path: Path, offset: int, length: int) -> None:
    """Flip a byte in the middle of the gzip member at ``offset``: it no longer decompresses."""
    data = bytearray(path.read_bytes())
    data[offset + length // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_byte_flipped_in_the_compressed_data_names_that_record_and_the_rest_are_read(home, site):
    _, path = the_warc(home)
    post = post_response(home, site)
    flip_compressed_byte(path, post["offset"], post["length"])
    result = verify(home)
    assert failures(result) == [("unreadable", post["warc_record_id"], post["offset"]), ("file-changed", None, None)]
    assert result.failures[0].detail == "a gzip member that does not decompress (damaged data)"
    assert result.records_checked == len(rows(home, cat.records))


def test_damage_deep_in_a_large_member_is_caught_not_printed(tmp_path, capfd):
    writer = WarcWriter(tmp_path, warcinfo_fields=WARCINFO)
    large = writer.write(resource(os.urandom(100_000)))
    after = writer.write(resource(b"after"))
    writer.close()
    path = writer.files[0].path
    data = bytearray(path.read_bytes())
    data[large.offset + 60_000] ^= 0xFF  # past warcio's first read of the member
    path.write_bytes(bytes(data))
    with open(path, "rb") as fh:
        items = list(walk_records(fh))
    assert [type(item) for item in items] == [type(items[0]), Unreadable]
    assert items[1] == Unreadable(offset=large.offset, detail="Error -3 while decompressing data: incorrect data check")
    assert capfd.readouterr().err == ""  # warcio's complaint was caught, not printed
    with open(path, "rb") as fh:
        fh.seek(after.offset)
        [last] = list(walk_records(fh))
    assert (last.offset, last.content_length, last.block_digest_ok) == (after.offset, 5, True)


def test_a_header_field_changed_is_caught_though_no_digest_covers_it(home, site):
    _, path = the_warc(home)
    post = post_response(home, site)
    data = path.read_bytes()
    raw = zlib.decompress(data[post["offset"]:post["offset"] + post["length"]], 31)
    changed = raw.replace(site.post_url.encode(), site.post_url.replace("offensive", "Offensive").encode(), 1)
    member = deflate(changed, 6)
    path.write_bytes(data[:post["offset"]] + member + data[post["offset"] + post["length"]:])
    result = verify(home, parse_targets([site.post_url]))
    [tampered] = [f for f in result.failures if f.record_id == post["warc_record_id"]]
    assert tampered.reason == "tampered"
    assert "header fields differ from the catalogue: WARC-Target-URI" in tampered.detail
    assert "sha256" not in tampered.detail  # block and payload are intact


@pytest.mark.parametrize(("by", "same_bytes", "detail"), [
    (5, True, "{length} bytes long, catalogued {catalogued}"),
    (5, False, "{length} bytes long, catalogued {catalogued}; block sha256 differs from the catalogue's; block does "
               "not match its WARC-Block-Digest; payload sha256 differs from the catalogue's; payload does not "
               "match its WARC-Payload-Digest"),
    (-5, False, "{length} bytes long, catalogued {catalogued}; "),  # then what the cut bytes undid: it depends
], ids=["longer-same-record", "longer-changed-record", "shorter-cut-record"])
def test_a_member_rewritten_to_another_length_is_reported_once_and_the_shift_once(home, site, by, same_bytes, detail):
    """The records after a member that changed length are intact, only ``by`` bytes from their catalogued
    offsets: one ``shifted`` finding with their count, not a not-found and an orphan for each. A member
    recompressed to the very same record is tampered all the same (the catalogue's length is wrong),
    with nothing but its length to tell."""
    warc, path = the_warc(home)
    post = post_response(home, site)
    records = sorted(rows(home, cat.records), key=lambda r: r["offset"])
    after = [r for r in records if r["offset"] > post["offset"]]
    resize_member(path, post["offset"], post["length"], by, same_bytes=same_bytes)
    result = verify(home)
    assert result.result == "fail"
    assert failures(result) == [("tampered", post["warc_record_id"], post["offset"]),
                                ("shifted", after[0]["warc_record_id"], after[0]["offset"]),
                                ("file-changed", None, None)]
    expected = detail.format(length=post["length"] + by, catalogued=post["length"])
    tampered = result.failures[0].detail
    assert tampered.startswith(expected) if expected.endswith("; ") else tampered == expected
    assert result.failures[1].detail == (f"this record and the {len(after) - 1} after it are intact at their "
                                         f"catalogued offset {by:+d}")
    assert result.failures[2].detail.startswith(f"{warc['size'] + by} bytes, catalogued {warc['size']}; sha256 ")
    assert result.records_checked == len(records)


def test_a_truncated_file_names_every_record_lost(home):
    warc, cut, all_records = cut_short(home, 2)
    lost = [(r["warc_record_id"], r["offset"]) for r in all_records if r["offset"] + r["length"] > cut]
    assert len(lost) > 10
    result = verify(home)
    assert [(f.record_id, f.offset) for f in result.failures if f.reason == "lost"] == lost
    assert {f.reason for f in result.failures} == {"lost", "file-changed"}
    straddling = next(f for f in result.failures if f.reason == "lost")
    assert straddling.detail.startswith("cut off: ") and straddling.offset < cut
    assert result.failures[-1].detail.startswith(f"{cut} bytes, catalogued {warc['size']}; sha256 ")


def test_a_deleted_file_is_missing(home):
    warc, path = the_warc(home)
    path.unlink()
    result = verify(home)
    count = len(rows(home, cat.records))
    assert [(f.reason, f.file, f.detail) for f in result.failures] == [
        ("missing", warc["path"], f"the file is gone ({count} catalogued records)")]
    assert (result.files_checked, result.records_checked) == (1, 0)


def test_a_file_moved_within_the_collection_is_found_and_checked_there(home):
    warc, path = the_warc(home)
    (home / "elsewhere").mkdir()
    path.rename(home / "elsewhere" / path.name)
    result = verify(home)
    assert [(f.reason, f.file, f.detail) for f in result.failures] == [
        ("moved", f"elsewhere/{path.name}", f"catalogued at {warc['path']}")]
    assert result.records_checked == len(rows(home, cat.records))


def test_a_moved_file_that_changed_is_missing(home):
    _, path = the_warc(home)
    (home / "elsewhere").mkdir()
    with open(path, "ab") as fh:
        fh.write(b"\r\n")
    path.rename(home / "elsewhere" / path.name)
    assert [f.reason for f in verify(home).failures] == ["missing"]


def test_a_record_appended_by_another_tool_is_an_orphan(home):
    warc, path = the_warc(home)
    with open(path, "ab") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="1.1")
        record = writer.create_warc_record("http://other.example/note", "resource", payload=io.BytesIO(b"a note"),
                                           warc_content_type="text/plain")
        writer.write_record(record)
    orphan_id = record.rec_headers.get_header("WARC-Record-ID")
    result = verify(home)
    assert failures(result) == [("orphan", orphan_id, warc["size"]), ("file-changed", None, None)]
    assert result.failures[0].target_uri == "http://other.example/note"
    assert result.failures[0].detail == "a resource record the catalogue does not know"
    assert result.records_checked == len(rows(home, cat.records))  # orphans are not catalogued records


def test_files_the_catalogue_does_not_know_and_files_left_open(home, tmp_path):
    _, path = the_warc(home)
    snapshots = home / "snapshots"
    shutil.copy(path, snapshots / "other-00001.warc.gz")
    (snapshots / "killed-00002.warc.gz.open").write_bytes(path.read_bytes()[:100])
    running = snapshots / "running-00003.warc.gz.open"
    running.write_bytes(b"")
    with open(running, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        result = verify(home)
    assert [(f.reason, f.file) for f in result.failures] == [
        ("left-open", "snapshots/killed-00002.warc.gz.open"), ("unknown-file", "snapshots/other-00001.warc.gz")]


def test_a_catalogued_file_left_open_by_a_killed_capture(home):
    warc, path = the_warc(home)
    path.rename(str(path) + ".open")
    engine = sa.create_engine(f"sqlite:///{home / 'archiver.db'}")
    with engine.begin() as connection:
        connection.execute(sa.update(cat.warc_files).values(status="open", size=None, sha256=None, closed_at=None))
    engine.dispose()
    count = len(rows(home, cat.records))
    result = verify(home)
    assert [(f.reason, f.file, f.detail) for f in result.failures] == [
        ("left-open", warc["path"] + ".open",
         f"left by a killed capture with {count} catalogued records; the next capture repairs it")]
    assert Path(str(path) + ".open").exists() and not path.exists()  # verify repairs nothing


def test_a_revisit_whose_original_changed_in_the_catalogue(site, tmp_path):
    home = tmp_path / "twice"
    collection = open_collection(Settings(home=home, allow_private=True), mode="write")
    try:
        capture([site.post_url], collection=collection, command="test")
        capture([site.post_url], collection=collection, command="test")
    finally:
        collection.close()
    revisits = rows(home, cat.records, cat.records.c.record_type == "revisit")
    assert revisits and verify(home).result == "pass"
    original_id = revisits[0]["revisit_of_id"]
    engine = sa.create_engine(f"sqlite:///{home / 'archiver.db'}")
    with engine.begin() as connection:
        connection.execute(sa.update(cat.records).where(cat.records.c.id == original_id)
                           .values(payload_sha256="0" * 64))
    engine.dispose()
    [original] = rows(home, cat.records, cat.records.c.id == original_id)
    pointing = {r["warc_record_id"] for r in revisits if r["revisit_of_id"] == original_id}
    result = verify(home)
    assert {(f.reason, f.record_id) for f in result.failures} == (
        {("tampered", original["warc_record_id"])} | {("bad-revisit", record_id) for record_id in pointing})
    assert {f.detail for f in result.failures if f.reason == "bad-revisit"} == {
        "its original has another payload sha256"}


# -- scopes ----------------------------------------------------------------------------------------


def test_a_url_scope_reads_only_that_urls_records(home, site):
    _, path = the_warc(home)
    post = post_response(home, site)
    others = [r for r in rows(home, cat.records) if r["record_type"] == "response" and r["target_uri"] != site.post_url]
    other = max(others, key=lambda r: r["length"])
    flip_payload_byte(path, other["offset"], other["length"])
    of_post = rows(home, cat.records, cat.records.c.target_uri == site.post_url)
    result = verify(home, parse_targets([site.post_url]))
    assert (result.result, result.records_checked, result.files_checked) == ("pass", len(of_post), 1)
    assert result.bytes_read < path.stat().st_size
    damaged = verify(home, parse_targets([other["target_uri"], post["warc_record_id"]]))
    assert failures(damaged) == [("tampered", other["warc_record_id"], other["offset"])]
    assert damaged.scope == {"urls": [other["target_uri"]], "record_ids": [post["warc_record_id"]], "files": []}


def test_a_url_scope_names_its_records_lost_in_a_truncated_file(home, site):
    _, path = the_warc(home)
    post = post_response(home, site)
    with open(path, "r+b") as fh:
        fh.truncate(post["offset"] + 10)
    result = verify(home, parse_targets([site.post_url]))
    assert ("lost", post["warc_record_id"], post["offset"]) in failures(result)
    assert {f.reason for f in result.failures} == {"lost"}


def test_a_copy_elsewhere_is_checked_against_the_catalogued_file_of_its_name(home, site, tmp_path):
    warc, path = the_warc(home)
    copy = tmp_path / "backup" / path.name
    copy.parent.mkdir()
    shutil.copy(path, copy)
    assert verify(home, parse_targets([str(copy)])).result == "pass"
    post = post_response(home, site)
    flip_payload_byte(copy, post["offset"], post["length"])
    result = verify(home, parse_targets([str(copy)]))
    assert [(f.reason, f.record_id, f.file) for f in result.failures] == [
        ("tampered", post["warc_record_id"], str(copy)), ("file-changed", None, str(copy))]
    assert verify(home, parse_targets([str(path)])).result == "pass"  # the original is intact


def test_a_warc_the_catalogue_does_not_know_given_by_path(home, tmp_path):
    _, path = the_warc(home)
    stranger = tmp_path / "stranger.warc.gz"
    shutil.copy(path, stranger)
    result = verify(home, parse_targets([str(stranger)]))
    assert [(f.reason, f.file) for f in result.failures] == [("unknown-file", str(stranger))]


@pytest.mark.parametrize("target, text", [
    ("http://x.example/never", "http://x.example/never: not in the catalogue"),
    ("<urn:uuid:00000000-0000-0000-0000-000000000000>",
     "<urn:uuid:00000000-0000-0000-0000-000000000000>: no such record in the catalogue"),
    ("urn:uuid:00000000-0000-0000-0000-000000000000",
     "<urn:uuid:00000000-0000-0000-0000-000000000000>: no such record in the catalogue"),
    ("nowhere/none.warc.gz", "nowhere/none.warc.gz: no such file"),
])
def test_unknown_targets_are_refused_before_anything_is_written(home, target, text):
    with pytest.raises(InputError) as raised:
        verify(home, parse_targets([target]))
    assert str(raised.value) == text
    assert rows(home, cat.fixity_events) == []


def test_not_a_collection_is_refused_and_nothing_is_created(tmp_path):
    with pytest.raises(InputError, match="no collection at .*none: .*archiver.db does not exist"):
        open_collection(Settings(home=tmp_path / "none"), mode="append")
    assert not (tmp_path / "none").exists()


def test_a_snapshots_folder_that_cannot_be_read(home):
    shutil.rmtree(home / "snapshots")
    (home / "snapshots").write_text("not a folder")
    with pytest.raises(StoreError, match="cannot read the snapshots folder"):
        open_collection(Settings(home=home), mode="append")


# -- the catalogue: read-only, older schema ------------------------------------------------------


def test_a_read_only_catalogue_costs_the_event_only(home, site):
    """Root ignores file modes, so the catalogue is opened read-only the way SQLite offers it."""
    read_only = f"sqlite:///file:{home / 'archiver.db'}?mode=ro&uri=true"
    result = verify(home, db=read_only)
    assert (result.result, result.fixity_event_id, result.event_error) == (
        "pass", None, "attempt to write a readonly database")
    _, path = the_warc(home)
    post = post_response(home, site)
    flip_payload_byte(path, post["offset"], post["length"])
    damaged = verify(home, db=read_only)
    assert (damaged.result, damaged.event_error) == ("fail", "attempt to write a readonly database")
    assert failures(damaged)[0] == ("tampered", post["warc_record_id"], post["offset"])
    assert rows(home, cat.fixity_events) == []


def test_an_older_catalogue_is_refused_untouched_then_verified_once_upgraded(home):
    from alembic import command

    before = rows(home, cat.records)
    engine = cat.create_engine(f"sqlite:///{home / 'archiver.db'}")
    with engine.begin() as connection:
        command.downgrade(cat.alembic_config(connection), "0003")
    assert cat.current_revision(engine) == "0003"
    with pytest.raises(CatalogueError, match=r"is at revision 0003; .*: upgrade it first \(archiver db upgrade\)$"):
        verify(home)
    assert cat.current_revision(engine) == "0003"
    cat.upgrade(engine)
    engine.dispose()
    result = verify(home)
    assert result.result == "pass" and result.fixity_event_id == 1
    assert rows(home, cat.records) == before


class OtherThreadWrites:
    """A WARC stream during whose every read another thread writes to stderr (as a loopback server's
    error report did while a fault test verified its collection)."""

    def __init__(self, path: Path) -> None:
        self.fh = open(path, "rb")

    def read(self, size: int = -1) -> bytes:
        import sys
        import threading

        other = threading.Thread(target=lambda: sys.stderr.write("----------------------------------------\n"))
        other.start()
        other.join()
        return self.fh.read(size)

    def tell(self) -> int:
        return self.fh.tell()


def test_what_other_threads_write_to_stderr_is_no_complaint_about_the_warc(home, capfd):
    _, path = the_warc(home)
    with open(path, "rb") as fh:
        whole = list(walk_records(fh))
    stream = OtherThreadWrites(path)
    try:
        noisy = list(walk_records(stream))
    finally:
        stream.fh.close()
    assert noisy == whole and not any(isinstance(item, Unreadable) for item in noisy)
    assert "----------------------------------------" in capfd.readouterr().err  # passed on, not swallowed


def inflated(data: bytes) -> bytes:
    """Every gzip member of ``data`` inflated, one after another: the WARC file uncompressed."""
    whole = b""
    while data:
        member = zlib.decompressobj(31)
        whole += member.decompress(data)
        data = member.unused_data
    return whole


def test_records_not_each_in_a_gzip_member_of_their_own_are_read_as_warcio_reads_them(home):
    """Records each in a gzip member of their own are read with zlib, anything else by warcio: the
    same records uncompressed give the same facts but for their offsets and lengths; gzipped whole, in
    one member, the first record is read and the rest is named unreadable."""
    _, path = the_warc(home)
    with open(path, "rb") as fh:
        members = list(walk_records(fh))
    uncompressed = inflated(path.read_bytes())
    plain = list(walk_records(io.BytesIO(uncompressed)))

    def facts(item):
        return dataclasses.replace(item, offset=0, length=0)

    assert [facts(item) for item in plain] == [facts(item) for item in members]
    assert plain[1].offset == len(uncompressed.split(b"\r\n\r\n", 2)[0]) + 4 + members[0].content_length + 4
    first, rest = walk_records(io.BytesIO(zlib.compress(uncompressed, wbits=31)))
    assert facts(first) == facts(members[0])
    assert (type(rest), rest.detail) == (Unreadable, "ERROR: non-chunked gzip file detected, gzip block continues")


def gzipped_record(payload: bytes, uri: str = "http://example.test/x") -> bytes:
    """One resource record as warcio writes it: a gzip member of its own."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    writer.write_record(writer.create_warc_record(uri, "resource", payload=io.BytesIO(payload),
                                                  warc_content_type="application/octet-stream"))
    return out.getvalue()


@pytest.mark.parametrize("before_end", [0, 1, 2])
def test_a_member_starting_at_the_end_of_a_read_is_read_with_zlib(monkeypatch, before_end):
    """The reader reads a file in blocks (the first of ``_FIRST_READ`` bytes): a record whose gzip member
    starts a byte before a block ends (its magic number split across two reads) is still read with zlib,
    not left to warcio."""
    noise = random.Random(before_end).randbytes(_FIRST_READ)
    first, size = next((member, size) for size in range(_FIRST_READ - 400, _FIRST_READ) for path in range(8)
                       if len(member := gzipped_record(noise[:size], "http://example.test/" + "x" * path))
                       == _FIRST_READ - before_end)
    second, third = gzipped_record(b"second"), gzipped_record(b"third")
    monkeypatch.setattr("archiver.warc._reader.ArchiveIterator", None)  # warcio would be called, and fail
    walked = list(walk_records(io.BytesIO(first + second + third)))
    assert [(item.offset, item.length, item.content_length) for item in walked] == [
        (0, len(first), size), (len(first), len(second), 6), (len(first) + len(second), len(third), 5)]
