"""Browse the catalogue in Datasette, read-only: every table, SQL, and canned queries for a URL's
history, what changed, where a record came from, and citations that went dead.

Datasette is an optional extra (``pip install '.[browse]'`` in the archiver checkout). The catalogue is opened with
SQLite's ``mode=ro`` on every connection Datasette makes, its write connection included, so nothing
served here can change it. Datasette's immutable mode would be wrong: the catalogue runs in WAL mode
and may be written while it is browsed, and an immutable connection reads the main file only, missing
every transaction still in the WAL (and trusting a file that a checkpoint rewrites under it).
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import sqlite3
import sys
import tempfile
import threading
import types
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from .. import catalogue as cat
from ..errors import CatalogueError, InputError
from ..parse import LinkKind
from ._history import history_query

if TYPE_CHECKING:
    from datasette.app import Datasette

DATABASE = "archiver"  # the name (and URL path) the catalogue is served under, whatever its file is called


def _iso(column: str) -> str:
    """SQL for a stored time (naive UTC, ``YYYY-MM-DD HH:MM:SS.ffffff``) as ISO 8601 with its offset."""
    return f"replace({column}, ' ', 'T') || '+00:00'"


def _last_good(url: str, before: str, column: str) -> str:
    """SQL for ``column`` of the newest record of ``url`` captured in good health before ``before``
    (as :func:`archiver.query.dead_citations` finds it)."""
    return (f"(select {column} from changes g join records gr on gr.id = g.record_id "
            f"where g.url = {url} and g.at < {before} and g.change not in ('gone', 'failed') "
            "order by g.at desc, g.id desc limit 1)")


def _citing(url: str) -> str:
    """SQL for a JSON array of the pages whose parsed documents cite ``url``."""
    return ("(select json_group_array(url) from (select distinct d.url from links l "
            f"join documents d on d.id = l.document_id where l.url = {url} and l.kind = '{LinkKind.CITATION}' "
            "order by d.url))")


HISTORY_SQL = (f"select {_iso('captured_at')} as captured_at, http_status, record_type, change, "
               "coalesce(changed, 0) as changed, payload_sha256, record_id, warc_file, \"offset\", length, capture_id "
               "from (" + str(history_query(sa.literal_column(":url")).compile(
                   dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})) + ")")

CHANGES_SQL = f"""select c.url, {_iso('c.at')} as at, c.change,
  json_extract(c.detail, '$.http_status') as http_status,
  coalesce(json_extract(c.detail, '$.parts'), '[]') as parts,
  {_citing('c.url')} as citing,
  case when c.change = 'gone' then {_iso(_last_good('c.url', 'c.at', 'gr.warc_date'))} end as last_good_at,
  case when c.change = 'gone' then {_last_good('c.url', 'c.at', 'gr.warc_record_id')} end as last_good_record_id,
  r.warc_record_id as record_id, p.warc_record_id as previous_record_id, e.uuid as capture_id
from changes c
join capture_events e on e.id = c.capture_event_id
left join records r on r.id = c.record_id
left join records p on p.id = c.previous_record_id
where c.changed = 1 and (:since = '' or c.at >= strftime('%Y-%m-%d %H:%M:%f', :since))
order by c.at, c.id"""

PROVENANCE_SQL = f"""with recursive chain(id, url, http_status, redirect_from_id, depth) as (
  select f.id, f.url, f.http_status, f.redirect_from_id, 0 from fetches f
  where f.id = (select fetch_id from records where warc_record_id in (:record_id, '<' || :record_id || '>'))
  union all
  select f.id, f.url, f.http_status, f.redirect_from_id, chain.depth + 1
  from fetches f join chain on f.id = chain.redirect_from_id
)
select r.warc_record_id as record_id, r.record_type, r.target_uri, {_iso('r.warc_date')} as captured_at,
  r.role, r.http_status, r.http_reason, r.http_content_type, r.payload_sha256, r.payload_digest,
  r.block_digest, r.peer_ip, r.truncated, r.concurrent_to, rv.warc_record_id as revisit_of,
  w.filename as warc_file, w.path as warc_path, r."offset", r.length, w.sha256 as warc_sha256,
  w.status as warc_status,
  q.warc_record_id as request_record_id, q."offset" as request_offset, q.length as request_length,
  f.id as fetch_id, f.url as fetch_url, f.outcome as fetch_outcome, f.link_kind, f.link_tag, f.link_text,
  {_iso('f.started_at')} as fetch_started_at, {_iso('f.ended_at')} as fetch_ended_at,
  (select json_group_array(json_object('url', url, 'http_status', http_status))
   from (select url, http_status from chain order by depth desc)) as redirect_chain,
  pf.url as parent_url, pf.role as parent_role,
  e.uuid as capture_id, e.tool, e.tool_version, e.operator, e.hostname, e.command,
  {_iso('e.started_at')} as capture_started_at, {_iso('e.ended_at')} as capture_ended_at,
  e.outcome as capture_outcome, r.http_headers
