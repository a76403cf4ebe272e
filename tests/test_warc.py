"""The WARC writer: records readable by warcio, rotation, .open naming, crash repair."""

from __future__ import annotations

import datetime as dt
import gzip
import os
import re
import subprocess
import uuid

import pytest
from warcio.archiveiterator import ArchiveIterator

from archiver.warc import Record, WarcWriter, metadata_record, parse_digest, read_record, repair_open_files
from archiver.warc._writer import Block, complete_members, is_compressed, new_record_id

from .conftest import tool

WARCINFO = [("software", "archiver-test"), ("operator", "tester")]


def resource(data: bytes, uri: str = "http://example.test/x") -> Record:
    block = Block.from_bytes(data, sha1=False)
    return Record(type="resource", record_id=new_record_id(), date=dt.datetime.now(dt.timezone.utc),
                  fields=[("WARC-Target-URI", uri), ("Content-Type", "text/plain"),
                          ("WARC-Block-Digest", "sha256:" + block.hashes.sha256.hexdigest())],
                  block=block)


def records_of(path):
    with open(path, "rb") as fh:
        return [(r.rec_type, r.rec_headers.get_header("WARC-Record-ID"), r.content_stream().read())
                for r in ArchiveIterator(fh)]


def test_writes_warcinfo_first_and_one_gzip_member_per_record(tmp_path):
    writer = WarcWriter(tmp_path, warcinfo_fields=WARCINFO)
    first = writer.write(resource(b"one"))
    second = writer.write(resource(b"two" * 1000))
    path = writer.current.path
    assert os.path.exists(str(path) + ".open") and not path.exists()
    writer.close()
    assert path.exists() and not os.path.exists(str(path) + ".open")
    kinds = records_of(path)
    assert [k[0] for k in kinds] == ["warcinfo", "resource", "resource"]
    assert b"software: archiver-test\r\n" in kinds[0][2]
    assert kinds[1][2] == b"one" and kinds[2][2] == b"two" * 1000
    # each record is its own gzip member, at the offset the writer reported
    with open(path, "rb") as fh:
        fh.seek(second.offset)
        member = fh.read(second.length)
    assert gzip.decompress(member).startswith(b"WARC/1.1\r\nWARC-Type: resource\r\n")
    assert first.offset + first.length == second.offset
    assert writer.files[0].size == path.stat().st_size


def test_every_record_names_the_warcinfo_of_its_file(tmp_path):
    writer = WarcWriter(tmp_path, warcinfo_fields=WARCINFO)
    writer.write(resource(b"x"))
    writer.close()
    with open(writer.files[0].path, "rb") as fh:
        records = list(ArchiveIterator(fh))
    info_id = records[0].rec_headers.get_header("WARC-Record-ID")
    assert records[1].rec_headers.get_header("WARC-Warcinfo-ID") == info_id
    assert records[0].rec_headers.get_header("WARC-Filename") == writer.files[0].path.name


def test_rotates_past_max_size_and_each_file_starts_with_warcinfo(tmp_path):
    opened = []
    writer = WarcWriter(tmp_path, max_size=2000, warcinfo_fields=WARCINFO,
                        on_open=lambda f, loc: opened.append((f.path.name, loc.offset)))
    for _ in range(6):
        writer.write(resource(os.urandom(1500)))
    writer.close()
    names = sorted(p.name for p in tmp_path.glob("*.warc.gz"))
    assert len(names) >= 3 and len(set(names)) == len(names)
    assert [offset for _, offset in opened] == [0] * len(opened)
    for name in names:
        assert records_of(tmp_path / name)[0][0] == "warcinfo"
    assert all(n.startswith("archiver-") and n.endswith(".warc.gz") for n in names)


