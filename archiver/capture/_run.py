"""Capture posts, their requisites and the pages they cite, one hop deep.

Data flows one way: worker threads fetch (each HTTP hop recorded byte for
byte), the calling thread writes the WARC records, parses HTML pages to find
what to fetch next, and catalogues. Catalogue rows are committed only after
the WARC bytes they point to are written and fsynced, in batches.

Roles: ``post`` (a URL given to capture), ``embed`` (a requisite of a post),
``cited`` (a page a post cites), ``cited-embed`` (a requisite of a cited page).
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import json
import multiprocessing.synchronize
import os
import queue
import socket
import threading
import urllib.parse
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol

import sqlalchemy as sa

from .. import __version__, faults
from .. import catalogue as cat
from ..collection import Collection, Mode, open_collection, repair
from ..config import Settings
from ..errors import ArchiverError, CatalogueError, ErrorKind, FetchError, InvalidURL, PostNotCaptured
from ..net import (
    ROBOTS_MAX_BYTES,
    ROBOTS_MAX_REDIRECTS,
    Exchange,
    Fetcher,
    HostGate,
    Limits,
    RobotsCache,
    RobotsPolicy,
    SharedHosts,
    check_url,
    host_of,
)
from ..parse import EXTRACTOR, Document, Link, Outlinks, Page, analyse, page_only
from ..warc import (
    CAPTURE_TYPES,
    PROFILE_IDENTICAL,
    PROFILE_NOT_MODIFIED,
    Location,
    Original,
    Record,
    RecordType,
    WarcFile,
    WarcWriter,
    decode_content,
    exchange_records,
    metadata_record,
    read_http_payload,
    revisit_records,
    warcinfo_fields,
)
from ._changes import Change, classify_event
from ._leases import Leases

FOLLOW_UP: dict[str, tuple[cat.Role, ...]] = {
    cat.Role.POST: (cat.Role.EMBED, cat.Role.CITED), cat.Role.CITED: (cat.Role.CITED_EMBED,)}
BATCH = 64
ENDED = (cat.EventOutcome.COMPLETE, cat.EventOutcome.PARTIAL, cat.EventOutcome.FAILED)  # events that ran to their end
ROBOTS_OBEYED = ("obey: followed links are fetched only if robots.txt (RFC 9309) allows them to archiver; "
                 "URLs the operator typed are fetched regardless; each robots.txt is archived (role robots) "
                 "with a metadata record of its verdict and sha256")
ROBOTS_IGNORED = "ignore: the operator chose --ignore-robots; robots.txt not consulted"


def _failed(url: str, error: FetchError) -> Exchange:
    """An exchange that never reached the network: refused, or a bug."""
    now = dt.datetime.now(dt.timezone.utc)
    return Exchange(url=url, started_at=now, ended_at=now, error=error)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Task:
    url: str
    role: str
    seed: str
    parent_fetch_id: int | None = None
    link_kind: str | None = None
    link_text: str | None = None
    follow: bool = True  # fetch what the page embeds and cites (a re-fetch to confirm an anomaly does not)
    previous: "Previous | None" = None  # the last capture of this URL, for a conditional request

    @property
    def host(self) -> str:
        return host_of(self.url)


_Robots = list[tuple[Task, list[Exchange], RobotsPolicy]]  # the robots.txt fetched for a task: its hops, its policy


@dataclasses.dataclass(frozen=True, kw_only=True)
class Previous:
    """The newest archived response for a URL: what a revisit refers to, and its validators."""

    record_pk: int
    original: Original
    payload_sha256: str
    path: Path
    offset: int
    fetch_id: int | None = None  # the fetch that brought the original, whose follow-ups the catalogue holds
    etag: str | None = None
    last_modified: str | None = None

    def conditional_headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


@dataclasses.dataclass(frozen=True, kw_only=True)
class CapturedRecord:
    url: str
    role: str
    record_type: str
    http_status: int | None
    warc_file: str
    offset: int
    length: int
    payload_sha256: str | None
    record_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Failure:
    url: str
    role: str
    kind: str
    message: str


@dataclasses.dataclass(kw_only=True)
class CaptureResult:
    capture_id: str
    outcome: str
    started_at: dt.datetime
    ended_at: dt.datetime | None = None
    records: list[CapturedRecord] = dataclasses.field(default_factory=list)
    failures: list[Failure] = dataclasses.field(default_factory=list)
    seed_errors: dict[str, ArchiverError] = dataclasses.field(default_factory=dict)
    warc_files: list[str] = dataclasses.field(default_factory=list)
    changes: list[Change] = dataclasses.field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "capture_id": self.capture_id,
            "outcome": self.outcome,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "warc_files": self.warc_files,
            "records": [vars(record).copy() for record in self.records],  # flat: asdict's deep copy is slow
            "failures": [vars(failure).copy() for failure in self.failures],
            "changes": [{"url": change.url, "at": change.at.isoformat(), "change": change.change,
                         "changed": change.changed} for change in self.changes],
        }


class HostQueue:
    """Tasks handed to workers FIFO, with at most ``per_host`` in flight for any one host."""

    def __init__(self, per_host: int) -> None:
        self._per_host = per_host
        self._pending: dict[str, collections.deque[Task]] = collections.OrderedDict()
        self._active: collections.Counter[str] = collections.Counter()
        self._ready = threading.Condition()
        self._closed = False

    def put(self, task: Task) -> None:
        with self._ready:
            self._pending.setdefault(task.host, collections.deque()).append(task)
            self._ready.notify()

    def get(self) -> Task | None:
        with self._ready:
            while True:
                for host, tasks in self._pending.items():
                    if tasks and self._active[host] < self._per_host:
                        self._active[host] += 1
                        task = tasks.popleft()
                        if not tasks:
                            del self._pending[host]
                        return task
                if self._closed:
                    return None
                self._ready.wait()

    def done(self, task: Task) -> None:
        with self._ready:
            self._active[task.host] -= 1
            self._ready.notify()  # one slot freed: one waiter can use it

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify_all()


@dataclasses.dataclass(frozen=True, kw_only=True)
class CaptureEvent:
    id: int
    capture_id: str
    started_at: dt.datetime


def capture(
    urls: Iterable[str],
    *,
    collection: Collection,
    command: str,
    stop: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
    recrawl: bool = False,
    leases: Leases | None = None,
) -> CaptureResult:
    """Capture each URL as a post; returns what was written and what failed.

    ``stop`` ends the run early (signal handlers set it): the record being
    written is finished, files are closed, and the event is marked interrupted.
    With ``settings.processes`` above 1 the posts are shared among that many
    processes, each writing its own WARC files, all under one capture event.

    ``recrawl`` sends the validators of each URL's last capture (a 304 becomes a
    revisit record); ``leases`` skips URLs another re-crawl holds. Afterwards every
    URL requested is classified against its previous capture (:mod:`archiver.capture._changes`).
    """
    seeds = list(dict.fromkeys(urls))
    stop = stop or threading.Event()
    event = _start_event(collection, seeds, command)
    processes = collection.settings.processes or auto_processes(len(seeds))
    try:
        if processes <= 1 or len(seeds) <= 1:
            result = _capture_and_classify(collection, seeds, event=event, command=command, stop=stop,
                                           progress=progress, recrawl=recrawl, leases=leases)
        else:  # each process classifies what it fetched, as soon as it is done
            result = _capture_in_processes(collection, seeds, event=event, command=command, stop=stop,
                                           processes=min(processes, len(seeds)), recrawl=recrawl, leases=leases)
    except BaseException:
        _end_event(collection, event, cat.EventOutcome.INTERRUPTED)
        raise
    _end_event(collection, event, result.outcome)
    return result


def _capture_and_classify(collection: Collection, seeds: list[str], *, event: CaptureEvent, command: str, stop: _Stop,
                          progress: Callable[[int, int], None] | None, recrawl: bool, leases: Leases | None,
                          hosts: HostGate | SharedHosts | None = None
                          ) -> CaptureResult:
    """Capture ``seeds`` in this process, then classify each URL it requested (unless interrupted).
    ``hosts``: the per-host limits shared with the capture's other processes."""
    hosts = hosts or HostGate(collection.settings.host_delay)
    run = _Run(collection=collection, command=command, seeds=seeds, stop=stop, progress=progress, event=event,
               conditional=recrawl, claim=_claimer(collection, leases), hosts=hosts)
    result = run.execute()

    def confirm(items: list[tuple[str, str, int]]) -> None:
        """Re-fetch anomalous URLs once, in full, following nothing (see :mod:`archiver.capture._changes`)."""
        tasks = [Task(url=url, role=role, seed=url, parent_fetch_id=fetch_id, link_kind="confirm", follow=False)
                 for url, role, fetch_id in items]
        again = _Run(collection=collection, command=command, seeds=[], stop=stop, progress=None, event=event,
                     tasks=tasks, hosts=hosts).execute()
        result.records += again.records
        result.failures += again.failures
        result.warc_files += again.warc_files

    if result.outcome != cat.EventOutcome.INTERRUPTED and not stop.is_set():
        result.changes = classify_event(collection.catalogue, event.id, fetch_ids=run.fetch_ids, confirm=confirm)
    return result


