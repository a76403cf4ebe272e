#!/usr/bin/env python3
"""Re-crawl: ``archiver recrawl`` of an unchanged collection against ``wget --warc-file`` re-fetching it.

One run:

1. generates the synthetic Blogger-like site of bench/capture.py (``bench/sitegen.py``) with
   enough posts for about ``--urls`` URLs (each post is 24 URLs: itself, 5 images, 3 cited
   pages with 5 images each; plus one stylesheet per host), and serves it with nginx on
   127.0.0.1-4 (nginx sends ETag and Last-Modified, so a conditional request gets a 304);
2. makes the first captures, each timed once, for scale:
   * ``archiver capture --input posts.txt`` (defaults) into a home H; its WARC bytes
     (H/snapshots/*.warc.gz) and catalogue size are what the re-crawl is compared with;
   * ``wget --warc-file --warc-cdx -p -H -e robots=off -i pages.txt`` given the posts and
     the cited pages (bench/capture.py's like-for-like wget), whose CDX the dedup row uses;
3. times, interleaved, ``--repeat`` times each (median reported), nothing on the site changed:
   * ``archiver recrawl --home COPY --allow-private URL...`` given the posts, each time on a
     fresh copy of H (a re-crawl follows each post's embeds and citations as capture does,
     so it requests every URL of the first capture): wall, URLs/s, WARC bytes of the files
     it added, catalogue growth;
   * the anchor: the same wget re-fetching the same URLs into a new WARC (wget sends no
     conditional requests and keeps nothing across runs), and the same with
     ``--warc-dedup=<the first wget run's CDX>`` (a payload listed there, same URL and
     digest, becomes a revisit record; the body is still downloaded);
4. checks each re-crawl: the WARC files it added are read with warcio, and every
   response-type record must be a ``revisit`` (no ``response``), the URLs requested must be
   exactly the first capture's (as many fetches), and every URL classified ``unchanged``;
5. optionally (``--profile``) profiles one re-crawl of the first ``--profile-posts`` posts
   (``--processes 1``, cProfile in every thread).

archiver is the working tree's (the editable install), or with ``--at REV`` the code as committed
at REV (exported with git archive and put first on PYTHONPATH), for a tree others are editing.
If archiver's code changes on disk during the run, the section says so.

Prints a Markdown table; ``--write-results`` replaces the "## Re-crawl" section of
bench/RESULTS.md. Run it with the project's virtualenv:

    .venv/bin/python bench/recrawl.py                  # about 10,000 URLs, 3 runs each
    .venv/bin/python bench/recrawl.py --quick          # about 1,000 URLs
    .venv/bin/python bench/recrawl.py --write-results --profile --at HEAD

Only the standard library, requests and warcio are used here.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import datetime as dt
import hashlib
import inspect
import io
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sitegen  # noqa: E402
from capture import (  # noqa: E402
    MB,
    REPO,
    Run,
    WarcCensus,
    check_cell,
    check_coverage,
    clean_env,
    find_archiver,
    find_wget,
    log,
    profile_cli,
    profile_section,
    report_section,
    robots_url,
    run_archiver,
    run_json,
    run_main,
    run_wget,
    served_site,
    server_arguments,
    summarize,
    wall_cell,
    warc_census,
    write_results,
)

SECTION = "## Re-crawl"
FIRST = "first capture: archiver capture, posts given (defaults)"
RECRAWL = "archiver recrawl, posts given (defaults)"
WGET_FIRST = "first capture: wget -p -H --warc-cdx, posts + cited pages given"
WGET_AGAIN = "anchor: wget -p -H, the same again"
WGET_DEDUP = "anchor: wget -p -H --warc-dedup=<first run's CDX>, the same again"
AIM_BYTES = 1_500  # issue 15: WARC plus catalogue growth per URL re-checked, at most
AIM_SPEED = 2.0  # ... and at least this many times wget's URLs/s


def source_digest(root: Path) -> str:
    """A digest of archiver's code and migrations under ``root`` as they are on disk (others may be editing them)."""
    digest = hashlib.sha256()
    for path in sorted(path for folder in ("archiver", "migrations") for path in (root / folder).rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def export_archiver(revision: str, target: Path) -> str:
    """Put archiver as committed at ``revision`` under ``target`` (its migrations installed as
    archiver.migrations, as pyproject.toml maps them) and first on this process's and its children's
    PYTHONPATH, ahead of the editable install's working tree; returns the commit's short hash."""
    commit = subprocess.run(["git", "rev-parse", "--short", f"{revision}^{{commit}}"], cwd=REPO, check=True,
                            capture_output=True, text=True).stdout.strip()
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", "--format=tar", commit, "archiver", "migrations"], cwd=REPO,
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    (target / "migrations").rename(target / "archiver" / "migrations")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(target), os.environ.get("PYTHONPATH")]))
    found = subprocess.run([sys.executable, "-c", "import archiver.migrations; print(archiver.migrations.__file__)"],
                           cwd=target.parent, capture_output=True, text=True).stdout.strip()
    if not found.startswith(str(target)):
        raise SystemExit(f"--at {revision}: archiver still imports from {found or '?'}, not {target}")
    return commit


