"""`archiver extract`: a local file parsed as captures are, nothing archived."""

from __future__ import annotations

import json
import subprocess
import sys

import requests

from .conftest import invoke_archiver


def test_extract_json_from_stdin(site, tmp_path):
    html = requests.get(site.post_url, timeout=10).content
    result = subprocess.run([sys.executable, "-m", "archiver", "extract", "-", "--url", site.post_url, "--json"],
                            input=html, capture_output=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {"url", "captured_at", "title", "author", "published", "updated", "language", "text",
                         "captions", "links", "references", "parser", "warnings"}
    assert data["captured_at"] is None and data["title"] == "2015 Qalamoun Offensive"
    assert set(data["captions"][0]) == {"text", "credit", "image_url"}
    assert {"url", "text", "kind"} <= set(data["links"][0])
    assert set(data["references"][0]) == {"publisher", "title", "language", "url"}
    assert list(tmp_path.iterdir()) == []  # nothing archived, no catalogue


def test_extract_text_output(site, tmp_path):
    page = tmp_path / "post.html"
    page.write_bytes(requests.get(site.post_url, timeout=10).content)
    result = invoke_archiver("extract", str(page), "--url", site.post_url)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Title: 2015 Qalamoun Offensive"
    assert "Captions:" in lines and "References:" in lines


def test_extract_missing_file():
    result = invoke_archiver("extract", "/no/such/file.html")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for 'SOURCE': '/no/such/file.html': No such file or directory")
