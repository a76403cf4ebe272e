"""Classify what each capture found against the URL's previous capture, and record it.

Runs after a capture or re-crawl has catalogued its records: for every URL the
event requested, the final hop (after redirects) is compared with the newest
earlier classification of that URL, and a ``changes`` row is written.

Classes: ``new`` (the first version: earlier attempts, if any, were refused,
blocked or failed), ``unchanged``, ``edited`` (main text), ``captions-changed``,
``links-changed`` (citations added or removed), ``replaced`` (a non-HTML payload
changed), ``moved`` (a new redirect),
``gone`` (404/410, refused, unknown host, or a confirmed soft 404), ``back``
(answers again after gone), ``failed`` (5xx, timeout, too large: transient,
never an edit).

A *fetch anomaly* (an error or challenge page served with 200, a redirect to
the site's home page, a body that shrank sharply) is re-fetched once before
it is reported: if the re-fetch looks normal, the re-fetch is what counts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import urllib.parse
from typing import Any, Callable, TypeVar

import sqlalchemy as sa

from .. import catalogue as cat
from ..errors import ErrorKind
from ..parse import Fingerprints, LinkKind, word_diff
from ..warc import CAPTURE_TYPES

GONE_STATUSES = (404, 410)
GONE_ERRORS = (ErrorKind.CONNECT_FAILED,)
SHRANK = 0.5  # a body with less than this share of the previous version's words is suspect
SHRANK_MIN_WORDS = 100  # ... when the previous version had at least this many
_ERROR_PAGE = re.compile(
    r"\b(404|page not found|not found|no longer available|does not exist|has been removed|error \d{3}|"
    r"access denied|forbidden|just a moment|checking your browser|attention required|captcha|"
    r"are you a robot|verify you are human|enable javascript and cookies)\b", re.I)
ERROR_PAGE_MAX_WORDS = 150


@dataclasses.dataclass(frozen=True, kw_only=True)
class Change:
    url: str
    at: dt.datetime
    change: str
    changed: bool
    record_id: int | None
    previous_record_id: int | None
    detail: dict[str, Any]


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Version:
    """What one capture of a URL found, reduced to what classification compares."""

    fetch_id: int
    url: str
    at: dt.datetime
    state: str  # ok, gone, failed
    final_url: str
    status: int | None
    error_kind: str | None
    record_id: int | None  # the response or revisit record of the final hop
    version_record_id: int | None  # the response holding the payload (a revisit's original)
    payload_sha256: str | None
    document_id: int | None  # the newest document of version_record_id
    document: dict[str, Any] | None = None  # its row, where classification reads it (_with_documents)


def classify_event(catalogue: cat.Catalogue, event_id: int, *, fetch_ids: set[int],
                   confirm: Callable[[list[tuple[str, str, int]]], None]) -> list[Change]:
    """Classify the URLs the event requested whose first fetch is one of ``fetch_ids`` (robots.txt
    files aside) and write the ``changes`` rows. Each of an event's processes classifies what it
    fetched, while the others may still be fetching.

    ``confirm(items)`` re-fetches anomalous URLs once, in the same event; each item is
    ``(url, role, fetch_id)`` and the re-fetch's first hop must name ``fetch_id`` as its parent
    with link kind ``confirm``. The catalogue is read in bulk (a few queries per batch of URLs).
    """
    with catalogue.reader() as reader:
        fetches = _event_fetches(reader, event_id)
        firsts = [row for row in fetches.values() if row["redirect_from_id"] is None
                  and row["outcome"] in (cat.FetchOutcome.CAPTURED, cat.FetchOutcome.FAILED, cat.FetchOutcome.BLOCKED)
                  and row["link_kind"] not in ("confirm", "robots")  # robots.txt is how, not what, we archive
                  and row["id"] in fetch_ids]
        found = _Found.read(reader, event_id)
        previous = _previous(reader, [first["url"] for first in firsts], event_id)
        pending, suspects = [], []
        for first, new, before in _with_documents(reader, [
                (first, _version(found, fetches, first), previous.get(first["url"])) for first in firsts]):
            anomaly = _anomaly(new, before)
            if anomaly and before is not None:
                suspects.append((first, new, before, anomaly))
            else:
                pending.append(_classify(reader, new, before, None))
    if suspects:
        confirm([(first["url"], first["role"], first["id"]) for first, *_ in suspects])
        with catalogue.reader() as reader:
            fetches = _event_fetches(reader, event_id)
            found = _Found.read(reader, event_id)
            by_parent = {row["parent_fetch_id"]: row for row in fetches.values() if row["link_kind"] == "confirm"}
            seconds = {first["id"]: second for first, second, _ in _with_documents(reader, [
                (first, _version(found, fetches, by_parent[first["id"]]), before)
                for first, _, before, _ in suspects if first["id"] in by_parent])}
            for first, new, before, anomaly in suspects:
                second = seconds.get(first["id"])
                still = _anomaly(second, before) if second is not None else anomaly
                if second is not None and still is None:
                    pending.append(_classify(reader, second, before, {"anomaly": anomaly, "confirmed": False}))
                else:
                    pending.append(_classify(reader, second or new, before, {"anomaly": still, "confirmed": True}))
    with catalogue.transaction() as connection:
        catalogue.insert_many(connection, cat.changes, [
            {"url": change.url, "capture_event_id": event_id, "fetch_id": change.detail["fetch_id"],
             "record_id": change.record_id, "previous_record_id": change.previous_record_id, "at": change.at,
             "change": change.change, "changed": change.changed, "detail": _stored_detail(change)}
            for change in pending])
    return pending


def _stored_detail(change: Change) -> str:
    """A change's detail as catalogued: without what its row holds already (the fetch id; the final
    URL when it is the URL) and without null values. Readers take a missing key as null and a
    missing final URL as the URL, so rows written with every key read the same."""
    return json.dumps({key: value for key, value in change.detail.items() if value is not None
                       and key != "fetch_id" and not (key == "final_url" and value == change.url)})


class _Fetches(dict[int, dict[str, Any]]):
    """An event's fetch rows by id, and each redirect hop by the id of the hop before it."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__((row["id"], row) for row in rows)
        self.next_hop = {row["redirect_from_id"]: row for row in rows if row["redirect_from_id"] is not None}