def site_urls(posts: int) -> int:
    """URLs of a site of ``posts`` posts with sitegen's defaults: each post, its images, its cited
    pages and theirs, and one stylesheet per host."""
    defaults = inspect.signature(sitegen.generate).parameters
    images, cited = defaults["images_per_page"].default, defaults["cited_per_post"].default
    return posts * (1 + images + cited * (1 + images)) + len(sitegen.HOSTS)


def site_posts(urls: int) -> int:
    """Posts for about ``urls`` URLs in all (at least one post)."""
    per_post = site_urls(1) - site_urls(0)
    return max(1, math.ceil((urls - site_urls(0)) / per_post))


# --- measurements --------------------------------------------------------------------------


@dataclasses.dataclass
class Recrawl(Run):
    catalogue_growth: int = 0
    census: WarcCensus | None = None
    changes: dict[str, int] = dataclasses.field(default_factory=dict)  # URLs by change class
    tables: dict[str, tuple[int, int, int]] = dataclasses.field(default_factory=dict)  # (bytes, index bytes, rows)
    phases: dict[str, float] = dataclasses.field(default_factory=dict)  # seconds


def snapshots(home: Path) -> list[Path]:
    return sorted((home / "snapshots").glob("*.warc.gz*"))


def catalogue_size(home: Path) -> int:
    """Bytes of the catalogue on disk, its WAL checkpointed into archiver.db first (a WAL is as large as
    the writes since the last checkpoint, not what the catalogue holds)."""
    with contextlib.closing(sqlite3.connect(home / "archiver.db")) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(path.stat().st_size for path in home.glob("archiver.db*"))


def catalogue_tables(home: Path) -> dict[str, tuple[int, int, int]]:
    """Table -> (bytes of its pages and its indexes' pages, of which indexes, rows), read through SQLite's dbstat."""
    with contextlib.closing(sqlite3.connect(home / "archiver.db")) as connection:
        owner = dict(connection.execute("SELECT name, tbl_name FROM sqlite_master"))
        sizes: collections.Counter[str] = collections.Counter()
        indexes: collections.Counter[str] = collections.Counter()
        with contextlib.suppress(sqlite3.OperationalError):  # SQLite built without dbstat
            for name, size in connection.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
                table = owner.get(name, name)
                sizes[table] += size
                indexes[table] += size if table != name else 0
        tables = [name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {table: (sizes[table], indexes[table],
                        connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]) for table in tables}


def event_phases(home: Path, launched: dt.datetime, wall: float) -> dict[str, float]:
    """Seconds of the re-crawl's phases, from its capture event and fetch timestamps in the catalogue."""
    with contextlib.closing(sqlite3.connect(home / "archiver.db")) as connection:
        event, started, ended = connection.execute(
            "SELECT id, started_at, ended_at FROM capture_events ORDER BY id DESC LIMIT 1").fetchone()
        first, last = connection.execute(
            "SELECT min(started_at), max(ended_at) FROM fetches WHERE capture_event_id = ? AND outcome = 'captured'",
            (event,)).fetchone()
    if not (started and ended and first and last):
        return {}
    moments = [launched] + [dt.datetime.fromisoformat(value).replace(tzinfo=dt.timezone.utc)
                            for value in (started, first, last, ended)]
    spans = [(later - earlier).total_seconds() for earlier, later in zip(moments, moments[1:], strict=False)]
    names = ["start-up (interpreter, imports, catalogue)", "to the first fetch", "fetching (first to last fetch)",
             "classification and close (last fetch to end of event)"]
    return dict(zip(names, spans, strict=True)) | {"exit": wall - sum(spans)}


