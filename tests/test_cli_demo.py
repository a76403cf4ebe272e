"""`archiver demo`: the sample site captured offline, as a newcomer runs it."""

from __future__ import annotations

import json

import sqlalchemy as sa

from archiver import catalogue as cat

from .conftest import assert_warcs_valid, run_archiver


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
