"""What the catalogue already holds for the URLs a run fetches: the last capture of each (its
validators, for a conditional request), an earlier response with the same payload (a revisit's
original), and the links a page not modified since was followed by then."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import sqlalchemy as sa

from .. import catalogue as cat
from ..collection import Collection
from ..parse import Link, Outlinks
from ..warc import CAPTURE_TYPES, Original, RecordType
from ._tasks import Previous, Task

ENDED = (cat.EventOutcome.COMPLETE, cat.EventOutcome.PARTIAL, cat.EventOutcome.FAILED)  # events that ran to their end


def _record_select() -> sa.Select[Any]:
    r, f = cat.records, cat.warc_files
    return (sa.select(r.c.id, r.c.warc_record_id, r.c.fetch_id, r.c.target_uri, r.c.warc_date, r.c.payload_sha256,
                      r.c.offset, r.c.record_type, r.c.revisit_of_id, r.c.http_headers, f.c.path)
            .join(f, r.c.warc_file_id == f.c.id))


def _previous_from(row: sa.Row[Any], original: sa.Row[Any], collection: Collection) -> Previous:
    """A :class:`Previous` for a response or revisit row; ``original`` is the response holding its payload
    (the row itself for a response)."""
    validators = dict((name.lower(), value) for name, value in json.loads(row.http_headers or "[]"))
    return Previous(record_pk=original.id, payload_sha256=original.payload_sha256,
                    path=collection.resolve(original.path), offset=original.offset, fetch_id=original.fetch_id,
                    content_type=validators.get("content-type"), etag=validators.get("etag"),
                    last_modified=validators.get("last-modified"),
                    original=Original(record_id=original.warc_record_id, target_uri=original.target_uri,
                                     date=original.warc_date))


def previous_captures(catalogue: cat.Catalogue, urls: list[str], collection: Collection) -> dict[str, Previous]:
    """The newest 200 response (or revisit of one) archived for each of ``urls``, by URL (two queries
    per :data:`archiver.catalogue.IN_LIST` URLs, not two per URL)."""
    r = cat.records
    found: dict[str, Previous] = {}
    with catalogue.reader() as reader:
        for chunk in cat.chunked(urls):
            newest = (sa.select(r.c.id, sa.func.row_number().over(
                partition_by=r.c.target_uri, order_by=(r.c.warc_date.desc(), r.c.id.desc())).label("rank"))
                .where(r.c.target_uri.in_(chunk), r.c.record_type.in_(CAPTURE_TYPES),
                       r.c.http_status == 200, r.c.truncated.is_(None))).subquery()
            rows = reader.execute(_record_select().join(newest, newest.c.id == r.c.id).where(newest.c.rank == 1)
                                  ).all()
            wanted = [row.revisit_of_id for row in rows if row.record_type == RecordType.REVISIT]
            originals = {row.id: row for row in reader.execute(_record_select().where(r.c.id.in_(wanted)))
                         } if wanted else {}
            for row in rows:
                original = originals.get(row.revisit_of_id) if row.record_type == RecordType.REVISIT else row
                if original is not None:
                    found[row.target_uri] = _previous_from(row, original, collection)
    return found


def same_payloads(catalogue: cat.Catalogue, wanted: set[tuple[str, str]], collection: Collection, *,
                  before_event: int) -> dict[tuple[str, str], Previous]:
    """For each (payload sha256, URL) of ``wanted``, an untruncated response of an earlier capture event
    with that payload: the URL's own newest, else the newest of any URL. Two queries per
    :data:`archiver.catalogue.IN_LIST` digests, not one per response."""
    r = cat.records
    found: dict[tuple[str, str], Previous] = {}
    with catalogue.reader() as reader:
        for chunk in cat.chunked(sorted({digest for digest, _ in wanted})):
            newest: dict[str, dict[str, int]] = {}  # digest -> URL -> its newest response's id
            for digest, url, newest_id in reader.execute(
                    sa.select(r.c.payload_sha256, r.c.target_uri, sa.func.max(r.c.id))
                    .where(r.c.payload_sha256.in_(chunk), r.c.record_type == RecordType.RESPONSE,
                           r.c.truncated.is_(None), r.c.capture_event_id != before_event)
                    .group_by(r.c.payload_sha256, r.c.target_uri)):
                newest.setdefault(digest, {})[url] = newest_id
            chosen = {(digest, url): by_url.get(url) or max(by_url.values())
                      for digest, url in wanted if (by_url := newest.get(digest))}
            rows = {row.id: row for ids in cat.chunked(sorted(set(chosen.values())))
                    for row in reader.execute(_record_select().where(r.c.id.in_(ids)))}
            found.update((key, _previous_from(rows[row_id], rows[row_id], collection))
                         for key, row_id in chosen.items())
    return found


@dataclasses.dataclass(frozen=True, kw_only=True)
class ArchivedLinks(Outlinks):
    """The links a page not modified since its archived capture was followed by then, read from the
    catalogue (the follow-up fetch rows of that capture) instead of parsing the same bytes again."""

    links: list[Link]


def archived_links(catalogue: cat.Catalogue, wanted: dict[int, Task]) -> dict[int, ArchivedLinks]:
    """The links the captures of ``wanted`` (by fetch id, with the task that revisits each) followed,
    where they stand for a parse of the same bytes now: the same role (so the same follow-up rules),
    a capture not cut short before its follow-ups were catalogued, and each link's tag catalogued (a
    frame's document is parsed for its requisites; a page captured before revision 0006 is read from its
    archived payload instead). Two queries per :data:`archiver.catalogue.IN_LIST` fetches."""
    f, e = cat.fetches, cat.capture_events
    archived: dict[int, ArchivedLinks] = {}
    with catalogue.reader() as reader:
        for chunk in cat.chunked(list(wanted)):
            heads = reader.execute(sa.select(f.c.id, f.c.role, f.c.link_kind, e.c.outcome)
                                   .join(e, f.c.capture_event_id == e.c.id).where(f.c.id.in_(chunk)))
            links: dict[int, list[Link]] = {
                head.id: [] for head in heads if head.role == wanted[head.id].role
                and head.link_kind != "confirm" and head.outcome in ENDED}
            untagged: set[int] = set()  # pages whose links were followed before revision 0006 recorded their tags
            # SQLite's planner would take ix_fetches_redirect for "redirect_from_id IS NULL", which
            # nearly every row matches: a scan of the table per batch instead of a look-up per parent
            for row in reader.execute(sa.select(f.c.parent_fetch_id, f.c.url, f.c.link_kind, f.c.link_text,
                                                f.c.link_tag)
                                      .with_hint(f, "INDEXED BY ix_fetches_parent", "sqlite")
                                      .where(f.c.parent_fetch_id.in_(list(links)), f.c.redirect_from_id.is_(None))
                                      .order_by(f.c.id)):
                if row.link_kind == "confirm":
                    continue  # a re-fetch of the page itself, not a link of it
                if row.link_tag is None:
                    untagged.add(row.parent_fetch_id)
                else:
                    links[row.parent_fetch_id].append(Link(url=row.url, kind=row.link_kind, text=row.link_text or "",
                                                           tag=row.link_tag))
            archived.update((fetch_id, ArchivedLinks(links=found)) for fetch_id, found in links.items()
                            if fetch_id not in untagged)
    return archived
