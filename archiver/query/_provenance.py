"""The whole chain behind one archived record, as a report and as W3C PROV-JSON.

For a record: the capture event that wrote it (tool, version, operator, host,
command line, start and end), the fetch (role, the page and link that led to
it, the link's tag: ``img``, ``iframe``, ``css-import``..., the redirect
chain), the request and response headers, peer IP, digests and WARC location.
For a post, each citation with the exact capture of the cited page taken with
it (same capture event, fetched from this post).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa
from warcio.archiveiterator import ArchiveIterator

from .. import __version__
from .. import catalogue as cat
from ..collection import Collection
from ..errors import InputError, StoreError
from ..parse import LinkKind
from ..warc import CAPTURE_TYPES, RecordType, bracketed_record_id
from ._redirects import chain, fetch_row

NAMESPACE = "https://github.com/archiver/archiver/ns#"


def _record_by(reader: sa.Connection, target: str) -> sa.Row[Any]:
    r = cat.records
    if target.startswith(("<urn:", "urn:")):
        record_id = bracketed_record_id(target)
        row = reader.execute(sa.select(r).where(r.c.warc_record_id == record_id)).first()
        if row is None:
            raise InputError(f"{target}: no such record in the catalogue")
        return row
    row = reader.execute(sa.select(r).where(r.c.target_uri == target, r.c.record_type.in_(CAPTURE_TYPES))
                         .order_by(r.c.warc_date.desc(), r.c.id.desc()).limit(1)).first()
    if row is None:
        raise InputError(f"{target}: not in the catalogue (archiver capture {target} archives it)")
    return row


def _location(reader: sa.Connection, collection: Collection, row: sa.Row[Any]) -> dict[str, Any]:
    f = reader.execute(sa.select(cat.warc_files).where(cat.warc_files.c.id == row.warc_file_id)).first()
    assert f is not None  # a record's warc_file_id references its file
    return {"file": f.filename, "path": str(collection.resolve(f.path)), "offset": row.offset, "length": row.length,
            "file_sha256": f.sha256, "file_status": f.status, "warcinfo_id": f.warcinfo_id}


def _record(reader: sa.Connection, collection: Collection, row: sa.Row[Any]) -> dict[str, Any]:
    return {
        "record_id": row.warc_record_id, "record_type": row.record_type, "target_uri": row.target_uri,
        "warc_date": row.warc_date.isoformat(), "http_status": row.http_status, "http_reason": row.http_reason,
        "content_type": row.http_content_type, "peer_ip": row.peer_ip,
        "block_digest": row.block_digest, "payload_digest": row.payload_digest,
        "block_sha256": row.block_sha256, "payload_sha256": row.payload_sha256, "truncated": row.truncated,
        "revisit_profile": row.revisit_profile,
        "revisit_of": _record_id(reader, row.revisit_of_id),
        "headers": json.loads(row.http_headers) if row.http_headers else None,
        **_location(reader, collection, row),
    }


def _record_id(reader: sa.Connection, pk: int | None) -> str | None:
    if pk is None:
        return None
    record_id: str = reader.execute(sa.select(cat.records.c.warc_record_id).where(cat.records.c.id == pk)).scalar_one()
    return record_id


def _request_headers(path: str, offset: int) -> dict[str, Any] | None:
    """The request line and headers as sent, read from the request record's own bytes."""
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            record = next(iter(ArchiveIterator(fh)), None)
            if record is None or record.http_headers is None:
                return None
            return {"request_line": f"{record.http_headers.protocol} {record.http_headers.statusline}",
                    "headers": [[name, value] for name, value in record.http_headers.headers]}
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from None


def _final_response(reader: sa.Connection, fetch: dict[str, Any]) -> sa.Row[Any] | None:
    final = chain(reader, fetch)[-1]
    r = cat.records
    return reader.execute(sa.select(r).where(r.c.fetch_id == final["id"],
                                             r.c.record_type.in_(CAPTURE_TYPES))).first()


def _hop(reader: sa.Connection, hop: dict[str, Any]) -> dict[str, Any]:
    r = cat.records
    record = reader.execute(sa.select(r.c.warc_record_id).where(
        r.c.fetch_id == hop["id"], r.c.record_type.in_(CAPTURE_TYPES))).scalar_one_or_none()
    return {"url": hop["url"], "http_status": hop["http_status"], "outcome": hop["outcome"], "record_id": record}


