"""Re-parse captured pages from their WARC records with the current parser.

Every run adds document rows (naming the parser and its version) and keeps
the older ones, so the catalogue records which version produced what. The
WARC files are only read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import sqlalchemy as sa

from . import catalogue as cat
from .collection import Collection
from .document import extract_document
from .errors import InputError
from .history import dead_citations
from .verify import read_http_payload

PAGE_ROLES = ("post", "cited", "recovered")


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
             .where(records.c.record_type == "response", records.c.http_status.between(200, 299),
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


def newest_document(collection: Collection, url: str) -> dict:
    """The newest parse of the newest capture of ``url``, shaped like ``Document.as_json``."""
    records, documents = cat.records, cat.documents
    query = (sa.select(documents, records.c.warc_date, records.c.warc_record_id)
             .join(records, records.c.id == documents.c.record_id)
             .where(records.c.target_uri == url)
             .order_by(records.c.warc_date.desc(), documents.c.id.desc()).limit(1))
    with collection.catalogue.reader() as reader:
        row = reader.execute(query).mappings().first()
        if row is None:
            raise InputError(f"no parsed capture of {url} in this collection (see `archiver reparse`)")
        dead = dead_citations(collection.catalogue, row["id"])
        parts = {
            name: [dict(item._mapping) for item in reader.execute(
                sa.select(table).where(table.c.document_id == row["id"]).order_by(table.c.position))]
            for name, table in (("captions", cat.captions), ("links", cat.links),
                                ("references", cat.reference_entries))
        }
    def keep(items, fields):
        return [{field: item[field] for field in fields} for item in items]

    return {
        "url": row["url"],
        "captured_at": row["warc_date"].isoformat(),
        "record_id": row["warc_record_id"],
        "title": row["title"], "author": row["author"], "published": row["published"], "updated": row["updated"],
        "language": row["language"], "canonical": row["canonical"], "text": row["text"],
        "captions": keep(parts["captions"], ("text", "credit", "image_url")),
        "links": keep(parts["links"], ("url", "text", "kind", "context", "position")),
        "references": keep(parts["references"], ("publisher", "title", "language", "url")),
        "encoding": row["encoding"], "encoding_source": row["encoding_source"],
        "body_found_by": row["body_found_by"], "sources": json.loads(row["sources"]),
        "dead_citations": dead,
        "parser": {"name": row["parser"], "version": row["parser_version"]},
        "parsed_at": row["parsed_at"].isoformat(),
        "warnings": json.loads(row["warnings"]),
    }
