"""Full-text search over the main text and captions of captured pages.

SQLite's FTS5 index ``documents_fts`` (catalogue revision 0004) holds each
document's title, main text and captions; only the newest parse of each record
is searched. Results are ranked by BM25, with a snippet and the capture time.
FTS5 query syntax applies: words are ANDed, ``"a phrase"``, ``OR``, ``NOT``,
``prefix*``. The index is SQLite's: catalogues on other databases cannot be searched.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa

from . import catalogue as cat
from .errors import InputError

SNIPPET_WORDS = 16


@dataclasses.dataclass(frozen=True, kw_only=True)
class Hit:
    url: str
    captured_at: str
    title: str | None
    snippet: str
    rank: float | None
    role: str | None
    record_id: str
    document_id: int

    def as_json(self) -> dict:
        return dataclasses.asdict(self)


def search(catalogue: cat.Catalogue, *, text: str, site: str | None = None, since: dt.datetime | None = None,
           until: dt.datetime | None = None, role: str | None = None, limit: int = 20) -> list[Hit]:
    """The best ``limit`` captures whose text or captions match ``text``, best first."""
    if not text.strip():
        raise InputError("give words to search for")
    d, r = cat.documents, cat.records
    newest = sa.select(sa.func.max(d.c.id)).group_by(d.c.record_id)
    filters = [d.c.id.in_(newest)]
    if site:
        host = site.lower().strip().strip("/")
        patterns = [f"{scheme}://{prefix}{host}{end}" for scheme in ("http", "https") for prefix in ("", "%.")
                    for end in ("/%", ":%")]  # the host or a subdomain, with or without a port
        filters.append(sa.or_(*(d.c.url.like(pattern) for pattern in patterns)))
    if since is not None:
        filters.append(r.c.warc_date >= since)
    if until is not None:
        filters.append(r.c.warc_date <= until)
    if role:
        filters.append(r.c.role == role)
    with catalogue.reader() as reader:
        if reader.dialect.name != "sqlite":
            raise InputError("search needs the SQLite catalogue (its FTS5 index); this one is "
                             f"{reader.dialect.name}")
        return _fts(reader, text, filters, limit)


def _fts(reader, text: str, filters: list, limit: int) -> list[Hit]:
    d, r = cat.documents, cat.records
    fts = sa.table(cat.FTS_TABLE, sa.column("rowid"))
    match = sa.text(f"{cat.FTS_TABLE} MATCH :query").bindparams(query=text)
    snippet = sa.literal_column(f"snippet({cat.FTS_TABLE}, -1, '[', ']', '…', {SNIPPET_WORDS})")
    rank = sa.literal_column(f"bm25({cat.FTS_TABLE}, 2.0, 1.0, 1.0)")
    query = (sa.select(d.c.id, d.c.url, d.c.title, r.c.warc_date, r.c.role, r.c.warc_record_id,
                       snippet.label("snippet"), rank.label("rank"))
             .select_from(fts).join(d, d.c.id == fts.c.rowid).join(r, r.c.id == d.c.record_id)
             .where(match, *filters).order_by(sa.text("rank"), r.c.warc_date.desc()).limit(limit))
    try:
        rows = reader.execute(query).all()
    except sa.exc.OperationalError as exc:
        detail = str(exc.orig).splitlines()[0]
        raise InputError(f"search {text!r}: {detail} (FTS5 syntax: words, \"a phrase\", OR, NOT, prefix*)"
                         ) from None
    return [Hit(url=row.url, captured_at=row.warc_date.isoformat(), title=row.title, snippet=row.snippet,
                rank=round(row.rank, 4), role=row.role, record_id=row.warc_record_id, document_id=row.id)
            for row in rows]
