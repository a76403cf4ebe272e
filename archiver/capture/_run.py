"""One process's capture run: posts, their requisites and the pages they cite, one hop deep.

Data flows one way: worker threads fetch (each HTTP hop recorded byte for byte, robots.txt
asked first for a followed link), the calling thread writes the WARC records, parses HTML pages
to find what to fetch next, and queues their rows in the ledger (:mod:`._ledger`), which commits
them only after the WARC bytes they point to are written and fsynced, in batches.

Roles: ``post`` (a URL given to capture), ``embed`` (a requisite of a post),
``cited`` (a page a post cites), ``cited-embed`` (a requisite of a cited page). A requisite that is a
stylesheet, or a frame's HTML document, is parsed too, and what it loads is fetched with its role
(see :func:`._tasks.parsed_embed` for how deep).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import queue
import socket
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any, Callable, Protocol

from .. import __version__
from .. import catalogue as cat
from ..collection import Collection
from ..config import PARSE_LATER, Settings
from ..errors import CatalogueError, FetchError, InvalidURL, PostNotCaptured
from ..net import (
    ROBOTS_MAX_BYTES,
    ROBOTS_MAX_REDIRECTS,
    Exchange,
    Fetcher,
    HostGate,
    Limits,
    RobotsCache,
    SharedHosts,
    check_url,
    media_type,
)
from ..parse import EXTRACTOR, HTML_TYPES, Document, Page, analyse, embedded_links, page_only
from ..warc import (
    Location,
    Record,
    RecordType,
    WarcFile,
    WarcWriter,
    decode_content,
    exchange_records,
    metadata_record,
    not_modified_records,
    read_http_head,
    read_http_payload,
    revisit_records,
    warcinfo_fields,
)
from ._archived import ArchivedLinks, archived_links, previous_captures, same_payloads
from ._changes import classify_event
from ._leases import Leases
from ._ledger import LATER, Later, Ledger
from ._results import CapturedRecord, CaptureEvent, CaptureResult, Failure, outcome
from ._tasks import EMBEDDED, FOLLOW_UP, EmbeddedLinks, HostQueue, Previous, Robots, Task, parsed_embed, refused

BATCH = 64
WAITING_RESULTS = 2 * BATCH  # fetched tasks waiting for the writer: the fetch threads wait beyond it
Head = tuple[bytes, str | None] | Exception  # a 304's original head and payload digest, or why it was not read
ROBOTS_OBEYED = ("obey: followed links are fetched only if robots.txt (RFC 9309) allows them to archiver; "
                 "URLs the operator typed are fetched regardless; each robots.txt is archived (role robots) "
                 "with a metadata record of its verdict and sha256")
ROBOTS_IGNORED = "ignore: the operator chose --ignore-robots; robots.txt not consulted"


class Stop(Protocol):
    """What a run asks of its stop event: a threading.Event, or a part's :class:`_StopWhenOrphaned`."""

    def is_set(self) -> bool: ...


def capture_here(collection: Collection, seeds: list[str], *, event: CaptureEvent, command: str, stop: Stop,
                 progress: Callable[[int, int, str | None], None] | None, recrawl: bool, leases: Leases | None,
                 hosts: HostGate | SharedHosts | None = None) -> CaptureResult:
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
        result.changes = classify_event(collection.catalogue, event.id, fetch_ids=run.ledger.fetch_ids,
                                        confirm=confirm)
    return result


def _confirms(task: Task, exchange: Exchange) -> bool:
    """Did the server answer the task's conditional request (its first hop) with 304 Not Modified?"""
    return (task.previous is not None and exchange.error is None and not exchange.truncated
            and exchange.status == 304)


def _payload_key(exchange: Exchange) -> tuple[str, str] | None:
    """The (payload sha256, URL) under which an earlier response could hold the exchange's payload: a
    whole 2xx response with a body has one."""
    if exchange.error is not None or exchange.truncated or exchange.status is None:
        return None
    if 200 <= exchange.status < 300 and exchange.response_length > exchange.payload_offset:
        return exchange.payload_hashes.sha256.hexdigest(), exchange.url
    return None


