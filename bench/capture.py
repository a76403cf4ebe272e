#!/usr/bin/env python3
"""Capture throughput: ``archiver capture`` against a plain fetch and against wget, on one site.

One run:

1. generates a synthetic Blogger-like site (``bench/sitegen.py``): N posts on 127.0.0.1,
   each citing 3 pages spread over 127.0.0.2-4, every page embedding 5 images, one
   stylesheet per host;
2. serves it on 127.0.0.1-4 with nginx (a plain process, generated config, access log
   off); without nginx it says how to install it and falls back to a threaded stdlib
   server in a separate process;
3. times, on the same URL set, interleaved, ``--repeat`` times each (median reported):
   * ``archiver capture`` with default settings and with each ``--archiver-config``;
   * the ceiling: ``requests`` with 8 threads over exactly the URLs a correct capture
     fetches, bodies read and dropped (no WARC, no parsing, no link discovery), and the
     same with the bare stdlib ``http.client`` (what Python costs without requests);
   * the peer: ``wget --warc-file -r -l1 -H -p -e robots=off -i posts.txt`` (as a user
     would run it: it also follows nav links and refetches across input URLs), and
     ``wget --warc-file -p -H -i pages.txt`` given the posts and cited pages (about the
     same fetches as archiver);
   * the peer pipeline, what a user scripts instead of archiver (issue 15's aim: archiver's default
     capture at least 1.5x faster): that same ``wget -p -H --warc-file`` keeping the files it saves
     (no ``--delete-after``), then ``trafilatura --parallel N`` (N = the machine's cores) over a
     folder of hard links to every HTML file wget saved, HTML told by a sniff of the first 1 KB
     (``<!doctype html`` or ``<html``), not by the name; wall and CPU are wget's plus trafilatura's
     (each part in a note; linking the files is not counted), and trafilatura must write one output
     per HTML page (see :func:`run_pipeline`);
   and checks each: archiver's response records (JSON and catalogue) must be exactly the
   site's URLs; wget's WARC is read with warcio and its coverage reported;
4. optionally (``--profile``) profiles one archiver run on the first ``--profile-posts``
   posts with cProfile enabled in every thread, and prints the top functions.

Prints a Markdown table; ``--write-results`` replaces the "## Capture throughput" section
of bench/RESULTS.md. Run it with the project's virtualenv:

    .venv/bin/python bench/capture.py                 # 500 posts, 3 runs each
    .venv/bin/python bench/capture.py --quick         # 100 posts
    .venv/bin/python bench/capture.py --write-results --profile

Only the standard library, requests and warcio are used here (trafilatura runs as its command).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import datetime as dt
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterator, Sequence

import requests
from warcio.archiveiterator import ArchiveIterator

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sitegen  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS = BENCH_DIR / "RESULTS.md"
SECTION = "## Capture throughput"
DEFAULT_CONFIGS = ["--parse later"]  # issue 15: at least PARSE_LATER_AIM x wget -p -H alone
MB = 1e6


def log(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# --- servers -------------------------------------------------------------------------------


def port_is_free(port: int, hosts: Sequence[str] = sitegen.HOSTS) -> bool:
    for host in hosts:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                return False
    return True


def free_port(hosts: Sequence[str] = sitegen.HOSTS) -> int:
    for _ in range(100):
        with socket.socket() as sock:
            sock.bind((hosts[0], 0))
            port = sock.getsockname()[1]
        if port_is_free(port, hosts):
            return port
    raise RuntimeError(f"no port free on all of {', '.join(hosts)}")


def wait_ready(probes: Sequence[str], process: subprocess.Popen, describe) -> None:
    """Poll each of ``probes`` (URLs) until it answers 200, within 15 s; the server must not exit meanwhile."""
    deadline = time.monotonic() + 15
    pending = list(probes)
    while pending:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}: {describe()}")
        try:
            if requests.get(pending[0], timeout=1).status_code == 200:
                pending.pop(0)
                continue
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not answer {pending[0]} within 15 s: {describe()}")
        time.sleep(0.05)


def _die_with_parent() -> None:
    """preexec_fn: the server gets SIGTERM if this benchmark dies, even by SIGKILL (Linux)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Server:
    """A static server for the site, as a child process; ``stop()`` is idempotent."""

    kind = "?"
    version = ""
    process: subprocess.Popen | None = None

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM if self.kind != "nginx" else signal.SIGQUIT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx")
                                          if os.access(p, os.X_OK)), None)


@dataclasses.dataclass(frozen=True)
class Static:
    """What a static server serves: ``root/<host>/`` on ``<host>:port`` for each of ``hosts``; it is
    ready once every URL of ``probes`` answers 200. With ``access_log`` each request is a line
    ``<host> <status> <path and query>`` in that file (written as it is answered)."""

    root: Path
    hosts: Sequence[str]
    port: int
    probes: Sequence[str]
    access_log: Path | None = None


def site_static(site: sitegen.Site) -> Static:
    """The synthetic site as its server sees it."""
    return Static(site.root, sitegen.HOSTS, site.port, site.css)


