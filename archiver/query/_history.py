"""Read the catalogue's record of change: a URL's history, what changed since a time, diffs of
two versions, and citations that went dead. Read-only: nothing here writes.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from typing import Any

import sqlalchemy as sa

from .. import catalogue as cat
from ..collection import Collection
from ..errors import InputError
from ..net import media_type
from ..parse import HTML_TYPES, LinkKind, caption_lines, citation_urls, list_diff, word_diff
from ..warc import CAPTURE_TYPES, http_payload_size
from ._redirects import Redirect, followed

_EDITS = ("body", "captions", "citations")


def captures(url: Any, *columns: Any) -> sa.Select[Any]:
    """``columns`` of each response or revisit record of ``url`` (a value or a bind parameter) and its
    WARC file, oldest first: the one definition of a URL's captures (history, timemap)."""
    r, f = cat.records, cat.warc_files
    return (sa.select(*columns).select_from(r).join(f, r.c.warc_file_id == f.c.id)
            .where(r.c.target_uri == url, r.c.record_type.in_(CAPTURE_TYPES))
            .order_by(r.c.warc_date, r.c.id))


def history_query(url: Any) -> sa.Select[Any]:
    """The history of ``url`` (a value, or SQL standing for one), its columns named as
    :func:`history` answers: the one definition, which ``archiver browse`` serves as SQL too."""
    r, f, e, c = cat.records, cat.warc_files, cat.capture_events, cat.changes
    return (captures(url, r.c.warc_date.label("captured_at"), r.c.http_status, r.c.record_type, c.c.change,
                     c.c.changed, r.c.payload_sha256, r.c.warc_record_id.label("record_id"),
                     f.c.filename.label("warc_file"), r.c.offset, r.c.length, e.c.uuid.label("capture_id"))
            .outerjoin(e, r.c.capture_event_id == e.c.id).outerjoin(c, c.c.record_id == r.c.id))


def history(catalogue: cat.Catalogue, url: str) -> list[dict[str, Any]]:
    """Every response or revisit archived for ``url``, oldest first, with its classification; if its
    newest capture was redirected, those of the page it led to among them (each saying so)."""
    with catalogue.reader() as reader:
        redirect = followed(reader, url)
        rows = [dict(row) for row in reader.execute(history_query(url)).mappings()]
        if redirect is not None:
            rows += [{**row, **_saying(redirect)} for row in reader.execute(history_query(redirect.to)).mappings()]
    if not rows:
        raise InputError(f"{url}: not in the catalogue (archiver capture {url} archives it)")
    return [{**row, "captured_at": row["captured_at"].isoformat(), "changed": bool(row["changed"])}
            for row in sorted(rows, key=lambda row: row["captured_at"])]


def _saying(redirect: Redirect | None) -> dict[str, Any]:
    """The field that says a redirect was followed (none if it was not)."""
    return {"redirected_from": redirect.as_json()} if redirect is not None else {}