def _claimer(collection: Collection, leases: Leases | None) -> Callable[[list[str]], set[str]] | None:
    return (lambda urls: leases.claim(collection.catalogue, urls)) if leases is not None else None


def auto_processes(seeds: int) -> int:
    """One process per 20 posts, at most one per core: a few posts are not worth a process's start-up."""
    return max(1, min(os.cpu_count() or 1, seeds // 20))


def _start_event(collection: Collection, seeds: list[str], command: str) -> CaptureEvent:
    settings = collection.settings
    capture_id = str(uuid.uuid4())
    started = dt.datetime.now(dt.timezone.utc)
    with collection.catalogue.transaction() as connection:
        event_id = collection.catalogue.insert(connection, cat.capture_events, {
            "uuid": capture_id,
            "started_at": started,
            "outcome": cat.EventOutcome.RUNNING,
            "tool": "archiver",
            "tool_version": __version__,
            "operator": settings.operator,
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "command": command,
            "seeds": json.dumps(seeds),
            "settings": json.dumps({key: str(value) for key, value in dataclasses.asdict(settings).items()
                                    if key != "db"}),
        })
    return CaptureEvent(id=event_id, capture_id=capture_id, started_at=started)


def _end_event(collection: Collection, event: CaptureEvent, outcome: str) -> None:
    with collection.catalogue.transaction() as connection:
        collection.catalogue.update(connection, cat.capture_events, event.id, outcome=outcome,
                                    ended_at=dt.datetime.now(dt.timezone.utc))


def _outcome(*, interrupted: bool, failed: int, seeds: int) -> str:
    if interrupted:
        return cat.EventOutcome.INTERRUPTED
    if failed == 0:
        return cat.EventOutcome.COMPLETE
    return cat.EventOutcome.FAILED if failed == seeds else cat.EventOutcome.PARTIAL


def _capture_in_processes(collection: Collection, seeds: list[str], *, event: CaptureEvent, command: str,
                          stop: threading.Event, processes: int, recrawl: bool, leases: Leases | None
                          ) -> CaptureResult:
    """Share the posts round-robin among processes; merge what they report. The ``--workers`` are
    shared among them too, and ``--per-host`` and ``--host-delay`` hold across all of them
    (:class:`archiver.net.SharedHosts`). A process that dies (killed, out of memory) leaves its
    WARC file ``.open``: it is repaired and catalogued here, once the others have finished, and the
    run fails saying so."""
    import concurrent.futures
    import multiprocessing

    settings = dataclasses.replace(collection.settings, workers=-(-collection.settings.workers // processes))
    context = multiprocessing.get_context("spawn")  # no fork of threads or open database connections
    shared_stop = context.Event()
    hosts = SharedHosts(context, per_host=settings.per_host, delay=settings.host_delay)
    groups = [seeds[n::processes] for n in range(processes)]
    parts: list[CaptureResult] = []
    broken = False
    with concurrent.futures.ProcessPoolExecutor(max_workers=processes, mp_context=context, initializer=_start_part,
                                                initargs=(shared_stop, os.getpid(), hosts)) as pool:
        futures = [pool.submit(_capture_part, settings, group, event, command, recrawl, leases) for group in groups]
        pending = set(futures)
        while pending:
            _, pending = concurrent.futures.wait(pending, timeout=0.25)
            if stop.is_set():
                shared_stop.set()
        for future in futures:
            try:
                parts.append(future.result())
            except concurrent.futures.process.BrokenProcessPool:
                broken = True
    if broken:
        recovered = repair(collection)
        files = ("1 WARC file left open was cut back to its" if len(recovered) == 1
                 else f"{len(recovered)} WARC files left open were cut back to their")
        raise ArchiverError(f"a capture process died (killed, or out of memory); {files} last whole record "
                            "and catalogued; capture again to redo what was missed")
    result = CaptureResult(capture_id=event.capture_id, outcome=cat.EventOutcome.RUNNING, started_at=event.started_at,
                           ended_at=dt.datetime.now(dt.timezone.utc))
    for part in parts:
        result.records += part.records
        result.failures += part.failures
        result.seed_errors.update(part.seed_errors)
        result.warc_files += part.warc_files
        result.changes += part.changes
    interrupted = stop.is_set() or any(part.outcome == cat.EventOutcome.INTERRUPTED for part in parts)
    result.outcome = _outcome(interrupted=interrupted, failed=len(result.seed_errors), seeds=len(seeds))
    result.changes = [] if interrupted else sorted(result.changes, key=lambda change: change.detail["fetch_id"])
    return result


class _Stop(Protocol):
    """What a run asks of its stop event: a threading.Event, or a part's :class:`_StopWhenOrphaned`."""

    def is_set(self) -> bool: ...


_part_stop: _StopWhenOrphaned | None = None  # in a part's process: its _StopWhenOrphaned
_part_hosts: SharedHosts | None = None  # in a part's process: the capture's SharedHosts


def _start_part(stop: multiprocessing.synchronize.Event, parent_pid: int, hosts: SharedHosts) -> None:
    """A part's process ignores SIGINT/SIGTERM: the parent catches them and sets ``stop``
    (an event handed over at process start, the only way multiprocessing shares one)."""
    import signal

    global _part_stop, _part_hosts
    _part_hosts = hosts
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _part_stop = _StopWhenOrphaned(stop, parent_pid)


class _StopWhenOrphaned:
    """The parent's stop event, also set when the parent has gone."""

    def __init__(self, event: multiprocessing.synchronize.Event, parent_pid: int) -> None:
        self._event = event
        self._parent_pid = parent_pid

    def is_set(self) -> bool:
        return self._event.is_set() or os.getppid() != self._parent_pid


def _capture_part(settings: Settings, seeds: list[str], event: CaptureEvent, command: str, recrawl: bool,
                  leases: Leases | None) -> CaptureResult:
    """One process's share of a capture (runs in a child process)."""
    assert _part_stop is not None  # set by _start_part, the process's initializer
    with open_collection(settings, mode=Mode.APPEND) as collection:
        return _capture_and_classify(collection, seeds, event=event, command=command, stop=_part_stop,
                                     progress=None, recrawl=recrawl, leases=leases, hosts=_part_hosts)


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
                    etag=validators.get("etag"),
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


def same_payload(catalogue: cat.Catalogue, payload_sha256: str, url: str, collection: Collection, *,
                 before_event: int) -> Previous | None:
    """An untruncated response of an earlier capture event with this payload digest (this URL's first)."""
    r = cat.records
    query = (_record_select()
             .where(r.c.payload_sha256 == payload_sha256, r.c.record_type == RecordType.RESPONSE,
                    r.c.truncated.is_(None), r.c.capture_event_id != before_event)
             .order_by((r.c.target_uri == url).desc(), r.c.id.desc()).limit(1))
    with catalogue.reader() as reader:
        row = reader.execute(query).first()
    return _previous_from(row, row, collection) if row is not None else None


@dataclasses.dataclass(frozen=True, kw_only=True)
class ArchivedLinks(Outlinks):
    """The links a page not modified since its archived capture was followed by then, read from the
    catalogue (the follow-up fetch rows of that capture) instead of parsing the same bytes again."""

    links: list[Link]


@dataclasses.dataclass(kw_only=True, eq=False)
class _Hop:
    """One HTTP hop waiting for its catalogue rows: its fetch row (without ids), its records' rows,
    its parsed document, and the cells its fetch id goes into (the next hop's ``redirect_from_id``,
    the follow-up tasks' ``parent_fetch_id``)."""

    fetch: dict[str, Any]
    role: str
    rows: list[tuple[dict[str, Any], Location]]
    document: Document | None
    redirect_of: list[int | None]
    ids: list[int | None]
    fetch_id: int | None = None


class _Run:
    def __init__(self, *, collection: Collection, command: str, seeds: list[str], stop: _Stop,
                 progress: Callable[[int, int], None] | None, event: CaptureEvent, tasks: list[Task] | None = None,
                 conditional: bool = False,
                 hosts: HostGate | SharedHosts, claim: Callable[[list[str]], set[str]] | None = None) -> None:
        self.collection = collection
        self.tasks = tasks if tasks is not None else [Task(url=seed, role=cat.Role.POST, seed=seed, link_kind="seed")
                                                      for seed in seeds]
        self.conditional = conditional  # send validators from the last capture (a re-crawl)
        self.claim = claim  # a URL is fetched only if claim(urls) holds it (re-crawl leases)
        self.skipped: list[Task] = []
        self.extractors: dict[Path, str | None] = {}
        self.archived: dict[int, ArchivedLinks] = {}  # see _read_archived_links
        self.settings: Settings = collection.settings
        self.catalogue = collection.catalogue
        self.seeds = seeds
        self.stop = stop
        self.progress = progress
        self.command = command
        self.digest = self.settings.digest
        limits = Limits(
            connect_timeout=self.settings.connect_timeout,
            read_timeout=self.settings.read_timeout,
            total_timeout=self.settings.total_timeout,
            max_body=self.settings.max_size,
            max_redirects=self.settings.max_redirects,
            user_agent=self.settings.user_agent,
            digest=self.digest,
        )
        self.fetcher = Fetcher(limits=limits)
        self.robots_fetcher = Fetcher(limits=dataclasses.replace(limits, max_body=ROBOTS_MAX_BYTES,
                                                                 max_redirects=ROBOTS_MAX_REDIRECTS))
        self.hosts = hosts  # whose turn it is to fetch from a host (archiver.net)
        self.robots = None if self.settings.ignore_robots else RobotsCache(self._fetch_robots)
        self.queue = HostQueue(self.settings.per_host)
        self.results: queue.Queue[tuple[Task, list[Exchange], _Robots]] = queue.Queue()
        self.seen: set[str] = set()
        self.duplicates: list[Task] = []
        self.fetch_ids_by_url: dict[str, int] = {}
        self.fetch_ids: set[int] = set()  # every fetch row this run inserted: what it classifies
        self.in_flight = 0
        self.total = 0
        self.finished = 0
        self.file_ids: dict[str, int] = {}
        self.pending_rows: list[Callable[[sa.Connection], None] | _Hop] = []
        self.event_id = event.id
        self.result = CaptureResult(capture_id=event.capture_id, outcome=cat.EventOutcome.RUNNING,
                                    started_at=event.started_at)
        self.writer = WarcWriter(
            self.settings.snapshots,
            prefix=self.settings.warc_prefix,
            max_size=self.settings.warc_size,
            compress_level=self.settings.compress_level,
            digest=self.digest,
            warcinfo_fields=self._warcinfo_fields(),
            on_open=self._on_open,
            on_close=self._on_close,
        )

    # -- the run ---------------------------------------------------------------------------

    def execute(self) -> CaptureResult:
        workers = [threading.Thread(target=self._work, daemon=True, name=f"fetch-{n}")
                   for n in range(self.settings.workers)]
        for worker in workers:
            worker.start()
        interrupted = False
        catalogue_failed = False
        try:
            self._submit(self.tasks)
            interrupted = self._drain()
        except BaseException as exc:
            interrupted = True
            catalogue_failed = isinstance(exc, CatalogueError)
            raise
        finally:
            self.queue.close()
            if catalogue_failed:  # rows cannot be written: the next start catalogues the .open file's records
                self.writer.abandon()
            else:
                self._finish(interrupted)
        return self.result

    def _drain(self) -> bool:
        while self.in_flight:
            if self.stop.is_set():
                return True
            try:
                item = self.results.get(timeout=0.25)
            except queue.Empty:
                continue
            batch = [item]
            while len(batch) < BATCH:
                try:
                    batch.append(self.results.get_nowait())
                except queue.Empty:
                    break
            follow_ups = []
            self._read_archived_links(batch)
            for task, hops, robots in batch:
                self.in_flight -= 1
                for robots_task, robots_hops, policy in robots:
                    self._store(robots_task, robots_hops, notes=policy.metadata_fields("obey"))
                follow_ups += self._store(task, hops)
            self._commit()
            self._submit([dataclasses.replace(task, parent_fetch_id=parent[0]) for task, parent in follow_ups])
            self.finished += len(batch)
            if self.progress:
                self.progress(self.finished, self.total)
        return False

    def _submit(self, tasks: list[Task]) -> None:
        """Queue the tasks whose URLs are new to this run; a re-crawl claims their leases and looks up
        their last captures for the whole batch at once."""
        fresh = []
        for task in tasks:
            if task.url in self.seen:
                self.duplicates.append(task)  # catalogued at the end, pointing at the first fetch
                continue
            self.seen.add(task.url)
            fresh.append(task)
        if self.claim is not None and fresh:
            claimed = self.claim([task.url for task in fresh])
            self.skipped += [task for task in fresh if task.url not in claimed]  # another re-crawl holds them
            fresh = [task for task in fresh if task.url in claimed]
        if self.conditional and fresh:
            found = previous_captures(self.catalogue, [task.url for task in fresh if task.previous is None],
                                      self.collection)
            fresh = [task if task.previous is not None else dataclasses.replace(task, previous=found.get(task.url))
                     for task in fresh]
        for task in fresh:
            self.in_flight += 1
            self.total += 1
            self.queue.put(task)

    def _work(self) -> None:
        while True:
            task = self.queue.get()
            if task is None:
                return
            robots: _Robots = []
            try:
                hops = self._fetch_task(task, robots)
            except Exception as exc:  # a bug must not hang the run: report it as a failed fetch
                hops = [_failed(task.url, FetchError(f"{task.url}: internal error {exc!r}"))]
            finally:
                self.queue.done(task)
            self.results.put((task, hops, robots))

    def _fetch_task(self, task: Task, robots: _Robots) -> list[Exchange]:
        """The task's hops. A followed link, and each redirect it leads to, is first checked against
        its origin's robots.txt; the robots.txt exchanges fetched on the way are added to ``robots``
        (with their task and policy), and a disallowed URL ends the chain with a refusal."""
        refusal = self._consult_robots(task, task.url, robots)
        if refusal is not None:
            return [refusal]
        hops: list[Exchange] = []
        fetches = self.fetcher.fetch(
            task.url,
            allow_private=self.settings.allow_private,
            trust_first=task.role == cat.Role.POST,
            keep_body=task.role in FOLLOW_UP,
            conditional=task.previous.conditional_headers() if task.previous else None,
        )
        target: str | None = task.url
        while target is not None:
            with self.hosts.turn(target):  # the fetcher asks for the next hop only when resumed
                exchange = next(fetches, None)
            if exchange is None:
                break
            hops.append(exchange)
            target = exchange.location if exchange.error is None else None
            if target and urllib.parse.urlsplit(target).scheme in ("http", "https"):
                refusal = self._consult_robots(task, target, robots)  # outside any turn: one at a time
                if refusal is not None:
                    fetches.close()
                    hops.append(refusal)
                    break
        return hops

    def _fetch_robots(self, url: str) -> list[Exchange]:
        with self.hosts.turn(url):
            return list(self.robots_fetcher.fetch(url, allow_private=self.settings.allow_private))

    def _consult_robots(self, task: Task, url: str, robots: _Robots) -> Exchange | None:
        """A refusal exchange when robots.txt disallows ``url`` to the task (else None). A URL the
        operator typed, and a re-fetch to confirm an anomaly, are not subject to robots.txt."""
        if self.robots is None or task.role == cat.Role.POST or task.link_kind == "confirm":
            return None
        try:
            check_url(url)
        except InvalidURL:
            return None  # never fetched: the fetcher refuses it and says why
        policy, hops = self.robots.policy(url)
        if hops:
            robots.append((Task(url=policy.url, role=cat.Role.ROBOTS, seed=task.seed, link_kind="robots", follow=False),
                           hops, policy))
        return None if policy.allows(url) else _failed(url, policy.refusal(url))

    # -- writing ---------------------------------------------------------------------------

    def _store(self, task: Task, hops: list[Exchange], *, notes: list[tuple[str, str]] | None = None
               ) -> list[tuple[Task, list[int | None]]]:
        """Write the hops' records and queue their catalogue rows. ``notes``: the fields of a
        metadata record about the last hop's response (a page's come from its parse).

        Returns follow-up tasks, each with the cell that will hold its parent's
        fetch id once the rows are inserted.
        """
        previous: list[int | None] = [None]
        fetch_ids: list[int | None] = [None]
        page = None
        for number, exchange in enumerate(hops):
            original = self._already_archived(task, exchange, first=number == 0)
            last = number == len(hops) - 1
            page, document = self._parse(task, exchange, original) if last else (None, None)
            fields = page.metadata_fields() if isinstance(page, Page) else notes if last else None
            written = self._write_exchange(exchange, original, fields)
            rows = [(self._record_row(record, location, exchange, original), location) for record, location in written]
            self.pending_rows.append(self._rows_for(task, exchange, rows, document, redirect_of=previous,
                                                    ids=fetch_ids))
            for row, location in rows:
                self.result.records.append(CapturedRecord(
                    url=exchange.url, role=task.role, record_type=row["record_type"],
                    http_status=row["http_status"], warc_file=location.path.name, offset=row["offset"],
                    length=row["length"], payload_sha256=row["payload_sha256"], record_id=row["warc_record_id"]))
            if exchange.error is not None:
                self.result.failures.append(Failure(url=exchange.url, role=task.role,
                                                    kind=exchange.error.kind, message=str(exchange.error)))
            if exchange.location and last is False:
                self.seen.add(hops[number + 1].url)
        if task.role == cat.Role.POST:
            self._judge_seed(task, hops[-1], page)
        if page is None or not task.follow:
            return []
        return [
            (Task(url=link.url, role=role, seed=task.seed, link_kind=link.kind, link_text=link.text or None),
             fetch_ids)
            for role in FOLLOW_UP[task.role]
            for link in (page.requisites if role in (cat.Role.EMBED, cat.Role.CITED_EMBED) else page.cited)
        ]

    def _judge_seed(self, task: Task, final: Exchange, page: Page | ArchivedLinks | None) -> None:
        if final.error is not None:
            self.result.seed_errors[task.seed] = final.error
        elif final.status == 304 and page is not None:
            return  # not modified since the capture it refers to
        elif final.status is None or not 200 <= final.status < 300:
            self.result.seed_errors[task.seed] = PostNotCaptured(
                f"{task.seed}: the server answered HTTP {final.status} {final.reason}".rstrip()
                + " (recorded; nothing followed)")
        elif final.body is None:
            self.result.seed_errors[task.seed] = PostNotCaptured(
                f"{task.seed}: not an HTML page ({final.content_type}); recorded as-is, nothing followed")

    def _parse(self, task: Task, exchange: Exchange, original: "Previous | None"
               ) -> tuple[Page | ArchivedLinks | None, Document | None]:
        """What a post or cited page links to, and its parsed document (from a copy of the payload).
        A revisit gets no document of its own: its payload's document is the original's. A page the
        server says is not modified leads where its original led (:meth:`_read_archived_links`)."""
        if task.role not in FOLLOW_UP or exchange.error is not None or exchange.status is None:
            return None, None
        if exchange.status == 304 and original is not None:
            archived = self.archived.get(original.fetch_id) if original.fetch_id is not None else None
            if archived is not None:
                return archived, None
            payload, content_type = read_http_payload(original.path, original.offset, limit=self.settings.max_size)
        elif exchange.body is not None and 200 <= exchange.status < 300:
            payload = decode_content(exchange.body, exchange.header("content-encoding"),
                                     limit=self.settings.max_size)
            content_type = exchange.header("content-type")
        else:
            return None, None
        try:
            if original is not None:  # only what to fetch next: the payload's document is catalogued
                return page_only(payload, url=exchange.url, content_type=content_type), None
            return analyse(payload, url=exchange.url, content_type=content_type)
        except Exception as exc:  # a parser bug must cost the parse, never the capture
            return None, (None if original is not None else Document(
                url=exchange.url, warnings=[f"parser failed: {type(exc).__name__}: {exc}"]))

    def _read_archived_links(self, batch: list[tuple[Task, list[Exchange], _Robots]]) -> None:
        """For each page of ``batch`` the server answered 304, the links the capture of its original
        followed from it, when they stand for a parse of the same bytes now: the same role (so the same
        follow-up rules), the same link extractor, and a capture not cut short before its follow-ups were
        catalogued. Kept in ``self.archived`` by the original's fetch id; two queries per batch."""
        wanted = {task.previous.fetch_id: task for task, hops, _ in batch
                  if task.role in FOLLOW_UP and task.previous is not None and task.previous.fetch_id is not None
                  and hops[0].status == 304 and self._extractor(task.previous.path) == EXTRACTOR}
        self.archived = {}
        if not wanted:
            return
        f, e = cat.fetches, cat.capture_events
        with self.catalogue.reader() as reader:
            for chunk in cat.chunked(list(wanted)):
                heads = reader.execute(sa.select(f.c.id, f.c.role, f.c.link_kind, e.c.outcome)
                                       .join(e, f.c.capture_event_id == e.c.id).where(f.c.id.in_(chunk)))
                links: dict[int, list[Link]] = {
                    head.id: [] for head in heads if head.role == wanted[head.id].role
                    and head.link_kind != "confirm" and head.outcome in ENDED}
                # SQLite's planner would take ix_fetches_redirect for "redirect_from_id IS NULL", which
                # nearly every row matches: a scan of the table per batch instead of a look-up per parent
                for row in reader.execute(sa.select(f.c.parent_fetch_id, f.c.url, f.c.link_kind, f.c.link_text)
                                          .with_hint(f, "INDEXED BY ix_fetches_parent", "sqlite")
                                          .where(f.c.parent_fetch_id.in_(list(links)), f.c.redirect_from_id.is_(None))
                                          .order_by(f.c.id)):
                    links[row.parent_fetch_id].append(Link(url=row.url, kind=row.link_kind, text=row.link_text or ""))
                self.archived.update((fetch_id, ArchivedLinks(links=found)) for fetch_id, found in links.items())

    def _extractor(self, path: Path) -> str | None:
        """The link extractor that wrote a WARC file (its warcinfo record says), read once per file."""
        if path not in self.extractors:
            self.extractors[path] = warcinfo_fields(path).get("extractor")
        return self.extractors[path]

    def _already_archived(self, task: Task, exchange: Exchange, *, first: bool) -> "Previous | None":
        """The archived response this exchange revisits: the one its validators came from when the
        server answered 304, or an earlier response with the same payload digest."""
        if exchange.error is not None or exchange.truncated or exchange.status is None:
            return None
        if exchange.status == 304 and first and task.previous is not None:
            return task.previous
        if 200 <= exchange.status < 300 and exchange.response_length > exchange.payload_offset:
            return same_payload(self.catalogue, exchange.payload_hashes.sha256.hexdigest(), exchange.url,
                                self.collection, before_event=self.event_id)
        return None

    def _record_row(self, record: Record, location: Location, exchange: Exchange, original: "Previous | None"
                    ) -> dict[str, Any]:
        row = cat.record_row(record.facts(location), exchange=exchange)
        if record.type == RecordType.REVISIT and original is not None:
            row.update(payload_sha256=original.payload_sha256, revisit_of_id=original.record_pk)
        return row

    def _write_exchange(self, exchange: Exchange, original: "Previous | None",
                        fields: list[tuple[str, str]] | None) -> list[tuple[Record, Location]]:
        """The exchange's records, and a metadata record of ``fields`` about its response, written
        all or none (a full disk cuts the file back to before the first)."""
        if original is None:
            records = exchange_records(exchange, digest=self.digest)
        else:
            profile = PROFILE_NOT_MODIFIED if exchange.status == 304 else PROFILE_IDENTICAL
            records = revisit_records(exchange, digest=self.digest, profile=profile, original=original.original)
        response = next((record for record in records if record.type == RecordType.RESPONSE), None)
        if fields and response is not None:
            records.append(metadata_record(target_uri=exchange.url, refers_to=response.record_id,
                                           date=exchange.started_at, fields=fields, digest=self.digest))
        try:
            return list(zip(records, self.writer.write_all(records), strict=True))
        finally:
            exchange.response.close()

    # -- catalogue rows ----------------------------------------------------------------------

    def _rows_for(self, task: Task, exchange: Exchange, rows: list[tuple[dict[str, Any], Location]],
                  document: Document | None, *, redirect_of: list[int | None], ids: list[int | None]) -> "_Hop":
        """This hop's fetch and record rows, inserted at commit time (see :meth:`_insert_hops`)."""
        outcome = cat.FetchOutcome.CAPTURED if exchange.has_response else cat.FetchOutcome.FAILED
        if exchange.error is not None and exchange.error.kind in (
                ErrorKind.BLOCKED_ADDRESS, ErrorKind.REFUSED_URL, ErrorKind.ROBOTS_DISALLOWED):
            outcome = cat.FetchOutcome.BLOCKED
        fetch = {
            "capture_event_id": self.event_id,
            "url": exchange.url,
            "role": task.role,
            "parent_fetch_id": task.parent_fetch_id,
            "link_kind": task.link_kind,
            "link_text": task.link_text,
            "started_at": exchange.started_at,
            "ended_at": exchange.ended_at,
            "outcome": outcome,
            "http_status": exchange.status,
            "error_kind": exchange.error.kind if exchange.error else None,
            "error": str(exchange.error) if exchange.error else None,
        }
        return _Hop(fetch=fetch, role=task.role, rows=rows, document=document, redirect_of=redirect_of, ids=ids)

    def _insert_hops(self, connection: sa.Connection, hops: list["_Hop"]) -> None:
        """Insert the hops' fetch rows in one statement per redirect step (a hop's row names the row
        of the hop before it), then all their records in one statement, then their documents."""
        waiting = hops
        while waiting:
            firsts: dict[int, _Hop] = {}
            for hop in waiting:  # the first hop still waiting in each redirect chain
                firsts.setdefault(id(hop.redirect_of), hop)
            ready = list(firsts.values())
            fetch_ids = self.catalogue.insert_many_returning_ids(connection, cat.fetches, [
                {**hop.fetch, "redirect_from_id": hop.redirect_of[0]} for hop in ready])
            for hop, fetch_id in zip(ready, fetch_ids, strict=True):
                hop.redirect_of[0] = hop.ids[0] = hop.fetch_id = fetch_id
                self.fetch_ids_by_url.setdefault(hop.fetch["url"], fetch_id)
                self.fetch_ids.add(fetch_id)
            waiting = [hop for hop in waiting if hop.fetch_id is None]
        self.catalogue.insert_many(connection, cat.records, [
            self._with_ids(row, location, role=hop.role, fetch_id=hop.fetch_id)
            for hop in hops for row, location in hop.rows])
        for hop in hops:
            if hop.document is not None:
                response = next(row["warc_record_id"] for row, _ in hop.rows
                                if row["record_type"] == RecordType.RESPONSE)
                record_id = connection.execute(sa.select(cat.records.c.id).where(
                    cat.records.c.warc_record_id == response)).scalar_one()
                self.catalogue.insert_document(connection, hop.document, record_id=record_id,
                                               parsed_at=dt.datetime.now(dt.timezone.utc))

    def _with_ids(self, row: dict[str, Any], location: Location, *, role: str | None, fetch_id: int | None
                  ) -> dict[str, Any]:
        return {**row, "capture_event_id": self.event_id, "fetch_id": fetch_id,
                "warc_file_id": self.file_ids[str(location.path)], "role": role}

    def _commit(self) -> None:
        """fsync the WARC, then insert every pending row in one transaction, in the order queued
        (a file's row before its records' rows), consecutive hops together."""
        self.writer.sync()
        pending, self.pending_rows = self.pending_rows, []
        with self.catalogue.transaction() as connection:
            hops: list[_Hop] = []
            for item in pending:
                if isinstance(item, _Hop):
                    hops.append(item)
                    continue
                self._insert_hops(connection, hops)
                hops = []
                item(connection)
            self._insert_hops(connection, hops)
            faults.point("commit")

    def _on_open(self, warc_file: WarcFile, location: Location) -> None:
        self.result.warc_files.append(warc_file.path.name)

        def insert(connection: sa.Connection) -> None:
            assert warc_file.warcinfo is not None  # the writer sets it before on_open
            file_id = self.catalogue.insert(connection, cat.warc_files, {
                "filename": warc_file.path.name,
                "path": self.collection.relative(warc_file.path),
                "capture_event_id": self.event_id,
                "opened_at": warc_file.opened_at,
                "status": "open",
                "warcinfo_id": warc_file.warcinfo.record_id,
            })
            self.file_ids[str(warc_file.path)] = file_id
            self.catalogue.insert(connection, cat.records, self._with_ids(
                cat.record_row(warc_file.warcinfo.facts(location)), location, role=None, fetch_id=None))

        # queued before the rows of the record whose write opened the file
        self.pending_rows.append(insert)

    def _on_close(self, warc_file: WarcFile) -> None:
        def update(connection: sa.Connection) -> None:
            self.catalogue.update(connection, cat.warc_files, self.file_ids[str(warc_file.path)],
                                  status="closed", closed_at=warc_file.closed_at, size=warc_file.size,
                                  sha256=warc_file.sha256)

        self.pending_rows.append(update)

    # -- the capture event ---------------------------------------------------------------------

    def _warcinfo_fields(self) -> list[tuple[str, str]]:
        settings = self.settings
        return [
            ("software", f"archiver/{__version__}"),
            ("format", "WARC File Format 1.1"),
            ("conformsTo", "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"),
            ("hostname", socket.gethostname()),
            ("operator", settings.operator),
            ("isPartOf", str(settings.home.resolve().name or settings.home.resolve())),
            ("http-header-user-agent", settings.user_agent),
            ("robots", ROBOTS_IGNORED if settings.ignore_robots else ROBOTS_OBEYED),
            ("capture-id", self.result.capture_id),
            ("command", self.command),
            ("extractor", EXTRACTOR),
            ("digest-algorithm", self.digest),
        ]

    def _finish(self, interrupted: bool) -> None:
        """Catalogue what is pending, then close the WARC file and catalogue that. A catalogue that
        fails before the file is closed leaves it ``.open``, for the next start to catalogue."""
        self.result.outcome = _outcome(interrupted=interrupted, failed=len(self.result.seed_errors),
                                       seeds=len(self.seeds))
        self.result.ended_at = dt.datetime.now(dt.timezone.utc)
        ended = self.result.ended_at

        def unfetched(task: Task, **values: Any) -> dict[str, Any]:
            return {"capture_event_id": self.event_id, "url": task.url, "role": task.role,
                    "parent_fetch_id": task.parent_fetch_id, "link_kind": task.link_kind, "link_text": task.link_text,
                    "started_at": ended, "ended_at": ended, "duplicate_of_id": None, "error": None, **values}

        def finish(connection: sa.Connection) -> None:
            self.catalogue.insert_many(connection, cat.fetches, [
                *(unfetched(task, outcome=cat.FetchOutcome.LEASED, error="held by another re-crawl")
                  for task in self.skipped),
                *(unfetched(task, outcome=cat.FetchOutcome.DUPLICATE,
                            duplicate_of_id=self.fetch_ids_by_url.get(task.url))
                  for task in self.duplicates)])

        self.pending_rows.append(finish)
        try:
            self._commit()
        except CatalogueError:
            self.writer.abandon()
            raise
        self.writer.close()
        self._commit()
