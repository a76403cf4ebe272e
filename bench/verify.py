#!/usr/bin/env python3
"""Verify throughput: ``archiver verify`` beside ``warcio check`` and sha256 over the same WARC files, and its memory.

One run:

1. generates the synthetic Blogger-like site of bench/capture.py (``bench/sitegen.py``), serves it
   (nginx when installed, else a Python server: only the captures depend on it), and captures it
   twice with ``archiver capture`` (defaults): the first ``--small-posts`` posts into one home, all
   ``--posts`` posts into another;
2. times, interleaved, ``--repeat`` times each (median reported), on the large home:
   * the ceiling: sha256 over every WARC file of the home, read in 1 MiB blocks, in this process;
   * the yardstick: ``warcio check FILES`` (warcio's own CLI, from the same venv) as a subprocess:
     it walks every record and recomputes the digests the records declare, nothing more;
   * ``archiver verify --home H --json``, in one process (``--processes 1``) and with the default
     (one process per WARC file, at most one per core), as subprocesses: wall, CPU, peak RSS
     (of the largest of the process and its workers, measured from a small probe process: see
     ``PROBE``), and its result, which must be
     ``pass`` with every catalogued record checked;
3. runs ``archiver verify`` once on the small home: peak RSS at two collection sizes shows whether
   memory grows with the collection (it should not: verify streams).

Files are read from the page cache in every row (the captures just wrote them, and the ceiling
reads them first), so the comparison is CPU against CPU. Prints a Markdown table;
``--write-results`` replaces the "## Verify throughput" section of bench/RESULTS.md:

    .venv/bin/python bench/verify.py                 # 500 posts, about 12,000 URLs, 180 MB of WARC
    .venv/bin/python bench/verify.py --posts 100     # quicker
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from capture import (  # noqa: E402
    MB,
    clean_env,
    find_archiver,
    log,
    report_section,
    run_archiver,
    run_main,
    served_site,
    server_arguments,
    summarize,
    write_results,
)

SECTION = "## Verify throughput"
BLOCK = 1 << 20


@dataclasses.dataclass
class Timing:
    wall: float
    cpu: float
    peak_rss_mb: float = 0.0
    records: int = 0
    result: str = ""


def warc_files(home: Path) -> list[Path]:
    return sorted((home / "snapshots").glob("*.warc.gz"))


def sha256_ceiling(files: list[Path]) -> Timing:
    """sha256 of every file, 1 MiB reads, in this process."""
    wall, cpu = time.perf_counter(), time.process_time()
    for path in files:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            while block := fh.read(BLOCK):
                digest.update(block)
    return Timing(wall=time.perf_counter() - wall, cpu=time.process_time() - cpu)


# Measures a command from a small process of its own: a child's peak RSS counts from its parent's at
# the fork, so measured from this process (80 MB once the site is generated) every command would
# seem to need at least that much.
PROBE = """import resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.call(sys.argv[1:], stderr=subprocess.DEVNULL)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(time.perf_counter() - started, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, code, file=sys.stderr)
"""


def run_timed(command: list[str]) -> tuple[Timing, bytes, int]:
    """``command`` as a subprocess: wall, CPU and peak RSS (of the largest of it and its children),
    its stdout and exit code."""
    process = subprocess.run([sys.executable, "-c", PROBE, *command], capture_output=True, env=clean_env(),
                             check=True)
    wall, cpu, rss, code = process.stderr.split()
    return Timing(wall=float(wall), cpu=float(cpu), peak_rss_mb=int(rss) / 1024), process.stdout, int(code)


def run_verify(archiver: str, home: Path, *options: str) -> Timing:
    """``archiver verify --json`` on ``home``: wall, CPU and peak RSS, records checked, result."""
    timing, out, code = run_timed([archiver, "verify", "--home", str(home), "--json", *options])
    try:
        report = json.loads(out)
    except ValueError:
        report = {}
    result = report.get("result", f"no JSON (exit {code})")
    return dataclasses.replace(timing, records=report.get("records_checked", 0),
                               result=result if code in (0, 6) else f"exit {code}")


def run_warcio_check(warcio: str, files: list[Path]) -> Timing:
    """``warcio check FILES``: every record walked, its declared digests recomputed."""
    timing, out, code = run_timed([warcio, "check", *map(str, files)])
    return dataclasses.replace(timing, result="pass" if code == 0 and not out.strip() else f"exit {code}: {out[:80]!r}")


def find_warcio(archiver: str) -> str:
    """warcio's CLI beside archiver's (the same venv), else on PATH."""
    for candidate in (str(Path(archiver).parent / "warcio"), shutil.which("warcio")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise SystemExit("warcio not found beside archiver nor on PATH")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=500, help="posts in the site [500: about 12,000 URLs]")
    parser.add_argument("--small-posts", type=int, default=100, help="posts in the small collection [100]")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each row; the median is reported [3]")
    parser.add_argument("--archiver", help="archiver executable [.venv/bin/archiver, else on PATH]")
    server_arguments(parser)
    parser.add_argument("--write-results", action="store_true", help=f"replace '{SECTION}' in bench/RESULTS.md")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (site, homes) and print it")
    args = parser.parse_args(argv)
    args.skip_wget = True
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    archiver = find_archiver(args.archiver)
    with served_site(args) as (workdir, site, server):
        homes = {}
        capture_rss: dict[str, tuple[int, float]] = {}  # the captures' posts and peak RSS, by collection
        for label, posts in (("small", site.posts[:args.small_posts]), ("large", site.posts)):
            urls_file = workdir / f"{label}.txt"
            urls_file.write_text("\n".join(posts) + "\n")
            homes[label] = workdir / f"home-{label}"
            log(f"capturing {len(posts)} posts into {homes[label]}")
            first = run_archiver(f"capture {label}", archiver, [], site, urls_file, workdir, keep=True,
                                 home=homes[label])
            capture_rss[label] = (len(posts), first.peak_rss_mb or 0.0)
            if first.problems and label == "large":
                raise SystemExit("the capture is wrong, nothing to verify: " + "; ".join(first.problems))
        files = warc_files(homes["large"])
        size = sum(path.stat().st_size for path in files)
        warcio = find_warcio(archiver)
        runs: dict[str, list[Timing]] = {"ceiling": [], "warcio": [], "serial": [], "verify": []}
        for rep in range(args.repeat):
            runs["ceiling"].append(sha256_ceiling(files))
            runs["warcio"].append(run_warcio_check(warcio, files))
            runs["serial"].append(run_verify(archiver, homes["large"], "--processes", "1"))
            runs["verify"].append(run_verify(archiver, homes["large"]))
            log(f"run {rep + 1}/{args.repeat}: " + ", ".join(f"{name} {timings[-1].wall:.2f}s"
                                                           for name, timings in runs.items())
                + f" ({runs['verify'][-1].result}, {runs['verify'][-1].peak_rss_mb:.0f} MB peak)")
        small_files = warc_files(homes["small"])
        small_size = sum(path.stat().st_size for path in small_files)
        small = run_verify(archiver, homes["small"])
        median = {name: summarize(timings)[0] for name, timings in runs.items()}
        yardstick = median["warcio"].wall
        posts = f"{len(site.posts)} posts"

        def row(label: str, name: str, records: str, result: str) -> str:
            timing = median[name]
            return (f"| {label} | {posts} | {size / MB:.1f} | {timing.wall:.2f} ({len(runs[name])}) | {timing.cpu:.1f} "
                    f"| {size / MB / timing.wall:.0f} | {yardstick / timing.wall:.2f}x "
                    f"| {'-' if name == 'ceiling' else f'{timing.peak_rss_mb:.0f}'} "
                    f"| {records} | {result} |")

        rows = [
            "| run | collection | WARC MB | wall s (median of runs) | CPU s | MB/s | speed vs `warcio check` "
            "| peak RSS MB | records checked | result |",
            "|---|---|---|---|---|---|---|---|---|---|",
            row("ceiling: sha256 of the files, 1 MiB reads, in the bench process", "ceiling", "-", "-"),
            row("`warcio check FILES`", "warcio", "-", median["warcio"].result),
            row("`archiver verify --processes 1`", "serial", str(median["serial"].records), median["serial"].result),
            row("`archiver verify` (one process per file, at most one per core)", "verify",
                str(median["verify"].records), median["verify"].result),
            f"| `archiver verify` | {args.small_posts} posts | {small_size / MB:.1f} | {small.wall:.2f} (1) "
            f"| {small.cpu:.1f} | {small_size / MB / small.wall:.0f} | - | {small.peak_rss_mb:.0f} "
            f"| {small.records} | {small.result} |",
        ]
        verify = median["verify"]
        body = [
            "\n".join(rows),
            f"Aim (issue 15): `archiver verify` at least 1.5x faster than `warcio check` on the same files, "
            f"checking more; memory flat. This run: {yardstick / verify.wall:.2f}x (one process: "
            f"{yardstick / median['serial'].wall:.2f}x); peak RSS {small.peak_rss_mb:.0f} MB at "
            f"{small_size / MB:.0f} MB of WARC and {verify.peak_rss_mb:.0f} MB at {size / MB:.0f} MB.",
            "Memory of the captures that made the two collections (issue 15: reported, flat as the work grows): "
            + " and ".join(f"{rss:.0f} MB for {posts} posts" for posts, rss in capture_rss.values())
            + " (peak RSS of the largest of archiver's processes, `archiver capture --input FILE` with defaults).",
            "How to read it: `warcio check` walks every record and recomputes the block and payload digests "
            "the records declare. `archiver verify` does that too, and also hashes each WARC file whole "
            "(its catalogued size and sha256), takes the sha256 of every block and payload, and compares every "
            "record with its catalogue row (offset, length, header fields, digests, a revisit's original). "
            "Wall times include each command's Python start-up; CPU of verify includes its workers'. "
            "The ceiling hashes each file's compressed bytes once.",
        ]
        notes = [f"WARC files of the large collection: {len(files)}; of the small one: {len(small_files)}",
                 f"load average when the run ended: {os.getloadavg()[0]:.2f} (other work on the machine slows "
                 f"both rows alike)"]
        section = report_section(SECTION, __file__, argv, site, server, args.nginx_workers, None, body, notes)
        print(section)
        if args.write_results:
            write_results(section, SECTION)
        failed = any(run.result != "pass" for name in ("warcio", "serial", "verify") for run in runs[name]) \
            or small.result != "pass"
        return 1 if failed else 0


if __name__ == "__main__":
    run_main(main)
