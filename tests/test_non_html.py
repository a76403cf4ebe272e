"""A post that is not an HTML page (a PDF, an image): show, diff and history say what they can."""

from __future__ import annotations

import hashlib
import json

import pytest

from .conftest import invoke_archiver
from .servers import send

FIRST, SECOND = b"%PDF-1.4 first version\n%%EOF\n", b"%PDF-1.4 the second version\n%%EOF\n"


@pytest.fixture
def pdf(server, home):
    """A PDF captured three times: as FIRST, then SECOND, then SECOND again."""
    served = {"body": FIRST}
    url = server.route("/paper.pdf", lambda request: send(request, 200, served["body"], "application/pdf"))
    for body in (FIRST, SECOND, SECOND):
        served["body"] = body
        result = invoke_archiver("capture", url, "--home", str(home), "--allow-private")
        assert result.returncode == 0, result.stderr
    return url


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_show_tells_type_size_digest_and_versions(pdf, home):
    result = invoke_archiver("show", pdf, "--home", str(home), "--json")
    assert (result.returncode, result.stderr) == (0, "")
    data = json.loads(result.stdout)
    history = json.loads(invoke_archiver("history", pdf, "--home", str(home), "--json").stdout)
    assert data == {"url": pdf, "captured_at": history[-1]["captured_at"], "record_id": history[-1]["record_id"],
                    "content_type": "application/pdf", "size": len(SECOND), "payload_sha256": sha256(SECOND),
                    "versions": 2}
    table = invoke_archiver("show", pdf, "--home", str(home))
    assert (table.returncode, table.stderr) == (0, "")
    assert table.stdout == (
        f"Captured: {data['captured_at']} ({data['record_id']})\n"
        f"Not an HTML page: application/pdf, {len(SECOND)} bytes, archived whole\n"
        f"Payload sha256: {sha256(SECOND)}\n"
        "Versions: 2 (captures whose payload differs from the one before; see `archiver history`)\n")


def test_history_tells_the_versions_by_payload_digest(pdf, home):
    result = invoke_archiver("history", pdf, "--home", str(home), "--json")
    assert result.returncode == 0
    assert [(row["record_type"], row["change"], row["payload_sha256"]) for row in json.loads(result.stdout)] == [
        ("response", "new", sha256(FIRST)), ("response", "replaced", sha256(SECOND)),
        ("revisit", "unchanged", sha256(SECOND))]


def test_diff_compares_payload_digests(pdf, home):
    history = json.loads(invoke_archiver("history", pdf, "--home", str(home), "--json").stdout)
    result = invoke_archiver("diff", pdf, "--home", str(home), "--json")
    assert (result.returncode, result.stderr) == (0, "")
    side = [{"captured_at": row["captured_at"], "record_id": row["record_id"], "content_type": "application/pdf",
             "payload_sha256": row["payload_sha256"]} for row in history]
    assert json.loads(result.stdout) == {"url": pdf, "compared": "payload", "from": side[0], "to": side[2],
                                         "changed": True}
    table = invoke_archiver("diff", pdf, "--home", str(home))
    assert table.stdout == (
        f"{pdf}: {side[0]['captured_at']} -> {side[2]['captured_at']}\n"
        f"Not an HTML page (application/pdf): the bytes changed, payload sha256 {sha256(FIRST)} -> "
        f"{sha256(SECOND)} (no word diff).\n")
    same = invoke_archiver("diff", pdf, "--from", side[1]["captured_at"], "--home", str(home))
    assert (same.returncode, same.stdout) == (0, (
        f"{pdf}: {side[1]['captured_at']} -> {side[2]['captured_at']}\n"
        f"Not an HTML page (application/pdf): the same bytes, payload sha256 {sha256(SECOND)}.\n"))
