from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from archiver import sample_site

from .servers import ScriptedServer

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def site():
    """The bundled sample site, served on 127.0.0.1-4 for the whole session."""
    with sample_site.serve() as served:
        yield served


@pytest.fixture(scope="session")
def manifest(site):
    """The sample site's manifest with every {{host}} placeholder expanded."""
    raw = (Path(sample_site.__file__).parent / "manifest.json").read_text(encoding="utf-8")
    for name, base in site.bases.items():
        raw = raw.replace("{{%s}}" % name, base)
    return json.loads(raw)


@pytest.fixture
def server():
    scripted = ScriptedServer()
    yield scripted
    scripted.close()


@pytest.fixture
def home(tmp_path):
    return tmp_path / "collection"


def run_archiver(*args: str, env: dict | None = None, cwd: Path | None = None,
                 timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real command in a subprocess, as a user would."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")}
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "archiver", *args], capture_output=True, text=True,
                          env=environment, cwd=cwd, timeout=timeout, stdin=subprocess.DEVNULL)


def tool(name: str) -> str:
    """A console script installed beside this Python (warcio, fastwarc, archiver)."""
    path = Path(sys.executable).parent / name
    assert path.exists(), f"{name} is not installed in {path.parent}: install '.[test]'"
    return str(path)


def assert_warcs_valid(snapshots: Path) -> None:
    """Every WARC in ``snapshots`` passes warcio check and fastwarc check, and none is left open.

    warcio hashes a chunked body with its chunk framing (warcio issues #74/#75) where WARC 1.1
    section 6.3.2 says the payload is taken after removing the transfer encoding, so a chunked
    response it flags passes here only if its digest is the de-chunked body's.
    """
    import re

    from archiver.warc import read_record

    assert list(snapshots.glob("*.open")) == []
    for path in snapshots.glob("*.warc.gz"):
        check = subprocess.run([tool("warcio"), "check", "-v", str(path)], capture_output=True, text=True)
        assert "block digest failed" not in check.stdout, check.stdout
        for offset in re.findall(r"offset (\d+) WARC-Record-ID \S+ \w+\n\s+payload digest failed", check.stdout):
            facts = read_record(path, int(offset))
            assert facts.payload_digest_ok is True and facts.block_digest_ok is True
            with open(path, "rb") as fh:
                from warcio.archiveiterator import ArchiveIterator

                fh.seek(int(offset))
                record = next(iter(ArchiveIterator(fh)))
                assert record.http_headers.get_header("Transfer-Encoding") == "chunked", check.stdout
        fast = subprocess.run([tool("fastwarc"), "check", "-q", str(path)], capture_output=True, text=True)
        assert fast.returncode == 0, fast.stdout + fast.stderr