class Nginx(Server):
    kind = "nginx"

    def __init__(self, binary: str, static: Static, workdir: Path, workers: int) -> None:
        self.binary = binary
        self.version = subprocess.run([binary, "-v"], capture_output=True, text=True).stderr.strip()
        prefix = workdir / "nginx"
        for sub in ("logs", "tmp"):
            (prefix / sub).mkdir(parents=True, exist_ok=True)
        servers = "\n".join(
            f"    server {{ listen {host}:{static.port}; server_name _; root {static.root / host}; "
            f"index index.html; }}" for host in static.hosts)
        temp_paths = "\n".join(f"    {name}_temp_path {prefix / 'tmp' / name};"
                               for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
                               if self._has_module(name))
        access_log = (f"log_format bench '$server_addr $status $request_uri';\n"
                      f"    access_log {static.access_log} bench;" if static.access_log else "access_log off;")
        user = "user root;" if os.geteuid() == 0 else ""  # the site lives in a 0700 temp dir
        self.conf = prefix / "nginx.conf"
        self.conf.write_text(f"""# generated by bench/capture.py
daemon off;
master_process on;
worker_processes {workers};
{user}
pid {prefix / 'nginx.pid'};
error_log {prefix / 'logs' / 'error.log'} warn;
events {{ worker_connections 4096; }}
http {{
    types {{ text/html html; text/css css; image/jpeg jpg; image/png png; image/gif gif; image/svg+xml svg;
            text/javascript js; font/woff2 woff2; video/mp4 mp4; text/vtt vtt;
            application/manifest+json webmanifest; }}
    default_type application/octet-stream;
    {access_log}
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 75s;
    keepalive_requests 100000;
    gzip off;
{temp_paths}
{servers}
}}
""")
        self.prefix = prefix
        self.process = subprocess.Popen(
            [binary, "-p", str(prefix), "-e", str(prefix / "logs" / "error.log"), "-c", str(self.conf)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
            preexec_fn=_die_with_parent)
        wait_ready(static.probes, self.process, self._errors)

    def _has_module(self, name: str) -> bool:
        """Is the module owning ``NAME_temp_path`` built in (an unknown directive stops nginx)?"""
        if name == "client_body":
            return True
        configure = subprocess.run([self.binary, "-V"], capture_output=True, text=True).stderr
        return f"--without-http_{name}_module" not in configure

    def _errors(self) -> str:
        text = ""
        with contextlib.suppress(OSError):
            text = (self.prefix / "logs" / "error.log").read_text()[-2000:]
        if self.process is not None and self.process.poll() is not None and self.process.stderr:
            text += self.process.stderr.read().decode(errors="replace")[-2000:]
        return text.strip() or "(no error log)"


class PythonServer(Server):
    kind = "python"

    def __init__(self, static: Static) -> None:
        self.version = f"stdlib ThreadingHTTPServer, HTTP/1.1, Python {platform.python_version()}"
        log_option = ["--access-log", str(static.access_log)] if static.access_log else []
        self.process = subprocess.Popen(
            [sys.executable, str(BENCH_DIR / "sitegen.py"), "serve", str(static.root), str(static.port),
             "--hosts", ",".join(static.hosts), *log_option],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
            preexec_fn=_die_with_parent)
        wait_ready(static.probes, self.process, lambda: (self.process.stderr.read().decode(errors="replace")
                                                         if self.process.poll() is not None else ""))


def start_server(choice: str, static: Static, workdir: Path, nginx_workers: int) -> Server:
    """nginx (``choice`` "nginx", or "auto" when it is installed), else the Python fallback server."""
    binary = nginx_binary() if choice in ("auto", "nginx") else None
    if binary:
        return Nginx(binary, static, workdir, nginx_workers)
    if choice == "nginx":
        raise SystemExit("nginx is not installed: apt-get install -y nginx (or nginx-light)")
    if choice == "auto":
        log("*** nginx not found: falling back to a threaded Python server, which is much slower and "
            "competes for the same 2 cores. Install nginx for comparable numbers: apt-get install -y nginx")
    return PythonServer(static)


# --- measurements --------------------------------------------------------------------------


@dataclasses.dataclass
class Run:
    label: str
    wall: float
    pages: int          # HTML pages of the site fetched (posts + cited)
    resources: int      # response records / responses received (all URLs fetched, repeats included)
    payload_bytes: int  # body bytes of the site's URLs fetched (each URL once)
    warc_bytes: int | None
    cpu: float | None = None  # user + system CPU seconds of the tool's process(es)
    problems: list[str] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    record_types: dict[str, int] = dataclasses.field(default_factory=dict)  # WARC records written, by type
    site_urls: int | None = None  # distinct URLs of the site fetched
    peak_rss_mb: float | None = None  # of the largest of the tool's processes


def clean_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ARCHIVER_")}
    env.setdefault("LC_ALL", "C.UTF-8")
    return env


def find_archiver(given: str | None) -> str:
    for candidate in (given, str(REPO / ".venv" / "bin" / "archiver"), shutil.which("archiver")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise SystemExit("archiver not found: install the project (pip install -e .) or pass --archiver PATH")


def find_wget(skip: bool) -> str | None:
    """wget's path; None when ``skip``."""
    wget = None if skip else shutil.which("wget")
    if not skip and wget is None:
        raise SystemExit("wget is not installed: apt-get install -y wget (or pass --skip-wget)")
    return wget


def archiver_python(archiver: str) -> str:
    """The interpreter the archiver script runs under (its shebang)."""
    with open(archiver, "rb") as fh:
        first = fh.readline().decode(errors="replace").strip()
    if first.startswith("#!") and "python" in first:
        return first[2:].split()[0]
    return sys.executable


def run_archiver(label: str, archiver: str, extra: list[str], site: sitegen.Site, urls_file: Path,
                 workdir: Path, env_extra: dict[str, str] | None = None, keep: bool = False,
                 home: Path | None = None) -> Run:
    """``archiver capture`` of the posts into ``home`` (a fresh temp dir by default, removed unless ``keep``)."""
    home = home or Path(tempfile.mkdtemp(prefix="archiver-home-", dir=workdir))
    command = [archiver, "capture", "--input", str(urls_file), "--home", str(home), "--allow-private",
               "--json", *extra]
    rss: list[float] = []
    document, wall, cpu, problems = run_json(command, home, workdir, clean_env() | (env_extra or {}), keep=keep,
                                             rss=rss)
    # robots.txt, asked once per host and process, is politeness, not the site: counted in a note
    robots = [record for record in document.get("records", []) if record.get("role") == "robots"]
    records = [record for record in document.get("records", []) if record.get("role") != "robots"]
    responses = [record for record in records if record.get("record_type") == "response"]
    # with --processes, each process fetches a requisite its posts share once (its WARCs stand alone)
    copies = max(1, len(document.get("warc_files", [])))
    problems += check_coverage(site, [record["url"] for record in responses], "archiver JSON", max_copies=copies)
    bad_status = [record["url"] for record in responses if record.get("http_status") != 200]
    if bad_status:
        problems.append(f"{len(bad_status)} responses not HTTP 200, e.g. {bad_status[0]}")
    # the catalogue must agree with the JSON
    database = home / "archiver.db"
    if database.exists():
        with contextlib.closing(sqlite3.connect(database)) as connection:
            rows = connection.execute(
                "SELECT record_type, count(*) FROM records WHERE role IS NOT 'robots' GROUP BY record_type").fetchall()
            by_type = dict(rows)
            catalogue_urls = [url for (url,) in connection.execute(
                "SELECT target_uri FROM records WHERE record_type = 'response' AND role IS NOT 'robots'")]
        json_types = collections.Counter(record.get("record_type") for record in records)
        if by_type.get("response", 0) != json_types.get("response", 0):
            problems.append(f"catalogue has {by_type.get('response', 0)} response rows, JSON "
                            f"{json_types.get('response', 0)}")
        problems += check_coverage(site, catalogue_urls, "catalogue", max_copies=copies)
        notes = [f"records by type: {dict(sorted(by_type.items()))}, WARC files: {copies}; besides them "
                 f"{len(robots)} robots.txt records (role robots; nginx answers 404: everything allowed)"]
        repeats = len(catalogue_urls) - len(set(catalogue_urls))
        if repeats:
            notes.append(f"{repeats} fetches of requisites shared by posts that different processes handled")
    else:
        problems.append("no catalogue written")
        notes, by_type = [], {}
    warc_bytes = sum(path.stat().st_size for path in (home / "snapshots").glob("*.warc.gz*"))
    fetched = {record["url"] for record in responses} & set(site.urls)
    run = Run(label=label, wall=wall, pages=len(fetched & set(site.pages)), resources=len(responses),
              payload_bytes=sum(site.sizes[url] for url in fetched), warc_bytes=warc_bytes, cpu=cpu,
              problems=problems, notes=notes + [f"peak RSS {rss[0]:.0f} MB (the largest of its processes)"],
              record_types=dict(sorted(by_type.items())), site_urls=len(fetched), peak_rss_mb=rss[0])
    if not keep:
        shutil.rmtree(home, ignore_errors=True)
    return run


def run_json(command: list[str], home: Path, workdir: Path, env: dict[str, str], keep: bool = False,
             rss: list[float] | None = None) -> tuple[dict, float, float, list[str]]:
    """Run an archiver ``--json`` command on ``home``, stdout and stderr kept beside it (removed unless ``keep``).

    Returns the JSON document, wall and CPU seconds, and the problems: exit code, no JSON,
    failures, an outcome other than complete."""
    out, err = home.parent / f"{home.name}.json", home.parent / f"{home.name}.err"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        code, wall, cpu = timed(command, rss, stdout=stdout, stderr=stderr, env=env, cwd=workdir)
    problems: list[str] = []
    if code != 0:
        problems.append(f"exit code {code}: {err.read_text(errors='replace').strip()[-500:]}")
    try:
        document = json.loads(out.read_text())
    except (OSError, ValueError) as exc:
        document = {"records": [], "failures": []}
        problems.append(f"no JSON on stdout ({exc})")
    if document.get("failures"):
        first = document["failures"][0]
        problems.append(f"{len(document['failures'])} failures, e.g. {first.get('url')}: {first.get('message')}")
    if document.get("outcome") not in (None, "complete"):
        problems.append(f"outcome {document.get('outcome')!r}")
    if not keep:
        out.unlink(missing_ok=True)
        err.unlink(missing_ok=True)
    return document, wall, cpu, problems


def timed(command: list[str], rss: list[float] | None = None, **kwargs) -> tuple[int, float, float]:
    """Run ``command``; (exit code, wall seconds, user + system CPU seconds of the child). ``rss`` gets the
    peak resident set (MB) of the largest of the child and the processes it waited for (wait4's ru_maxrss)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, **kwargs)
    try:
        _, status, usage = os.wait4(process.pid, 0)
    except BaseException:
        process.kill()
        process.wait()
        raise
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if rss is not None:
        rss.append(usage.ru_maxrss / 1024)
    return process.returncode, wall, usage.ru_utime + usage.ru_stime


def check_coverage(site: sitegen.Site, fetched: list[str], what: str, max_copies: int = 1) -> list[str]:
    """Problems when ``fetched`` is not exactly the site's URLs, each at most ``max_copies`` times."""
    problems = []
    expected = set(site.urls)
    counts = collections.Counter(fetched)
    missing = expected - counts.keys()
    extra = counts.keys() - expected
    repeated = {url: n for url, n in counts.items() if n > max_copies}
    if max_copies == 1 and len(fetched) != len(expected):
        problems.append(f"{what}: {len(fetched)} response records for {len(expected)} site URLs")
    if missing:
        problems.append(f"{what}: {len(missing)} site URLs missing, e.g. {sorted(missing)[:3]}")
    if extra:
        problems.append(f"{what}: {len(extra)} URLs outside the expected set, e.g. {sorted(extra)[:3]}")
    if repeated:
        problems.append(f"{what}: {len(repeated)} URLs fetched more than once, e.g. {sorted(repeated)[:3]}")
    return problems


def run_requests(site: sitegen.Site, threads: int) -> Run:
    local = threading.local()

    def get(url: str) -> tuple[str, int, int]:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        response = session.get(url, timeout=30)
        return url, response.status_code, len(response.content)

    return _ceiling(site, get, threads, f"ceiling: requests, {threads} threads, no WARC")


def run_http_client(site: sitegen.Site, threads: int) -> Run:
    """The same fetch with the bare stdlib HTTP client: what Python costs without requests/urllib3."""
    import http.client
    import urllib.parse

    local = threading.local()

    def get(url: str) -> tuple[str, int, int]:
        parts = urllib.parse.urlsplit(url)
        connections = getattr(local, "connections", None)
        if connections is None:
            connections = local.connections = {}
        connection = connections.get(parts.netloc)
        if connection is None:
            connection = connections[parts.netloc] = http.client.HTTPConnection(parts.hostname, parts.port,
                                                                               timeout=30)
        connection.request("GET", parts.path, headers={"User-Agent": "bench"})
        response = connection.getresponse()
        return url, response.status, len(response.read())

    return _ceiling(site, get, threads, f"floor: stdlib http.client, {threads} threads, no WARC")


def _ceiling(site: sitegen.Site, get, threads: int, label: str) -> Run:
    """Fetch every URL of the site with ``get`` (url -> (url, status, body size)) on a thread pool, timed."""
    order = site.fetch_order()
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(get, order))
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    problems = []
    bad = [url for url, status, _ in results if status != 200]
    if bad:
        problems.append(f"{len(bad)} responses not HTTP 200, e.g. {bad[0]}")
    received = sum(size for _, _, size in results)
    if received != site.total_bytes:
        problems.append(f"received {received} body bytes, the site has {site.total_bytes}")
    return Run(label=label, wall=wall, pages=len(set(site.pages) & set(order)), resources=len(results),
               payload_bytes=received, warc_bytes=None,
               cpu=after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, problems=problems)


WGET_RECURSIVE = "peer: wget -r -l1 -H -p, posts given"
WGET_LIST = "peer: wget -p -H, posts + cited pages given"


@dataclasses.dataclass
class WarcCensus:
    """What a set of WARC files holds (see :func:`warc_census`)."""

    types: collections.Counter  # records by WARC-Type
    type_bytes: collections.Counter  # gzipped bytes of the records, by WARC-Type
    profiles: collections.Counter  # revisit records by WARC-Profile (last path segment)
    statuses: collections.Counter  # HTTP status of the response and revisit records
    targets: list[str]  # WARC-Target-URI of each response and revisit record (one per fetch)
    stored: collections.Counter  # WARC-Target-URI of the response records (payload stored)


def warc_census(paths: list[Path]) -> WarcCensus:
    census = WarcCensus(types=collections.Counter(), type_bytes=collections.Counter(),
                        profiles=collections.Counter(), statuses=collections.Counter(), targets=[],
                        stored=collections.Counter())
    for path in paths:
        with open(path, "rb") as fh:
            records = ArchiveIterator(fh)
            for record in records:
                kind = record.rec_type
                census.types[kind] += 1
                if kind in ("response", "revisit"):
                    census.targets.append(record.rec_headers.get_header("WARC-Target-URI"))
                    census.statuses[record.http_headers.get_statuscode() if record.http_headers else "?"] += 1
                if kind == "response":
                    census.stored[record.rec_headers.get_header("WARC-Target-URI")] += 1
                if kind == "revisit":
                    census.profiles[(record.rec_headers.get_header("WARC-Profile") or "?").rsplit("/", 1)[-1]] += 1
                records.read_to_end(record)
                census.type_bytes[kind] += records.get_record_length()
    return census


def robots_url(url: str) -> bool:
    """A robots.txt archiver asked for before following links (not one of the site's URLs)."""
    return urllib.parse.urlsplit(url).path == "/robots.txt"


def wget_capture(wget: str, urls_file: Path, out: Path, *, recursive: bool = False, extra: tuple[str, ...] = (),
                 keep_files: bool = False) -> tuple[int, float, float]:
    """``wget --warc-file=OUT/capture -H -p -e robots=off -i URLS_FILE`` (``-r -l1`` too when ``recursive``)
    run in ``out``, its log in ``out/wget.log``; the files it saves go to ``out/files`` and are deleted as
    they are written unless ``keep_files``. ``extra``: more wget options. (exit code, wall s, CPU s)."""
    how = ["-r", "-l1", "-H", "-p"] if recursive else ["-H", "-p"]
    command = [wget, f"--warc-file={out / 'capture'}", *how, *extra, "-e", "robots=off", "--no-verbose",
               *([] if keep_files else ["--delete-after"]), "-P", str(out / "files"), "-i", str(urls_file)]
    with open(out / "wget.log", "wb") as logfile:
        return timed(command, stdout=logfile, stderr=subprocess.STDOUT, cwd=out)


def run_wget(label: str, wget: str, site: sitegen.Site, urls_file: Path, workdir: Path, *,
             extra: tuple[str, ...] = (), keep: Path | None = None) -> Run:
    """``wget --warc-file``: recursive one hop from the posts, or requisites only of a given page list.

    ``extra``: more wget options (e.g. ``--warc-cdx``); ``keep``: the folder to write to and keep
    (``capture.warc.gz``, ``capture.cdx``, ``wget.log``), else a temp folder, removed."""
    out = keep or Path(tempfile.mkdtemp(prefix="wget-", dir=workdir))
    out.mkdir(parents=True, exist_ok=True)
    code, wall, cpu = wget_capture(wget, urls_file, out, recursive=label == WGET_RECURSIVE, extra=extra)
    run = wget_run(label, site, out, code, wall, cpu)
    if keep is None:
        shutil.rmtree(out, ignore_errors=True)
    return run


def wget_run(label: str, site: sitegen.Site, out: Path, code: int, wall: float, cpu: float) -> Run:
    """A wget run (exit ``code``, ``wall`` and ``cpu`` seconds) judged by the WARC it wrote in ``out``:
    the site's URLs it holds, repeats and URLs beyond them in notes, missing ones as problems."""
    problems, notes = [], []
    if code != 0:
        problems.append(f"wget exit code {code} (8 = some server answered an error)")
    warcs = sorted(out.glob("capture*.warc.gz"))
    census = warc_census(warcs)
    targets, statuses = census.targets, census.statuses
    warc_bytes = sum(path.stat().st_size for path in warcs)
    counts = collections.Counter(targets)
    expected = set(site.urls)
    fetched = counts.keys() & expected
    missing = expected - counts.keys()
    extra_urls = counts.keys() - expected
    records = "response records" if not census.types["revisit"] else (
        f"response and revisit records ({census.types['response']} + {census.types['revisit']})")
    notes.append(f"{len(targets)} {records}, {len(counts)} distinct URLs, "
                 f"{len(fetched)}/{len(expected)} of the site's URLs; statuses {dict(statuses)}")
    if extra_urls:
        notes.append(f"{len(extra_urls)} URL(s) outside a post-body capture (nav links followed), "
                     f"e.g. {sorted(extra_urls)[:3]}")
    repeated = sum(n - 1 for n in counts.values() if n > 1)
    if repeated:
        top = collections.Counter({url: n for url, n in counts.items() if n > 1}).most_common(1)[0]
        notes.append(f"{repeated} repeat fetches of URLs already fetched (wget keeps no memory across its "
                     f"input URLs), most often {top[0]} x{top[1]}")
    if missing:
        problems.append(f"wget missed {len(missing)} site URLs, e.g. {sorted(missing)[:3]}")
    return Run(label=label, wall=wall, pages=len(fetched & set(site.pages)),
               resources=len(targets), payload_bytes=sum(site.sizes[url] for url in fetched),
               warc_bytes=warc_bytes, cpu=cpu, problems=problems, notes=notes,
               record_types=dict(sorted(census.types.items())), site_urls=len(fetched))


# --- the peer pipeline: wget, then trafilatura ---------------------------------------------------

PIPELINE = "peer pipeline: wget -p -H, then trafilatura on every HTML page"
PIPELINE_AIM = 1.5  # issue 15: archiver's default capture at least this much faster than the pipeline
PARSE_LATER_AIM = 1.5  # issue 15: archiver --parse later at least this much faster than wget -p -H alone
HTML_SNIFF = re.compile(rb"<!doctype\s+html|<html[\s>]", re.I)
SNIFF_BYTES = 1024


def find_trafilatura(archiver: str | None = None) -> str:
    """The trafilatura command: beside the interpreter running ``archiver`` (whose dependency it is),
    else beside this one, else on PATH."""
    beside = [Path(archiver_python(archiver)).parent] if archiver else []
    for folder in [*beside, Path(sys.executable).parent]:
        if os.access(folder / "trafilatura", os.X_OK):
            return str(folder / "trafilatura")
    found = shutil.which("trafilatura")
    if found is None:
        raise SystemExit("trafilatura not found: pip install trafilatura (archiver's own dependency), "
                         "or skip the peer rows")
    return found


def is_html(path: Path) -> bool:
    """An HTML page, by a sniff of its first ``SNIFF_BYTES`` bytes: ``<!doctype html`` or ``<html`` there
    (case-insensitive), whatever the file's name (wget keeps a URL's name, which need not end in .html)."""
    with open(path, "rb") as fh:
        return HTML_SNIFF.search(fh.read(SNIFF_BYTES)) is not None


@dataclasses.dataclass
class Pipeline:
    """One run of the peer pipeline (see :func:`run_pipeline`); times in seconds."""

    wget_code: int
    wget_wall: float
    wget_cpu: float
    trafilatura_code: int
    trafilatura_wall: float
    trafilatura_cpu: float
    files: int  # files wget saved
    html: int  # of them, HTML pages (sniffed), each handed to trafilatura
    outputs: int  # text files trafilatura wrote, one per HTML page when all went well
    cores: int  # trafilatura --parallel
    link_seconds: float  # finding the HTML files and linking them (the bench's glue, not counted)
    wget_errors: list[str] = dataclasses.field(default_factory=list)  # distinct error lines of wget's log
    problems: list[str] = dataclasses.field(default_factory=list)

    @property
    def wall(self) -> float:
        return self.wget_wall + self.trafilatura_wall

    @property
    def cpu(self) -> float:
        return self.wget_cpu + self.trafilatura_cpu

    def parts(self) -> str:
        """The two parts of the pipeline's wall and CPU, said."""
        return (f"wget {self.wget_wall:.2f}s wall, {self.wget_cpu:.1f}s CPU (exit code {self.wget_code}) + "
                f"trafilatura --parallel {self.cores} {self.trafilatura_wall:.2f}s wall, {self.trafilatura_cpu:.1f}s "
                f"CPU on {self.html} HTML pages of the {self.files} files wget saved ({self.outputs} outputs); "
                f"finding and linking the HTML files took {self.link_seconds:.2f}s, not counted"
                + (f"; wget said: {'; '.join(self.wget_errors)}" if self.wget_errors else ""))


def run_pipeline(wget: str, trafilatura: str, urls_file: Path, out: Path, cores: int | None = None, *,
                 extra: tuple[str, ...] = ()) -> Pipeline:
    """What a user scripts instead of archiver, timed as one pipeline in folder ``out``:

    1. ``wget --warc-file -p -H -e robots=off -i URLS_FILE`` keeping the files it saves (``out/files``),
       with the options ``extra`` (e.g. ``--domains``);
    2. every file it saved that :func:`is_html` is hard-linked, under a unique flat name, into ``out/html``
       (not timed: a user's ``find``);
    3. ``trafilatura --input-dir . --output-dir out/text --parallel CORES --keep-dirs`` run in ``out/html``
       (``--keep-dirs`` names each output after its input, so that outputs can be counted: without it they
       are named by a hash of the text and pages of the same text share one; it costs nothing, and needs the
       relative ``.`` input folder: trafilatura 2.3 joins an absolute input path over the output folder).

    Wall and CPU are wget's plus trafilatura's (CPU of each process and its waited-for children: every
    trafilatura worker). A problem when trafilatura exits non-zero or writes other than one output per
    HTML page; wget's exit code and the error lines of its log are reported, not judged (4: a network
    failure, such as a host that does not resolve; 8: some server answered an error)."""
    cores = cores or os.cpu_count() or 1
    out.mkdir(parents=True, exist_ok=True)
    wget_code, wget_wall, wget_cpu = wget_capture(wget, urls_file, out, extra=extra, keep_files=True)
    began = time.perf_counter()
    saved = sorted(path for path in (out / "files").rglob("*") if path.is_file())
    pages = [path for path in saved if is_html(path)]
    (out / "html").mkdir()
    for number, path in enumerate(pages):
        os.link(path, out / "html" / f"{number:06d}.html")
    link_seconds = time.perf_counter() - began
    with open(out / "trafilatura.log", "wb") as logfile:
        code, wall, cpu = timed([trafilatura, "--input-dir", ".", "--output-dir", str(out / "text"),
                                 "--parallel", str(cores), "--keep-dirs"],
                                stdout=logfile, stderr=subprocess.STDOUT, cwd=out / "html")
    written = {path.stem for path in (out / "text").rglob("*") if path.is_file()}
    run = Pipeline(wget_code, wget_wall, wget_cpu, code, wall, cpu, len(saved), len(pages), len(written), cores,
                   link_seconds, wget_errors(out / "wget.log"))
    if code != 0:
        run.problems.append(f"trafilatura exit code {code}: "
                            + (out / "trafilatura.log").read_text(errors="replace").strip()[-300:])
    missing = sorted({path.stem for path in (out / "html").iterdir()} - written)
    if missing or len(written) != len(pages):
        run.problems.append(f"trafilatura wrote {len(written)} outputs for {len(pages)} HTML pages"
                            + (f"; none for {len(missing)}, e.g. {pages[int(missing[0])]}" if missing else ""))
    return run


def wget_errors(path: Path, limit: int = 5) -> list[str]:
    """The errors of a ``wget --no-verbose`` log, each said once with how often it came and its first URL
    (``ERROR 404: Not Found. x3, e.g. URL``; an unresolved host), at most ``limit`` of them."""
    lines = path.read_text(errors="replace").splitlines() if path.exists() else []
    first: dict[str, str] = {}
    counts: collections.Counter = collections.Counter()
    for previous, line in zip(["", *lines], lines, strict=False):  # each line and the one before it
        if "ERROR" in line:  # "<date> <time> ERROR 404: Not Found." after a line "<URL>:"
            message, url = line[line.index("ERROR"):], previous.strip().removesuffix(":")
        elif line.startswith("wget:"):
            message, url = line.strip(), ""
        else:
            continue
        counts[message] += 1
        first.setdefault(message, url)
    return [message + (f" x{n}" if n > 1 else "") + (f", e.g. {first[message]}" if first[message] else "")
            for message, n in counts.most_common(limit)]


def run_pipeline_row(wget: str, trafilatura: str, site: sitegen.Site, urls_file: Path, workdir: Path) -> Run:
    """The pipeline's row on the synthetic site: its wget judged as :func:`run_wget` judges the list row,
    timed as the whole pipeline (wall and CPU: wget's plus trafilatura's, both parts in a note)."""
    out = Path(tempfile.mkdtemp(prefix="pipeline-", dir=workdir))
    try:
        pipeline = run_pipeline(wget, trafilatura, urls_file, out)
        run = wget_run(PIPELINE, site, out, pipeline.wget_code, pipeline.wall, pipeline.cpu)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    run.problems += pipeline.problems
    if pipeline.html != len(site.pages):
        run.problems.append(f"{pipeline.html} HTML files saved for the site's {len(site.pages)} pages")
    run.notes.insert(0, pipeline.parts())
    return run


def pipeline_aim(archiver_wall: float, pipeline_wall: float, where: str) -> str:
    """Issue 15's aim for the capture against the pipeline, with this run's ratio."""
    ratio = pipeline_wall / archiver_wall
    return (f"Aim (issue 15): archiver's default capture (documents parsed before it exits) at least "
            f"{PIPELINE_AIM:g}x faster than `wget -p -H` on the same pages followed by trafilatura on every HTML "
            f"page it fetched, {where}. This run: {ratio:.2f}x (pipeline {pipeline_wall:.2f}s / archiver "
            f"{archiver_wall:.2f}s: {'met' if ratio >= PIPELINE_AIM else 'not met'}).")


# --- profile ---------------------------------------------------------------------------------

# Runs archiver's CLI in-process with cProfile enabled in every thread (cProfile alone sees only
# the thread that enabled it; the fetches happen in worker threads). Writes OUT.main (the main
# thread: writer, parser, catalogue) and OUT.all (every thread merged).
PROFILE_CHILD = r"""
import cProfile, pstats, sys, threading
out, args = sys.argv[1], sys.argv[2:]
profiles, lock = [], threading.Lock()
def boot(frame, event, arg):
    profile = cProfile.Profile()
    with lock:
        profiles.append(profile)
    profile.enable()
threading.setprofile(boot)
main_profile = cProfile.Profile()
main_profile.enable()
try:
    from archiver.cli import main
    sys.argv = ["archiver", *args]
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
finally:
    main_profile.disable()
    threading.setprofile(None)
main_stats = pstats.Stats(main_profile)
main_stats.dump_stats(out + ".main")
for profile in profiles:
    profile.create_stats()
    if profile.stats:
        main_stats.add(profile)
main_stats.dump_stats(out + ".all")
print(f"profiled {1 + len(profiles)} threads", file=sys.stderr)
sys.exit(code or 0)
"""


def _short(filename: str) -> str:
    for marker in ("site-packages/", f"lib/python{sys.version_info.major}.{sys.version_info.minor}/",
                   str(REPO) + "/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


_WRAPPERS = (r"/click/|archiver/cli\.py|archiver/output\.py|archiver/__main__|<string>:<module>|"
             r"threading\.py:(run|_bootstrap|_bootstrap_inner)$|archiver/capture\.py:(capture|execute)$|"
             r"archiver/recrawl\.py:recrawl$")


def top_functions(stats_file: Path, key: str, count: int) -> str:
    import pstats

    stats = pstats.Stats(str(stats_file))
    rows = [(file, line, name, calls, tottime, cumtime)
            for (file, line, name), (_, calls, tottime, cumtime, _) in stats.stats.items()]
    rows.sort(key=lambda row: row[5] if key == "cumulative" else row[4], reverse=True)
    if key == "cumulative":  # the CLI's call chain down to the capture loop says nothing: skip it
        rows = [row for row in rows if not re.search(_WRAPPERS, f"{row[0]}:{row[2]}")]
    lines = [f"{'calls':>9} {'tottime':>8} {'cumtime':>8}  function"]
    for file, line, name, calls, tottime, cumtime in rows[:count]:
        where = name if file == "~" else f"{_short(file)}:{line}({name})"
        lines.append(f"{calls:>9} {tottime:>8.3f} {cumtime:>8.3f}  {where}")
    return "\n".join(lines)


def profile_archiver(archiver: str, site: sitegen.Site, posts: int, workdir: Path, top: int) -> str:
    urls_file = workdir / "profile-urls.txt"
    urls_file.write_text("\n".join(site.posts[:posts]) + "\n")
    home = workdir / "profile-home"
    try:
        return profile_cli(archiver, ["capture", "--input", str(urls_file), "--home", str(home), "--allow-private",
                                      "--json"], workdir, top,
                           f"{posts} posts ({len(site.posts[:posts]) * 24 + 4} URLs)")
    finally:
        shutil.rmtree(home, ignore_errors=True)


def profile_cli(archiver: str, arguments: list[str], workdir: Path, top: int, what: str) -> str:
    """Run ``archiver ARGUMENTS`` in-process under cProfile (every thread); its top functions."""
    stats_file = workdir / "prof.out"
    command = [archiver_python(archiver), "-c", PROFILE_CHILD, str(stats_file), *arguments]
    code, wall, cpu = timed(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=clean_env(),
                            cwd=workdir)
    if code != 0 or not Path(str(stats_file) + ".all").exists():
        return f"profile run failed (exit code {code})"
    parts = [f"{what}, wall {wall:.1f}s and CPU {cpu:.1f}s under cProfile (exit code {code})"]
    for which, title in (("main", "main thread only (WARC writer, HTML parser, catalogue)"),
                         ("all", "all threads merged (main + fetch workers; waits counted per thread)")):
        for key in ("cumulative", "tottime"):
            skipped = " (click/CLI and thread-start wrappers omitted)" if key == "cumulative" else ""
            parts.append(f"--- {title}: top {top} by {key}{skipped} ---\n"
                         + top_functions(Path(f"{stats_file}.{which}"), key, top))
    return "\n\n".join(parts)


# --- report -------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"nproc": str(os.cpu_count()), "cpu": cpu, "python": platform.python_version(),
            "kernel": platform.release()}


def git_state() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "archiver", "migrations"], cwd=REPO,
                               capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (f" + uncommitted changes in {len(dirty.splitlines())} archiver path(s)" if dirty else "")


