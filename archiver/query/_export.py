"""The catalogue for other tools: one row per WARC record as JSON or CSV, and CDXJ as pywb's
indexer (cdxj-indexer) writes it for the same WARC files.

Everything comes from the catalogue (no WARC byte is read: that is what the catalogue is for) and
streams, so memory stays flat however large the collection; sorting the CDXJ spills sorted runs to
temporary files past a buffer, as cdxj-indexer's own ``--sort`` does.

How cdxj-indexer (1.5) writes a line, and where each part comes from here:

    urlkey timestamp {"url", "mime", "status", "digest", "length", "offset", "filename"}

- records: response, revisit, resource and metadata, less resource and metadata records whose
  Content-Type is exactly ``application/warc-fields`` (so no warcinfo, request, or archiver's
  outlink metadata);
- urlkey: ``surt.surt(WARC-Target-URI)``, the URL itself if surt fails; timestamp: the first 14
  digits of WARC-Date;
- url: WARC-Target-URI; mime: ``warc/revisit`` for a revisit, else the HTTP Content-Type of a
  response (the WARC Content-Type of other records) up to its first ``;`` or space; status: the
  HTTP status of a response or revisit as its block holds it (a 304's revisit holds the status line
  of the response it confirms, whose status the catalogue reaches through ``revisit_of_id``);
  digest: WARC-Payload-Digest as written; length, offset:
  the gzip member; filename: the file's name. Every value is a string; a missing one is left out;
  the JSON is ``json.dumps`` with its defaults.

One difference remains: for a response record with no WARC-Payload-Digest (archiver omits it only
when the HTTP status line could not be parsed) cdxj-indexer computes a sha1 of the bytes after
the headers, which the catalogue does not hold; the line then has no digest.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import heapq
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator, TextIO

import sqlalchemy as sa
import surt

from .. import catalogue as cat
from ..collection import Collection
from ..errors import InputError
from ..warc import CAPTURE_TYPES, PROFILE_NOT_MODIFIED, RecordType

CDXJ_TYPES = (RecordType.RESPONSE, RecordType.REVISIT, RecordType.RESOURCE, RecordType.METADATA)
SORT_BUFFER = 32 * 1024 * 1024  # characters of CDXJ held before a sorted run goes to a temporary file
_FETCH_ROWS = 1000
_MIME_END = re.compile(r"[;\s]")

_r, _f, _e, _fe = cat.records, cat.warc_files, cat.capture_events, cat.fetches
_original = cat.records.alias("original")

# the JSON/CSV row: name -> column, in this order
COLUMNS: dict[str, Any] = {
    "record_id": _r.c.warc_record_id,
    "record_type": _r.c.record_type,
    "url": _r.c.target_uri,
    "warc_date": _r.c.warc_date,
    "warc_file": _f.c.filename,
    "offset": _r.c.offset,
    "length": _r.c.length,
    "content_type": _r.c.content_type,
    "content_length": _r.c.content_length,
    "http_status": _r.c.http_status,
    "http_reason": _r.c.http_reason,
    "http_content_type": _r.c.http_content_type,
    "payload_digest": _r.c.payload_digest,
    "block_digest": _r.c.block_digest,
    "payload_sha256": _r.c.payload_sha256,
    "block_sha256": _r.c.block_sha256,
    "peer_ip": _r.c.peer_ip,
    "role": sa.func.coalesce(_r.c.role, _fe.c.role),
    "capture_id": _e.c.uuid,
    "concurrent_to": _r.c.concurrent_to,
    "refers_to": _r.c.refers_to,
    "revisit_profile": _r.c.revisit_profile,
    "revisit_of": _original.c.warc_record_id,
    "truncated": _r.c.truncated,
    "http_headers": _r.c.http_headers,
}
FIELDS = tuple(COLUMNS)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Query:
    """Which records: all of them, or those matching every condition given."""

    url: str | None = None  # WARC-Target-URI, exactly
    since: dt.datetime | None = None  # WARC-Date at or after
    until: dt.datetime | None = None  # WARC-Date at or before
    roles: tuple[str, ...] = ()
    types: tuple[str, ...] = ()

    def where(self) -> list[sa.ColumnElement[bool]]:
        conditions: list[sa.ColumnElement[bool]] = []
        if self.url is not None:
            conditions.append(_r.c.target_uri == self.url)
        if self.since is not None:
            conditions.append(_r.c.warc_date >= self.since)
        if self.until is not None:
            conditions.append(_r.c.warc_date <= self.until)
        if self.roles:
            conditions.append(_r.c.role.in_(self.roles))
        if self.types:
            conditions.append(_r.c.record_type.in_(self.types))
        return conditions


def cdxj_query(query: Query) -> Query:
    """``query`` within the records cdxj-indexer indexes; InputError for a type it never indexes."""
    outside = [kind for kind in query.types if kind not in CDXJ_TYPES]
    if outside:
        raise InputError(f"--type {outside[0]}: CDXJ lists {', '.join(CDXJ_TYPES)} records, "
                         "as cdxj-indexer does")
    return dataclasses.replace(query, types=query.types or CDXJ_TYPES)


def _cdxj_where(query: Query) -> list[sa.ColumnElement[bool]]:
    return [*cdxj_query(query).where(),
            sa.or_(_r.c.record_type.in_(CAPTURE_TYPES),
                   sa.func.coalesce(_r.c.content_type, "") != "application/warc-fields")]


def require_url(collection: Collection, url: str) -> None:
    """InputError unless the catalogue has a record of ``url``."""
    with collection.catalogue.reader() as reader:
        found = reader.execute(sa.select(_r.c.id).where(_r.c.target_uri == url).limit(1)).first()
    if found is None:
        raise InputError(f"{url}: not in the catalogue (archiver capture {url} archives it)")


# -- the files the records live in --------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class FileProblem:
    """A WARC file that is missing, or shorter than its catalogued records say."""

    filename: str
    path: Path
    records: int
    end: int  # where the last catalogued record in it ends
    size: int | None  # None: missing

    def __str__(self) -> str:
        if self.size is None:
            return f"{self.path} is missing ({self.records} catalogued record{'s' if self.records != 1 else ''})"
        return f"{self.path} is truncated: {self.size} bytes, its catalogued records end at byte {self.end}"


def file_problems(collection: Collection, query: Query, *, cdxj: bool = False) -> list[FileProblem]:
    """The WARC files holding records of ``query`` that are missing or truncated (one stat each)."""
    where = _cdxj_where(query) if cdxj else query.where()
    select = (sa.select(_f.c.filename, _f.c.path, sa.func.count(_r.c.id).label("records"),
                        sa.func.max(_r.c.offset + _r.c.length).label("end"))
              .select_from(_r.join(_f, _r.c.warc_file_id == _f.c.id)).where(*where)
              .group_by(_f.c.id, _f.c.filename, _f.c.path).order_by(_f.c.id))
    problems = []
    with collection.catalogue.reader() as reader:
        for row in reader.execute(select):
            path = collection.resolve(row.path)
            size = _size(path)
            if size is None or size < row.end:
                problems.append(FileProblem(filename=row.filename, path=path, records=row.records,
                                            end=row.end, size=size))
    return problems


def _size(path: Path) -> int | None:
    """Its size, or that of the file still being written (``.open``); None if neither exists."""
    for candidate in (path, Path(f"{path}.open")):
        try:
            return os.stat(candidate).st_size
        except FileNotFoundError:
            continue
    return None


# -- JSON and CSV -------------------------------------------------------------------------------------


def rows(collection: Collection, query: Query) -> Iterator[dict[str, Any]]:
    """One dict per record (``FIELDS``), in file order: ``warc_date`` as ISO 8601, ``http_headers``
    as the list of [name, value] pairs received (None for records without HTTP headers)."""
    select = (sa.select(*(column.label(name) for name, column in COLUMNS.items()))
              .select_from(_r.join(_f, _r.c.warc_file_id == _f.c.id)
                           .outerjoin(_e, _r.c.capture_event_id == _e.c.id)
                           .outerjoin(_fe, _r.c.fetch_id == _fe.c.id)
                           .outerjoin(_original, _r.c.revisit_of_id == _original.c.id))
              .where(*query.where()).order_by(_r.c.warc_file_id, _r.c.offset))
    for row in _stream(collection, select):
        item = dict(row._mapping)
        item["warc_date"] = item["warc_date"].isoformat()
        item["http_headers"] = json.loads(item["http_headers"]) if item["http_headers"] else None
        yield item


def _stream(collection: Collection, select: sa.Select[Any]) -> Iterator[sa.Row[Any]]:
    with collection.catalogue.reader() as reader:
        yield from reader.execution_options(yield_per=_FETCH_ROWS).execute(select)


def write_json(items: Iterable[dict[str, Any]], out: TextIO, *, lines: bool = False) -> int:
    """A JSON array, one object a line, written as it goes; ``lines``: one object a line, no array."""
    count = 0
    for item in items:
        text = json.dumps(item, ensure_ascii=False)
        out.write(text + "\n" if lines else ("[\n" if count == 0 else ",\n") + text)
        count += 1
    if not lines:
        out.write("\n]\n" if count else "[]\n")
    return count


def write_csv(items: Iterable[dict[str, Any]], out: TextIO) -> int:
    """A header row, then one row per item; lists (``http_headers``) as their JSON."""
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for item in items:
        writer.writerow({key: json.dumps(value, ensure_ascii=False) if isinstance(value, list) else value
                         for key, value in item.items()})
        count += 1
    return count


# -- CDXJ ---------------------------------------------------------------------------------------------


def cdxj_lines(collection: Collection, query: Query, *, sort_buffer: int = SORT_BUFFER) -> Iterator[str]:
    """The CDXJ lines (each ending in a newline) cdxj-indexer ``--sort`` writes for the WARC files
    of the records of ``query``, restricted to those records."""
    # a 304's revisit holds its original's status line (so replay resolves it): the catalogue keeps the 304
    written_status = sa.case((sa.and_(_r.c.revisit_profile == PROFILE_NOT_MODIFIED, _r.c.payload_digest.is_not(None)),
                              _original.c.http_status), else_=_r.c.http_status)
    select = (sa.select(_r.c.record_type, _r.c.target_uri, _r.c.warc_date, _r.c.content_type,
                        _r.c.http_content_type, written_status.label("http_status"), _r.c.payload_digest,
                        _r.c.offset, _r.c.length, _f.c.filename)
              .select_from(_r.join(_f, _r.c.warc_file_id == _f.c.id)
                           .outerjoin(_original, _r.c.revisit_of_id == _original.c.id))
              .where(*_cdxj_where(query)).order_by(_r.c.warc_file_id, _r.c.offset))
    return sorted_lines((cdxj_line(row) for row in _stream(collection, select)), buffer=sort_buffer)


def cdxj_line(row: sa.Row[Any]) -> str:
    """One record's CDXJ line, from its catalogue row (record_type, target_uri, warc_date,
    content_type, http_content_type, http_status, payload_digest, offset, length, filename)."""
    if row.record_type == RecordType.REVISIT:
        mime = "warc/revisit"
    else:
        mime = row.http_content_type if row.record_type == RecordType.RESPONSE else row.content_type
        if mime:
            mime = _MIME_END.split(mime, 1)[0].strip()
    http = row.record_type in CAPTURE_TYPES
    fields = {
        "url": row.target_uri,
        "mime": mime,
        "status": str(row.http_status) if http and row.http_status is not None else None,
        "digest": row.payload_digest,
        "length": str(row.length),
        "offset": str(row.offset),
        "filename": row.filename,
    }
    index = {key: value for key, value in fields.items() if value is not None}
    return f"{url_key(row.target_uri)} {row.warc_date.strftime('%Y%m%d%H%M%S')} {json.dumps(index)}\n"


def url_key(url: str | None) -> str:
    """The SURT of ``url`` as pywb keys it (``-`` for none); the URL itself where surt fails."""
    try:
        key: str = surt.surt(url)
        return key
    except Exception:  # cdxj-indexer keys such a URL by itself, and so must we
        return url if url is not None else "-"


def sorted_lines(lines: Iterable[str], *, buffer: int) -> Iterator[str]:
    """``lines`` sorted, repeats dropped: runs of about ``buffer`` characters are sorted in memory,
    written to temporary files (deleted on close) and merged."""
    with contextlib.ExitStack() as stack:
        runs: list[TextIO] = []
        chunk: list[str] = []
        held = 0
        for line in lines:
            chunk.append(line)
            held += len(line)
            if held > buffer:
                run = stack.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8", newline=""))
                run.writelines(sorted(chunk))
                run.seek(0)
                runs.append(run)
                chunk, held = [], 0
        chunk.sort()
        last = None
        for line in heapq.merge(*runs, chunk) if runs else chunk:
            if line != last:
                yield line
            last = line
