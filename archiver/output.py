"""Writing command results: data to stdout (table, JSON, CSV or newline-delimited JSON),
messages and progress to stderr."""

from __future__ import annotations

import contextlib
import csv
import functools
import json
import sys
import time
from typing import Any, Callable, Iterator, Protocol, Sequence

import click


def output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--json``, ``--csv`` and ``--nl``; the command receives ``output`` (table|json|csv|nl)."""

    @click.option("--json", "output", flag_value="json", help="Output JSON.")
    @click.option("--csv", "output", flag_value="csv", help="Output CSV, one row per record.")
    @click.option("--nl", "output", flag_value="nl", help="Output newline-delimited JSON, one row per record.")
    @functools.wraps(command)
    def wrapper(*args: Any, output: str | None = None, **kwargs: Any) -> Any:
        return command(*args, output=output or "table", **kwargs)

    return wrapper


def emit(output: str, *, document: Any, rows: Sequence[dict[str, Any]], table: Callable[[], str]) -> None:
    """Print ``document`` for --json, ``rows`` for --csv/--nl, else ``table()``."""
    if output == "json":
        click.echo(json.dumps(document, indent=2, ensure_ascii=False, default=str))
    elif output == "nl":
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False, default=str))
    elif output == "csv":
        if rows:
            writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    else:
        text = table()
        if text:
            click.echo(text)


def render_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain text table: columns padded to their widest cell, the last one left free."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers) - 1)]
    lines = []
    for row in cells:
        padded = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)] + [row[-1]]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines)


def message(text: str) -> None:
    click.echo(text, err=True)


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


PROGRESS_EVERY = 5.0  # seconds between progress lines when stderr is not a terminal


class Progress(Protocol):
    """``progress(done, total, waiting)``: how many of how many, and what is waited on (a URL), if any."""

    def __call__(self, done: int, total: int, waiting: str | None = None) -> None: ...


@contextlib.contextmanager
def progress_bar(description: str) -> Iterator[Progress]:
    """A rich progress bar on stderr when it is a terminal, naming what is waited on; elsewhere a line
    every :data:`PROGRESS_EVERY` seconds, once the command has run that long."""
    if not sys.stderr.isatty():
        yield _ProgressLines(description)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    with Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[waiting]}"), console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(description, total=None, waiting="")

        def update(done: int, total: int, waiting: str | None = None) -> None:
            progress.update(task, completed=done, total=total or None,
                            waiting=f"waiting on {waiting}" if waiting else "")

        yield update


class _ProgressLines:
    """Progress as a line on stderr every :data:`PROGRESS_EVERY` seconds (a log, not a terminal)."""

    def __init__(self, description: str) -> None:
        self.description = description
        self.due = time.monotonic() + PROGRESS_EVERY

    def __call__(self, done: int, total: int, waiting: str | None = None) -> None:
        now = time.monotonic()
        if now >= self.due:
            self.due = now + PROGRESS_EVERY
            message(f"{self.description}: {done}/{total or '?'} done" + (f"; waiting on {waiting}" if waiting else ""))