def tool_version(command: list[str]) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True)
    except OSError:
        return "?"
    return (result.stdout or result.stderr).strip().splitlines()[0] if (result.stdout or result.stderr) else "?"


def summarize(runs: list[Run]) -> tuple[Run, float, float]:
    """The run with the median wall time, and the min and max walls."""
    walls = sorted(run.wall for run in runs)
    median = statistics.median_low(walls)
    chosen = next(run for run in runs if run.wall == median)
    return chosen, walls[0], walls[-1]


def wall_cell(runs: list[Run]) -> str:
    """The median wall time, with the spread of the runs."""
    chosen, low, high = summarize(runs)
    return (f"{chosen.wall:.2f} ({len(runs)} runs: {low:.2f}-{high:.2f})" if len(runs) > 1
            else f"{chosen.wall:.2f} (1 run)")


def check_cell(runs: list[Run]) -> str:
    problems = sorted({p for run in runs for p in run.problems})
    return "ok" if not problems else "**WRONG**: " + "; ".join(problems)[:300]


def table(groups: dict[str, list[Run]]) -> str:
    rates = {}
    for label in (WGET_RECURSIVE, WGET_LIST):
        if groups.get(label):
            chosen = summarize(groups[label])[0]
            rates[label] = chosen.pages / chosen.wall
    head = ["run", "wall s (median; runs: min-max)", "CPU s", "pages/s", "resources/s", "payload MB/s",
            "WARC MB (WARC MB/s)", "responses", "vs wget -r pages/s", "vs wget list pages/s", "vs pipeline",
            "check"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    pipeline = summarize(groups[PIPELINE])[0].wall if groups.get(PIPELINE) else None
    for label, runs in groups.items():
        chosen, spread = summarize(runs)[0], wall_cell(runs)
        rate = chosen.pages / chosen.wall
        warc = (f"{chosen.warc_bytes / MB:.1f} ({chosen.warc_bytes / MB / chosen.wall:.1f})"
                if chosen.warc_bytes is not None else "none")
        ratios = [f"{rate / rates[key]:.2f}x" if key in rates else "-" for key in (WGET_RECURSIVE, WGET_LIST)]
        check = check_cell(runs)
        cpu = f"{chosen.cpu:.1f}" if chosen.cpu is not None else "-"
        rows.append(f"| {label} | {spread} | {cpu} | {rate:.0f} | {chosen.resources / chosen.wall:.0f} "
                    f"| {chosen.payload_bytes / MB / chosen.wall:.1f} | {warc} | {chosen.resources} "
                    f"| {ratios[0]} | {ratios[1]} | {f'{pipeline / chosen.wall:.2f}x' if pipeline else '-'} "
                    f"| {check} |")
    return "\n".join(rows)


def write_results(section: str, title: str = SECTION) -> None:
    """Replace the section headed ``title`` of RESULTS.md with ``section`` (append it if absent)."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"^{re.escape(title)}[ \t]*\n.*?(?=^## |\Z)", re.S | re.M)
    block = section.rstrip() + "\n\n"
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text, count=1)
    else:
        text = text.rstrip() + "\n\n" + block
    RESULTS.write_text(text.rstrip() + "\n")
    log(f"wrote the '{title}' section of {RESULTS}")


def bench_command(script: str, argv: list[str] | None) -> str:
    """The command line that ran this benchmark, from the repository's root."""
    return "cd " + str(REPO) + " && " + shlex.join(
        [os.path.relpath(sys.executable, REPO) if sys.executable.startswith(str(REPO)) else sys.executable,
         os.path.relpath(script, REPO), *(argv if argv is not None else sys.argv[1:])])


def site_line(site: sitegen.Site, server: Server, nginx_workers: int) -> str:
    return (f"Site: {len(site.posts)} posts on 127.0.0.1, each citing 3 pages spread over 127.0.0.2-4; every "
            f"page embeds 5 images (2-30 KB, incompressible), one stylesheet per host: {len(site.pages)} HTML "
            f"pages, {len(site.urls)} URLs, {site.total_bytes / MB:.1f} MB of bodies. Server: {server.kind} "
            f"({server.version}" + (f", {nginx_workers} worker process(es), access log off, sendfile, "
                                   f"keep-alive, gzip off)" if server.kind == "nginx" else ")") + ".")


def machine_line(wget: str | None, server: Server, archiver_at: str | None = None) -> str:
    """The machine and tool versions; archiver's commit is the working tree's unless ``archiver_at`` says."""
    info = machine()
    return (f"Machine: {info['nproc']} CPUs ({info['cpu']}), Linux {info['kernel']}, Python {info['python']}; "
            f"{tool_version([wget, '--version']).rstrip('.') if wget else 'wget absent'}; {server.version}; "
            f"archiver at {archiver_at or git_state()}.")


def report_section(title: str, script: str, argv: list[str] | None, site: sitegen.Site, server: Server,
                   nginx_workers: int, wget: str | None, body: list[str], notes: list[str],
                   archiver_at: str | None = None) -> str:
    """A section of RESULTS.md: title, date, command, site, the ``body`` paragraphs, notes, machine."""
    return "\n".join([
        title,
        "",
        f"Generated by `{os.path.relpath(script, REPO)}` on {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC.",
        "",
        f"Command: `{bench_command(script, argv)}`",
        "",
        site_line(site, server, nginx_workers),
        "",
        *[line for paragraph in body for line in (paragraph, "")],
        "Notes:",
        "",
        *[f"- {note}" for note in notes],
        "",
        machine_line(wget, server, archiver_at),
    ]) + fallback_warning(server)


def profile_section(title: str, what: str, report: str) -> str:
    """The profile subsection of section ``title``; ``what`` says what ran under the profiler."""
    return (f"\n\n### {title.lstrip('# ')}: profile\n\n"
            f"{what}, run in-process under cProfile enabled in every thread (`--profile`); times are summed over "
            "the main (writer) thread and the fetch threads, so waits (lock acquire, queue get) count once per "
            "waiting thread and cProfile's overhead inflates Python-heavy code.\n\n```\n" + report.strip() + "\n```")


def fallback_warning(server: Server) -> str:
    if server.kind == "nginx":
        return ""
    return ("\n\n**Served by the Python fallback server, not nginx**: it is far slower than nginx and "
            "shares the 2 cores with the client; numbers are not comparable with nginx runs.")


@contextlib.contextmanager
def temporary_folder(prefix: str, keep: bool) -> Iterator[Path]:
    """A new temp folder, removed on the way out (kept and named with ``keep``)."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield workdir
    finally:
        if keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def serving(choice: str, static: Static, workdir: Path, nginx_workers: int) -> Iterator[Server]:
    """``static`` served (see :func:`start_server`) until the way out."""
    server = start_server(choice, static, workdir, nginx_workers)
    try:
        log(f"serving with {server.kind} ({server.version})")
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def served_site(args: argparse.Namespace) -> Iterator[tuple[Path, sitegen.Site, Server]]:
    """A temp folder holding the site of ``args.posts`` posts, served (``args.server``, ``args.nginx_workers``).

    SIGTERM ends the run as Ctrl-C does; on the way out the server is stopped and the folder
    removed (kept with ``args.keep``)."""

    def on_signal(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    with temporary_folder("archiver-bench-", args.keep) as workdir:
        port = free_port()
        log(f"generating {args.posts} posts under {workdir} (port {port})")
        site = sitegen.generate(workdir / "site", posts=args.posts, port=port)
        log(f"site: {len(site.posts)} posts, {len(site.cited)} cited pages, {len(site.images)} images, "
            f"{len(site.css)} stylesheets = {len(site.urls)} URLs, {site.total_bytes / MB:.1f} MB")
        with serving(args.server, site_static(site), workdir, args.nginx_workers) as server:
            yield workdir, site, server


# --- main -----------------------------------------------------------------------------------------


def server_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the site's server (see :func:`served_site`), and --skip-wget."""
    parser.add_argument("--server", choices=("auto", "nginx", "python"), default="auto")
    parser.add_argument("--nginx-workers", type=int, default=1,
                        help="nginx worker processes [1: leaves the second core to the client]")
    parser.add_argument("--skip-wget", action="store_true", help="no wget rows (nor the wget + trafilatura pipeline)")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=None, help="posts in the site [500; 100 with --quick]")
    parser.add_argument("--quick", action="store_true", help="100 posts (about a minute)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each tool; the median is reported [3]")
    parser.add_argument("--no-warmup", action="store_true", help="skip the untimed warm-up runs")
    parser.add_argument("--archiver", help="archiver executable [.venv/bin/archiver, else on PATH]")
    parser.add_argument("--archiver-config", action="append", metavar="ARGS",
                        help=f"extra archiver flags to time besides the defaults, repeatable "
                             f"[{DEFAULT_CONFIGS[0]!r}]; 'ENV=VALUE' words set the environment")
    parser.add_argument("--threads", type=int, default=8, help="threads of the requests ceiling [8]")
    server_arguments(parser)
    parser.add_argument("--wget-recursive-repeat", type=int, default=1,
                        help="timed runs of the slow wget -r row (single-threaded, steady) [1]")
    parser.add_argument("--profile", action="store_true", help="also profile one archiver run (all threads)")
    parser.add_argument("--profile-only", action="store_true",
                        help="generate and serve the site, profile archiver, print the profile, stop")
    parser.add_argument("--profile-posts", type=int, default=100)
    parser.add_argument("--profile-top", type=int, default=15)
    parser.add_argument("--write-results", action="store_true", help=f"replace '{SECTION}' in {RESULTS}")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (site, homes) and print it")
    args = parser.parse_args(argv)
    if args.posts is None:
        args.posts = 100 if args.quick else 500
    if args.archiver_config is None:
        args.archiver_config = list(DEFAULT_CONFIGS)
    return args