def run_recrawl(archiver: str, site: sitegen.Site, seed: Path, workdir: Path, first: Run, keep: bool,
                ) -> Recrawl:
    """``archiver recrawl`` of the posts on a fresh copy of the first capture's home, checked."""
    home = Path(tempfile.mkdtemp(prefix="recrawl-home-", dir=workdir))
    shutil.copytree(seed, home, dirs_exist_ok=True)
    old = set(snapshots(home))
    size_before, tables_before = catalogue_size(home), catalogue_tables(home)
    command = [archiver, "recrawl", "--home", str(home), "--allow-private", "--json", *site.posts]
    launched = dt.datetime.now(dt.timezone.utc)
    document, wall, cpu, problems = run_json(command, home, workdir, clean_env(), keep=keep)
    new = [path for path in snapshots(home) if path not in old]
    growth = catalogue_size(home) - size_before
    tables_after = catalogue_tables(home)
    census = warc_census(new)
    stored = sum(count for url, count in census.stored.items() if not robots_url(url))
    if stored:
        problems.append(f"{stored} response records: payloads stored again")
    # as many fetches as the first capture, of exactly the site's URLs (each process fetches shared
    # stylesheets); the robots.txt asked once per host and process is politeness, not the site
    targets = [url for url in census.targets if not robots_url(url)]
    problems += check_coverage(site, targets, "re-crawl WARC", max_copies=max(1, len(new)))
    if len(targets) != first.resources:
        problems.append(f"{len(targets)} URLs requested, the first capture requested {first.resources}")
    changes = collections.Counter(change["change"] for change in document.get("changes", []))
    if set(changes) - {"unchanged"}:
        problems.append(f"changes {dict(changes)}: an unchanged site must be 'unchanged' throughout")
    tables = {name: tuple(after - before for after, before in zip(values, tables_before.get(name, (0, 0, 0)),
                                                                  strict=True))
              for name, values in tables_after.items()}
    fetched = set(targets) & set(site.urls)
    run = Recrawl(label=RECRAWL, wall=wall, pages=len(fetched & set(site.pages)), resources=len(targets),
                  payload_bytes=sum(site.sizes[url] for url in fetched),
                  warc_bytes=sum(path.stat().st_size for path in new), cpu=cpu, problems=problems,
                  record_types=dict(sorted(census.types.items())), site_urls=len(fetched),
                  catalogue_growth=growth, census=census, changes=dict(changes), tables=tables,
                  phases=event_phases(home, launched, wall))
    if not keep:
        shutil.rmtree(home, ignore_errors=True)
    return run


# --- report -------------------------------------------------------------------------------------


