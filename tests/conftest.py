from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa
from alembic import command

from archiver import catalogue as cat
from archiver import sample_site

from .servers import ScriptedServer, send

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
def tls_server(tmp_path):
    """An HTTPS server on 127.0.0.1 with a certificate from a throwaway CA: (its URL, the CA's PEM file)."""
    import http.server
    import ssl
    import threading

    import trustme

    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802
            send(self, 200, b"<p>secret-free plaintext</p>")

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    certificate.configure_cert(context)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    yield f"https://127.0.0.1:{httpd.server_port}/", bundle
    httpd.shutdown()
    httpd.server_close()


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


@dataclasses.dataclass
class Invoked:
    """What :func:`invoke_archiver` ran and what came of it: the attributes tests read from a
    CompletedProcess (``returncode``, ``stdout``, ``stderr``)."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str


def help_width() -> int:
    """The width click wraps --help to in a subprocess whose stdout is a pipe: COLUMNS, else
    shutil's fallback of 80, at most 80, less 2 (CliRunner forces 80; the context's own width wins)."""
    columns = os.environ.get("COLUMNS", "")
    columns = int(columns) if columns.isdigit() and int(columns) > 0 else 80
    return max(min(columns, 80) - 2, 50)


@contextlib.contextmanager
def warnings_as_a_new_process():
    """The warning filters a new Python process starts with, a warning printed to sys.stderr (the
    command's, in CliRunner) as Python prints it, instead of pytest's recording them: a warning the
    real command would print is in the stderr a test compares."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))

    with warnings.catch_warnings():
        warnings.resetwarnings()
        warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
            warnings.filterwarnings("ignore", category=category, append=True)
        warnings.showwarning = show
        yield


def invoke_archiver(*args: str, env: dict | None = None, cwd: Path | None = None,
                    input: str | bytes | None = None) -> Invoked:
    """Run the command in this process with click's CliRunner: what :func:`run_archiver` does, less
    the start of a Python process, for the tests where the process itself is not what is tested.

    As run_archiver does, it clears every ARCHIVER_* variable (then sets ``env``), runs in ``cwd``,
    reads an empty stdin (or ``input``) and sees ``archiver ARGS...`` as its command line (which
    capture events and fixity events record). The exit code and stdout and stderr are the command's
    own: ArchiverGroup maps errors to one line and a code itself. Any exception it lets out is
    raised here and fails the test (catch_exceptions=False; a subprocess would print a traceback
    and exit 1). Process-wide state a command touches is put back afterwards: the current
    directory, sys.argv, the SIGINT/SIGTERM handlers, the warning filters. Crash points
    (ARCHIVER_CRASH_AT) kill the process they run in: use run_archiver for those.
    """
    from click.testing import CliRunner

    from archiver.cli import cli

    environment: dict[str, str | None] = {key: None for key in os.environ if key.startswith("ARCHIVER_")}
    environment.update(env or {})
    # archiver.faults reads ARCHIVER_CRASH_AT once, at import: set for pytest, it would kill pytest
    if environment.get("ARCHIVER_CRASH_AT") or os.environ.get("ARCHIVER_CRASH_AT"):
        raise AssertionError("a crash point kills the process it runs in: use run_archiver")
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    argv, here = sys.argv, os.getcwd()
    runner = CliRunner()  # click >= 8.2: stdout and stderr kept apart
    try:
        if cwd is not None:
            os.chdir(cwd)
        sys.argv = ["archiver", *args]  # as `python -m archiver ARGS` sees them (cli.command_line reads them)
        with warnings_as_a_new_process():
            result = runner.invoke(cli, list(args), input=input, env=environment, prog_name="archiver",
                                   catch_exceptions=False, terminal_width=help_width())
    finally:
        sys.argv = argv
        os.chdir(here)
        for sig, handler in handlers.items():
            with contextlib.suppress(ValueError, TypeError):
                if signal.getsignal(sig) is not handler:
                    signal.signal(sig, handler)
    return Invoked(args=list(args), returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)


@contextlib.contextmanager
def older_catalogue(url: str, revision: str) -> Iterator[tuple[sa.Connection, dt.datetime]]:
    """A catalogue created at an older ``revision`` holding one capture event (id 1): the transaction
    that adds the test's rows of that revision, and the time to give them."""
    engine = cat.create_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(cat.alembic_config(connection), revision)
            now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
            connection.execute(sa.text(
                "INSERT INTO capture_events (id, uuid, started_at, outcome, tool, tool_version, operator, hostname, "
                "pid, command, seeds, settings) VALUES (1, 'e', :now, 'complete', 'archiver', '0', 'o', 'h', 1, 'c', "
                "'[]', '{}')"), {"now": now})
            yield connection, now
    finally:
        engine.dispose()


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