def _claimer(collection: Collection, leases: Leases | None) -> Callable[[list[str]], set[str]] | None:
    return (lambda urls: leases.claim(collection.catalogue, urls)) if leases is not None else None


class _Run:
    def __init__(self, *, collection: Collection, command: str, seeds: list[str], stop: Stop,
                 progress: Callable[[int, int, str | None], None] | None, event: CaptureEvent,
                 tasks: list[Task] | None = None, conditional: bool = False,
                 hosts: HostGate | SharedHosts, claim: Callable[[list[str]], set[str]] | None = None) -> None:
        self.collection = collection
        self.tasks = tasks if tasks is not None else [Task(url=seed, role=cat.Role.POST, seed=seed, link_kind="seed")
                                                      for seed in seeds]
        self.conditional = conditional  # send validators from the last capture (a re-crawl)
        self.claim = claim  # a URL is fetched only if claim(urls) holds it (re-crawl leases)
        self.skipped: list[Task] = []
        self.extractors: dict[Path, str | None] = {}
        self.archived: dict[int, ArchivedLinks] = {}  # see _read_archived_links
        self.same: dict[tuple[str, str], Previous] = {}  # see _read_same_payloads
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
            verify_tls=not self.settings.insecure,
        )
        self.fetcher = Fetcher(limits=limits)
        self.robots_fetcher = Fetcher(limits=dataclasses.replace(limits, max_body=ROBOTS_MAX_BYTES,
                                                                 max_redirects=ROBOTS_MAX_REDIRECTS))
        self.hosts = hosts  # whose turn it is to fetch from a host (archiver.net)
        self.robots = None if self.settings.ignore_robots else RobotsCache(self._fetch_robots)
        self.queue = HostQueue(self.settings.per_host)
        # bounded: fetch threads wait for the writer rather than hold ever more bodies in memory
        self.results: queue.Queue[tuple[Task, list[Exchange], Robots, Head | None]] = queue.Queue(WAITING_RESULTS)
        self.ended = threading.Event()  # set when the run stops draining results (see _hand_over)
        self.seen: set[str] = set()
        self.duplicates: list[Task] = []
        self.in_flight = 0
        self.total = 0
        self.fetching: dict[str, float] = {}  # URL -> when its fetch started, for the progress display
        self.fetching_lock = threading.Lock()
        self.finished = 0
        self.event_id = event.id
        self.ledger = Ledger(collection=collection, event_id=event.id)
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
            on_close=self.ledger.file_closed,
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
            self.ended.set()
            self.queue.close()
            if catalogue_failed:  # rows cannot be written: the next start catalogues the .open file's records
                self.writer.abandon()
            else:
                self._finish(interrupted)
        return self.result

    def _drain(self) -> bool:
        self._tell_progress()
        while self.in_flight:
            if self.stop.is_set():
                return True
            try:
                item = self.results.get(timeout=0.25)
            except queue.Empty:
                self._tell_progress()
                continue
            batch = [item]
            while len(batch) < BATCH:
                try:
                    batch.append(self.results.get_nowait())
                except queue.Empty:
                    break
            follow_ups = []
            self._read_archived_links(batch)
            self._read_same_payloads(batch)
            for task, hops, robots, head in batch:
                self.in_flight -= 1
                for robots_task, robots_hops, policy in robots:
                    self._store(robots_task, robots_hops, notes=policy.metadata_fields("obey"))
                follow_ups += self._store(task, hops, head=head)
            self.ledger.commit(self.writer.sync)
            self._submit([dataclasses.replace(task, parent_fetch_id=parent[0]) for task, parent in follow_ups])
            self.finished += len(batch)
            self._tell_progress()
        return False

    def _tell_progress(self) -> None:
        """Tasks done, tasks known, and the URL waited on longest."""
        if self.progress:
            with self.fetching_lock:
                waiting = min(self.fetching.items(), key=lambda item: item[1])[0] if self.fetching else None
            self.progress(self.finished, self.total, waiting)

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
            robots: Robots = []
            with self.fetching_lock:
                self.fetching[task.url] = time.monotonic()
            try:
                hops = self._fetch_task(task, robots)
            except Exception as exc:  # a bug must not hang the run: report it as a failed fetch
                hops = [refused(task.url, FetchError(f"{task.url}: internal error {exc!r}"))]
            finally:
                with self.fetching_lock:
                    del self.fetching[task.url]
                self.queue.done(task)
            self._hand_over((task, hops, robots, self._original_head(task, hops)))

    def _hand_over(self, result: tuple[Task, list[Exchange], Robots, Head | None]) -> None:
        """Queue a fetched task for the writer, waiting while :data:`WAITING_RESULTS` wait already;
        dropped once the run has stopped draining (interrupted, or the catalogue failed)."""
        while not self.ended.is_set():
            try:
                self.results.put(result, timeout=0.25)
                return
            except queue.Full:
                continue

    @staticmethod
    def _original_head(task: Task, hops: list[Exchange]) -> Head | None:
        """For a task the server answered 304, the HTTP head and payload digest of the response it
        confirms (what its revisit holds), read here on a fetch thread, not on the writer's; an
        exception is raised on the writer thread, where the head is used."""
        if not hops or not _confirms(task, hops[0]):
            return None
        assert task.previous is not None  # _confirms
        try:
            return read_http_head(task.previous.path, task.previous.offset)
        except Exception as exc:  # raised again by _write_exchange
            return exc

    def _fetch_task(self, task: Task, robots: Robots) -> list[Exchange]:
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
            keep_body=self._keeps(task),
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

    @staticmethod
    def _keeps(task: Task) -> Callable[[str, str | None], bool] | None:
        """Which response bodies a task's fetch keeps, by URL and media type: a page's HTML (the
        fetcher's default); a requisite's, when it is parsed; nothing else."""
        if task.role in EMBEDDED:
            return lambda url, media_type: parsed_embed(task, url=url, media_type=media_type)
        return None if task.role in FOLLOW_UP else lambda url, media_type: False

    def _fetch_robots(self, url: str) -> list[Exchange]:
        with self.hosts.turn(url):
            return list(self.robots_fetcher.fetch(url, allow_private=self.settings.allow_private))

    def _consult_robots(self, task: Task, url: str, robots: Robots) -> Exchange | None:
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
        return None if policy.allows(url) else refused(url, policy.refusal(url))

    # -- writing ---------------------------------------------------------------------------

    def _store(self, task: Task, hops: list[Exchange], *, notes: list[tuple[str, str]] | None = None,
               head: Head | None = None) -> list[tuple[Task, list[int | None]]]:
        """Write the hops' records and queue their catalogue rows. ``notes``: the fields of a
        metadata record about the last hop's response (a page's come from its parse); ``head``: what
        the first hop's revisit holds, if it confirms the task's previous capture (:meth:`_original_head`).

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
            fields = page.metadata_fields() if isinstance(page, (Page, EmbeddedLinks)) else notes if last else None
            written = self._write_exchange(exchange, original, fields, head if number == 0 else None)
            rows = [(self._record_row(record, location, exchange, original), location) for record, location in written]
            self.ledger.hop(task, exchange, rows, document, redirect_of=previous, ids=fetch_ids)
            if isinstance(document, Document) and document.warnings:
                self.result.parse_warnings[exchange.url] = list(document.warnings)
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
            (Task(url=link.url, role=role, seed=task.seed, link_kind=link.kind, link_text=link.text or None,
                  link_tag=link.tag, depth=task.depth + 1 if task.role in EMBEDDED else 0), fetch_ids)
            for role in FOLLOW_UP[task.role]
            for link in (page.requisites if role in EMBEDDED else page.cited)
        ]

    def _judge_seed(self, task: Task, final: Exchange, page: Page | EmbeddedLinks | ArchivedLinks | None) -> None:
        if final.error is not None:
            self.result.seed_errors[task.seed] = final.error
        elif final.status == 304 and page is not None:
            return  # not modified since the capture it refers to
        elif final.status is None or not 200 <= final.status < 300:
            self.result.seed_errors[task.seed] = PostNotCaptured(
                f"{task.seed}: the server answered HTTP {final.status} {final.reason}".rstrip()
                + " (recorded; nothing followed)")
        elif final.body is None:  # a PDF, an image: the capture of that document is complete
            self.result.documents[task.seed] = final.content_type or "unknown type"
        elif isinstance(page, Page) and not page.article:
            self.result.no_article.append(task.seed)

    def _parse(self, task: Task, exchange: Exchange, original: "Previous | None"
               ) -> tuple[Page | EmbeddedLinks | ArchivedLinks | None, Document | Later | None]:
        """What a post or cited page links to, and its parsed document (from a copy of the payload)
        or :data:`LATER` (:meth:`_later`);
        what a stylesheet or frame loads (no document). A revisit gets no document of its own: its
        payload's document is the original's. A page or requisite the server says is not modified
        leads where its original led (:meth:`_read_archived_links`)."""
        if task.role not in FOLLOW_UP or exchange.error is not None or exchange.status is None:
            return None, None
        if exchange.status == 304 and original is not None:
            archived = self.archived.get(original.fetch_id) if original.fetch_id is not None else None
            if archived is not None:
                return archived, None
            if task.role in EMBEDDED and not parsed_embed(task, url=exchange.url,
                                                          media_type=media_type(original.content_type)):
                return None, None  # an image not modified: nothing to read it for
            payload, content_type = read_http_payload(original.path, original.offset, limit=self.settings.max_size)
        elif exchange.body is not None and 200 <= exchange.status < 300:
            payload = decode_content(exchange.body, exchange.header("content-encoding"),
                                     limit=self.settings.max_size)
            content_type = exchange.header("content-type")
        else:
            return None, None
        try:
            if task.role in EMBEDDED:  # a stylesheet or a frame's document: what it loads, no document
                parsed = parsed_embed(task, url=exchange.url, media_type=media_type(content_type))
                return (EmbeddedLinks(links=embedded_links(payload, url=exchange.url, content_type=content_type))
                        if parsed else None), None
            if self._later(task, content_type):  # what it loads now; its document from the WARC, later
                self.result.parse_later.append(exchange.url)
                return EmbeddedLinks(links=embedded_links(payload, url=exchange.url, content_type=content_type)), LATER
            if original is not None:  # only what to fetch next: the payload's document is catalogued
                return page_only(payload, url=exchange.url, content_type=content_type), None
            return analyse(payload, url=exchange.url, content_type=content_type)
        except Exception as exc:  # a parser bug must cost the parse, never the capture
            return None, (None if original is not None or task.role in EMBEDDED else Document(
                url=exchange.url, warnings=[f"parser failed: {type(exc).__name__}: {exc}"]))

    def _later(self, task: Task, content_type: str | None) -> bool:
        """Is this page's document left to ``archiver parse``? A cited HTML page's, in a capture with
        ``--parse later``: what it loads does not depend on its main text (a post's citations do, and
        a re-crawl classifies edits by documents)."""
        return (self.settings.parse == PARSE_LATER and not self.conditional and task.role == cat.Role.CITED
                and media_type(content_type) in HTML_TYPES)

    def _read_archived_links(self, batch: list[tuple[Task, list[Exchange], Robots, Head | None]]) -> None:
        """For each page of ``batch`` the server answered 304, the links the capture of its original
        followed from it, when they stand for a parse of the same bytes now: the same role (so the same
        follow-up rules), the same link extractor, and a capture not cut short before its follow-ups were
        catalogued. Kept in ``self.archived`` by the original's fetch id; two queries per batch."""
        wanted = {task.previous.fetch_id: task for task, hops, *_ in batch
                  if task.role in FOLLOW_UP and task.previous is not None and task.previous.fetch_id is not None
                  and hops[0].status == 304 and self._extractor(task.previous.path) == EXTRACTOR}
        self.archived = {}
        if not wanted:
            return
        self.archived = archived_links(self.catalogue, wanted)

    def _extractor(self, path: Path) -> str | None:
        """The link extractor that wrote a WARC file (its warcinfo record says), read once per file."""
        if path not in self.extractors:
            self.extractors[path] = warcinfo_fields(path).get("extractor")
        return self.extractors[path]

    def _already_archived(self, task: Task, exchange: Exchange, *, first: bool) -> "Previous | None":
        """The archived response this exchange revisits: the one its validators came from when the
        server answered 304, or an earlier response with the same payload digest."""
        if first and _confirms(task, exchange):
            return task.previous
        key = _payload_key(exchange)
        return self.same.get(key) if key is not None else None

    def _read_same_payloads(self, batch: list[tuple[Task, list[Exchange], Robots, Head | None]]) -> None:
        """The earlier responses holding the payloads of ``batch`` (robots.txt answers included), kept
        in ``self.same`` by (payload digest, URL): two queries per batch."""
        keys = {key for task, hops, robots, _ in batch
                for owner, exchanges in [(task, hops), *((owner, exchanges) for owner, exchanges, _ in robots)]
                for number, exchange in enumerate(exchanges)
                if not (number == 0 and _confirms(owner, exchange)) and (key := _payload_key(exchange)) is not None}
        self.same = same_payloads(self.catalogue, keys, self.collection, before_event=self.event_id) if keys else {}

    def _record_row(self, record: Record, location: Location, exchange: Exchange, original: "Previous | None"
                    ) -> dict[str, Any]:
        row = cat.record_row(record.facts(location), exchange=exchange)
        if record.type == RecordType.REVISIT and original is not None:
            row.update(payload_sha256=original.payload_sha256, revisit_of_id=original.record_pk)
        return row

    def _write_exchange(self, exchange: Exchange, original: "Previous | None",
                        fields: list[tuple[str, str]] | None, head: Head | None) -> list[tuple[Record, Location]]:
        """The exchange's records, and a metadata record of ``fields`` about its response, written
        all or none (a full disk cuts the file back to before the first). ``head``: a 304's original
        head (:meth:`_original_head`)."""
        if original is None:
            records = exchange_records(exchange, digest=self.digest)
        elif exchange.status == 304:  # replayed as the original it confirms; the 304 itself kept in it
            assert head is not None  # read for every exchange that _confirms its original
            if isinstance(head, Exception):
                raise head
            records = not_modified_records(exchange, digest=self.digest, original=original.original, head=head[0],
                                           payload_digest=head[1])
        else:
            records = revisit_records(exchange, digest=self.digest, original=original.original)
        response = next((record for record in records if record.type == RecordType.RESPONSE), None)
        if fields and response is not None:
            records.append(metadata_record(target_uri=exchange.url, refers_to=response.record_id,
                                           date=exchange.started_at, fields=fields, digest=self.digest))
        try:
            return list(zip(records, self.writer.write_all(records), strict=True))
        finally:
            exchange.response.close()

    def _on_open(self, warc_file: WarcFile, location: Location) -> None:
        self.result.warc_files.append(warc_file.path.name)
        self.ledger.file_opened(warc_file, location)

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
            ("tls-verification", "off (--insecure): HTTPS certificates were not checked" if settings.insecure
             else "on"),
            ("capture-id", self.result.capture_id),
            ("command", self.command),
            ("extractor", EXTRACTOR),
            ("digest-algorithm", self.digest),
        ]

    def _finish(self, interrupted: bool) -> None:
        """Catalogue what is pending, then close the WARC file and catalogue that. A catalogue that
        fails before the file is closed leaves it ``.open``, for the next start to catalogue."""
        self.result.outcome = outcome(interrupted=interrupted, failed=len(self.result.seed_errors),
                                       seeds=len(self.seeds))
        self.result.ended_at = dt.datetime.now(dt.timezone.utc)
        self.ledger.unfetched(skipped=self.skipped, duplicates=self.duplicates, at=self.result.ended_at)
        try:
            self.ledger.commit(self.writer.sync)
        except CatalogueError:
            self.writer.abandon()
            raise
        self.writer.close()
        self.ledger.commit(self.writer.sync)
