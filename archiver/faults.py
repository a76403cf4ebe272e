"""Crash points for the fault-injection tests (tests/faults/).

``ARCHIVER_CRASH_AT=NAME:N`` kills this process with SIGKILL, exactly as ``kill -9``
does, the N-th time it passes the point called NAME: ``record-block`` (64 KiB more of a
WARC record's block compressed and handed to the file: a record cut short), ``record`` (a
whole WARC record written, the next not begun: between a response and its request record),
``commit`` (catalogue rows inserted, the transaction not yet committed), ``verify-file`` (a WARC file
about to be checked by verify, in whichever process checks it), ``parse-page`` (a page about to be
parsed by ``archiver parse`` or ``reparse``, in whichever process parses it). Unset, a point costs one comparison.
"""

from __future__ import annotations

import os
import signal

_WANTED = os.environ.get("ARCHIVER_CRASH_AT", "")
_passed: dict[str, int] = {}


def point(name: str) -> None:
    if not _WANTED:
        return
    wanted, _, count = _WANTED.partition(":")
    if wanted != name:
        return
    _passed[name] = _passed.get(name, 0) + 1
    if _passed[name] == int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
