"""The SQL catalogue: every capture event, WARC file, fetch attempt and record.

The tables below describe the schema the newest Alembic revision creates (the
revisions in ``migrations/`` are the only thing that creates or changes it; a
test checks that the two agree). :func:`open_catalogue` upgrades any catalogue
to the newest revision on first use.

SQLite runs in WAL mode with a busy timeout, and every transaction starts
with ``BEGIN IMMEDIATE`` so that two processes writing at once wait for each
other instead of failing or losing a transaction.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import enum
import json
import urllib.parse
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .errors import CatalogueError
from .warc import CAPTURE_TYPES, RecordFacts, RecordType, parse_warc_date

if TYPE_CHECKING:
    from alembic.config import Config

    from .net import Exchange
    from .parse import Document

LOCK_TIMEOUT = 60.0  # seconds a write waits for another process's transaction (SQLite busy timeout)
HEAD_REVISION = "0007"  # the newest migration in migrations/versions (a test holds them to each other)
IN_LIST = 500  # values per ``IN (...)`` list: well under SQLite's limit on bound parameters

_T = TypeVar("_T")

class Role(enum.StrEnum):
    """Why a URL was fetched (``fetches.role``, ``records.role``)."""

    POST = "post"  # a seed
    EMBED = "embed"  # a requisite of a post (image, style sheet, script)
    CITED = "cited"  # a page a post cites
    CITED_EMBED = "cited-embed"  # a requisite of a cited page
    ROBOTS = "robots"  # a robots.txt asked before following a link
    RECOVERED = "recovered"  # a record catalogued from its own bytes after a crash


class FetchOutcome(enum.StrEnum):
    """How one fetch ended (``fetches.outcome``)."""

    CAPTURED = "captured"
    FAILED = "failed"
    BLOCKED = "blocked"  # refused before any request: a private address, a refused URL, robots.txt
    LEASED = "leased"  # not fetched: another re-crawl holds the URL
    DUPLICATE = "duplicate"  # not fetched: already fetched in this event


class EventOutcome(enum.StrEnum):
    """How a capture event ended (``capture_events.outcome``)."""

    RUNNING = "running"
    COMPLETE = "complete"
    PARTIAL = "partial"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class ChangeClass(enum.StrEnum):
    """What a capture found against the URL's previous one (``changes.change``)."""

    NEW = "new"
    UNCHANGED = "unchanged"
    EDITED = "edited"
    CAPTIONS_CHANGED = "captions-changed"
    LINKS_CHANGED = "links-changed"
    REPLACED = "replaced"
    MOVED = "moved"
    GONE = "gone"
    BACK = "back"
    FAILED = "failed"


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out; stored as naive UTC."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the catalogue")
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        return value.replace(tzinfo=dt.timezone.utc) if value is not None else None


metadata = sa.MetaData()

