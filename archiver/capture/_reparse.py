"""Re-parse captured pages from their WARC records with the current parser.

Every run adds document rows (naming the parser and its version) and keeps
the older ones, so the catalogue records which version produced what. The
WARC files are only read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa

from .. import catalogue as cat
from ..collection import Collection
from ..errors import InputError
from ..parse import extract_document
from ..warc import RecordType, read_http_payload

PAGE_ROLES = (cat.Role.POST, cat.Role.CITED, cat.Role.RECOVERED)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Reparsed:
    url: str
    record_id: str
    document_id: int
    parser_version: str
    warnings: list[str]


def reparse(collection: Collection, *, urls: list[str] | None = None) -> list[Reparsed]:
    """Parse again every captured HTML page (or those of ``urls``); returns the new documents."""
    records, files = cat.records, cat.warc_files
    query = (sa.select(records.c.id, records.c.warc_record_id, records.c.target_uri, records.c.offset,
                       files.c.path)
             .join(files, files.c.id == records.c.warc_file_id)
             .where(records.c.record_type == RecordType.RESPONSE, records.c.http_status.between(200, 299),
                    sa.or_(records.c.role.in_(PAGE_ROLES), records.c.role.is_(None)),
                    sa.or_(records.c.http_content_type.like("text/html%"),
                           records.c.http_content_type.like("application/xhtml%")))
             .order_by(records.c.id))
    if urls:
        query = query.where(records.c.target_uri.in_(urls))
    with collection.catalogue.reader() as reader:
        rows = reader.execute(query).all()
    if urls and not rows:
        raise InputError(f"no captured HTML page of {', '.join(urls)} in this collection")
    done = []
    for row in rows:
        payload, content_type = read_http_payload(collection.resolve(row.path), row.offset,
                                                  limit=collection.settings.max_size)
        document = extract_document(payload, url=row.target_uri, content_type=content_type)
        with collection.catalogue.transaction() as connection:
            document_id = collection.catalogue.insert_document(
                connection, document, record_id=row.id, parsed_at=dt.datetime.now(dt.timezone.utc))
        data = document.as_json()
        done.append(Reparsed(url=row.target_uri, record_id=row.warc_record_id, document_id=document_id,
                             parser_version=data["parser"]["version"], warnings=document.warnings))
    return done