def _event_fetches(reader: sa.Connection, event_id: int) -> _Fetches:
    f = cat.fetches
    rows = reader.execute(sa.select(f.c.id, f.c.url, f.c.role, f.c.redirect_from_id, f.c.parent_fetch_id, f.c.outcome,
                                    f.c.link_kind, f.c.http_status, f.c.error_kind, f.c.started_at)
                          .where(f.c.capture_event_id == event_id))
    keys = list(rows.keys())
    return _Fetches([dict(zip(keys, row, strict=True)) for row in rows])  # a tenth of Row._asdict's time


def _documents(reader: sa.Connection, record_ids: set[int]) -> dict[int, dict[str, Any]]:
    """The newest document row of each record, by record id."""
    d = cat.documents
    found: dict[int, dict[str, Any]] = {}
    for chunk in cat.chunked(sorted(set(record_ids))):
        for row in reader.execute(sa.select(d).where(d.c.record_id.in_(chunk)).order_by(d.c.id)):
            found[row.record_id] = dict(row._mapping)
    return found


_V = TypeVar("_V", "_Version", "_Previous")


def _with_documents(reader: sa.Connection, items: list[tuple[dict[str, Any], "_Version", "_Previous | None"]]
                    ) -> list[tuple[dict[str, Any], "_Version", "_Previous | None"]]:
    """``(first, new, before)`` items with the parsed documents filled in where classification reads
    them: where a good version differs from the one before. The same version is the same text, so an
    unchanged re-crawl reads no document text at all."""
    wanted = {item for _, new, before in items if new.state == "ok" and new.version_record_id is not None
              and before is not None and before.version_record_id not in (None, new.version_record_id)
              for item in (new.version_record_id, before.version_record_id)}
    documents = _documents(reader, wanted) if wanted else {}

    def filled(version: _V) -> _V:
        found = documents.get(version.version_record_id) if version.version_record_id is not None else None
        return dataclasses.replace(version, document=found) if found is not None else version

    return [(first, filled(new) if new.state == "ok" else new, filled(before) if before is not None else None)
            for first, new, before in items]


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Found:
    """An event's response and revisit records by fetch id, and the newest document id of each
    payload (its text is read only where needed: :func:`_with_documents`)."""

    records: dict[int, Any]
    document_ids: dict[int, int]

    @classmethod
    def read(cls, reader: sa.Connection, event_id: int) -> "_Found":
        r, f = cat.records, cat.fetches
        records: dict[int, Any] = {}
        # through the event's fetches (ix_fetches_event, then ix_records_fetch): records has no index by event
        for row in reader.execute(
                sa.select(r.c.id, r.c.fetch_id, r.c.record_type, r.c.revisit_of_id, r.c.payload_sha256, r.c.warc_date)
                .join(f, f.c.id == r.c.fetch_id)
                .where(f.c.capture_event_id == event_id, r.c.record_type.in_(CAPTURE_TYPES))
                .order_by(r.c.id)):
            records.setdefault(row.fetch_id, row)
        d = cat.documents
        document_ids: dict[int, int] = {}
        for chunk in cat.chunked(sorted({row.revisit_of_id or row.id for row in records.values()})):
            document_ids.update(reader.execute(sa.select(d.c.record_id, sa.func.max(d.c.id))
                                               .where(d.c.record_id.in_(chunk)).group_by(d.c.record_id)).all())
        return cls(records=records, document_ids=document_ids)


