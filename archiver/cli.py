"""The ``archiver`` command: a thin click layer over the library.

Each command's docstring is its ``--help``. Data goes to stdout, messages to
stderr; every ArchiverError becomes one line on stderr and its exit code.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import os
import shlex
import shutil
import signal
import sys
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Iterator

import click

from . import __version__
from . import catalogue as cat
from .collection import Collection, Mode, catalogue_revision, open_collection
from .config import Settings, resolve
from .errors import ArchiverError, InputError
from .net import check_url
from .output import emit, human_size, message, output_options, progress_bar, render_table
from .warc import CAPTURE_TYPES, RecordType

if TYPE_CHECKING:
    from .capture import CaptureResult, Reparsed

EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # as a shell reports a writer killed by SIGPIPE
# the choices of the options that filter by a vocabulary: every value the catalogue holds
ROLES = [role.value for role in cat.Role]
RECORD_TYPES = [record_type.value for record_type in RecordType]


class ArchiverGroup(click.Group):
    """Maps exceptions to one-line messages and exit codes (see errors.py)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            try:
                return super().invoke(ctx)
            finally:
                sys.stdout.flush()  # what is still buffered goes now, not at interpreter exit
        except BrokenPipeError:  # a reader that went away (`... | head -1`): the command ends quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
            ctx.exit(EXIT_BROKEN_PIPE)
        except ArchiverError as exc:
            message(f"Error: {exc}")
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            message("Interrupted.")
            ctx.exit(EXIT_INTERRUPTED)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            if os.environ.get("ARCHIVER_DEBUG"):
                raise
            message(f"Error: internal error: {type(exc).__name__}: {exc} "
                    "(set ARCHIVER_DEBUG=1 to see the traceback, and please report it)")
            ctx.exit(1)


