"""Capturing: the run and its processes, the task queue and workers, re-crawls and their
schedules, change classes, leases per URL, and re-parsing from the WARCs.

Writes WARCs and catalogue rows; knows nothing of the query package.
"""

from ._capture import capture
from ._recrawl import due, format_interval, parse_interval, recrawl, schedules, set_schedule, watch
from ._reparse import Reparsed, parse_pending, reparse
from ._results import CaptureResult
from ._run import ROBOTS_IGNORED, ROBOTS_OBEYED

__all__ = [
    "ROBOTS_IGNORED",
    "ROBOTS_OBEYED",
    "CaptureResult",
    "Reparsed",
    "capture",
    "due",
    "format_interval",
    "parse_interval",
    "parse_pending",
    "recrawl",
    "reparse",
    "schedules",
    "set_schedule",
    "watch",
]