def _citations(reader: sa.Connection, collection: Collection, row: sa.Row[Any], fetch: dict[str, Any] | None
               ) -> list[dict[str, Any]]:
    """Each citation of the record's newest document, with the capture of it taken from this fetch."""
    d, links, f = cat.documents, cat.links, cat.fetches
    version = row.revisit_of_id or row.id
    document = reader.execute(sa.select(d.c.id).where(d.c.record_id == version).order_by(d.c.id.desc())
                              .limit(1)).scalar_one_or_none()
    if document is None:
        return []
    out = []
    taken: dict[str, Any] | None
    for link in reader.execute(sa.select(links).where(links.c.document_id == document,
                                                      links.c.kind == LinkKind.CITATION).order_by(links.c.position)):
        taken = None
        if fetch is not None:
            found = reader.execute(sa.select(f).where(f.c.parent_fetch_id == fetch["id"], f.c.url == link.url)
                                   .order_by(f.c.id).limit(1)).first()
            child = dict(found._mapping) if found is not None else None
            if child is not None and child["duplicate_of_id"] is not None:
                child = fetch_row(reader, child["duplicate_of_id"])
            cited = _final_response(reader, child) if child is not None else None
            if cited is not None:
                taken = {"record_id": cited.warc_record_id, "warc_date": cited.warc_date.isoformat(),
                         "http_status": cited.http_status, "payload_sha256": cited.payload_sha256,
                         **_location(reader, collection, cited)}
            elif child is not None:
                taken = {"record_id": None, "outcome": child["outcome"], "error": child["error"]}
        out.append({"url": link.url, "text": link.text, "context": link.context, "capture": taken})
    return out


def provenance(collection: Collection, target: str) -> dict[str, Any]:
    """The provenance report of a record (``<urn:uuid:...>``) or of a URL's newest capture."""
    with collection.catalogue.reader() as reader:
        row = _record_by(reader, target.strip())
        fetch = fetch_row(reader, row.fetch_id)
        event = reader.execute(sa.select(cat.capture_events).where(
            cat.capture_events.c.id == row.capture_event_id)).first()
        request = reader.execute(sa.select(cat.records).where(
            cat.records.c.concurrent_to == row.warc_record_id, cat.records.c.record_type == RecordType.REQUEST)).first()
        where = _location(reader, collection, request) if request is not None else None
        report = {
            "record": _record(reader, collection, row),
            "request": None if request is None or where is None else {
                "record_id": request.warc_record_id, **(_request_headers(where["path"], request.offset) or {}),
                **where},
            "capture_event": None if event is None else {
                "capture_id": event.uuid, "tool": event.tool, "tool_version": event.tool_version,
                "operator": event.operator, "hostname": event.hostname, "pid": event.pid, "command": event.command,
                "started_at": event.started_at.isoformat(),
                "ended_at": event.ended_at.isoformat() if event.ended_at else None, "outcome": event.outcome,
                "seeds": json.loads(event.seeds)},
            "fetch": None if fetch is None else {
                "url": fetch["url"], "role": fetch["role"], "started_at": fetch["started_at"].isoformat(),
                "ended_at": fetch["ended_at"].isoformat() if fetch["ended_at"] else None,
                "outcome": fetch["outcome"], "link_kind": fetch["link_kind"], "link_tag": fetch["link_tag"],
                "link_text": fetch["link_text"], "found_on": _found_on(reader, fetch)},
            "redirect_chain": [_hop(reader, hop) for hop in chain(reader, fetch)] if fetch else [],
            "citations": _citations(reader, collection, row, fetch),
        }
    return report


def _found_on(reader: sa.Connection, fetch: dict[str, Any]) -> dict[str, Any] | None:
    parent = fetch_row(reader, fetch["parent_fetch_id"])
    if parent is None:
        return None
    record = _final_response(reader, parent)
    return {"url": parent["url"], "record_id": record.warc_record_id if record is not None else None}


# -- W3C PROV-JSON ---------------------------------------------------------------------------------


def _uuid(record_id: str) -> str:
    return "warc:" + record_id.strip("<>").rpartition(":")[2]