def collection_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--home``, ``--db`` and ``--config``: which collection and catalogue to use."""

    @click.option("--home", type=click.Path(file_okay=False, path_type=Path),
                  help="Collection folder holding snapshots/ and archiver.db [env ARCHIVER_HOME; default: .]")
    @click.option("--db", metavar="URL",
                  help="Catalogue as an SQLAlchemy URL instead of HOME/archiver.db [env ARCHIVER_DB]")
    @click.option("--config", "config_file", type=click.Path(dir_okay=False),
                  help="TOML config file [env ARCHIVER_CONFIG; default: HOME/archiver.toml]")
    @click.option("--lock-timeout", metavar="DURATION",
                  help="How long a write waits while another process writes the catalogue [60s].")
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return command(*args, **kwargs)

    return wrapper


def fetch_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that shape fetching and writing, shared by every command that captures."""
    options = [
        click.option("--allow-private", is_flag=True, default=None,
                     help="Also follow links to loopback, private and link-local addresses."),
        click.option("--ignore-robots", is_flag=True, default=None,
                     help="Fetch followed links whatever robots.txt says (the URLs you type always are)."),
        click.option("--insecure", is_flag=True, default=None,
                     help="Do not verify HTTPS certificates (recorded in warcinfo and in each record's row)."),
        click.option("--host-delay", metavar="DURATION",
                     help="Least time between the starts of two fetches from one host, e.g. 1s [0]."),
        click.option("--connect-timeout", metavar="DURATION", help="Seconds to wait for a connection [10s]."),
        click.option("--read-timeout", metavar="DURATION", help="Seconds to wait for each read [30s]."),
        click.option("--total-timeout", metavar="DURATION", help="Wall-clock limit per resource, e.g. 2m [120s]."),
        click.option("--max-size", metavar="SIZE", help="Largest response body kept, e.g. 50MB [100MB]."),
        click.option("--max-redirects", type=int, metavar="N", help="Longest redirect chain followed [10]."),
        click.option("--warc-size", metavar="SIZE", help="Start a new WARC file past this size [1GB]."),
        click.option("--digest", type=click.Choice(["sha256", "sha1"]),
                     help="WARC digest algorithm; sha1 for legacy sha1-base32 indexes [sha256]."),
        click.option("--workers", type=int, metavar="N", help="Concurrent fetches, shared among the processes [8]."),
        click.option("--per-host", type=int, metavar="N",
                     help="Concurrent fetches per host, across all processes [2]."),
        click.option("--processes", type=int, metavar="N",
                     help="Processes sharing the posts, each with its own WARC files [0: one per 20 posts, "
                          "at most one per core]."),
        click.option("--operator", metavar="NAME", help="Who runs the capture, recorded in warcinfo [login name]."),
        click.option("--contact", metavar="TEXT",
                     help="How a site can reach you (mailto: or URL), sent in the User-Agent."),
        click.option("--user-agent", metavar="TEXT",
                     help="User-Agent header sent, whole [archiver/VERSION (+PROJECT-URL; CONTACT)]."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@contextlib.contextmanager
def reading(kwargs: dict[str, Any]) -> Iterator[Collection]:
    """The collection of a query command, opened to read (nothing is written), saying on stderr when
    captured pages still wait for `archiver parse`: the answer leaves their documents out."""
    with open_collection(settings_from(kwargs), mode=Mode.READ) as collection:
        pending = collection.catalogue.pending_count()
        if pending:
            message(f"Note: {pending} captured {'page waits' if pending == 1 else 'pages wait'} to be parsed "
                    "(captured with --parse later; their documents are left out): run `archiver parse`")
        yield collection


def parse_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options of the commands that parse captured pages from their WARC records."""
    command = output_options(command)
    command = collection_options(command)
    return click.option("--processes", type=int, metavar="N",
                        help="Worker processes parsing pages side by side [0: one per core].")(command)


def settings_from(kwargs: dict[str, Any], **overrides: Any) -> Settings:
    flags = {key: value for key, value in kwargs.items() if key != "config_file"}
    flags.update(overrides)
    return resolve(flags, config=kwargs.get("config_file"))


@contextlib.contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """SIGINT/SIGTERM set an event instead of raising mid-write."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def command_line() -> str:
    return shlex.join(["archiver", *sys.argv[1:]])


def urls_in(lines: IO[str]) -> list[str]:
    """The URLs of an --input file, one a line ('#' comments); a bad one is named by FILE:LINE."""
    urls = []
    try:
        for number, line in enumerate(lines, start=1):
            if line.strip() and not line.lstrip().startswith("#"):
                try:
                    urls.append(check_url(line.strip()))
                except InputError as exc:
                    raise InputError(f"{lines.name}:{number}: {exc}") from None
    except UnicodeDecodeError:
        raise InputError(f"{lines.name}: not UTF-8 text") from None
    return urls


@click.group(cls=ArchiverGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="archiver")
def cli() -> None:
    """Archive web posts, their embeds and the pages they cite as WARC/1.1, with provenance.

    A collection is a folder with snapshots/ (the WARC files) and archiver.db
    (the catalogue). Start with `archiver demo`, or `archiver capture URL`.
    """


@cli.command(name="capture")
@click.argument("urls", nargs=-1)
@click.option("--input", "input_file", type=click.File("r"), help="Read URLs from FILE, one a line ('-' for stdin).")
@click.option("--every", metavar="INTERVAL", help="Also re-crawl these posts every INTERVAL (30m, 6h, 1d, 1w).")
@click.option("--parse", type=click.Choice(["now", "later"]),
              help="When the cited pages' documents are parsed: before the capture exits, or later by "
                   "`archiver parse` [now].")
@collection_options
@fetch_options
@output_options
def capture_command(urls: tuple[str, ...], input_file: IO[str] | None, every: str | None, output: str,
                    **kwargs: Any) -> None:
    """Capture posts: each URL, its images, CSS, JS and the pages it cites (one hop).

    Example:

        archiver capture https://example.blogspot.com/2015/05/post.html

    Writes WARC/1.1 files to HOME/snapshots/ and catalogues every record in
    HOME/archiver.db. Links followed obey robots.txt unless --ignore-robots;
    the URLs given are always fetched. A post that is not an HTML page (a PDF,
    an image) is captured whole, with nothing to follow. Exits 0 when every
    post was captured; 3 when a post could not be (404, unreachable): what was
    fetched is kept. With --parse later the posts are parsed (what they cite
    depends on their main text) and the pages they cite only for what they
    load: their documents wait, catalogued as pending, for `archiver parse`.
    """
    from .capture import format_interval, parse_interval, set_schedule

    seeds = [check_url(url) for url in urls]
    if input_file is not None:
        seeds += urls_in(input_file)
    if not seeds:
        raise InputError("give at least one URL, or --input FILE")
    seeds = list(dict.fromkeys(seeds))
    interval = parse_interval(every) if every else None
    settings = settings_from(kwargs)
    if interval:
        with open_collection(settings, mode=Mode.WRITE) as collection:
            set_schedule(collection.catalogue, seeds, every=interval, capturing=True)
        message(f"Re-crawl every {format_interval(interval)}: {len(seeds)} posts (see `archiver schedule --list`)")
    run_capture(seeds, settings, output)


@cli.command()
@collection_options
@output_options
def demo(output: str, **kwargs: Any) -> None:
    """Serve the bundled sample site on 127.0.0.1-4 and capture its post.

    Example:

        archiver demo --home demo-collection

    The sample site is a 2015 Blogger post on the Qalamoun offensive citing
    The Daily Star, Al Jazeera and SOHR; nothing leaves this machine.
    """
    from . import sample_site

    settings = settings_from(kwargs, allow_private=True)
    with sample_site.serve() as site:
        message(f"Serving the sample site at {site.post_url}")
        try:
            run_capture([site.post_url], settings, output)
        finally:
            home = [] if kwargs.get("home") is None else ["--home", str(settings.home)]
            show = shlex.join([*installed("archiver"), "show", site.post_url, *home])
            index = shlex.join([*installed("warcio"), "index"]) + f" {shlex.quote(str(settings.snapshots))}/*.warc.gz"
            message(f"Next: `{show}` reads the parsed post back from the catalogue; `{index}` lists the records")


def installed(script: str) -> list[str]:
    """How to run a console script installed beside this Python, pasted into a shell here: its bare
    name when that is the one on PATH, else its path (the venv need not be activated)."""
    path = Path(sys.executable).parent / script
    if not path.exists():
        return [sys.executable, "-m", script]
    if shutil.which(script) == str(path):
        return [script]
    relative = os.path.relpath(path)
    return [str(path) if relative.startswith("..") else relative if os.sep in relative else f".{os.sep}{relative}"]


def run_capture(seeds: list[str], settings: Settings, output: str) -> None:
    from .capture import capture

    collection = open_collection(settings, mode=Mode.WRITE)
    try:
        for item in collection.repaired:
            message(f"Repaired {item.path.name}: kept {len(item.kept)} complete records, "
                    f"cut {item.cut_bytes} bytes left by an interrupted run")
        with stop_on_signals() as stop, progress_bar("Capturing") as progress:
            result = capture(seeds, collection=collection, command=command_line(), stop=stop,
                             progress=progress)
    finally:
        collection.close()
    summary = result.as_json()
    emit(output, document=summary, rows=summary["records"], table=lambda: capture_table(result))
    message(capture_footer(result, settings))
    for url, content_type in result.documents.items():
        message(f"{url}: not an HTML page but a document ({content_type}), archived whole; nothing to follow")
    if result.outcome == cat.EventOutcome.INTERRUPTED:
        message("Interrupted: the files are closed and every record written is catalogued.")
        sys.exit(EXIT_INTERRUPTED)
    for error in result.seed_errors.values():
        message(f"Error: {error}")
    if result.seed_errors:
        sys.exit(max(error.exit_code for error in result.seed_errors.values()))


def capture_table(result: CaptureResult) -> str:
    rows: list[tuple[Any, ...]]
    rows = [(r.role, r.http_status if r.record_type == RecordType.RESPONSE else f"{r.http_status} revisit",
             r.length, r.url)
            for r in result.records if r.record_type in CAPTURE_TYPES]
    rows += [(f.role, f"failed: {f.kind}", "", f.url) for f in result.failures]
    return render_table(("ROLE", "STATUS", "WARC BYTES", "URL"), rows)


def capture_footer(result: CaptureResult, settings: Settings) -> str:
    responses = sum(1 for r in result.records if r.record_type == RecordType.RESPONSE)
    revisits = sum(1 for r in result.records if r.record_type == RecordType.REVISIT)
    paths = [settings.snapshots / name for name in result.warc_files]
    size = sum(path.stat().st_size for path in paths if path.exists())  # warcinfo records included
    files = ", ".join(str(path) for path in paths)
    lines = [f"Capture {result.capture_id}: {result.outcome}; {responses} responses, "
             + (f"{revisits} revisits (payload unchanged, stored once), " if revisits else "")
             + f"{len(result.failures)} failures, "
             + (f"{human_size(size)} written to {files}" if files else "no WARC written")]
    blocked = sum(1 for failure in result.failures if failure.kind == "blocked-address")
    if blocked:
        lines.append(f"{blocked} links to non-public addresses were not followed "
                     "(--allow-private follows them)")
    if result.parse_warnings:
        pages = len(result.parse_warnings)
        lines.append(f"{pages} {'page was' if pages == 1 else 'pages were'} parsed with warnings "
                     f"(`archiver show URL` prints them): {', '.join(sorted(result.parse_warnings))}")
    disallowed = sum(1 for failure in result.failures if failure.kind == "robots-disallowed")
    if disallowed:
        lines.append(f"{disallowed} links disallowed by robots.txt were not fetched (--ignore-robots fetches them)")
    lines += [f"no article text found in {url}: nothing cited" for url in result.no_article]
    if result.parse_later:
        pages = len(result.parse_later)
        lines.append(f"{pages} cited {'page waits' if pages == 1 else 'pages wait'} to be parsed (--parse later): "
                     "run `archiver parse`")
    return "\n".join(lines)


@cli.command()
@click.argument("source", type=click.File("rb"))
@click.option("--url", help="The URL the page was served at, so relative links resolve [file://PATH].")
@click.option("--content-type", help="The Content-Type it was served with, if its charset matters.")
@output_options
def extract(source: IO[bytes], url: str | None, content_type: str | None, output: str) -> None:
    """Parse a local HTML file (or - for stdin) as archiver parses captures; archive nothing.

    Example:

        archiver extract post.html --url https://example.blogspot.com/2015/05/post.html --json

    Prints title, author, dates, language, main text, captions with credits,
    classified links and the reference list.
    """
    from .parse import extract_document

    if url is None:
        url = "file://" + (os.path.abspath(source.name) if source.name != "<stdin>" else "/dev/stdin")
    document = extract_document(source.read(), url=url, content_type=content_type)
    data = document.as_json()
    emit(output, document=data, rows=data["links"], table=lambda: document_text(data))
    for warning in document.warnings:
        message(f"Warning: {warning}")


def document_text(data: dict[str, Any]) -> str:
    """A parsed document for people: metadata, text, captions, references, cited links."""
    from .parse import FOLLOWED_KINDS

    lines = [f"{name.capitalize()}: {data[name]}" for name in ("title", "author", "published", "updated", "language")
             if data[name]]
    lines += ["", data["text"] or "(no main text found)"]
    if data["captions"]:
        lines += ["", "Captions:"] + [f"  {c['text']}" + (f" / {c['credit']}" if c["credit"] else "")
                                      + f"  <{c['image_url']}>" for c in data["captions"]]
    if data["references"]:
        lines += ["", "References:"] + [
            f"  {r['publisher'] + ': ' if r['publisher'] else ''}{r['title']}"
            + (f" ({r['language']})" if r["language"] else "") + f"  <{r['url']}>" for r in data["references"]]
    cited = [link for link in data["links"] if link["kind"] in FOLLOWED_KINDS]
    if cited:
        lines += ["", "Cited:"] + [f"  {link['kind']:<9} {link['url']}" for link in cited]
    return "\n".join(lines)


@cli.command()
@click.argument("urls", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Every captured HTML page of the collection.")
@parse_options
def reparse(urls: tuple[str, ...], everything: bool, output: str, **kwargs: Any) -> None:
    """Parse captured pages again, from their WARC records, with the current parser.

    Example:

        archiver reparse --all

    Adds new document rows naming the parser and its version; older ones are kept.
    """
    from .capture import reparse as reparse_pages

    if bool(urls) == everything:
        raise InputError("give URLs to re-parse, or --all (not both)")
    collection = open_collection(settings_from(kwargs), mode=Mode.WRITE)
    try:
        done = reparse_pages(collection, urls=list(urls) or None)
    finally:
        collection.close()
    emit_parsed(done, output)
    message(f"Re-parsed {len(done)} pages")


@cli.command(name="parse")
@parse_options
def parse_command(output: str, **kwargs: Any) -> None:
    """Parse the pages a capture left to parse later (`archiver capture --parse later`).

    Example:

        archiver parse --home my-collection

    Reads each page's response from its WARC record, in --processes worker
    processes, and catalogues its document; what is catalogued is no longer
    pending, so a killed run is resumed by running it again.
    """
    from .capture import parse_pending

    with open_collection(settings_from(kwargs), mode=Mode.APPEND) as collection:  # a typo'd --home is an error
        done = parse_pending(collection)
    emit_parsed(done, output)
    message(f"Parsed {len(done)} pages")


def emit_parsed(done: list[Reparsed], output: str) -> None:
    """The documents a parse catalogued, one row each."""
    rows = [dataclasses.asdict(item) for item in done]
    emit(output, document=rows, rows=rows, table=lambda: render_table(
        ("DOCUMENT", "PARSER", "WARNINGS", "URL"),
        [(item.document_id, item.parser_version, len(item.warnings), item.url) for item in done]))


@cli.command()
@click.argument("url")
@collection_options
@output_options
def show(url: str, output: str, **kwargs: Any) -> None:
    """Print what the newest capture of URL says: title, dates, text, captions, links.

    Example:

        archiver show https://example.blogspot.com/2015/05/post.html --json
    """
    from .query import newest_capture, newest_document

    with reading(kwargs) as collection:
        other = newest_capture(collection, check_url(url))
        data = other or newest_document(collection, check_url(url))
    if other is not None:
        emit(output, document=other, rows=[other], table=lambda: "\n".join([
            f"Captured: {other['captured_at']} ({other['record_id']})",
            f"Not an HTML page: {other['content_type']}, {other['size']} bytes, archived whole",
            f"Payload sha256: {other['payload_sha256']}",
            f"Versions: {other['versions']} (captures whose payload differs from the one before; "
            "see `archiver history`)"]))
        return
    say_redirected(data)
    emit(output, document=data, rows=data["links"],
         table=lambda: f"Captured: {data['captured_at']} ({data['record_id']})\n" + document_text(data))
    for warning in data["warnings"]:
        message(f"Warning: {warning}")


@cli.command()
@click.argument("urls", nargs=-1)
@click.option("--every", metavar="INTERVAL", help="Re-crawl every INTERVAL: 30m, 6h, 1d, 1w.")
@click.option("--off", is_flag=True, help="Pause the re-crawls of these URLs (--every turns them on again).")
@click.option("--list", "listing", is_flag=True, help="List every policy with its next due time.")
@collection_options
@output_options
def schedule(urls: tuple[str, ...], every: str | None, off: bool, listing: bool, output: str, **kwargs: Any) -> None:
    """Set, pause or list re-crawl policies; `archiver recrawl` runs what is due.

    Example:

        archiver schedule https://example.blogspot.com/2015/05/post.html --every 1d
    """
    from .capture import parse_interval, schedules, set_schedule

    if listing == bool(urls):
        raise InputError("give URLs with --every or --off, or --list")
    if urls and not (every or off):
        raise InputError("give --every INTERVAL or --off")
    interval = parse_interval(every) if every else None
    with open_collection(settings_from(kwargs), mode=Mode.WRITE if urls else Mode.READ) as collection:
        if urls:
            set_schedule(collection.catalogue, [check_url(url) for url in urls], every=interval, enabled=not off)
        rows = schedules(collection.catalogue)
    emit(output, document=rows, rows=rows, table=lambda: render_table(
        ("EVERY", "ENABLED", "NEXT DUE", "LAST RUN", "URL"),
        [(row["every"], "yes" if row["enabled"] else "no", row["next_due_at"], row["last_run_at"] or "-",
          row["url"]) for row in rows]))


@cli.command(name="recrawl")
@click.argument("urls", nargs=-1)
@collection_options
@fetch_options
@output_options
def recrawl_command(urls: tuple[str, ...], output: str, **kwargs: Any) -> None:
    """Re-crawl every post that is due (or the URLs given) once, and exit: for cron.

    Example (crontab, every ten minutes):

        */10 * * * * cd /srv/collection && archiver recrawl --json >> recrawl.log

    Conditional requests; unchanged payloads become revisit records; each URL's
    result is classified (unchanged, edited, captions-changed, links-changed,
    moved, gone, back, failed). Exits 0 when the run completed, whatever the
    sites answered (their answers are findings, see `archiver changes`).
    """
    from .capture import recrawl

    settings = settings_from(kwargs)
    with (open_collection(settings, mode=Mode.WRITE) as collection, stop_on_signals() as stop,
          progress_bar("Re-crawling") as progress):
        result = recrawl(collection=collection, urls=[check_url(url) for url in urls] or None,
                         command=command_line(), stop=stop, progress=progress)
    if result is None:
        emit(output, document={"changes": []}, rows=[], table=lambda: "")
        message("Nothing is due (see `archiver schedule --list`)")
        return
    summary = result.as_json()
    emit(output, document=summary, rows=summary["changes"], table=lambda: changes_table(summary["changes"]))
    message(capture_footer(result, settings))
    for url, content_type in result.documents.items():
        message(f"{url}: not an HTML page but a document ({content_type}), archived whole; nothing to follow")
    if result.outcome == cat.EventOutcome.INTERRUPTED:
        message("Interrupted: the files are closed and every record written is catalogued.")
        sys.exit(EXIT_INTERRUPTED)


def changes_table(changes: list[dict[str, Any]]) -> str:
    return render_table(("CHANGE", "AT", "URL"), [(item["change"], item["at"], item["url"]) for item in changes])


@cli.command()
@collection_options
@fetch_options
@click.option("--poll", type=float, default=60.0, show_default=True, metavar="SECONDS",
              help="Look at the schedule at least this often.")
def watch(poll: float, **kwargs: Any) -> None:
    """Run the re-crawl schedule in the foreground until SIGINT/SIGTERM.

    Example:

        archiver watch --home my-collection

    Each round's changes go to stdout as one JSON line; a failing site is
    recorded and the schedule goes on. A signal finishes the record being
    written, closes the files and exits 130.
    """
    import json

    from .capture import watch as run_watch

    def report(result: CaptureResult | None, error: ArchiverError | None) -> None:
        if error is not None:
            message(f"Error: {error} (the schedule goes on)")
            return
        assert result is not None  # a round without an error has its result
        click.echo(json.dumps(result.as_json()["changes"]))
        counts: dict[str, int] = {}
        for change in result.changes:
            counts[change.change] = counts.get(change.change, 0) + 1
        message(f"Re-crawled {len(result.changes)} URLs: "
                + (", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "nothing requested"))

    with open_collection(settings_from(kwargs), mode=Mode.WRITE) as collection, stop_on_signals() as stop:
        message("Watching the schedule; Ctrl-C stops")
        run_watch(collection=collection, command=command_line(), stop=stop, report=report, poll=poll)
    message("Stopped: the files are closed and every record written is catalogued.")
    sys.exit(EXIT_INTERRUPTED)


@cli.command(name="history")
@click.argument("url")
@collection_options
@output_options
def history_command(url: str, output: str, **kwargs: Any) -> None:
    """Every capture of URL, oldest first: time, status, record type, digest, change.

    Example:

        archiver history https://example.blogspot.com/2015/05/post.html --json
    """
    from .query import history

    with reading(kwargs) as collection:
        rows = history(collection.catalogue, check_url(url))
    say_redirected(next((row for row in rows if "redirected_from" in row), {}))
    emit(output, document=rows, rows=rows, table=lambda: render_table(
        ("CAPTURED", "STATUS", "RECORD", "CHANGE", "PAYLOAD SHA256", "WARC", "OFFSET"),
        [(row["captured_at"], row["http_status"], row["record_type"], row["change"] or "-",
          (row["payload_sha256"] or "-")[:16], row["warc_file"], row["offset"]) for row in rows]))


@cli.command(name="changes")
@click.option("--since", metavar="TIME", help="Only changes at or after TIME (ISO 8601, e.g. 2026-11-01).")
@collection_options
@output_options
def changes_command(since: str | None, output: str, **kwargs: Any) -> None:
    """What changed across the collection: edits, new redirects, pages gone or back.

    Example:

        archiver changes --since 2026-11-01 --json
    """
    from .query import changes_since

    start = parse_time(since) if since else None  # bad input is told before the collection is looked for
    with reading(kwargs) as collection:
        rows = changes_since(collection.catalogue, start)
    emit(output, document=rows, rows=rows, table=lambda: render_table(
        ("CHANGE", "AT", "URL", "CITED BY"),
        [(row["change"], row["at"], row["url"], ", ".join(row["citing"]) or "-") for row in rows]))


@cli.command(name="diff")
@click.argument("url")
@click.option("--from", "since", metavar="TIME", help="The version current at TIME [the one before the last edit].")
@click.option("--to", "until", metavar="TIME", help="The version current at TIME [the newest].")
@collection_options
@output_options
def diff_command(url: str, since: str | None, until: str | None, output: str, **kwargs: Any) -> None:
    """Word-level diff of URL's main text, captions and citations between two versions.

    Example:

        archiver diff https://example.blogspot.com/2015/05/post.html --from 2026-11-01

    Removed words show as [-old-], added ones as {+new+}.
    """
    from .query import diff

    target, start, end = check_url(url), parse_time(since) if since else None, parse_time(until) if until else None
    with reading(kwargs) as collection:
        data = diff(collection.catalogue, target, since=start, until=end)
    say_redirected(data)
    emit(output, document=data, rows=data.get("text", [data["from"], data["to"]]), table=lambda: diff_text(data))


def say_redirected(data: dict[str, Any]) -> None:
    """A line on stderr when a read command followed the catalogued redirect of its URL."""
    if redirect := data.get("redirected_from"):
        message(f"{redirect['url']} redirected to {redirect['to']} ({redirect['http_status']}): "
                f"showing {redirect['to']}")


def diff_text(data: dict[str, Any]) -> str:
    lines = [f"{data['url']}: {data['from']['captured_at']} -> {data['to']['captured_at']}"]
    if data["compared"] == "payload":
        old, new = data["from"], data["to"]
        if not data["changed"]:
            return "\n".join(lines + [f"Not an HTML page ({new['content_type']}): the same bytes, "
                                      f"payload sha256 {new['payload_sha256']}."])
        return "\n".join(lines + [f"Not an HTML page ({new['content_type']}): the bytes changed, payload sha256 "
                                  f"{old['payload_sha256']} -> {new['payload_sha256']} (no word diff)."])
    if not data["changed"]:
        return "\n".join(lines + ["No change in text, captions or citations."])
    lines += data["text_rendered"]
    for name in ("captions", "citations"):
        lines += [f"{name[:-1]} removed: {item}" for item in data[name]["removed"]]
        lines += [f"{name[:-1]} added: {item}" for item in data[name]["added"]]
    return "\n".join(lines)


def parse_time(text: str) -> dt.datetime:
    """ISO 8601 date or time; UTC unless it names an offset."""
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"time {text!r}: give an ISO 8601 date or time, e.g. 2026-11-01 or "
                         "2026-11-01T12:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


@cli.command(name="search")
@click.argument("text")
@click.option("--site", metavar="HOST", help="Only pages of HOST (and its subdomains).")
@click.option("--since", metavar="TIME", help="Only captures at or after TIME (ISO 8601).")
@click.option("--until", metavar="TIME", help="Only captures at or before TIME (ISO 8601).")
@click.option("--role", type=click.Choice(ROLES),
              help="Only pages of this role (posts and cited pages are the ones parsed).")
@click.option("--limit", type=int, default=20, show_default=True, help="At most this many results.")
@collection_options
@output_options
def search_command(text: str, site: str | None, since: str | None, until: str | None, role: str | None,
                   limit: int, output: str, **kwargs: Any) -> None:
    """Full-text search of captured pages' main text and captions, best match first.

    Example:

        archiver search '"Tallat Moussa" Hezbollah' --role cited

    SQLite FTS5 syntax: words (all must match), "a phrase", OR, NOT, prefix*.
    Matches show [in brackets] in the snippet.
    """
    from .query import search

    start, end = parse_time(since) if since else None, parse_time(until) if until else None
    with reading(kwargs) as collection:
        hits = search(collection.catalogue, text=text, site=site, role=role, limit=limit, since=start, until=end)
    rows = [hit.as_json() for hit in hits]
    emit(output, document=rows, rows=rows, table=lambda: "\n\n".join(
        f"{hit.captured_at}  {hit.role or '-'}  {hit.url}\n  {hit.title or '(no title)'}\n  {hit.snippet}"
        for hit in hits))
    message(f"{len(hits)} results" + (" (the first --limit)" if len(hits) == limit else ""))


@cli.command(name="provenance")
@click.argument("target", metavar="URL|RECORD-ID")
@click.option("--prov", "as_prov", is_flag=True, help="Print W3C PROV-JSON instead.")
@collection_options
@output_options
def provenance_command(target: str, as_prov: bool, output: str, **kwargs: Any) -> None:
    """The whole chain behind a record, or behind the newest capture of URL.

    Example:

        archiver provenance '<urn:uuid:47e7b57c-8183-48e9-b8c1-3f6393301447>' --prov

    Capture event (tool, version, operator, host, command line, start, end),
    fetch (the page, link kind and tag that led to it) and redirect chain,
    request and response headers, peer IP, digests, WARC file and offset, and
    for a post each citation with the exact capture of the cited page taken
    with it. --json for the report, --prov for PROV-JSON.
    """
    import json

    from .query import as_prov as prov_json
    from .query import provenance as provenance_report

    if not target.strip().startswith(("<urn:", "urn:")):
        target = check_url(target)  # the form URLs are catalogued in, as for every other command
    with reading(kwargs) as collection:
        report = provenance_report(collection, target)
    if as_prov:
        click.echo(json.dumps(prov_json(report), indent=2, ensure_ascii=False))
        return
    emit(output, document=report, rows=[report["record"]], table=lambda: provenance_text(report))


def provenance_text(report: dict[str, Any]) -> str:
    record, event, fetch = report["record"], report["capture_event"], report["fetch"]
    lines = [f"Record    {record['record_id']} ({record['record_type']}, HTTP {record['http_status']})",
             f"URL       {record['target_uri']}",
             f"Captured  {record['warc_date']} from {record['peer_ip'] or '-'}",
             f"WARC      {record['path']} offset {record['offset']} length {record['length']}",
             f"Digests   block {record['block_digest']}; payload {record['payload_digest'] or '-'}"]
    if record["revisit_of"]:
        lines.append(f"Revisit   of {record['revisit_of']} ({record['revisit_profile']})")
    if event:
        lines.append(f"Capture   {event['capture_id']} by {event['operator']}@{event['hostname']} with "
                     f"{event['tool']} {event['tool_version']}, {event['started_at']} - {event['ended_at']} "
                     f"({event['outcome']})")
        lines.append(f"Command   {event['command']}")
    if fetch:
        found = fetch["found_on"]
        link = f" ({fetch['link_kind']} link" + (f", tag {fetch['link_tag']}" if fetch["link_tag"] else "") + ")"
        lines.append(f"Fetched   as {fetch['role']}" + (f", linked from {found['url']}{link}" if found else ""))
    if len(report["redirect_chain"]) > 1:
        lines += ["Redirects"] + [f"  {hop['http_status']} {hop['url']}" for hop in report["redirect_chain"]]
    if report["request"]:
        lines += ["Request", f"  {report['request']['request_line']}"] + [
            f"  {name}: {value}" for name, value in report["request"]["headers"]]
    if record["headers"]:
        lines += ["Response"] + [f"  {name}: {value}" for name, value in record["headers"]]
    if report["citations"]:
        lines.append("Citations")
        for item in report["citations"]:
            taken = item["capture"] or {}
            lines.append(f"  {item['url']}\n    -> " + (f"{taken['record_id']} {taken['warc_date']} HTTP "
                                                      f"{taken['http_status']}" if taken.get("record_id")
                                                      else f"not captured ({taken.get('outcome', 'not fetched')})"))
    return "\n".join(lines)


@cli.command(name="browse")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True,
              help="Port to listen on; 0 picks a free one.")
@click.option("--open", "open_browser", is_flag=True, help="Open it in the web browser.")
@collection_options
def browse_command(host: str, port: int, open_browser: bool, **kwargs: Any) -> None:
    """Browse the catalogue in Datasette, read-only: every table, SQL, and canned queries.

    Example:

        archiver browse --home my-collection --open

    Canned queries: history (url), changes (since), provenance (record_id)
    and dead_citations; each also answers as JSON (add .json to its URL).
    Needs the browse extra: run pip install '.[browse]' in the archiver
    checkout. The SQLite catalogue is opened read-only and may be written
    while it is browsed.
    Runs until Ctrl-C or SIGTERM, then exits 130.
    """
    import webbrowser

    from .query import catalogue_file, require_datasette, serve

    require_datasette()
    settings = settings_from(kwargs)
    path = catalogue_file(settings.db_url)
    open_collection(settings, mode=Mode.READ).close()  # it exists, at the newest revision

    def open_in_browser(url: str, terminal: IO[str]) -> None:  # in a thread: a text-mode browser holds on
        if not webbrowser.open(url):
            click.echo("No web browser found: open the address above yourself.", file=terminal)

    def ready(url: str) -> None:
        message(f"Browsing {path} read-only at {url} (Ctrl-C stops)")
        if open_browser:  # the thread speaks after serve's streams are the log's again
            threading.Thread(target=open_in_browser, args=(url, sys.stderr), daemon=True).start()

    with stop_on_signals() as stop:
        serve(catalogue=path, host=host, port=port, on_ready=ready, stop=stop)
    message("Stopped.")
    sys.exit(EXIT_INTERRUPTED)


@cli.command(name="export")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "cdxj"]), default="json", show_default=True,
              help="json: an array, one object a line; csv: a header row, then the rows; cdxj: pywb's index.")
@click.option("--nl", is_flag=True, help="With --format json: one object a line, without the array.")
@click.option("--url", help="Only the records of this URL (WARC-Target-URI, exactly).")
@click.option("--since", metavar="TIME", help="Only records dated at or after TIME (ISO 8601, e.g. 2026-11-01).")
@click.option("--until", metavar="TIME", help="Only records dated at or before TIME.")
@click.option("--role", "roles", multiple=True, type=click.Choice(ROLES), help="Only this role (repeatable).")
@click.option("--type", "types", multiple=True, type=click.Choice(RECORD_TYPES),
              help="Only this WARC record type (repeatable).")
@collection_options
def export_command(fmt: str, nl: bool, url: str | None, since: str | None, until: str | None,
                   roles: tuple[str, ...], types: tuple[str, ...], **kwargs: Any) -> None:
    """Write the catalogue, or the records a query selects, for other tools: JSON, CSV or CDXJ.

    Example:

        archiver export --format cdxj > index.cdxj

    One row per WARC record, from the catalogue alone: no WARC is read and
    nothing is written (a read-only collection will do). json and csv rows:
    record_id, record_type, url, warc_date, warc_file, offset, length,
    content_type, content_length, http_status, http_reason,
    http_content_type, payload_digest, block_digest, payload_sha256,
    block_sha256, peer_ip, role, capture_id, concurrent_to, refers_to,
    revisit_profile, revisit_of, truncated, http_headers. --format takes the
    place of --json/--csv. cdxj: the sorted index pywb's indexer
    (cdxj-indexer --sort) writes for the same WARC files, of their response,
    revisit, resource and metadata records. A missing or truncated WARC file
    stops a cdxj export (exit 5); json and csv warn and go on.
    """
    from .errors import StoreError
    from .query import Query, cdxj_lines, cdxj_query, file_problems, require_url, rows, write_csv, write_json

    if nl and fmt != "json":
        raise InputError("--nl goes with --format json")
    query = Query(url=check_url(url) if url else None, since=parse_time(since) if since else None,
                  until=parse_time(until) if until else None, roles=roles, types=types)
    if fmt == "cdxj":
        cdxj_query(query)
    with reading(kwargs) as collection:
        if query.url is not None:
            require_url(collection, query.url)
        problems = file_problems(collection, query, cdxj=fmt == "cdxj")
        if problems and fmt == "cdxj":
            more = f" (and {len(problems) - 1} more files)" if len(problems) > 1 else ""
            raise StoreError(f"{problems[0]}{more}: the index would point at bytes that are not there "
                             "(restore the file from a copy)")
        for problem in problems:
            message(f"Warning: {problem}; its records are exported as catalogued")
        if fmt == "cdxj":
            count = 0
            for line in cdxj_lines(collection, query):
                sys.stdout.write(line)
                count += 1
        elif fmt == "csv":
            count = write_csv(rows(collection, query), sys.stdout)
        else:
            count = write_json(rows(collection, query), sys.stdout, lines=nl)
    message(f"Exported {count} records")


@cli.command(name="timemap")
@click.argument("url")
@click.option("--replay-base", "base", metavar="URL", default="http://localhost:8080/archive/", show_default=True,
              help="Where pywb (wayback) serves the collection; a memento is BASE + 14-digit "
                   "timestamp + / + URL.")
@collection_options
@output_options
def timemap_command(url: str, base: str, output: str, **kwargs: Any) -> None:
    """Print the Memento TimeMap (RFC 7089, application/link-format) of URL's captures.

    Example:

        archiver timemap https://example.blogspot.com/2015/05/post.html

    Lists the original URL, its TimeGate, the TimeMap itself (with from and
    until), then one memento per response or revisit record, oldest first,
    the first and last saying so. --json prints the same as an object;
    --csv and --nl one memento a row.
    """
    from .errors import StoreError
    from .query import Query, file_problems, replay_base, timemap

    target, base = check_url(url), replay_base(base)
    with reading(kwargs) as collection:
        found = timemap(collection.catalogue, url=target, base=base)
        problems = file_problems(collection, Query(url=target, types=CAPTURE_TYPES))
    if problems:
        raise StoreError(f"{problems[0]}: mementos of {target} are in it (restore the file from a copy)")
    rows = [memento.as_json() for memento in found.mementos]
    emit(output, document=found.as_json(), rows=rows, table=lambda: found.link_format().rstrip("\n"))


@cli.command(name="verify")
@click.argument("targets", nargs=-1, metavar="[URL | RECORD-ID | WARC]...")
@click.option("--processes", type=int, metavar="N",
              help="Processes checking WARC files side by side [0: one per file, at most one per core].")
@collection_options
@output_options
def verify_command(targets: tuple[str, ...], output: str, **kwargs: Any) -> None:
    """Check that the WARC files still hold, byte for byte, what the catalogue says.

    Example:

        archiver verify --home my-collection

    With no arguments, everything: each WARC file's size and sha256, every
    record's offset, length, header fields and block and payload digests,
    and that every record and WARC file under snapshots/ is catalogued.
    URLs or record ids narrow it to their records; WARC paths to those files
    (a copy elsewhere is checked against the catalogued file of its name).
    Lists each failure (missing, moved, left-open, file-changed, unknown-file,
    lost, not-found, tampered, unreadable, orphan, shifted, bad-revisit) and
    records the run as a fixity event. Records that are intact but no longer
    at their catalogued offsets (a record before them changed length) are one
    shifted failure, with their count. WARC files are checked side by side in
    --processes processes; the output is the same whatever their number.
    Exits 0 when everything checked is intact, 6 when anything is not.
    """
    from .query import EXIT_DAMAGED, parse_targets, run_fixity

    scope = parse_targets(targets)
    collection = open_collection(settings_from(kwargs), mode=Mode.APPEND)
    try:
        with progress_bar("Verifying") as progress:
            result = run_fixity(collection, scope=scope, command=command_line(), progress=progress)
    finally:
        collection.close()
    summary = result.as_json()
    emit(output, document=summary, rows=summary["failures"], table=lambda: render_table(
        ("REASON", "RECORD-ID", "URI", "FILE", "OFFSET", "DETAIL"),
        [(item["reason"], item["record_id"] or "-", item["target_uri"] or "-", item["file"],
          "-" if item["offset"] is None else item["offset"], item["detail"]) for item in summary["failures"]]
        ) if result.failures else "")
    if result.event_error:
        message(f"Warning: the fixity event could not be recorded: {result.event_error}")
    rate = human_size(int(result.bytes_read / max(result.seconds, 1e-6)))
    message(f"Verified {result.records_checked} records in {result.files_checked} files "
            f"({human_size(result.bytes_read)}, {rate}/s): "
            + (f"{len(result.failures)} failures" if result.failures else "intact")
            + (f"; fixity event {result.fixity_event_id}" if result.fixity_event_id is not None else ""))
    if result.failures:
        sys.exit(EXIT_DAMAGED)


@cli.group()
def db() -> None:
    """Create, upgrade or inspect the catalogue schema (done on first use anyway)."""


@db.command(name="upgrade")
@collection_options
def db_upgrade(**kwargs: Any) -> None:
    """Upgrade the catalogue to the newest schema revision.

    Example:

        archiver db upgrade --home my-collection
    """
    settings = settings_from(kwargs)
    settings.home.mkdir(parents=True, exist_ok=True)
    engine = cat.create_engine(settings.db_url)
    try:
        before = cat.current_revision(engine)
        cat.upgrade(engine)
        after = cat.current_revision(engine)
    finally:
        engine.dispose()
    message(f"Catalogue {settings.db_url}: {before or 'empty'} -> {after}")


@db.command(name="current")
@collection_options
def db_current(**kwargs: Any) -> None:
    """Print the catalogue's schema revision and the newest one known.

    Example:

        archiver db current --home my-collection
    """
    current = catalogue_revision(settings_from(kwargs))
    head = cat.HEAD_REVISION
    state = "up to date" if current == head else "upgraded by `archiver db upgrade` or a capture"
    click.echo(f"{current or 'empty'} (newest: {head}; {state})")


def main() -> None:
    for argument in sys.argv[1:]:  # bytes that are not UTF-8 arrive as lone surrogates (surrogateescape)
        if not argument.isascii() and not _is_utf8(argument):
            message(f"Error: the argument {ascii(argument)} is not UTF-8 text")
            sys.exit(InputError.exit_code)
    cli(prog_name="archiver")


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False