def _version(found: _Found, fetches: _Fetches, first: dict[str, Any]) -> _Version:
    """Follow the redirect chain from ``first`` to its final hop and take that hop's record."""
    final = first
    while final["id"] in fetches.next_hop:
        final = fetches.next_hop[final["id"]]
    record = found.records.get(final["id"])
    status, error_kind = final["http_status"], final["error_kind"]
    if record is None or final["outcome"] != cat.FetchOutcome.CAPTURED or error_kind:
        state = "gone" if error_kind in GONE_ERRORS else "failed"
    elif status in GONE_STATUSES:
        state = "gone"
    elif status is not None and (200 <= status < 300 or status == 304):
        state = "ok"
    else:
        state = "failed"
    version_id = (record.revisit_of_id or record.id) if record is not None else None
    document_id = found.document_ids.get(version_id) if version_id is not None and state == "ok" else None
    return _Version(fetch_id=first["id"], url=first["url"], at=record.warc_date if record else first["started_at"],
                    state=state, final_url=final["url"], status=status, error_kind=error_kind,
                    record_id=record.id if record else None, version_record_id=version_id,
                    payload_sha256=record.payload_sha256 if record else None, document_id=document_id)


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Previous:
    state: str
    final_url: str
    version_record_id: int | None
    payload_sha256: str | None
    responded: bool  # did any earlier attempt get a response (a 404 does; a refusal or timeout does not)
    document: dict[str, Any] | None = None  # the last good version's, where read (_with_documents)


def _previous(reader: sa.Connection, urls: list[str], event_id: int) -> dict[str, _Previous]:
    """Each URL's newest classification by another event; for its version, the last good one (not
    gone or failed); and, for a URL gone without a version, whether any earlier check got a
    response. One query per :data:`archiver.catalogue.IN_LIST` URLs (both rows come from the same
    ranking, and a row that is both is read once), and one more for the few gone without a version."""
    c = cat.changes
    good = c.c.change.notin_((cat.ChangeClass.GONE, cat.ChangeClass.FAILED))
    order = (c.c.at.desc(), c.c.id.desc())
    latest: dict[str, dict[str, Any]] = {}
    last_good: dict[str, dict[str, Any]] = {}
    for chunk in cat.chunked(sorted(set(urls))):
        ranked = sa.select(c.c.url, c.c.detail, good.label("good"),
                           sa.func.row_number().over(partition_by=c.c.url, order_by=order).label("newest"),
                           sa.func.row_number().over(partition_by=(c.c.url, good), order_by=order).label("kind_rank")
                           ).where(c.c.url.in_(chunk), c.c.capture_event_id != event_id).subquery()
        for row in reader.execute(sa.select(ranked).where(
                sa.or_(ranked.c.newest == 1, sa.and_(ranked.c.good, ranked.c.kind_rank == 1)))):
            detail = json.loads(row.detail)
            if row.newest == 1:
                latest[row.url] = detail
            if row.good and row.kind_rank == 1:
                last_good[row.url] = detail
    unversioned = [url for url, detail in latest.items()
                   if detail.get("state") == "gone" and last_good.get(url, {}).get("version_record_id") is None]
    responded: set[str] = set()
    for chunk in cat.chunked(unversioned):  # rare: a URL only ever refused, failed or gone
        responded.update(reader.execute(sa.select(c.c.url).distinct().where(
            c.c.url.in_(chunk), c.c.record_id.is_not(None), c.c.capture_event_id != event_id)).scalars())
    found = {}
    for url, detail in latest.items():
        good_detail = last_good.get(url, {})
        version_id = good_detail.get("version_record_id")
        found[url] = _Previous(state=detail.get("state", "ok"), final_url=good_detail.get("final_url", url),
                               version_record_id=version_id, payload_sha256=good_detail.get("payload_sha256"),
                               responded=url in responded)
    return found


def _words(document: dict[str, Any] | None) -> int:
    return len((document or {}).get("text", "").split())


def _anomaly(new: _Version, previous: _Previous | None) -> str | None:
    """Why this capture looks like a fetch problem rather than the page (None if it does not)."""
    if new.state != "ok" or previous is None or previous.state == "gone":
        return None
    if new.final_url != new.url and urllib.parse.urlsplit(new.final_url).path in ("", "/") \
            and urllib.parse.urlsplit(new.url).path not in ("", "/"):
        return "redirected to the home page"
    if new.document is None or previous.document is None:
        return None
    words = _words(new.document)
    sample = f"{new.document.get('title') or ''} {(new.document.get('text') or '')[:300]}"
    if words <= ERROR_PAGE_MAX_WORDS and _ERROR_PAGE.search(sample) and not _ERROR_PAGE.search(
            f"{previous.document.get('title') or ''} {(previous.document.get('text') or '')[:300]}"):
        return "an error or challenge page"
    before = _words(previous.document)
    if before >= SHRANK_MIN_WORDS and words < SHRANK * before:
        return f"the main text shrank from {before} to {words} words"
    return None


