"""Per-host politeness: at least ``--host-delay`` between the starts of two fetches from one host,
and (across the processes of one capture) at most ``--per-host`` fetches at once on it.

Within a process, :class:`archiver.capture._tasks.HostQueue` hands a host's tasks to at most ``per_host``
workers, and :class:`HostGate` spaces their starts. A capture shared among processes
(``--processes``) holds the same limits across all of them with :class:`SharedHosts`: each host
hashes to one of :data:`SLOTS` slots, each slot a process-shared semaphore of ``per_host`` fetches
and the start time of its last fetch. Two hosts in one slot share its limits: stricter, never looser.

A worker takes one turn per HTTP hop and never holds two at once, so turns cannot deadlock.
"""

from __future__ import annotations

import contextlib
import multiprocessing.context
import threading
import time
import urllib.parse
import zlib
from typing import Iterator

SLOTS = 64


def host_of(url: str) -> str:
    """What the per-host limits count as one host: the URL's host and port, in lower case."""
    return urllib.parse.urlsplit(url).netloc.lower()


def _pause_until(last: float, delay: float) -> float:
    """Sleep until ``delay`` seconds after ``last`` (monotonic); returns the start time taken."""
    pause = last + delay - time.monotonic()
    if pause > 0:
        time.sleep(pause)  # the politeness delay itself, not a wait for something
    return time.monotonic()


class HostGate:
    """At least ``delay`` seconds between the starts of two fetches from one host, in one process
    (robots.txt included); a worker waits here for its host's turn, the other hosts' fetches go on."""

    def __init__(self, delay: float) -> None:
        self._delay = delay
        self._lock = threading.Lock()
        self._hosts: dict[str, tuple[threading.Lock, list[float]]] = {}

    @contextlib.contextmanager
    def turn(self, url: str) -> Iterator[None]:
        if self._delay > 0:
            with self._lock:
                lock, last = self._hosts.setdefault(host_of(url), (threading.Lock(), [-self._delay]))
            with lock:
                last[0] = _pause_until(last[0], self._delay)
        yield


class SharedHosts:
    """The per-host limits of one capture, shared by its processes (made in the parent, handed to
    each process when it starts: multiprocessing shares semaphores no other way)."""

    def __init__(self, context: multiprocessing.context.BaseContext, *, per_host: int, delay: float) -> None:
        self._delay = delay
        self._slots = [context.BoundedSemaphore(per_host) for _ in range(SLOTS)]
        self._locks = [context.Lock() for _ in range(SLOTS)]
        self._last = context.Array("d", [-delay] * SLOTS, lock=False)  # guarded by the slot's lock

    @contextlib.contextmanager
    def turn(self, url: str) -> Iterator[None]:
        slot = zlib.crc32(host_of(url).encode()) % SLOTS  # the same in every process, unlike hash()
        with self._slots[slot]:
            if self._delay > 0:
                with self._locks[slot]:
                    self._last[slot] = _pause_until(self._last[slot], self._delay)
            yield