def split_config(words: str) -> tuple[list[str], dict[str, str]]:
    flags, env = [], {}
    for word in shlex.split(words):
        if re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", word):
            key, _, value = word.partition("=")
            env[key] = value
        else:
            flags.append(word)
    return flags, env


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    archiver = find_archiver(args.archiver)
    wget = find_wget(args.skip_wget)
    trafilatura = find_trafilatura(archiver) if wget else None

    with served_site(args) as (workdir, site, server):
        urls_file = workdir / "urls.txt"
        urls_file.write_text("\n".join(site.posts) + "\n")

        if args.profile_only:
            print(profile_archiver(archiver, site, args.profile_posts, workdir, args.profile_top))
            return 0

        configs: list[tuple[str, list[str], dict[str, str]]] = [
            ("archiver, defaults (--workers 8 --per-host 2)", [], {})
        ]
        for words in args.archiver_config:
            flags, env = split_config(words)
            configs.append((f"archiver {words}", flags, env))

        notes: list[str] = []
        if not args.no_warmup:
            log("warm-up: requests over the first 2000 URLs (server, page cache); archiver on 1 post x3 (start-up)")
            run_requests(dataclasses.replace(site, _order=site.fetch_order()[:2000]), args.threads)
            one = workdir / "one.txt"
            one.write_text(site.posts[0] + "\n")
            startup = []
            for n in range(3):
                home = workdir / f"warm{n}"
                startup.append(timed([archiver, "capture", "--input", str(one), "--home", str(home),
                                      "--allow-private", "--json"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, env=clean_env(), cwd=workdir)[1])
                shutil.rmtree(home, ignore_errors=True)
            notes.append(f"archiver on 1 post ({1 + 3 + 4 * 5 + 4} URLs, fresh home): {min(startup[1:]):.2f}s "
                         f"(first run {startup[0]:.2f}s): the fixed cost (interpreter, imports, catalogue "
                         f"migrations) included in every archiver wall time")

        groups: dict[str, list[Run]] = collections.defaultdict(list)
        pages_file = workdir / "pages.txt"
        pages_file.write_text("\n".join(site.pages) + "\n")
        for rep in range(args.repeat):
            for label, flags, env in configs:
                log(f"run {rep + 1}/{args.repeat}: {label}")
                run = run_archiver(label, archiver, flags, site, urls_file, workdir, env, keep=args.keep)
                groups[label].append(run)
                log(f"  {run.wall:.2f}s, {run.resources} responses" + ("" if not run.problems else
                    "\n  *** WRONG: " + "\n  *** ".join(run.problems)))
            for ceiling in (run_requests, run_http_client):
                log(f"run {rep + 1}/{args.repeat}: {ceiling.__name__}")
                run = ceiling(site, args.threads)
                groups[run.label].append(run)
                log(f"  {run.wall:.2f}s" + "".join(f"; *** {p}" for p in run.problems))
            if wget:
                for label, given in ((WGET_RECURSIVE, urls_file), (WGET_LIST, pages_file)):
                    if label == WGET_RECURSIVE and rep >= args.wget_recursive_repeat:
                        continue
                    log(f"run {rep + 1}/{args.repeat}: {label}")
                    run = run_wget(label, wget, site, given, workdir)
                    groups[label].append(run)
                    log(f"  {run.wall:.2f}s; " + "; ".join(run.notes + run.problems))
                log(f"run {rep + 1}/{args.repeat}: {PIPELINE}")
                run = run_pipeline_row(wget, trafilatura, site, pages_file, workdir)
                groups[PIPELINE].append(run)
                log(f"  {run.wall:.2f}s; " + "; ".join(run.notes[:1] + run.problems))

        for label, runs in groups.items():
            if label.startswith("archiver"):
                chosen = summarize(runs)[0]
                notes += [f"{label}: {note}" for note in chosen.notes]
                if any(run.problems for run in runs):
                    print(f"\n*** WARNING: the {label!r} capture is WRONG: "
                          + "; ".join(sorted({p for run in runs for p in run.problems})), file=sys.stderr)
            if label.startswith(("peer: wget", PIPELINE)):
                notes += [f"{label}: {note}" for note in summarize(runs)[0].notes]
        default = configs[0][0]
        aim = ([pipeline_aim(summarize(groups[default])[0].wall, summarize(groups[PIPELINE])[0].wall,
                             "on the synthetic bench (medians)")] if groups.get(PIPELINE) else [])
        later = "archiver --parse later"
        if groups.get(later) and groups.get(WGET_LIST):
            ratio = summarize(groups[WGET_LIST])[0].wall / summarize(groups[later])[0].wall
            aim.append(f"Aim (issue 15): `archiver capture --parse later` at least {PARSE_LATER_AIM:g}x faster than "
                       f"`wget -p -H` alone. This run: {ratio:.2f}x "
                       f"({'met' if ratio >= PARSE_LATER_AIM else 'not met'}).")
        body = [
            table(groups),
            f"Runs were interleaved (each repetition runs every row once) after a warm-up; a row shows its "
            f"median run. CPU s = user + system CPU of the tool's process (the ceilings: of this process "
            f"during the fetch). pages/s = the site's {len(site.pages)} HTML pages (posts + cited) fetched / "
            f"wall; resources/s = response records written (responses read, for the ceilings) / wall, repeats "
            f"included; payload MB/s = body bytes of the site's distinct URLs fetched / wall (the same numerator "
            f"for every row that fetched everything); WARC MB = gzipped WARC bytes written. Wall times include "
            f"process start-up. The ceilings get the URL list up front (no parsing, no dependency between a page "
            f"and its links) and run as threads of this process; archiver and wget run as subprocesses. "
            f"`wget -r -l1 -H -p` is the command a user runs: it also follows each post's nav and sidebar links "
            f"(home, older/newer post, 5 archive links) with their requisites, and remembers nothing across its "
            f"input URLs, so it refetches; `wget -p -H` given the posts and the cited pages makes nearly the "
            f"fetches archiver makes (plus the stylesheet once per page) and is the like-for-like peer. The peer "
            f"pipeline is what a user scripts instead of archiver: that same `wget -p -H --warc-file`, keeping the "
            f"files it saves, then `trafilatura --parallel {os.cpu_count()}` over every HTML page among them (by a "
            f"sniff of the first bytes; outputs counted, one per page); its wall and CPU are wget's plus "
            f"trafilatura's (both in a note). vs pipeline = the pipeline's median wall / the row's.",
            *aim,
        ]
        section = report_section(SECTION, __file__, argv, site, server, args.nginx_workers, wget, body, notes)
        if args.profile:
            log(f"profiling archiver on {args.profile_posts} posts (cProfile in every thread)")
            report = profile_archiver(archiver, site, args.profile_posts, workdir, args.profile_top)
            section += profile_section(SECTION, f"`archiver capture` on the first {args.profile_posts} posts", report)
        print(section)
        if args.write_results:
            write_results(section)
        wrong = any(run.problems for label, runs in groups.items() if label.startswith("archiver") for run in runs)
        return 1 if wrong else 0


def run_main(main: Callable[[], int]) -> None:
    """Exit with ``main()``'s code; 130 on Ctrl-C or SIGTERM, once the servers are stopped."""
    try:
        sys.exit(main())
    except KeyboardInterrupt as exc:
        log(f"interrupted ({exc or 'Ctrl-C'}): servers stopped, temp files removed")
        sys.exit(130)


if __name__ == "__main__":
    run_main(main)