def _fingerprints(document: dict[str, Any]) -> Fingerprints | None:
    if document.get("fp_body") is None:
        return None
    return Fingerprints(**{part: document[f"fp_{part}"] for part in
                           ("title", "dates", "body", "captions", "citations")})


def _classify(reader: sa.Connection, new: _Version, previous: _Previous | None, anomaly: dict[str, Any] | None
              ) -> Change:
    detail: dict[str, Any] = {"fetch_id": new.fetch_id, "state": new.state, "final_url": new.final_url,
                              "http_status": new.status, "error_kind": new.error_kind,
                              "version_record_id": new.version_record_id, "payload_sha256": new.payload_sha256,
                              "document_id": new.document_id, **(anomaly or {})}
    change, changed = _judge(reader, new, previous, anomaly, detail)
    if change in (cat.ChangeClass.GONE, cat.ChangeClass.FAILED):
        # a failed or gone capture is no version: the previous good one is still current
        detail["version_record_id"] = previous.version_record_id if previous else None
        detail["payload_sha256"] = previous.payload_sha256 if previous else None
        detail["state"] = change if change == cat.ChangeClass.GONE else new.state
    return Change(url=new.url, at=new.at, change=change, changed=changed, record_id=new.record_id,
                  previous_record_id=previous.version_record_id if previous else None, detail=detail)


def _judge(reader: sa.Connection, new: _Version, previous: _Previous | None, anomaly: dict[str, Any] | None,
           detail: dict[str, Any]
           ) -> tuple[str, bool]:
    if new.state == "failed":
        return cat.ChangeClass.FAILED, False
    if new.state == "gone":
        return cat.ChangeClass.GONE, previous is None or previous.state != "gone"
    if anomaly and anomaly.get("confirmed"):
        if "shrank" in anomaly["anomaly"]:
            detail["parts"] = ["body"]
            return cat.ChangeClass.EDITED, True
        return cat.ChangeClass.GONE, previous is None or previous.state != "gone"
    if previous is None or previous.version_record_id is None and not (previous.state == "gone"
                                                                       and previous.responded):
        return cat.ChangeClass.NEW, False  # no version before: earlier attempts were refused, blocked or failed
    if previous.state == "gone":
        return cat.ChangeClass.BACK, True
    if new.final_url != previous.final_url:
        detail["moved_from"] = previous.final_url
        return cat.ChangeClass.MOVED, True
    if new.version_record_id == previous.version_record_id:
        return cat.ChangeClass.UNCHANGED, False
    if new.document is not None and previous.document is not None:
        mine, theirs = _fingerprints(new.document), _fingerprints(previous.document)
        parts = mine.changed_parts(theirs) if mine and theirs else []
        if "body" in parts and "citations" in parts and _only_link_text(reader, previous.document, new.document):
            parts.remove("body")  # the text lost or gained only the anchor text of the citations
        detail["parts"] = parts
        if not parts:
            return cat.ChangeClass.UNCHANGED, False
        return {"body": cat.ChangeClass.EDITED, "captions": cat.ChangeClass.CAPTIONS_CHANGED,
                "citations": cat.ChangeClass.LINKS_CHANGED}[parts[0]], True
    if new.payload_sha256 != previous.payload_sha256:
        return cat.ChangeClass.REPLACED, True
    return cat.ChangeClass.UNCHANGED, False


_CONNECTIVES = {"and", "or", "&", "also", "see", "via"}


def _only_link_text(reader: sa.Connection, old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Do the two texts differ only by the anchor text of citations added or removed?"""
    links = {}
    for document in (old, new):
        links[document["id"]] = {(row.url, row.text) for row in reader.execute(
            sa.select(cat.links.c.url, cat.links.c.text).where(cat.links.c.document_id == document["id"],
                                                               cat.links.c.kind == LinkKind.CITATION))}
    moved = links[old["id"]] ^ links[new["id"]]
    anchors = {word for _, text in moved for word in _plain_words(text)}
    changed = [word for hunk in word_diff(old["text"], new["text"])
               for word in _plain_words(f"{hunk.removed} {hunk.added}")]
    return bool(changed) and all(word in anchors or word in _CONNECTIVES for word in changed)


def _plain_words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())