capture_events = sa.Table(
    "capture_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("uuid", sa.String(36), nullable=False, unique=True),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("tool", sa.String(64), nullable=False),
    sa.Column("tool_version", sa.String(32), nullable=False),
    sa.Column("operator", sa.Text, nullable=False),
    sa.Column("hostname", sa.Text, nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("command", sa.Text, nullable=False),
    sa.Column("seeds", sa.Text, nullable=False),
    sa.Column("settings", sa.Text, nullable=False),
)

warc_files = sa.Table(
    "warc_files",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("filename", sa.Text, nullable=False, unique=True),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("capture_event_id", sa.Integer, sa.ForeignKey("capture_events.id")),
    sa.Column("opened_at", UTCDateTime, nullable=False),
    sa.Column("closed_at", UTCDateTime),
    sa.Column("size", sa.BigInteger),
    sa.Column("sha256", sa.String(64)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("warcinfo_id", sa.Text),
)

fetches = sa.Table(
    "fetches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("capture_event_id", sa.Integer, sa.ForeignKey("capture_events.id"), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("parent_fetch_id", sa.Integer, sa.ForeignKey("fetches.id")),
    sa.Column("link_kind", sa.String(16)),
    sa.Column("link_text", sa.Text),
    sa.Column("link_tag", sa.String(16)),  # the tag or CSS construct of the link (revision 0006)
    sa.Column("redirect_from_id", sa.Integer, sa.ForeignKey("fetches.id")),
    sa.Column("duplicate_of_id", sa.Integer, sa.ForeignKey("fetches.id")),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("http_status", sa.Integer),
    sa.Column("error_kind", sa.String(32)),
    sa.Column("error", sa.Text),
    sa.Index("ix_fetches_url", "url"),
    sa.Index("ix_fetches_event", "capture_event_id"),
    sa.Index("ix_fetches_redirect", "redirect_from_id"),
    sa.Index("ix_fetches_parent", "parent_fetch_id"),
)

records = sa.Table(
    "records",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("warc_record_id", sa.Text, nullable=False, unique=True),
    sa.Column("capture_event_id", sa.Integer, sa.ForeignKey("capture_events.id")),
    sa.Column("fetch_id", sa.Integer, sa.ForeignKey("fetches.id")),
    sa.Column("warc_file_id", sa.Integer, sa.ForeignKey("warc_files.id"), nullable=False),
    sa.Column("offset", sa.BigInteger, nullable=False),
    sa.Column("length", sa.BigInteger, nullable=False),
    sa.Column("record_type", sa.String(16), nullable=False),
    sa.Column("target_uri", sa.Text),
    sa.Column("warc_date", UTCDateTime, nullable=False),
    sa.Column("content_type", sa.Text),
    sa.Column("content_length", sa.BigInteger, nullable=False),
    sa.Column("block_sha256", sa.String(64), nullable=False),
    sa.Column("payload_sha256", sa.String(64)),
    sa.Column("block_digest", sa.Text),
    sa.Column("payload_digest", sa.Text),
    sa.Column("http_status", sa.Integer),
    sa.Column("http_reason", sa.Text),
    sa.Column("http_content_type", sa.Text),
    sa.Column("http_headers", sa.Text),
    sa.Column("peer_ip", sa.String(45)),
    sa.Column("role", sa.String(16)),
    sa.Column("concurrent_to", sa.Text),
    sa.Column("refers_to", sa.Text),
    sa.Column("truncated", sa.String(16)),
    sa.Column("revisit_of_id", sa.Integer, sa.ForeignKey("records.id", name="fk_records_revisit_of")),
    sa.Column("revisit_profile", sa.Text),
    sa.Column("tls_verified", sa.Boolean),  # https: was the certificate checked (false: --insecure); else NULL
    sa.Index("ix_records_target_date", "target_uri", "warc_date"),
    sa.Index("ix_records_payload", "payload_sha256"),
    sa.Index("ix_records_file_offset", "warc_file_id", "offset"),
    sa.Index("ix_records_fetch", "fetch_id"),
    sa.Index("ix_records_concurrent", "concurrent_to"),
)


documents = sa.Table(
    "documents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("record_id", sa.Integer, sa.ForeignKey("records.id"), nullable=False),
    sa.Column("parser", sa.String(64), nullable=False),
    sa.Column("parser_version", sa.String(32), nullable=False),
    sa.Column("parsed_at", UTCDateTime, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("title", sa.Text),
    sa.Column("author", sa.Text),
    sa.Column("published", sa.String(40)),
    sa.Column("updated", sa.String(40)),
    sa.Column("language", sa.String(16)),
    sa.Column("canonical", sa.Text),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("encoding", sa.String(32)),
    sa.Column("encoding_source", sa.String(16)),
    sa.Column("body_found_by", sa.Text),
    sa.Column("sources", sa.Text, nullable=False),
    sa.Column("warnings", sa.Text, nullable=False),
    sa.Column("fp_title", sa.String(64)),
    sa.Column("fp_dates", sa.String(64)),
    sa.Column("fp_body", sa.String(64)),
    sa.Column("fp_captions", sa.String(64)),
    sa.Column("fp_citations", sa.String(64)),
    sa.Index("ix_documents_record", "record_id"),
    sa.Index("ix_documents_url", "url"),
)

# the page responses whose document a capture left to ``archiver parse`` (``--parse later``)
pending_documents = sa.Table(
    "pending_documents",
    metadata,
    sa.Column("record_id", sa.Integer, sa.ForeignKey("records.id"), primary_key=True, autoincrement=False),
    sa.Column("queued_at", UTCDateTime, nullable=False),
)

captions = sa.Table(
    "captions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("credit", sa.Text),
    sa.Column("image_url", sa.Text),
    sa.Index("ix_captions_document", "document_id"),
)

links = sa.Table(
    "links",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("context", sa.Text, nullable=False),
    sa.Index("ix_links_document", "document_id"),
    sa.Index("ix_links_url", "url"),
)

reference_entries = sa.Table(
    "reference_entries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("publisher", sa.Text),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("language", sa.Text),
    sa.Column("url", sa.Text),
    sa.Index("ix_reference_entries_document", "document_id"),
)

schedules = sa.Table(
    "schedules",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("url", sa.Text, nullable=False, unique=True),
    sa.Column("interval_seconds", sa.Integer, nullable=False),
    sa.Column("next_due_at", UTCDateTime, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_run_at", UTCDateTime),
    sa.Index("ix_schedules_due", "enabled", "next_due_at"),
)

leases = sa.Table(
    "leases",
    metadata,
    sa.Column("url", sa.Text, primary_key=True),
    sa.Column("holder", sa.String(36), nullable=False),
    sa.Column("hostname", sa.Text, nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("acquired_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)

changes = sa.Table(
    "changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("capture_event_id", sa.Integer, sa.ForeignKey("capture_events.id"), nullable=False),
    sa.Column("fetch_id", sa.Integer, sa.ForeignKey("fetches.id")),
    sa.Column("record_id", sa.Integer, sa.ForeignKey("records.id")),
    sa.Column("previous_record_id", sa.Integer, sa.ForeignKey("records.id")),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("change", sa.String(24), nullable=False),
    sa.Column("changed", sa.Boolean, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Index("ix_changes_url_at", "url", "at"),
    sa.Index("ix_changes_at", "at"),
    sa.Index("ix_changes_record", "record_id"),
)

fixity_events = sa.Table(
    "fixity_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime),
    sa.Column("result", sa.String(16), nullable=False),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("files_checked", sa.Integer, nullable=False),
    sa.Column("records_checked", sa.Integer, nullable=False),
    sa.Column("bytes_read", sa.BigInteger, nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("report", sa.Text, nullable=False),
    sa.Column("tool_version", sa.String(32), nullable=False),
    sa.Column("hostname", sa.Text, nullable=False),
    sa.Column("operator", sa.Text, nullable=False),
    sa.Column("command", sa.Text, nullable=False),
)

# Full-text index of documents (SQLite FTS5, created by revision 0004; not a SQLAlchemy table).
FTS_TABLE = "documents_fts"


def migrations_dir() -> Path:
    """The Alembic script folder, installed as ``archiver.migrations``."""
    return Path(str(resources.files("archiver.migrations")))


def alembic_config(connection: sa.Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _configure_sqlite(engine: Engine, lock_timeout: float, *, read_only: bool = False) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(lock_timeout * 1000)}")
        if not read_only:  # setting the journal mode writes the file's header
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        read_only = connection.get_execution_options().get("archiver_read_only")
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def create_engine(url: str, *, lock_timeout: float = LOCK_TIMEOUT, read_only: bool = False) -> Engine:
    """An engine for the catalogue at ``url``. ``read_only`` opens an SQLite file with ``mode=ro``
    (and ``immutable=1`` when it has no write-ahead log: SQLite cannot open a WAL-mode database
    read-only without one, and without one no writer is at work), so nothing can be written."""
    database = sqlite_file(url) if read_only else None
    if database is not None:
        immutable = not Path(f"{database}-wal").exists()
        url = (f"sqlite:///file:{urllib.parse.quote(str(database.resolve()))}?mode=ro"
               + ("&immutable=1" if immutable else "") + "&uri=true")
    try:
        engine = sa.create_engine(url)
    except ImportError as exc:
        raise CatalogueError(_missing_driver(url, exc)) from None
    except sa.exc.ArgumentError as exc:
        raise CatalogueError(f"cannot use the catalogue URL {url!r}: {exc}") from None
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, lock_timeout, read_only=read_only)
    return engine


def _missing_driver(url: str, exc: ImportError) -> str:
    """Why the database driver of ``url`` cannot be imported, and which extra installs it (PostgreSQL:
    psycopg, the ``postgresql`` extra; installed from the checkout: ``archiver`` on PyPI is another project)."""
    parsed = sa.engine.make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() != "postgresql":
        return f"cannot use the catalogue URL {shown!r}: {exc}"
    if parsed.get_driver_name() == "psycopg":
        return f"the catalogue URL {shown!r} needs psycopg: run pip install '.[postgresql]' in the archiver checkout"
    return (f"the catalogue URL {shown!r} needs {parsed.get_driver_name()}, which no extra installs: give "
            "postgresql+psycopg://… and run pip install '.[postgresql]' in the archiver checkout")


def sqlite_file(url: str) -> Path | None:
    """The database file of an SQLite catalogue URL (None for other databases, in-memory ones, and
    URLs that give their own SQLite URI options)."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.query.get("uri") == "true" or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)


def upgrade(engine: Engine) -> None:
    """Bring the catalogue to the newest revision, in one transaction."""
    from alembic import command

    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")
    except sa.exc.SQLAlchemyError as exc:
        raise CatalogueError(f"cannot create or upgrade the catalogue: {_first_line(exc)}") from None


def current_revision(engine: Engine) -> str | None:
    """The catalogue's Alembic revision (None when empty), read without importing Alembic."""
    with engine.connect().execution_options(archiver_read_only=True) as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


def _first_line(exc: BaseException) -> str:
    return str(getattr(exc, "orig", exc)).splitlines()[0]


class Catalogue:
    """Writes and reads catalogue rows. Callers commit through :meth:`transaction`."""

    def __init__(self, engine: Engine, *, lock_timeout: float = LOCK_TIMEOUT) -> None:
        self.engine = engine
        self.lock_timeout = lock_timeout
        self._inserts = {table.name: table.insert() for table in metadata.sorted_tables}
        self._returning = {table.name: table.insert().returning(table.c.id, sort_by_parameter_order=True)
                           for table in metadata.sorted_tables if "id" in table.c}
        self._fts_insert = sa.text(f"INSERT INTO {FTS_TABLE} (rowid, title, text, captions) "
                                   "VALUES (:id, :title, :text, :captions)")

    @classmethod
    def open(cls, url: str, *, lock_timeout: float = LOCK_TIMEOUT) -> "Catalogue":
        engine = create_engine(url, lock_timeout=lock_timeout)
        try:
            if current_revision(engine) != HEAD_REVISION:
                upgrade(engine)
        except sa.exc.SQLAlchemyError as exc:
            raise CatalogueError(f"cannot open the catalogue {url}: {_first_line(exc)}") from None
        return cls(engine, lock_timeout=lock_timeout)

    def close(self) -> None:
        self.engine.dispose()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """A write transaction (``BEGIN IMMEDIATE`` on SQLite). A catalogue that cannot be written
        (locked by another process past the lock timeout, its disk full, read-only) raises
        CatalogueError, the database's own error as its cause."""
        try:
            with self.engine.begin() as connection:
                yield connection
        except sa.exc.OperationalError as exc:
            where, text = self.engine.url.database or self.engine.url, _first_line(exc)
            if "database is locked" in text:
                raise CatalogueError(f"the catalogue {where} is locked by another process (waited "
                                     f"{self.lock_timeout:g}s; --lock-timeout waits longer)") from None
            raise CatalogueError(f"cannot write the catalogue {where}: {text}") from exc

    def insert(self, connection: sa.Connection, table: sa.Table, row: dict[str, Any]) -> int:
        # one statement object per table: SQLAlchemy compiles it once and caches it
        key = connection.execute(self._inserts[table.name], row).inserted_primary_key
        assert key is not None  # always set by a one-row INSERT
        row_id: int = key[0]
        return row_id

    def insert_many(self, connection: sa.Connection, table: sa.Table, rows: Iterable[dict[str, Any]]) -> None:
        rows = list(rows)
        if rows:
            connection.execute(self._inserts[table.name], rows)

    def insert_many_returning_ids(self, connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]
                                  ) -> list[int]:
        """Insert ``rows`` in one statement; their new ids, in the order of ``rows``. Where the database
        cannot return ids from a many-row insert (SQLite before 3.35), one statement per row."""
        if not connection.dialect.insert_executemany_returning_sort_by_parameter_order:
            return [self.insert(connection, table, row) for row in rows]
        if not rows:
            return []
        return list(connection.execute(self._returning[table.name], rows).scalars())

    def update(self, connection: sa.Connection, table: sa.Table, row_id: int, **values: Any) -> None:
        connection.execute(table.update().where(table.c.id == row_id).values(**values))

    def insert_document(self, connection: sa.Connection, document: Document, *, record_id: int,
                        parsed_at: dt.datetime) -> int:
        """Catalogue a parsed :class:`archiver.parse.Document` of the record ``record_id``."""
        from .parse import fingerprints  # here, not at the top: read commands never load the parsers

        connection.execute(pending_documents.delete().where(pending_documents.c.record_id == record_id))
        data = document.as_json()
        marks = fingerprints(title=data["title"], published=data["published"], updated=data["updated"],
                             text=data["text"], captions=data["captions"], links=data["links"])
        document_id = self.insert(connection, documents, {
            "record_id": record_id, "parser": data["parser"]["name"], "parser_version": data["parser"]["version"],
            "parsed_at": parsed_at, "url": data["url"], "title": data["title"], "author": data["author"],
            "published": data["published"], "updated": data["updated"], "language": data["language"],
            "canonical": data["canonical"], "text": data["text"], "encoding": data["encoding"],
            "encoding_source": data["encoding_source"], "body_found_by": data["body_found_by"],
            "sources": json.dumps(data["sources"]), "warnings": json.dumps(data["warnings"]),
            **{f"fp_{part}": value for part, value in dataclasses.asdict(marks).items()},
        })
        for table, items in ((captions, data["captions"]), (links, data["links"]),
                             (reference_entries, data["references"])):
            self.insert_many(connection, table, [
                {**{key: value for key, value in item.items() if key in table.c and key != "position"},
                 "document_id": document_id, "position": position}
                for position, item in enumerate(items)])
        if connection.dialect.name == "sqlite":
            connection.execute(self._fts_insert, {
                "id": document_id, "title": data["title"] or "", "text": data["text"],
                "captions": "\n".join(item["text"] + (f" / {item['credit']}" if item["credit"] else "")
                                      for item in data["captions"])})
        return document_id

    def reader(self) -> sa.Connection:
        """A connection for reading only: its transactions take no write lock."""
        return self.engine.connect().execution_options(archiver_read_only=True)

    def pending_count(self) -> int:
        """How many captured pages wait for ``archiver parse`` (captured with ``--parse later``)."""
        with self.reader() as reader:
            return reader.execute(sa.select(sa.func.count()).select_from(pending_documents)).scalar_one()

    def rows(self, table: sa.Table, *where: sa.ColumnElement[bool], order_by: sa.ColumnElement[Any] | None = None,
             connection: sa.Connection | None = None
             ) -> list[dict[str, Any]]:
        query = sa.select(table).where(*where).order_by(order_by if order_by is not None else table.c.id)
        if connection is not None:
            return [dict(row._mapping) for row in connection.execute(query)]
        with self.reader() as reader:
            return [dict(row._mapping) for row in reader.execute(query)]


def record_row(facts: RecordFacts, *, exchange: Exchange | None = None) -> dict[str, Any]:
    """The ``records`` columns a WARC record determines, from what it says about itself: the record
    as written (:meth:`archiver.warc.Record.facts`) or as read back (:func:`archiver.warc.read_record`).
    ``exchange`` adds the HTTP ones to a response or revisit record just written. The caller adds
    event, file, fetch and role, and for a revisit the record it refers to and that record's payload
    digest."""
    http = exchange if facts.record_type in CAPTURE_TYPES and exchange is not None else None
    field = facts.headers.get
    return {
        "warc_record_id": facts.record_id,
        "offset": facts.offset,
        "length": facts.length,
        "record_type": facts.record_type,
        "target_uri": facts.target_uri,
        "warc_date": parse_warc_date(facts.headers["WARC-Date"]),
        "content_type": field("Content-Type"),
        "content_length": facts.content_length,
        "block_sha256": facts.block_sha256,
        "payload_sha256": (http.payload_hashes.sha256.hexdigest()
                           if http and http.status is not None and facts.record_type == RecordType.RESPONSE
                           else facts.payload_sha256),
        "block_digest": field("WARC-Block-Digest"),
        "payload_digest": field("WARC-Payload-Digest"),
        "http_status": http.status if http else facts.http_status,
        "http_reason": http.reason if http else None,
        "http_content_type": http.header("content-type") if http else None,
        "http_headers": headers_json(http.headers) if http else None,
        "peer_ip": field("WARC-IP-Address"),
        "concurrent_to": field("WARC-Concurrent-To"),
        "refers_to": field("WARC-Refers-To"),
        "truncated": field("WARC-Truncated"),
        "revisit_profile": field("WARC-Profile"),
        "revisit_of_id": None,
        "tls_verified": exchange.tls_verified if exchange is not None else None,
    }


def chunked(values: list[_T]) -> Iterable[list[_T]]:
    """``values`` in slices of :data:`IN_LIST`, for ``column.in_(slice)`` queries."""
    for start in range(0, len(values), IN_LIST):
        yield values[start:start + IN_LIST]


def headers_json(headers: list[tuple[str, str]]) -> str:
    """HTTP headers as a JSON list of [name, value] pairs: order, case and repeats kept."""
    return json.dumps([[name, value] for name, value in headers], ensure_ascii=False)
