"""WARC files: writing (records, rotation, repair of files left open), reading (the streaming
record walker and digest checks), and payload bytes (hashes, Content-Encoding).

Knows nothing of the network, the catalogue, capture or queries.
"""

from ._payload import Hashes, dechunked, decode_content, file_sha256, parse_digest
from ._reader import (
    READ_SIZE,
    RecordFacts,
    Unreadable,
    http_payload_size,
    parse_warc_date,
    read_http_head,
    read_http_payload,
    read_record,
    walk_records,
)
from ._record_type import CAPTURE_TYPES, RecordType
from ._writer import (
    OPEN_SUFFIX,
    PROFILE_IDENTICAL,
    PROFILE_NOT_MODIFIED,
    Location,
    Original,
    Record,
    Repaired,
    WarcFile,
    WarcWriter,
    bracketed_record_id,
    exchange_records,
    metadata_record,
    not_modified_records,
    repair_open_files,
    revisit_records,
    warcinfo_fields,
)

__all__ = [
    "CAPTURE_TYPES",
    "OPEN_SUFFIX",
    "PROFILE_IDENTICAL",
    "PROFILE_NOT_MODIFIED",
    "READ_SIZE",
    "Hashes",
    "Location",
    "Original",
    "Record",
    "RecordFacts",
    "RecordType",
    "Repaired",
    "Unreadable",
    "WarcFile",
    "WarcWriter",
    "bracketed_record_id",
    "dechunked",
    "decode_content",
    "exchange_records",
    "file_sha256",
    "http_payload_size",
    "metadata_record",
    "not_modified_records",
    "parse_digest",
    "parse_warc_date",
    "read_http_head",
    "read_http_payload",
    "read_record",
    "repair_open_files",
    "revisit_records",
    "walk_records",
    "warcinfo_fields",
]
