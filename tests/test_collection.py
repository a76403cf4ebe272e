"""Opening a collection cleans up after killed runs: no byte left without a catalogue row."""

from __future__ import annotations

import datetime as dt
import os
import uuid

from archiver import Settings, open_collection
from archiver import catalogue as cat
from archiver.warc import WarcWriter, read_record

from .test_warc import WARCINFO, resource


def start_event(collection, *, pid: int) -> str:
    capture_id = str(uuid.uuid4())
    with collection.catalogue.transaction() as connection:
        collection.catalogue.insert(connection, cat.capture_events, dict(
            uuid=capture_id, started_at=dt.datetime.now(dt.timezone.utc), outcome="running", tool="archiver",
            tool_version="0", operator="o", hostname=os.uname().nodename, pid=pid, command="c", seeds="[]",
            settings="{}"))
    return capture_id


def die(writer: WarcWriter) -> None:
    """What kill -9 leaves: bytes on disk, the .open name, no lock."""
    writer.sync()
    writer._fh.close()
    writer._fh = None


def dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_records_written_but_never_catalogued_are_catalogued_from_their_bytes(tmp_path):
    settings = Settings(home=tmp_path)
    collection = open_collection(settings, mode="write")
    capture_id = start_event(collection, pid=dead_pid())
    writer = WarcWriter(settings.snapshots, warcinfo_fields=WARCINFO + [("capture-id", capture_id)])
    locations = [writer.write(resource(f"record {n}".encode())) for n in range(3)]
    path = writer.current.path
    die(writer)
    collection.close()

    collection = open_collection(settings, mode="write")
    [repaired] = collection.repaired
    assert repaired.path == path and len(repaired.kept) == 4
    [event] = collection.catalogue.rows(cat.capture_events)
    assert event["outcome"] == "interrupted"
    [warc_file] = collection.catalogue.rows(cat.warc_files)
    assert (warc_file["status"], warc_file["capture_event_id"], warc_file["size"]) == (
        "repaired", event["id"], path.stat().st_size)
    rows = collection.catalogue.rows(cat.records)
    assert [r["offset"] for r in rows] == [0] + [loc.offset for loc in locations]
    assert [r["role"] for r in rows] == ["recovered"] * 4
    for row in rows:
        facts = read_record(path, row["offset"])
        assert (row["block_sha256"], row["length"], row["warc_record_id"]) == (
            facts.block_sha256, facts.length, facts.record_id)
    collection.close()


def test_an_open_file_without_one_complete_record_is_removed(tmp_path):
    settings = Settings(home=tmp_path)
    settings.snapshots.mkdir(parents=True)
    leftover = settings.snapshots / "archiver-20260101000000000-00000-host.warc.gz.open"
    leftover.write_bytes(b"\x1f\x8b\x08\x00partial")
    collection = open_collection(settings, mode="write")
    assert collection.repaired == [] and not leftover.exists()
    assert list(settings.snapshots.iterdir()) == []
    collection.close()


def test_a_live_capture_is_not_marked_interrupted(tmp_path):
    settings = Settings(home=tmp_path)
    collection = open_collection(settings, mode="write")
    start_event(collection, pid=os.getppid())  # a process that is alive
    collection.close()
    collection = open_collection(settings, mode="write")
    assert [e["outcome"] for e in collection.catalogue.rows(cat.capture_events)] == ["running"]
    collection.close()