def as_prov(report: dict[str, Any]) -> dict[str, Any]:
    """The report as a W3C PROV-JSON document (https://www.w3.org/submissions/prov-json/)."""
    record, event, fetch = report["record"], report["capture_event"], report["fetch"]
    entity: dict[str, dict[str, Any]] = {}
    activity: dict[str, dict[str, Any]] = {}
    agent: dict[str, dict[str, Any]] = {}
    relations: dict[str, dict[str, dict[str, str]]] = {name: {} for name in (
        "wasGeneratedBy", "used", "wasAssociatedWith", "wasInformedBy", "wasDerivedFrom", "actedOnBehalfOf")}

    def relate(kind: str, **values: str) -> None:
        relations[kind][f"_:{kind}{len(relations[kind]) + 1}"] = {f"prov:{key}": value for key, value in
                                                                  values.items()}

    subject = _uuid(record["record_id"])
    entity[subject] = {"prov:type": {"$": "archiver:WarcRecord", "type": "xsd:QName"},
                       "prov:location": f"{record['file']}#{record['offset']}",
                       "archiver:recordType": record["record_type"], "archiver:targetURI": record["target_uri"],
                       "archiver:blockDigest": record["block_digest"] or "",
                       "archiver:payloadSha256": record["payload_sha256"] or "",
                       "archiver:httpStatus": record["http_status"] if record["http_status"] is not None else ""}
    resource = "archiver:resource/" + hashlib.sha256(record["target_uri"].encode()).hexdigest()[:16]
    entity[resource] = {"prov:type": {"$": "archiver:WebResource", "type": "xsd:QName"},
                        "archiver:url": record["target_uri"]}
    if record["revisit_of"]:
        relate("wasDerivedFrom", generatedEntity=subject, usedEntity=_uuid(record["revisit_of"]))
        entity.setdefault(_uuid(record["revisit_of"]), {"prov:type": {"$": "archiver:WarcRecord",
                                                                      "type": "xsd:QName"}})
    software = f"archiver:software/archiver-{event['tool_version'] if event else __version__}"
    agent[software] = {"prov:type": {"$": "prov:SoftwareAgent", "type": "xsd:QName"}}
    if event is not None:
        capture = f"archiver:capture/{event['capture_id']}"
        operator = f"archiver:operator/{event['operator']}"
        activity[capture] = {"prov:startTime": event["started_at"], "prov:endTime": event["ended_at"] or "",
                             "archiver:command": event["command"], "archiver:hostname": event["hostname"],
                             "archiver:outcome": event["outcome"]}
        agent[operator] = {"prov:type": {"$": "prov:Person", "type": "xsd:QName"}}
        relate("wasAssociatedWith", activity=capture, agent=software)
        relate("wasAssociatedWith", activity=capture, agent=operator)
        relate("actedOnBehalfOf", delegate=software, responsible=operator)
    if fetch is not None:
        act = f"archiver:fetch/{subject.partition(':')[2]}"
        activity[act] = {"prov:startTime": fetch["started_at"], "prov:endTime": fetch["ended_at"] or "",
                         "archiver:role": fetch["role"], "archiver:peerIP": record["peer_ip"] or ""}
        if fetch["link_tag"]:
            activity[act]["archiver:linkTag"] = fetch["link_tag"]  # what referred to it: img, iframe, css-import...
        relate("used", activity=act, entity=resource)
        relate("wasGeneratedBy", entity=subject, activity=act)
        if event is not None:
            relate("wasInformedBy", informed=act, informant=f"archiver:capture/{event['capture_id']}")
        for citation in report["citations"]:
            capture_of = citation["capture"] or {}
            if capture_of.get("record_id"):
                cited = _uuid(capture_of["record_id"])
                entity[cited] = {"prov:type": {"$": "archiver:WarcRecord", "type": "xsd:QName"},
                                 "prov:location": f"{capture_of['file']}#{capture_of['offset']}",
                                 "archiver:targetURI": citation["url"]}
                cited_fetch = f"archiver:fetch/{cited.partition(':')[2]}"
                activity[cited_fetch] = {"archiver:role": cat.Role.CITED}
                relate("wasGeneratedBy", entity=cited, activity=cited_fetch)
                relate("wasInformedBy", informed=cited_fetch, informant=act)
    document = {"prefix": {"archiver": NAMESPACE, "warc": "urn:uuid:"},
                "entity": entity, "activity": activity, "agent": agent}
    document.update({kind: values for kind, values in relations.items() if values})
    return document
