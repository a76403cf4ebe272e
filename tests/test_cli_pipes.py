"""A reader that goes away (`archiver ... | head -1`) ends any command quietly, exit 141."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from archiver import catalogue as cat

from .conftest import invoke_archiver
from .servers import ScriptedServer, page, send

CITED = 40
PIPE_SIZE = 4096  # the least a pipe holds: every command below writes more than this after its first line


def post_html() -> str:
    images = "".join(f'<img src="/image-{n}.png">' for n in range(CITED))
    links = "".join(f'<p>Needle {n} cites <a href="/cited-{n}.html">source number {n}</a>.</p>' for n in range(CITED))
    return f"<html><head><title>Post</title></head><body><article>{links}{images}</article></body></html>"


@pytest.fixture
def many_links(server):
    return serve_many_links(server)


def serve_many_links(server: ScriptedServer) -> str:
    server.route("/post", page(post_html()))
    for n in range(CITED):
        server.route(f"/cited-{n}.html", page(f"<html><head><title>Cited {n}</title></head><body><article><p>The "
                                              f"needle of page {n}, cited by the post.</p></article></body></html>"))
        server.route(f"/image-{n}.png", lambda request, n=n: send(request, 200, b"\x89PNG" + bytes([n]), "image/png"))
    return server.base + "/post"


def first_line_then_close(*args: str) -> tuple[int, bytes, str]:
    """Run ``archiver ARGS`` writing to a small pipe; read its first line, close the pipe, wait."""
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")}
    try:
        process = subprocess.Popen([sys.executable, "-m", "archiver", *args], stdout=write_end,
                                   stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=environment)
    finally:
        os.close(write_end)
    line = b""
    with os.fdopen(read_end, "rb", buffering=0) as reader:
        while not line.endswith(b"\n"):
            byte = reader.read(1)
            assert byte, "the command ended before its first line"
            line += byte
    _, err = process.communicate(timeout=120)
    return process.returncode, line, err.decode()


def test_capture_output_cut_short_ends_quietly_with_everything_catalogued(many_links, home):
    returncode, line, err = first_line_then_close("capture", many_links, "--home", str(home), "--allow-private",
                                                  "--nl")
    assert (returncode, err) == (141, "")
    assert b'"role": "post"' in line
    engine = sa.create_engine(f"sqlite:///{home / 'archiver.db'}")
    with engine.connect() as connection:
        [outcome] = connection.execute(sa.select(cat.capture_events.c.outcome)).scalars()
        responses = set(connection.execute(sa.select(cat.records.c.target_uri)
                                           .where(cat.records.c.record_type == "response")).scalars())
    engine.dispose()
    base = many_links.removesuffix("/post")
    expected = {many_links} | {f"{base}/{name}-{n}.{ext}" for name, ext in (("cited", "html"), ("image", "png"))
                               for n in range(CITED)}
    assert outcome == "complete"
    assert responses - expected == {f"{base}/robots.txt"}


@pytest.fixture(scope="module")
def captured(tmp_path_factory):
    """The post and its 80 links captured once for the read commands below, which only read."""
    server = ScriptedServer()
    url = serve_many_links(server)
    home = tmp_path_factory.mktemp("pipes") / "collection"
    result = invoke_archiver("capture", url, "--home", str(home), "--allow-private")
    assert result.returncode == 0, result.stderr
    yield url, home
    server.close()


@pytest.mark.parametrize("command", [["show", "{url}", "--nl"], ["search", "needle", "--nl", "--limit", "100"],
                                     ["export"], ["export", "--format", "cdxj"]])
def test_read_output_cut_short_ends_quietly(captured, command):
    url, home = captured
    args = [part.replace("{url}", url) for part in command]
    returncode, line, err = first_line_then_close(*args, "--home", str(home))
    assert (returncode, err) == (141, "")
    assert line
