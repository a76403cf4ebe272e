"""Parse captured pages from their WARC records: the pages a capture left to parse later
(``--parse later``: :func:`parse_pending`), or pages again with the current parser (:func:`reparse`).

Pages are parsed in forked worker processes (``settings.processes``; 0: one per core), each
reading its record's payload from the WARC; this process catalogues each document as it comes,
in order, one transaction per :data:`COMMIT_EVERY` documents: a run killed midway keeps what it
catalogued, and what it did not stays pending. Every run adds document rows (naming the parser
and its version) and keeps the older ones, so the catalogue records which version produced what.
The WARC files are only read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path
from typing import Any, Iterator, Sequence

import sqlalchemy as sa

from .. import catalogue as cat
from .. import faults
from ..collection import Collection
from ..errors import ArchiverError, InputError
from ..parse import Document, extract_document
from ..warc import RecordType, read_http_payload

PAGE_ROLES = (cat.Role.POST, cat.Role.CITED, cat.Role.RECOVERED)
COMMIT_EVERY = 50  # documents catalogued per transaction


@dataclasses.dataclass(frozen=True, kw_only=True)
class Reparsed:
    url: str
    record_id: str
    document_id: int
    parser_version: str
    warnings: list[str]


def _located_records() -> sa.Select[Any]:
    """Response records with where their bytes are, oldest first."""
    records, files = cat.records, cat.warc_files
    return (sa.select(records.c.id, records.c.warc_record_id, records.c.target_uri, records.c.offset, files.c.path)
            .join(files, files.c.id == records.c.warc_file_id).order_by(records.c.id))


def _page_records() -> sa.Select[Any]:
    """Every captured HTML page's response record (:func:`_located_records`)."""
    records = cat.records
    return _located_records().where(
        records.c.record_type == RecordType.RESPONSE, records.c.http_status.between(200, 299),
        sa.or_(records.c.role.in_(PAGE_ROLES), records.c.role.is_(None)),
        sa.or_(records.c.http_content_type.like("text/html%"), records.c.http_content_type.like("application/xhtml%")))


def reparse(collection: Collection, *, urls: list[str] | None = None) -> list[Reparsed]:
    """Parse again every captured HTML page (or those of ``urls``); returns the new documents."""
    query = _page_records()
    if urls:
        query = query.where(cat.records.c.target_uri.in_(urls))
    with collection.catalogue.reader() as reader:
        rows = reader.execute(query).all()
    if urls and not rows:
        raise InputError(f"no captured HTML page of {', '.join(urls)} in this collection")
    return _parse_records(collection, rows)


def parse_pending(collection: Collection) -> list[Reparsed]:
    """Parse the pages a capture left to parse later, and catalogue their documents (which takes
    them off the pending list); returns the new documents."""
    pending = cat.pending_documents  # the capture decided which pages these are: every one is parsed
    query = _located_records().join(pending, pending.c.record_id == cat.records.c.id)
    with collection.catalogue.reader() as reader:
        rows = reader.execute(query).all()
    return _parse_records(collection, rows)


def _parse_records(collection: Collection, rows: Sequence[sa.Row[Any]]) -> list[Reparsed]:
    jobs = [(collection.resolve(row.path), row.offset, row.target_uri) for row in rows]
    done: list[Reparsed] = []
    batch: list[tuple[sa.Row[Any], Document]] = []
    try:
        for row, document in zip(rows, _documents(jobs, collection.settings.max_size,
                                                  collection.settings.processes), strict=True):
            batch.append((row, document))
            if len(batch) == COMMIT_EVERY:
                done += _catalogue(collection, batch)
                batch = []
    except ArchiverError:  # a worker died, or a WARC could not be read: keep what was parsed before
        _catalogue(collection, batch)
        raise
    return done + _catalogue(collection, batch)


def _catalogue(collection: Collection, batch: list[tuple[sa.Row[Any], Document]]) -> list[Reparsed]:
    done = []
    now = dt.datetime.now(dt.timezone.utc)
    with collection.catalogue.transaction() as connection:
        for row, document in batch:
            document_id = collection.catalogue.insert_document(connection, document, record_id=row.id, parsed_at=now)
            done.append(Reparsed(url=row.target_uri, record_id=row.warc_record_id, document_id=document_id,
                                 parser_version=document.as_json()["parser"]["version"], warnings=document.warnings))
    return done


_Job = tuple[Path, int, str]  # a response record's WARC file, its offset, its target URI


def _documents(jobs: list[_Job], limit: int, processes: int) -> Iterator[Document]:
    """Each job's document, in order: in ``processes`` forked workers (0: one per core) when there is
    more than one job to share."""
    workers = min(processes or os.cpu_count() or 1, len(jobs))
    if workers <= 1:
        yield from (_parse_job(job, limit) for job in jobs)
        return
    import concurrent.futures
    import multiprocessing

    # Forked: a worker starts with the parsers imported and touches nothing of this process's
    # catalogue (it reads WARC files only).
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        try:
            yield from pool.map(_parse_job, jobs, [limit] * len(jobs))
        except concurrent.futures.process.BrokenProcessPool as exc:
            raise ArchiverError("parsing stopped: a worker process died (killed, or out of memory); the pages "
                                "catalogued so far are kept: run it again, or with --processes 1") from exc


def _parse_job(job: _Job, limit: int) -> Document:
    faults.point("parse-page")
    path, offset, url = job
    payload, content_type = read_http_payload(path, offset, limit=limit)
    return extract_document(payload, url=url, content_type=content_type)
