#!/usr/bin/env python3
"""Catalogue at scale: latency of `history`, `search` and `provenance` at 1,000,000 records.

One run:

1. creates a catalogue with archiver's own schema (Alembic head) and fills it, in bulk, with
   ``--records`` records (default 1,000,000: half responses or revisits, half their request
   records) for synthetic but realistic collections: hosts with Zipf-like popularity, URLs per
   host, captures per URL drawn so that most URLs have 1-3 captures and a few re-crawled posts
   have hundreds, capture times spread over two years, one fetch and one change row per capture,
   a parsed document (with captions and citations) for every HTML response, indexed by FTS5;
   every request record points at one real WARC record, so provenance reads real bytes;
2. times, in-process through archiver's library functions (what the commands call, without
   Python's start-up): ``history(url)`` for ``--queries`` URLs (a quarter of them the most
   captured ones), ``search(text)`` for one- and two-word queries drawn from the vocabulary,
   ``provenance(url)``; reports median and p99 in milliseconds.

Prints a Markdown table; ``--write-results`` replaces the "## Catalogue at scale" section of
bench/RESULTS.md. Run it with the project's virtualenv:

    .venv/bin/python bench/catalogue.py                  # 1,000,000 records
    .venv/bin/python bench/catalogue.py --records 100000 # quicker

Verify throughput (MB/s beside sha256 over the same files) is measured by ``bench/verify.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from capture import bench_command, git_state, log, machine, write_results  # noqa: E402

from archiver import catalogue as cat  # noqa: E402
from archiver.collection import open_collection  # noqa: E402
from archiver.config import resolve  # noqa: E402
from archiver.query import (
    history,  # noqa: E402
    provenance,  # noqa: E402
    search,  # noqa: E402
)
from archiver.warc import WarcWriter, exchange_records  # noqa: E402

SECTION = "## Catalogue at scale"
START = dt.datetime(2024, 11, 1)
SPAN = dt.timedelta(days=730)
CHUNK = 20_000


def vocabulary(size: int, rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(3, 10))))
    return sorted(words)


def zipf_choice(rng: random.Random, items: list, s: float = 1.1):
    """An item drawn with probability ~ 1 / rank^s (rank 1 the most popular)."""
    n = len(items)
    rank = int(n ** rng.random() ** (1 / s)) if n > 1 else 1
    return items[min(max(rank, 1), n) - 1]


def real_request_record(home: Path) -> tuple[str, int, int]:
    """Write one real WARC with one request record; its file name, offset and length."""
    from archiver.net import Exchange

    exchange = Exchange(url="http://host0.example/post/0.html", started_at=dt.datetime.now(dt.timezone.utc),
                        request=b"GET /post/0.html HTTP/1.1\r\nHost: host0.example\r\n\r\n")
    writer = WarcWriter(home / "snapshots", warcinfo_fields=[("software", "bench")])
    [record] = exchange_records(exchange, digest="sha256")
    location = writer.write(record)
    writer.close()
    return location.path.name, location.offset, location.length


def fill(db: Path, home: Path, records: int, seed: int) -> dict:
    """Bulk-insert a synthetic collection; returns what the queries need."""
    rng = random.Random(seed)
    words = vocabulary(20_000, rng)
    captures = records // 2
    hosts = [f"host{n}.example" for n in range(max(10, captures // 100))]
    filename, request_offset, request_length = real_request_record(home)
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None).isoformat(sep=" ")
    events = max(1, captures // 500)
    connection.executemany(
        "INSERT INTO capture_events (id, uuid, started_at, ended_at, outcome, tool, tool_version, operator, "
        "hostname, pid, command, seeds, settings) VALUES (?, ?, ?, ?, 'complete', 'archiver', '0.1.0', 'bench', "
        "'bench', 1, 'archiver capture', '[]', '{}')",
        [(n, f"00000000-0000-0000-0000-{n:012d}", now, now) for n in range(1, events + 1)])
    connection.execute("INSERT INTO warc_files (id, filename, path, opened_at, status) VALUES (1, ?, ?, ?, "
                       "'closed')", (filename, f"snapshots/{filename}", now))
    urls: list[str] = []
    heavy: list[str] = []
    record_id = fetch_id = document_id = 0
    made = 0
    rows: dict[str, list] = {"fetches": [], "records": [], "documents": [], "fts": [], "captions": [], "links": [],
                             "changes": []}

    def flush() -> None:
        connection.executemany("INSERT INTO fetches (id, capture_event_id, url, role, started_at, ended_at, outcome, "
                               "http_status) VALUES (?, ?, ?, ?, ?, ?, 'captured', 200)", rows["fetches"])
        connection.executemany(
            "INSERT INTO records (id, warc_record_id, capture_event_id, fetch_id, warc_file_id, offset, length, "
            "record_type, target_uri, warc_date, content_type, content_length, block_sha256, payload_sha256, "
            "http_status, http_content_type, http_headers, peer_ip, role, concurrent_to, revisit_of_id) "
            "VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, 'application/http', 1000, ?, ?, ?, ?, ?, '192.0.2.1', ?, ?, ?)",
            rows["records"])
        connection.executemany(
            "INSERT INTO documents (id, record_id, parser, parser_version, parsed_at, url, title, text, sources, "
            "warnings, fp_title, fp_dates, fp_body, fp_captions, fp_citations) VALUES (?, ?, 'archiver-document', "
            "'2', ?, ?, ?, ?, '{}', '[]', 'a', 'b', ?, 'c', 'd')", rows["documents"])
        connection.executemany("INSERT INTO documents_fts (rowid, title, text, captions) VALUES (?, ?, ?, ?)",
                               rows["fts"])
        connection.executemany("INSERT INTO captions (document_id, position, text, credit) VALUES (?, 0, ?, ?)",
                               rows["captions"])
        connection.executemany("INSERT INTO links (document_id, position, url, text, kind, context) "
                               "VALUES (?, ?, ?, ?, 'citation', '')", rows["links"])
        connection.executemany("INSERT INTO changes (url, capture_event_id, fetch_id, record_id, at, change, changed, "
                               "detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows["changes"])
        for values in rows.values():
            values.clear()

    while made < captures:
        host = zipf_choice(rng, hosts)
        url = f"http://{host}/{rng.choice(['post', 'news', 'img', 'css'])}/{len(urls)}.html"
        urls.append(url)
        count = min(captures - made, 1 + int(rng.expovariate(0.7)) if rng.random() > 0.001 else rng.randint(100, 500))
        if count >= 100:
            heavy.append(url)
        html = url.split("/")[3] not in ("img", "css")
        previous = None
        times = sorted(START + SPAN * rng.random() for _ in range(count))
        for number, moment in enumerate(times):
            fetch_id += 1
            record_id += 1
            event = rng.randint(1, events)
            when = moment.isoformat(sep=" ")
            edited = previous is None or rng.random() < 0.1
            revisit = not edited
            digest = f"{rng.getrandbits(256):064x}" if edited or previous is None else previous[1]
            rows["fetches"].append((fetch_id, event, url, "post" if html else "embed", when, when))
            response_uuid = f"<urn:uuid:{rng.getrandbits(128):032x}>"
            rows["records"].append((record_id, response_uuid, event, fetch_id, 0, 1000,
                                    "revisit" if revisit else "response", url, when, digest, digest, 200,
                                    "text/html" if html else "image/png", json.dumps([["Content-Type", "text/html"]]),
                                    "post" if html else "embed", None, previous[0] if revisit else None))
            version = previous[0] if revisit else record_id
            if html and not revisit:
                document_id += 1
                text = " ".join(zipf_choice(rng, words) for _ in range(150))
                title = " ".join(zipf_choice(rng, words) for _ in range(6))
                caption = " ".join(zipf_choice(rng, words) for _ in range(5))
                rows["documents"].append((document_id, record_id, when, url, title, text, digest))
                rows["fts"].append((document_id, title, text, f"{caption} / twitter"))
                rows["captions"].append((document_id, caption, "twitter"))
                rows["links"] += [(document_id, n, f"http://{zipf_choice(rng, hosts)}/news/{rng.randint(0, 10**6)}"
                                   f".html", "source") for n in range(3)]
            change = "new" if number == 0 else ("edited" if edited else "unchanged")
            rows["changes"].append((url, event, fetch_id, record_id, when, change, change == "edited",
                                    json.dumps({"state": "ok", "version_record_id": version, "final_url": url,
                                                "payload_sha256": digest})))
            record_id += 1
            rows["records"].append((record_id, f"<urn:uuid:{rng.getrandbits(128):032x}>", event, fetch_id,
                                    request_offset, request_length, "request", url, when, f"{record_id:064x}", None,
                                    None, None, None, "post" if html else "embed", response_uuid, None))
            previous = (record_id - 1 if not revisit else previous[0], digest)
            made += 1
        if len(rows["records"]) >= CHUNK:
            flush()
    flush()
    connection.commit()
    connection.execute("PRAGMA optimize")
    connection.close()
    return {"urls": urls, "heavy": heavy, "words": words, "records": record_id, "documents": document_id}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def timed(call, items) -> tuple[list[float], int]:
    latencies, results = [], 0
    for item in items:
        started = time.perf_counter()
        out = call(item)
        latencies.append((time.perf_counter() - started) * 1000)
        results += len(out) if isinstance(out, list) else 1
    return latencies, results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="records in the catalogue [1,000,000]")
    parser.add_argument("--queries", type=int, default=1000, help="calls of each command timed [1000]")
    parser.add_argument("--seed", type=int, default=2015)
    parser.add_argument("--keep", type=Path, help="build the catalogue in this folder and keep it")
    parser.add_argument("--write-results", action="store_true", help=f"replace '{SECTION}' in bench/RESULTS.md")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="archiver-bench-catalogue-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "archiver.db"
    settings = resolve({"home": work})
    cat.Catalogue.open(settings.db_url).close()  # the schema, by archiver's own migrations
    started = time.perf_counter()
    facts = fill(db, work, args.records, args.seed)
    fill_seconds = time.perf_counter() - started
    size = sum(path.stat().st_size for path in work.glob("archiver.db*"))
    log(f"filled {facts['records']:,} records, {facts['documents']:,} documents in {fill_seconds:.0f}s "
        f"({size / 1e6:.0f} MB)")
    rng = random.Random(args.seed + 1)
    collection = open_collection(settings)
    try:
        sample = ([rng.choice(facts["heavy"]) for _ in range(args.queries // 4)] if facts["heavy"] else []) + [
            rng.choice(facts["urls"]) for _ in range(args.queries - args.queries // 4)]
        queries = [" ".join(zipf_choice(rng, facts["words"][:5000]) for _ in range(rng.randint(1, 2)))
                   for _ in range(args.queries)]
        rows = []
        for name, call, items in (
            ("history URL", lambda url: history(collection.catalogue, url), sample),
            ("search TEXT", lambda text: search(collection.catalogue, text=text), queries),
            ("provenance URL", lambda url: provenance(collection, url), sample),
        ):
            call(items[0])  # warm the page cache and the statement cache
            latencies, results = timed(call, items)
            rows.append((name, len(items), statistics.median(latencies), percentile(latencies, 0.99),
                         max(latencies), results / len(items)))
            log(f"{name}: median {rows[-1][2]:.2f} ms, p99 {rows[-1][3]:.2f} ms")
    finally:
        collection.close()
    info = machine()
    lines = [
        SECTION, "",
        f"Generated by `bench/catalogue.py` on {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC.", "",
        f"Command: `{bench_command('bench/catalogue.py', argv)}`", "",
        f"Catalogue: {facts['records']:,} records ({facts['records'] // 2:,} responses or revisits and their "
        f"requests), {len(facts['urls']):,} URLs ({len(facts['heavy'])} captured 100-500 times), "
        f"{facts['documents']:,} parsed documents in the FTS5 index; {size / 1e6:,.0f} MB of SQLite; filled in "
        f"{fill_seconds:.0f} s.", "",
        "| command | calls | median ms | p99 ms | max ms | rows per call |",
        "|---|---|---|---|---|---|",
        *(f"| `{name}` | {calls} | {median:.2f} | {p99:.2f} | {worst:.2f} | {per:.1f} |"
          for name, calls, median, p99, worst, per in rows), "",
        "Aims (issue 5): history and provenance under 5 ms median at 1M records. Latency is measured "
        "in-process through the library functions the commands call (a command adds Python's start-up, about "
        "0.3 s, which no catalogue design changes). A quarter of the history and provenance calls go to the "
        "URLs captured hundreds of times.", "",
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), Linux {info['kernel']}, Python {info['python']}, "
        f"SQLite {sqlite3.sqlite_version}; archiver at {git_state()}.",
    ]
    section = "\n".join(lines)
    print(section)
    if args.write_results:
        write_results(section, SECTION)
    return 0


if __name__ == "__main__":
    sys.exit(main())