def changes_since(catalogue: cat.Catalogue, since: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Every change (``changed`` true) across the collection since ``since``, oldest first."""
    c = cat.changes
    query = sa.select(c).where(c.c.changed.is_(True)).order_by(c.c.at, c.c.id)
    if since is not None:
        query = query.where(c.c.at >= since)
    with catalogue.reader() as reader:
        out = []
        for row in reader.execute(query).all():
            detail = json.loads(row.detail)
            item = {"url": row.url, "at": row.at.isoformat(), "change": row.change,
                    "citing": citing(reader, row.url), "http_status": detail.get("http_status"),
                    "parts": detail.get("parts", [])}
            if row.change == "gone":
                item["last_good"] = _last_good(reader, row.url, before=row.at)
            out.append(item)
        return out


def citing(reader: sa.Connection, url: str) -> list[str]:
    """The pages whose parsed documents cite ``url``."""
    d, links = cat.documents, cat.links
    query = (sa.select(d.c.url).distinct().join(links, links.c.document_id == d.c.id)
             .where(links.c.url == url, links.c.kind == LinkKind.CITATION).order_by(d.c.url))
    return [row.url for row in reader.execute(query)]


def _last_good(reader: sa.Connection, url: str, *, before: dt.datetime) -> dict[str, Any] | None:
    c, r = cat.changes, cat.records
    for row in reader.execute(sa.select(c).where(c.c.url == url, c.c.at < before,
                                                 c.c.change.notin_((cat.ChangeClass.GONE, cat.ChangeClass.FAILED)))
                              .order_by(c.c.at.desc(), c.c.id.desc())):
        record = reader.execute(sa.select(r.c.warc_record_id, r.c.warc_date).where(r.c.id == row.record_id)).first()
        if record is not None:
            return {"captured_at": record.warc_date.isoformat(), "record_id": record.warc_record_id}
    return None


def dead_citations(catalogue: cat.Catalogue, document_id: int) -> list[dict[str, Any]]:
    """The citations of a document whose newest capture found them gone, with their last good capture;
    ``since`` is when the current run of failures began (the first gone or failed check after it)."""
    c, links = cat.changes, cat.links
    bad = (cat.ChangeClass.GONE, cat.ChangeClass.FAILED)
    with catalogue.reader() as reader:
        urls = [row.url for row in reader.execute(sa.select(links.c.url).distinct().where(
            links.c.document_id == document_id, links.c.kind == LinkKind.CITATION))]
        dead = []
        for url in urls:
            newest_first = reader.execute(sa.select(c.c.at, c.c.change).where(c.c.url == url)
                                          .order_by(c.c.at.desc(), c.c.id.desc())).all()
            if newest_first and newest_first[0].change == cat.ChangeClass.GONE:
                failing = list(itertools.takewhile(lambda row: row.change in bad, newest_first))
                dead.append({"url": url, "since": failing[-1].at.isoformat(),
                             "last_good": _last_good(reader, url, before=newest_first[0].at)})
        return dead


# -- diffs ----------------------------------------------------------------------------------------


def _versions(reader: sa.Connection, url: str) -> list[dict[str, Any]]:
    """The captures of ``url`` that yielded a document, oldest first: (at, change, document row)."""
    c, d = cat.changes, cat.documents
    out = []
    for row in reader.execute(sa.select(c).where(c.c.url == url).order_by(c.c.at, c.c.id)):
        detail = json.loads(row.detail)
        if detail.get("state") != "ok" or not detail.get("version_record_id"):
            continue
        document = reader.execute(sa.select(d).where(d.c.record_id == detail["version_record_id"])
                                  .order_by(d.c.id.desc()).limit(1)).first()
        if document is not None:
            out.append({"at": row.at, "change": row.change, "document": dict(document._mapping)})
    return out


def _at_or_before(versions: list[dict[str, Any]], moment: dt.datetime | None) -> dict[str, Any] | None:
    chosen = [version for version in versions if moment is None or version["at"] <= moment]
    return chosen[-1] if chosen else None


def _marks(document: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(document[f"fp_{part}"] for part in _EDITS)


def _parts(reader: sa.Connection, document_id: int) -> tuple[list[str], list[str]]:
    captions = [dict(row._mapping) for row in reader.execute(
        sa.select(cat.captions).where(cat.captions.c.document_id == document_id).order_by(cat.captions.c.position))]
    links = [dict(row._mapping) for row in reader.execute(
        sa.select(cat.links).where(cat.links.c.document_id == document_id).order_by(cat.links.c.position))]
    return caption_lines(captions), citation_urls(links)


def diff(catalogue: cat.Catalogue, url: str, *, since: dt.datetime | None = None,
         until: dt.datetime | None = None) -> dict[str, Any]:
    """Word-level diff of the main text, and the captions and citations removed and added, between
    the version current at ``since`` (default: the last version before the newest edit) and the one
    current at ``until`` (default: the newest)."""
    with catalogue.reader() as reader:
        redirect = followed(reader, url)  # the URL's own checks followed it; the page's, if it has none
        versions = _versions(reader, url) or (_versions(reader, redirect.to) if redirect is not None else [])
        if not versions:
            served = _served(reader, url)
            if served and not _is_html(served[-1]["content_type"]):
                return _payload_diff(url, served, since=since, until=until)
            raise InputError(f"{url}: no parsed capture in the catalogue (archiver capture {url} archives it)")
        new = _at_or_before(versions, until)
        if new is None:
            assert until is not None  # without a bound the newest version is chosen
            raise InputError(f"{url}: no capture at or before {until.isoformat()}")
        if since is not None:
            old = _at_or_before(versions, since)
            if old is None:
                raise InputError(f"{url}: no capture at or before {since.isoformat()}")
        else:
            earlier = [v for v in versions if v["at"] < new["at"] and _marks(v["document"]) != _marks(new["document"])]
            old = earlier[-1] if earlier else new
        old_doc, new_doc = old["document"], new["document"]
        old_captions, old_citations = _parts(reader, old_doc["id"])
        new_captions, new_citations = _parts(reader, new_doc["id"])
    hunks = word_diff(old_doc["text"], new_doc["text"])
    captions = list_diff(old_captions, new_captions)
    citations = list_diff(old_citations, new_citations)
    return {
        "url": url,
        "compared": "text",
        "from": {"captured_at": old["at"].isoformat(), "document_id": old_doc["id"]},
        "to": {"captured_at": new["at"].isoformat(), "document_id": new_doc["id"]},
        "changed": bool(hunks or captions["removed"] or captions["added"] or citations["removed"]
                        or citations["added"]),
        "text": [hunk.as_json() for hunk in hunks],
        "text_rendered": [hunk.render() for hunk in hunks],
        "captions": captions,
        "citations": citations,
        **_saying(redirect),
    }


def _served(reader: sa.Connection, url: str) -> list[dict[str, Any]]:
    """The captures of ``url`` the server answered 2xx, oldest first, each with the location of the
    response record holding its payload (a revisit's original's)."""
    r, original = cat.records, cat.records.alias("original")
    query = (captures(url, r.c.warc_date, r.c.warc_record_id, r.c.http_content_type, r.c.payload_sha256,
                      sa.func.coalesce(original.c.warc_file_id, r.c.warc_file_id).label("warc_file_id"),
                      sa.func.coalesce(original.c.offset, r.c.offset).label("offset"))
             .outerjoin(original, original.c.id == r.c.revisit_of_id)
             .where(r.c.http_status >= 200, r.c.http_status < 300))
    return [{"captured_at": row.warc_date, "record_id": row.warc_record_id, "content_type": row.http_content_type,
             "payload_sha256": row.payload_sha256, "warc_file_id": row.warc_file_id, "offset": row.offset}
            for row in reader.execute(query)]


def _is_html(content_type: str | None) -> bool:
    """Is it a page the capture parses (as the fetcher judges: no type at all counts as HTML)?"""
    return content_type is None or media_type(content_type) in HTML_TYPES


def _payload_diff(url: str, served: list[dict[str, Any]], *, since: dt.datetime | None,
                  until: dt.datetime | None) -> dict[str, Any]:
    """Two captures of a document that is not an HTML page, compared by payload digest: the bytes
    changed or not (the version current at ``since`` [the last one before the newest change] and at
    ``until`` [the newest])."""
    new = _at_or_before([{**item, "at": item["captured_at"]} for item in served], until)
    if new is None:
        assert until is not None
        raise InputError(f"{url}: no capture at or before {until.isoformat()}")
    if since is not None:
        old = _at_or_before([{**item, "at": item["captured_at"]} for item in served], since)
        if old is None:
            raise InputError(f"{url}: no capture at or before {since.isoformat()}")
    else:
        earlier = [item for item in served if item["captured_at"] < new["captured_at"]
                   and item["payload_sha256"] != new["payload_sha256"]]
        old = earlier[-1] if earlier else new

    def side(item: dict[str, Any]) -> dict[str, Any]:
        return {"captured_at": item["captured_at"].isoformat(), "record_id": item["record_id"],
                "content_type": item["content_type"], "payload_sha256": item["payload_sha256"]}

    return {"url": url, "compared": "payload", "from": side(old), "to": side(new),
            "changed": old["payload_sha256"] != new["payload_sha256"]}


def newest_capture(collection: Collection, url: str) -> dict[str, Any] | None:
    """The newest capture of ``url`` when it is not an HTML page but a document (a PDF, an image),
    as the catalogue and its WARC record tell it: content type, payload size and sha256, and how
    many versions were captured (a version: a payload unlike the capture's before). None when it is
    an HTML page, or not captured."""
    with collection.catalogue.reader() as reader:
        served = _served(reader, url)
        if not served or _is_html(served[-1]["content_type"]):
            return None
        newest = served[-1]
        warc_file = reader.execute(sa.select(cat.warc_files.c.path)
                                   .where(cat.warc_files.c.id == newest["warc_file_id"])).scalar_one()
    return {
        "url": url,
        "captured_at": newest["captured_at"].isoformat(),
        "record_id": newest["record_id"],
        "content_type": newest["content_type"],
        "size": http_payload_size(collection.resolve(warc_file), newest["offset"]),
        "payload_sha256": newest["payload_sha256"],
        "versions": 1 + sum(1 for before, after in zip(served, served[1:], strict=False)
                            if before["payload_sha256"] != after["payload_sha256"]),
    }


def newest_document(collection: Collection, url: str) -> dict[str, Any]:
    """The newest parse of the newest capture of ``url``, shaped like ``Document.as_json``; of the page
    it led to (saying so) if that capture was redirected."""
    records, documents = cat.records, cat.documents
    with collection.catalogue.reader() as reader:
        redirect = followed(reader, url)
        page = redirect.to if redirect is not None else url
        row = reader.execute(sa.select(documents, records.c.warc_date, records.c.warc_record_id)
                             .join(records, records.c.id == documents.c.record_id)
                             .where(records.c.target_uri == page)
                             .order_by(records.c.warc_date.desc(), documents.c.id.desc()).limit(1)).mappings().first()
        if row is None:
            captured = reader.execute(sa.select(records.c.id).where(
                records.c.target_uri == page, records.c.record_type.in_(CAPTURE_TYPES)).limit(1)).first()
            if captured is None:  # nothing to parse again: capture is what helps
                raise InputError(f"{page}: not in the catalogue (archiver capture {page} archives it)")
            pending = reader.execute(sa.select(cat.pending_documents.c.record_id)
                                     .join(records, records.c.id == cat.pending_documents.c.record_id)
                                     .where(records.c.target_uri == page).limit(1)).first()
            if pending is not None:
                raise InputError(f"{page} was captured with --parse later and is not parsed yet: run `archiver parse`")
            raise InputError(f"no parsed capture of {page} in this collection (see `archiver reparse`)")
        dead = dead_citations(collection.catalogue, row["id"])
        parts = {
            name: [dict(item._mapping) for item in reader.execute(
                sa.select(table).where(table.c.document_id == row["id"]).order_by(table.c.position))]
            for name, table in (("captions", cat.captions), ("links", cat.links),
                                ("references", cat.reference_entries))
        }
    def keep(items: list[dict[str, Any]], fields: tuple[str, ...]) -> list[dict[str, Any]]:
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
        **_saying(redirect),
    }
