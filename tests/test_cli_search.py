"""`archiver search` and `archiver provenance` as a user runs them."""

from __future__ import annotations

import json

import pytest
from prov.model import ProvDocument

from .conftest import invoke_archiver, run_archiver


@pytest.fixture(scope="module")
def home(site, tmp_path_factory):
    home = tmp_path_factory.mktemp("cli-search")
    result = invoke_archiver("capture", site.post_url, "--home", str(home), "--allow-private")
    assert result.returncode == 0, result.stderr
    return home


def test_search_json_and_table(home, site):
    result = invoke_archiver("search", "Tallat Mussa", "--home", str(home), "--role", "post", "--json")
    assert result.returncode == 0
    [hit] = json.loads(result.stdout)
    assert set(hit) == {"url", "captured_at", "title", "snippet", "rank", "role", "record_id", "document_id"}
    assert hit["url"] == site.post_url and "[Tallat] [Mussa]" in hit["snippet"]
    assert result.stderr == "1 results\n"
    table = invoke_archiver("search", "Tallat Mussa", "--home", str(home), "--role", "post")
    lines = table.stdout.splitlines()
    assert lines[0] == f"{hit['captured_at']}  post  {site.post_url}"
    assert lines[1] == "  2015 Qalamoun Offensive" and lines[2] == f"  {hit['snippet']}"


@pytest.mark.parametrize("args, message", [
    (["search", "NOT"], "Error: search 'NOT': fts5: syntax error near \"NOT\" "
                        "(FTS5 syntax: words, \"a phrase\", OR, NOT, prefix*)\n"),
    (["search", "x", "--since", "yesterday"],
     "Error: time 'yesterday': give an ISO 8601 date or time, e.g. 2026-11-01 or 2026-11-01T12:00:00Z\n"),
    (["provenance", "urn:uuid:0"], "Error: urn:uuid:0: no such record in the catalogue\n"),
])
def test_bad_input(home, args, message):
    result = run_archiver(*args, "--home", str(home))
    assert (result.returncode, result.stdout, result.stderr) == (2, "", message)


def test_provenance_table_json_and_prov(home, site, manifest):
    table = invoke_archiver("provenance", site.post_url, "--home", str(home))
    assert table.returncode == 0
    lines = table.stdout.splitlines()
    assert lines[0].startswith("Record    <urn:uuid:") and lines[0].endswith("(response, HTTP 200)")
    assert lines[1] == f"URL       {site.post_url}"
    daily_star = manifest["references"][0]["url"]
    at = lines.index(f"  {daily_star}")
    report = json.loads(invoke_archiver("provenance", site.post_url, "--home", str(home), "--json").stdout)
    [citation] = [item for item in report["citations"] if item["url"] == daily_star]
    assert lines[at + 1].startswith(f"    -> {citation['capture']['record_id']} ")
    prov = invoke_archiver("provenance", report["record"]["record_id"], "--home", str(home), "--prov")
    assert prov.returncode == 0
    document = ProvDocument.deserialize(content=prov.stdout, format="json")
    assert any(str(record.identifier) == "archiver:capture/" + report["capture_event"]["capture_id"]
               for record in document.get_records())