def table(groups: dict[str, list[Run]], first_catalogue: int) -> str:
    base = {label: summarize(groups[label])[0] for label in (FIRST, WGET_FIRST) if groups.get(label)}
    anchor = summarize(groups[WGET_AGAIN])[0] if groups.get(WGET_AGAIN) else None
    head = ["run", "wall s (median; runs: min-max)", "CPU s", "URLs/s", "requests", "records: response / revisit",
            "WARC MB written", "share of the first capture's WARC bytes", "catalogue MB", "vs wget re-fetch URLs/s",
            "check"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, runs in groups.items():
        if not runs:
            continue
        chosen = summarize(runs)[0]
        rate = (chosen.site_urls or 0) / chosen.wall
        first = base.get(FIRST if label in (FIRST, RECRAWL) else WGET_FIRST)
        share = (f"{100 * chosen.warc_bytes / first.warc_bytes:.2f} %"
                 if first is not None and label not in (FIRST, WGET_FIRST) else "-")
        catalogue = (f"{first_catalogue / MB:.1f}" if label == FIRST else
                     f"+{chosen.catalogue_growth / MB:.2f}" if isinstance(chosen, Recrawl) else "-")
        ratio = (f"{rate / ((anchor.site_urls or 0) / anchor.wall):.2f}x"
                 if anchor is not None and label not in (FIRST, WGET_FIRST) else "-")
        types = chosen.record_types
        rows.append(f"| {label} | {wall_cell(runs)} | {chosen.cpu:.1f} | {rate:.0f} | {chosen.resources} "
                    f"| {types.get('response', 0)} / {types.get('revisit', 0)} | {chosen.warc_bytes / MB:.2f} "
                    f"| {share} | {catalogue} | {ratio} | {check_cell(runs)} |")
    return "\n".join(rows)


def recrawl_notes(run: Recrawl, first: Run, first_catalogue: int) -> list[str]:
    """Where the re-crawl's bytes went: WARC records by type, catalogue tables."""
    census = run.census
    urls = max(1, run.resources)
    by_type = ", ".join(f"{kind} {size / MB:.2f} MB ({census.types[kind]} records, {size / census.types[kind]:.0f} "
                        f"B each)" for kind, size in census.type_bytes.most_common())
    requests = census.type_bytes["request"]
    tables = sorted(((size, index, rows, name) for name, (size, index, rows) in run.tables.items() if size or rows),
                    reverse=True)
    first_all = first.warc_bytes + first_catalogue
    return [
        f"{RECRAWL}: requests by HTTP status {dict(sorted(census.statuses.items()))}; revisit records by profile "
        f"{dict(census.profiles)}; URLs classified {run.changes}",
        f"{RECRAWL}: WARC bytes by record type (gzipped): {by_type}; {run.warc_bytes / urls:.0f} B per URL "
        f"requested; without the request records the re-crawl would write "
        f"{100 * (run.warc_bytes - requests) / first.warc_bytes:.2f} % of the first capture's WARC bytes",
        f"{RECRAWL}: the first capture stored {first.warc_bytes / max(1, first.resources):.0f} B of WARC per URL on "
        f"average, so 1 % of it is {first.warc_bytes / max(1, first.resources) / 100:.0f} B per URL, less than a "
        f"revisit record alone ({census.type_bytes['revisit'] / max(1, census.types['revisit']):.0f} B gzipped: "
        f"each record is its own gzip member, and its record ids and digests do not compress)",
        f"{RECRAWL}: catalogue growth {run.catalogue_growth / MB:.2f} MB ({run.catalogue_growth / urls:.0f} B per URL "
        f"requested), by table with its indexes: "
        + ", ".join(f"{name} +{size / MB:.2f} MB (+{rows} rows; indexes {index / MB:.2f} MB)"
                    for size, index, rows, name in tables[:5])
        + f"; WARC and catalogue together: {(run.warc_bytes + run.catalogue_growth) / MB:.2f} MB, "
          f"{100 * (run.warc_bytes + run.catalogue_growth) / first_all:.2f} % of the first capture's "
          f"{first_all / MB:.1f} MB",
        f"{RECRAWL}: where the wall time went (from the event's and fetches' timestamps in the catalogue): "
        + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in run.phases.items()),
    ]


def dedup_misses(census: WarcCensus) -> str:
    """What wget --warc-dedup stored again (response records), in its first run."""
    if not census.stored:
        return "every payload became a revisit record"
    top = census.stored.most_common(3)
    return (f"{sum(census.stored.values())} payloads stored again as response records, {len(census.stored)} URLs, "
            f"most often {', '.join(f'{url} x{n}' for url, n in top)}: wget's dedup table holds one CDX entry per "
            f"payload digest and requires the URL to match it, and the 4 hosts serve byte-identical stylesheets, "
            f"so only one host's stylesheet finds its entry")


def how_to_read(site: sitegen.Site) -> str:
    return (
        "Each re-crawl run starts from a copy of the collection the first capture made; nothing on the site "
        "changed in between, so nginx answers each of archiver's conditional requests (If-None-Match, "
        "If-Modified-Since) with a 304 and archiver writes a revisit record (server-not-modified profile) and "
        f"no payload. URLs/s = the site's {len(site.urls)} distinct URLs fetched / wall (the same numerator for "
        "every row that fetched everything); requests = response + revisit records, repeats included (wget -p "
        "fetches a host's stylesheet again for every page; archiver's processes each fetch the stylesheets their "
        "posts share). WARC MB = gzipped bytes of the WARC files the run created; the share compares them with "
        "the same tool's first capture (archiver rows with archiver's, wget rows with wget's). Catalogue MB = "
        "archiver.db after the first capture, and what a re-crawl added to it (the write-ahead log checkpointed "
        "into the file before each measure). wget sends no conditional "
        "requests: it downloads every body again, and stores it again unless given `--warc-dedup`, with which a "
        "payload listed in the first run's CDX (same URL and digest) becomes a revisit record. Wall times "
        "include process start-up; the first captures ran once each, before the interleaved re-crawls.")