def test_warcio_check_passes_on_written_file(tmp_path):
    writer = WarcWriter(tmp_path, warcinfo_fields=WARCINFO)
    response = writer.write(resource(b"payload"))
    writer.write(metadata_record(target_uri="http://example.test/x", refers_to=new_record_id(),
                                 date=dt.datetime.now(dt.timezone.utc), fields=[("outlink", "a b c")],
                                 digest="sha256"))
    writer.close()
    result = subprocess.run([tool("warcio"), "check", str(response.path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_sha1_digests_are_base32(tmp_path):
    writer = WarcWriter(tmp_path, digest="sha1", warcinfo_fields=WARCINFO)
    writer.write(resource(b"x"))
    writer.close()
    with open(writer.files[0].path, "rb") as fh:
        info = next(iter(ArchiveIterator(fh)))
    digest = info.rec_headers.get_header("WARC-Block-Digest")
    assert digest.startswith("sha1:") and len(digest) == 5 + 32 and digest[5:].isupper()


def _killed_writer(tmp_path, cut: int):
    """A writer whose process 'died': its last record cut short, its lock released."""
    writer = WarcWriter(tmp_path, warcinfo_fields=WARCINFO)
    locations = [writer.write(resource(f"record {n}".encode() * 50)) for n in range(3)]
    writer.sync()
    open_path = str(writer.current.path) + ".open"
    writer._fh.truncate(locations[-1].offset + locations[-1].length - cut)
    writer._fh.close()  # closing the descriptor drops the flock, as death does
    writer._fh = None
    return writer, locations, open_path


@pytest.mark.parametrize("cut", [1, 10, 60])
def test_repair_cuts_back_to_the_last_complete_record(tmp_path, cut):
    writer, locations, open_path = _killed_writer(tmp_path, cut)
    [repaired] = repair_open_files(tmp_path)
    assert not os.path.exists(open_path)
    assert repaired.path == writer.files[0].path
    assert repaired.size == locations[-1].offset  # the partial third record is gone
    assert [offset for offset, _ in repaired.kept] == [0, locations[0].offset, locations[1].offset]
    kinds = records_of(repaired.path)
    assert [k[0] for k in kinds] == ["warcinfo", "resource", "resource"]
    facts = read_record(repaired.path, locations[1].offset)
    assert facts.record_type == "resource" and facts.length == locations[1].length


def test_repair_leaves_files_of_live_writers_alone(tmp_path):
    writer = WarcWriter(tmp_path, warcinfo_fields=WARCINFO)
    writer.write(resource(b"x"))
    writer.sync()
    assert repair_open_files(tmp_path) == []
    assert os.path.exists(str(writer.current.path) + ".open")
    writer.close()


def test_complete_members_stops_at_garbage(tmp_path):
    path = tmp_path / "x.warc.gz"
    writer = WarcWriter(tmp_path, warcinfo_fields=WARCINFO)
    writer.write(resource(b"x"))
    writer.close()
    data = writer.files[0].path.read_bytes()
    path.write_bytes(data + b"\x1f\x8b\x08garbage")
    with open(path, "rb") as fh:
        members = list(complete_members(fh))
    assert sum(length for _, length in members) == len(data)


@pytest.mark.parametrize("content_type, encoding, compressed", [
    ("image/jpeg", None, True), ("image/png", None, True), ("video/mp4", None, True),
    ("font/woff2", None, True), ("application/zip", None, True), ("text/html", "gzip", True),
    ("text/html", None, False), ("image/svg+xml", None, False), ("image/x-icon", None, False),
    ("application/javascript", None, False), (None, None, False), ("text/css", "identity", False),
])
def test_is_compressed(content_type, encoding, compressed):
    assert is_compressed(content_type, encoding) is compressed


def test_incompressible_records_are_still_valid_gzip_members(tmp_path):
    writer = WarcWriter(tmp_path, warcinfo_fields=WARCINFO)
    record = resource(os.urandom(50_000))
    record.incompressible = True
    location = writer.write(record)
    writer.close()
    with open(location.path, "rb") as fh:
        fh.seek(location.offset)
        assert gzip.decompress(fh.read(location.length)).endswith(b"\r\n\r\n")
    assert records_of(location.path)[1][2] == record.block.stream.getvalue()


@pytest.mark.parametrize("label, algorithm", [
    ("sha1:" + "A" * 32, "sha1"), ("sha256:" + "ab" * 32, "sha256"), ("sha1:" + "00" * 20, "sha1"),
])
def test_parse_digest(label, algorithm):
    assert parse_digest(label)[0] == algorithm


@pytest.mark.parametrize("label", ["sha1:tooshort", "nosuch:AAAA", "nocolon", None])
def test_parse_digest_rejects(label):
    assert parse_digest(label) is None


def test_record_ids_are_random_uuids_and_a_forked_child_never_repeats_its_parents():
    ids = [new_record_id() for _ in range(1000)]  # several pools of 256
    assert len(set(ids)) == 1000
    assert all(re.fullmatch(r"<urn:uuid:[0-9a-f-]{36}>", value) and uuid.UUID(value[10:-1]).version == 4
               for value in ids)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child's next id, drawn from what would be the parent's pool if it were shared
        os.write(write, new_record_id().encode())
        os._exit(0)
    os.waitpid(child, 0)
    assert os.read(read, 100).decode() != new_record_id()


@pytest.mark.parametrize("compress_level", [6, 0], ids=["gzip", "uncompressed"])
def test_read_http_head_gives_the_head_as_written_and_the_payload_digest(tmp_path, compress_level):
    """The head a 304's revisit copies from its original: exact bytes up to the blank line, however
    long (a head of 40 KB spans many reads), and the record's WARC-Payload-Digest."""
    from archiver.errors import StoreError
    from archiver.warc import read_http_head

    head = (b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Long-%d: %s\r\n" % (n, b"v" * 400) for n in range(100))
            + b"Content-Type: text/html\r\n\r\n")
    body = os.urandom(100_000)
    block = Block.from_bytes(head + body, sha1=False)
    record = Record(type="response", record_id=new_record_id(), date=dt.datetime.now(dt.timezone.utc),
                    fields=[("WARC-Target-URI", "http://example.test/"), ("Content-Type", "application/http; "
                            "msgtype=response"), ("WARC-Payload-Digest", "sha256:abc")], block=block)
    writer = WarcWriter(tmp_path, warcinfo_fields=WARCINFO, compress_level=compress_level)
    [(location)] = writer.write_all([record])
    [(other)] = writer.write_all([resource(b"no HTTP here")])
    writer.close()
    [path] = tmp_path.glob("*.warc*")
    assert read_http_head(path, location.offset) == (head, "sha256:abc")
    with pytest.raises(StoreError, match=f"no HTTP response record at offset {other.offset} of "):
        read_http_head(path, other.offset)
