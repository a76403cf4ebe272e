"""``capture``: posts, their requisites and the pages they cite, one hop deep, under one capture
event, in this process or shared among several."""

from __future__ import annotations

import threading
from typing import Callable, Iterable

from .. import catalogue as cat
from ..collection import Collection
from ._leases import Leases
from ._processes import auto_processes, capture_in_processes
from ._results import CaptureResult, end_event, start_event
from ._run import capture_here


def capture(
    urls: Iterable[str],
    *,
    collection: Collection,
    command: str,
    stop: threading.Event | None = None,
    progress: Callable[[int, int, str | None], None] | None = None,
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
    event = start_event(collection, seeds, command)
    processes = collection.settings.processes or auto_processes(len(seeds))
    try:
        if processes <= 1 or len(seeds) <= 1:
            result = capture_here(collection, seeds, event=event, command=command, stop=stop,
                                  progress=progress, recrawl=recrawl, leases=leases)
        else:  # each process classifies what it fetched, as soon as it is done
            result = capture_in_processes(collection, seeds, event=event, command=command, stop=stop,
                                          processes=min(processes, len(seeds)), recrawl=recrawl, leases=leases)
    except BaseException:
        end_event(collection, event, cat.EventOutcome.INTERRUPTED)
        raise
    end_event(collection, event, result.outcome)
    return result
