"""`archiver demo`: the sample site captured offline, as a newcomer runs it."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import sqlalchemy as sa

from archiver import catalogue as cat

from .conftest import assert_warcs_valid, run_archiver, tool


def test_demo_captures_the_sample_site(tmp_path):
    result = run_archiver("demo", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["outcome"] == "complete"
    post = next(r for r in summary["records"] if r["role"] == "post")
    assert post["url"].endswith("/2015/05/2015-qalamoun-offensive.html") and post["http_status"] == 200
    assert {r["role"] for r in summary["records"]} == {"post", "embed", "cited", "cited-embed", "robots"}
    assert result.stderr.startswith("Serving the sample site at http://127.0.0.1:")
    # the default collection is the current folder
    assert (tmp_path / "archiver.db").exists()
    assert_warcs_valid(tmp_path / "snapshots")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'archiver.db'}")
    with engine.connect() as connection:
        count = connection.execute(sa.select(sa.func.count()).select_from(cat.records)).scalar()
    engine.dispose()
    assert count == len(summary["records"]) + len(summary["warc_files"])  # + one warcinfo per file


def test_the_next_hint_works_pasted_into_a_shell_without_the_venv(tmp_path):
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("ARCHIVER_", "VIRTUAL_ENV"))}
    environment["PATH"] = os.pathsep.join(entry for entry in environment.get("PATH", "").split(os.pathsep)
                                          if Path(entry).resolve() != Path(tool("archiver")).parent.resolve())
    demo = subprocess.run([tool("archiver"), "demo", "--home", "demo collection"], capture_output=True, text=True,
                          env=environment, cwd=tmp_path, timeout=120, stdin=subprocess.DEVNULL)
    assert demo.returncode == 0, demo.stderr
    hint = demo.stderr.splitlines()[-1]
    show, index = re.fullmatch(r"Next: `(.+)` reads the parsed post back from the catalogue; `(.+)` lists the records",
                               hint).groups()
    shown = subprocess.run(show, shell=True, capture_output=True, text=True, env=environment, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[1] == "Title: 2015 Qalamoun Offensive"
    indexed = subprocess.run(index, shell=True, capture_output=True, text=True, env=environment, cwd=tmp_path)
    assert indexed.returncode == 0, indexed.stderr
    assert '"warc-type": "warcinfo"' in indexed.stdout