# --- main -----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--urls", type=int, default=None,
                        help="about this many URLs in the site [10000; 1000 with --quick]")
    parser.add_argument("--quick", action="store_true", help="about 1,000 URLs")
    parser.add_argument("--repeat", type=int, default=3,
                        help="timed re-crawls of each tool; the median is reported [3]")
    parser.add_argument("--archiver", help="archiver executable [.venv/bin/archiver, else on PATH]")
    parser.add_argument("--at", metavar="REV",
                        help="measure archiver as committed at REV (git archive, put first on PYTHONPATH), not the "
                             "working tree: for a tree others are editing [the working tree]")
    server_arguments(parser)
    parser.add_argument("--profile", action="store_true", help="also profile one re-crawl (all threads)")
    parser.add_argument("--profile-posts", type=int, default=100)
    parser.add_argument("--profile-top", type=int, default=15)
    parser.add_argument("--write-results", action="store_true", help="replace '## Re-crawl' in bench/RESULTS.md")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (site, homes, WARCs) and print it")
    args = parser.parse_args(argv)
    if args.urls is None:
        args.urls = 1000 if args.quick else 10_000
    args.posts = site_posts(args.urls)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    archiver = find_archiver(args.archiver)
    wget = find_wget(args.skip_wget)

    with served_site(args) as (workdir, site, server):
        archiver_at = None
        if args.at:
            archiver_at = export_archiver(args.at, workdir / "archiver-src")
            log(f"measuring archiver as committed at {archiver_at} (exported to {workdir / 'archiver-src'})")
            archiver_at += f" (`--at {args.at}`: exported with git archive, the working tree's edits left out)"
        source_root = workdir / "archiver-src" if args.at else REPO
        source = source_digest(source_root)
        posts_file, pages_file = workdir / "posts.txt", workdir / "pages.txt"
        posts_file.write_text("\n".join(site.posts) + "\n")
        pages_file.write_text("\n".join(site.pages) + "\n")
        groups: dict[str, list[Run]] = {FIRST: [], RECRAWL: [], WGET_FIRST: [], WGET_AGAIN: [], WGET_DEDUP: []}

        seed = workdir / "first-home"
        log(f"first capture: archiver capture of {len(site.posts)} posts into {seed}")
        first = run_archiver(FIRST, archiver, [], site, posts_file, workdir, keep=True, home=seed)
        groups[FIRST].append(first)
        first_catalogue = catalogue_size(seed)
        log(f"  {first.wall:.2f}s, {first.resources} responses, WARC {first.warc_bytes / MB:.1f} MB, "
            f"catalogue {first_catalogue / MB:.1f} MB" + "".join(f"; *** {p}" for p in first.problems))
        if first.problems:
            raise SystemExit("the first capture is wrong, nothing to re-crawl: " + "; ".join(first.problems))
        cdx = workdir / "wget-first" / "capture.cdx"
        if wget:
            log(WGET_FIRST)
            run = run_wget(WGET_FIRST, wget, site, pages_file, workdir, extra=("--warc-cdx",), keep=cdx.parent)
            groups[WGET_FIRST].append(run)
            log(f"  {run.wall:.2f}s, WARC {run.warc_bytes / MB:.1f} MB; " + "; ".join(run.notes + run.problems))

        for rep in range(args.repeat):
            log(f"run {rep + 1}/{args.repeat}: {RECRAWL}")
            run = run_recrawl(archiver, site, seed, workdir, first, keep=args.keep)
            groups[RECRAWL].append(run)
            log(f"  {run.wall:.2f}s, {run.resources} requests, records {run.record_types}, WARC "
                f"{run.warc_bytes / MB:.2f} MB, catalogue +{run.catalogue_growth / MB:.2f} MB"
                + ("" if not run.problems else "\n  *** WRONG: " + "\n  *** ".join(run.problems)))
            if wget:
                for label, extra in ((WGET_AGAIN, ()), (WGET_DEDUP, (f"--warc-dedup={cdx}",))):
                    log(f"run {rep + 1}/{args.repeat}: {label}")
                    kept = workdir / "wget-dedup" if label == WGET_DEDUP and rep == 0 else None
                    run = run_wget(label, wget, site, pages_file, workdir, extra=extra, keep=kept)
                    groups[label].append(run)
                    log(f"  {run.wall:.2f}s, WARC {run.warc_bytes / MB:.2f} MB, records {run.record_types}; "
                        + "; ".join(run.notes + run.problems))

        recrawl = summarize(groups[RECRAWL])[0]
        notes = [f"{FIRST}: {note}" for note in first.notes]
        notes += recrawl_notes(recrawl, first, first_catalogue)
        for label in (WGET_FIRST, WGET_AGAIN, WGET_DEDUP):
            if groups[label]:
                chosen = summarize(groups[label])[0]
                notes += [f"{label}: {note}" for note in chosen.notes]
                notes.append(f"{label}: records by type {chosen.record_types}")
        if groups[WGET_DEDUP]:
            notes.append(f"{WGET_DEDUP}: " + dedup_misses(warc_census(sorted((workdir / "wget-dedup")
                                                                              .glob("capture*.warc.gz")))))
        per_url = (recrawl.warc_bytes + recrawl.catalogue_growth) / max(1, recrawl.resources)
        aim = (f"Aim (issue 15): WARC plus catalogue growth at most {AIM_BYTES:,} B per URL re-checked, every "
               f"provenance field kept, at least {AIM_SPEED:g}x wget's URLs/s. This run: archiver's re-crawl wrote "
               f"{recrawl.warc_bytes / max(1, recrawl.resources):,.0f} B of WARC and "
               f"{recrawl.catalogue_growth / max(1, recrawl.resources):,.0f} B of catalogue per URL, {per_url:,.0f} B "
               f"({'met' if per_url <= AIM_BYTES else 'not met'})")
        if groups[WGET_AGAIN]:
            anchor = summarize(groups[WGET_AGAIN])[0]
            dedup = summarize(groups[WGET_DEDUP])[0]
            speed = (recrawl.site_urls / recrawl.wall) / (anchor.site_urls / anchor.wall)
            aim += (f" and fetched {speed:.2f}x wget's URLs/s ({'met' if speed >= AIM_SPEED else 'not met'}; "
                    f"{(recrawl.site_urls / recrawl.wall) / (dedup.site_urls / dedup.wall):.2f}x wget "
                    f"--warc-dedup's).")
        else:
            aim += "; wget was not run (--skip-wget)."
        body = [table(groups, first_catalogue), aim, "How to read it: " + how_to_read(site)]
        if source_digest(source_root) != source:
            log("*** archiver's code or migrations changed on disk during the run: the rows may mix versions")
            body.insert(0, "**archiver's code or migrations changed on disk during this run: the rows may mix "
                           "versions; run it again.**")
        section = report_section(SECTION, __file__, argv, site, server, args.nginx_workers, wget, body, notes,
                                 archiver_at)
        if args.profile:
            posts = site.posts[:args.profile_posts]
            log(f"profiling archiver recrawl of {len(posts)} posts (--processes 1, cProfile in every thread)")
            home = Path(tempfile.mkdtemp(prefix="profile-home-", dir=workdir))
            shutil.copytree(seed, home, dirs_exist_ok=True)
            report = profile_cli(archiver, ["recrawl", "--home", str(home), "--allow-private", "--json",
                                            "--processes", "1", *posts], workdir, args.profile_top,
                                 f"recrawl of {len(posts)} posts ({site_urls(len(posts))} URLs), --processes 1")
            report = report.replace(f"{source_root}/", "")  # the exported code's paths, as in the tree
            section += profile_section(SECTION, f"`archiver recrawl --processes 1` of the first {len(posts)} posts "
                                                "on a copy of the first capture's collection", report)
        print(section)
        if args.write_results:
            write_results(section, SECTION)
        return 1 if any(run.problems for run in groups[RECRAWL]) else 0


if __name__ == "__main__":
    run_main(main)