from records r
join warc_files w on w.id = r.warc_file_id
left join records rv on rv.id = r.revisit_of_id
left join records q on q.concurrent_to = r.warc_record_id and q.record_type = 'request'
left join fetches f on f.id = r.fetch_id
left join fetches pf on pf.id = f.parent_fetch_id
left join capture_events e on e.id = r.capture_event_id
where r.warc_record_id in (:record_id, '<' || :record_id || '>')"""

_FAILING_SINCE = """(select min(s.at) from changes s where s.url = l.url and s.change in ('gone', 'failed')
   and not exists (select 1 from changes g where g.url = l.url and g.change not in ('gone', 'failed')
                   and (g.at > s.at or (g.at = s.at and g.id > s.id))))"""  # the run of failures c ends

DEAD_CITATIONS_SQL = f"""select l.url, {_iso(_FAILING_SINCE)} as gone_since,
  json_extract(c.detail, '$.http_status') as http_status, {_citing('l.url')} as citing,
  {_iso(_last_good('l.url', 'c.at', 'gr.warc_date'))} as last_good_at,
  {_last_good('l.url', 'c.at', 'gr.warc_record_id')} as last_good_record_id
from (select distinct url from links where kind = '{LinkKind.CITATION}') l
join changes c on c.id = (select id from changes where url = l.url order by at desc, id desc limit 1)
where c.change = 'gone'
order by c.at, l.url"""

QUERIES: dict[str, dict[str, str]] = {
    "history": {
        "title": "History of a URL",
        "description": "Every response or revisit record archived for the URL, oldest first, with how it "
                       "changed since the capture before, its WARC file and offset, and its capture event.",
        "sql": HISTORY_SQL,
    },
    "changes": {
        "title": "What changed",
        "description": "Every change found by a re-crawl (edited, moved, gone, back, ...), oldest first, with the "
                       "posts that cite each URL. since: an ISO 8601 date or time (UTC unless it names an "
                       "offset), or empty for all.",
        "sql": CHANGES_SQL,
    },
    "provenance": {
        "title": "Provenance of a record",
        "description": "Where a WARC record came from: its WARC file and offset, its request record, the fetch "
                       "that made it (the redirect chain and the page that linked to it) and the capture event "
                       "(tool, version, operator, host, command, start and end). record_id: the WARC-Record-ID, "
                       "with or without its angle brackets.",
        "sql": PROVENANCE_SQL,
    },
    "dead_citations": {
        "title": "Dead citations",
        "description": "Cited pages whose newest capture found them gone, the posts citing them, and their last "
                       "good capture.",
        "sql": DEAD_CITATIONS_SQL,
    },
}

TABLES: dict[str, dict[str, Any]] = {
    "capture_events": {"description": "One row per capture or re-crawl run: who ran which archiver, where, with "
                                      "what command and settings, from when to when, and how it ended.",
                       "label_column": "uuid"},
    "warc_files": {"description": "Every WARC file written, with its size and SHA-256 once closed.",
                   "label_column": "filename"},
    "fetches": {"description": "Every attempt to fetch a URL: its role, the page that linked to it, the hop it was "
                               "redirected from, and its outcome (failures included).",
                "label_column": "url", "facets": ["outcome", "role"]},
    "records": {"description": "Every WARC record: file, offset and length of its bytes, digests, HTTP status and "
                               "headers.", "label_column": "warc_record_id", "facets": ["record_type", "role"]},
    "documents": {"description": "Each parse of a captured page: title, author, dates, language, main text, and "
                                 "the parser that made it. The search box searches titles, text and captions.",
                  "label_column": "title", "fts_table": cat.FTS_TABLE, "fts_pk": "id"},
    "pending_documents": {"description": "Captured pages whose document waits for `archiver parse` (captured with "
                                         "--parse later)."},
    "captions": {"description": "Image captions of each document, split into text and credit."},
    "links": {"description": "Every link of each document, classified (citation, inline, navigation, embed, share, "
                             "comment), with the sentence around it.", "facets": ["kind"]},
    "reference_entries": {"description": "The reference list of each document."},
    "schedules": {"description": "Re-crawl policies: how often each post is re-crawled and when next."},
    "leases": {"description": "URLs being fetched right now, and by which process (held only during a crawl)."},
    "changes": {"description": "What each capture found for each URL compared with the capture before: new, "
                               "unchanged, edited, moved, gone, back, failed.", "facets": ["change"]},
    "fixity_events": {"description": "Each `archiver verify` run: what was checked and what failed."},
    cat.FTS_TABLE: {"description": "Full-text index of documents (rowid = documents.id)."},
    "alembic_version": {"description": "The catalogue's schema revision."},
}


def metadata() -> dict[str, Any]:
    """Datasette metadata: titles, table descriptions and the canned queries."""
    return {
        "title": "archiver catalogue",
        "description": "Every capture event, WARC file, fetch and record of this collection, read-only. "
                       "Times are UTC.",
        "databases": {DATABASE: {"description": "The catalogue of the collection (archiver.db).",
                                 "tables": TABLES, "queries": QUERIES}},
    }


def catalogue_file(db_url: str) -> Path:
    """The SQLite file behind the catalogue URL (browse serves files: other databases are refused)."""
    try:
        url = sa.engine.make_url(db_url)
    except sa.exc.ArgumentError as exc:
        raise CatalogueError(f"cannot use the catalogue URL {db_url!r}: {exc}") from None
    if url.get_backend_name() != "sqlite":
        raise InputError(f"archiver browse needs the SQLite catalogue (HOME/archiver.db); "
                         f"{url.render_as_string(hide_password=True)} is {url.get_backend_name()}")
    path = cat.sqlite_file(db_url)
    if path is None:
        raise InputError(f"archiver browse needs a catalogue file, not {db_url}")
    return path.resolve()


def connect_read_only(path: Path) -> sqlite3.Connection:
    """An SQLite connection that cannot write: it sees committed WAL transactions, and changes nothing
    in the database file (SQLite may create the ``-wal`` and ``-shm`` companions a WAL reader needs)."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)


