"""Many posts shared among capture processes under one capture event: each process runs its share
(:func:`capture_here`) with its own WARC files; the per-host limits and the fetch workers are
shared among them; a process that dies is repaired after and fails the run."""

from __future__ import annotations

import dataclasses
import datetime as dt
import multiprocessing.synchronize
import os
import threading

from .. import catalogue as cat
from ..collection import Collection, Mode, open_collection, repair
from ..config import Settings
from ..errors import ArchiverError
from ..net import SharedHosts
from ._leases import Leases
from ._results import CaptureEvent, CaptureResult, outcome
from ._run import capture_here


def auto_processes(seeds: int) -> int:
    """One process per 20 posts, at most one per core: a few posts are not worth a process's start-up."""
    return max(1, min(os.cpu_count() or 1, seeds // 20))


def capture_in_processes(collection: Collection, seeds: list[str], *, event: CaptureEvent, command: str,
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
        result.documents.update(part.documents)
        result.warc_files += part.warc_files
        result.changes += part.changes
        result.parse_warnings.update(part.parse_warnings)
        result.no_article += part.no_article
        result.parse_later += part.parse_later
    interrupted = stop.is_set() or any(part.outcome == cat.EventOutcome.INTERRUPTED for part in parts)
    result.outcome = outcome(interrupted=interrupted, failed=len(result.seed_errors), seeds=len(seeds))
    result.changes = [] if interrupted else sorted(result.changes, key=lambda change: change.detail["fetch_id"])
    return result


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
        return capture_here(collection, seeds, event=event, command=command, stop=_part_stop,
                            progress=None, recrawl=recrawl, leases=leases, hosts=_part_hosts)