def require_datasette() -> None:
    """Raise InputError, saying how to install it, when Datasette is missing."""
    try:
        import datasette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise InputError("archiver browse needs Datasette: "
                         "run pip install '.[browse]' in the archiver checkout") from None


def datasette(*, catalogue: Path) -> Datasette:
    """A Datasette serving ``catalogue`` read-only as ``/archiver``, with :func:`metadata`."""
    require_datasette()
    from datasette.app import Datasette
    from datasette.database import Database

    class ReadOnlyDatabase(Database):  # type: ignore[misc]  # Database is Any: datasette has no type information
        """Every connection read-only, the one Datasette would write through too."""

        def connect(self, write: bool = False) -> sqlite3.Connection:
            connection = connect_read_only(Path(self.path))
            self._all_file_connections.append(connection)
            return connection

    app = Datasette(files=[], metadata=metadata())
    app.remove_database("_memory")
    app.add_database(ReadOnlyDatabase(app, path=str(catalogue), is_mutable=True), name=DATABASE)
    return app


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (0: any free port)."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
        return socket.create_server((host, port), family=family)
    except OSError as exc:  # create_server's message names the address again: the errno's own is enough
        reason = os.strerror(exc.errno) if exc.errno and exc.errno > 0 else exc.strerror or str(exc)
        raise InputError(f"cannot listen on {host}:{port}: {reason}") from None


def serve(*, catalogue: Path, host: str = "127.0.0.1", port: int = 8001,
          on_ready: Callable[[str], None] | None = None, stop: threading.Event | None = None) -> None:
    """Serve ``catalogue`` read-only until SIGINT or SIGTERM; ``on_ready`` gets the database's URL once
    requests are answered (sys.stdout and sys.stderr are the terminal's while it runs, the log's after).
    A signal handled by ``stop`` before the server took over stops it at once."""
    app = datasette(catalogue=catalogue)
    import uvicorn

    sock = listen(host, port)
    bound = sock.getsockname()[1]
    url = f"http://{f'[{host}]' if ':' in host else host}:{bound}/{DATABASE}"

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await app.invoke_startup()
            await app.refresh_schemas()
            await super().startup(sockets=sockets)
            if stop is not None and stop.is_set():
                self.should_exit = True
            elif on_ready is not None:
                with contextlib.redirect_stdout(terminal[0]), contextlib.redirect_stderr(terminal[1]):
                    on_ready(url)  # speaks to the terminal, not the log

    config = uvicorn.Config(app.app(), lifespan="on", log_level="warning", access_log=False)
    log = _Log(Path(tempfile.gettempdir()) / f"archiver-browse-{os.getpid()}.log")
    terminal = sys.stdout, sys.stderr
    _tell_failures(terminal=sys.stderr, log=log.path)
    try:
        # Datasette prints failed queries and tracebacks (to stdout and stderr): they go to the log, and
        # each failed request is one line on the terminal (_tell_failures)
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            Server(config).run(sockets=[sock])
    finally:
        sock.close()
        log.close()


class _Log(io.TextIOBase):
    """A file made at the first write, in append mode."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self._file is None:
            self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()
        written = self._file.write(text)
        self._file.flush()
        return written

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        super().close()


def _tell_failures(*, terminal: IO[str], log: Path) -> None:
    """A Datasette plugin: each request that fails is one line on ``terminal``, naming ``log``."""
    from datasette import hookimpl
    from datasette.plugins import pm

    def handle_exception(request: Any, exception: BaseException) -> None:
        what = (str(exception).strip().splitlines() or [type(exception).__name__])[0]
        print(f"Failed: {request.method} {request.full_path}: {getattr(exception, 'status', 500)} {what} "
              f"(details in {log})", file=terminal, flush=True)

    if pm.get_plugin(FAILURES_PLUGIN) is not None:
        pm.unregister(name=FAILURES_PLUGIN)
    pm.register(types.SimpleNamespace(handle_exception=hookimpl(tryfirst=True)(handle_exception)),
                name=FAILURES_PLUGIN)


FAILURES_PLUGIN = "archiver-failures"
