"""The bundled sample site: a 2015 Blogger post and the pages it cites, served on loopback.

Four small HTTP/1.1 servers, one per host name in :data:`HOSTS`, serve the files under
``files/<host>/``. Pages name hosts by placeholders such as ``{{sohr}}``, which are replaced,
as bytes, by the base URL of that host (``http://127.0.0.4:41234``) when the site starts.
A few URLs behave like the real sites did: the Al Jazeera article answers through a 301 from
its old address and is sent chunked, the Daily Star article is gzip-encoded for clients that
accept it, and the Arabic SOHR page is windows-1256. ``manifest.json`` says what a correct
crawler of the post fetches and what it leaves alone; :meth:`SampleSite.manifest` expands it.
Its ``constructs`` part does the same for a second post, :data:`CONSTRUCTS_PATH`, which loads
images, fonts, a frame and media in every way a page can without scripts. Each server counts the
requests it answers (:meth:`SampleSite.requests`).
"""

from __future__ import annotations

import collections
import gzip
import hashlib
import json
import re
import socket
import socketserver
import sys
import threading
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, cast
from urllib.parse import urlsplit

HOSTS: dict[str, str] = {
    "blog": "127.0.0.1",
    "dailystar": "127.0.0.2",
    "aljazeera": "127.0.0.3",
    "sohr": "127.0.0.4",
}
FILES_DIR = Path(__file__).with_name("files")
MANIFEST_PATH = Path(__file__).with_name("manifest.json")
POST_PATH = "/2015/05/2015-qalamoun-offensive.html"
CONSTRUCTS_PATH = "/2015/06/constructs.html"

#: ``Server`` header of each host, as the real sites sent it in 2015.
_SOFTWARE = {
    "blog": "GSE",
    "dailystar": "Microsoft-IIS/7.5",
    "aljazeera": "Microsoft-IIS/8.5",
    "sohr": "Apache/2.2.29 (Unix)",
}
_AJE_ARTICLE = "/news/2015/05/nasrallah-declares-victory-syria-qalamoun-150516181543283.html"
#: host -> {old path: new path} answered with 301 Moved Permanently.
_REDIRECTS = {
    "aljazeera": {
        "/news/middleeast/2015/05/nasrallah-declares-victory-syria-qalamoun-150516181543283.html": _AJE_ARTICLE
    }
}
#: host -> paths sent with Transfer-Encoding: chunked.
_CHUNKED = {"aljazeera": {_AJE_ARTICLE}}
#: host -> paths sent gzip-encoded to clients whose Accept-Encoding names gzip.
_GZIPPED = {"dailystar": {"/News/Lebanon-News/2015/May-06/296988-hezbollah-assault-on-qalamoun-ruled-out.ashx"}}
_CHUNK_SIZE = 1024
_POLL_INTERVAL = 0.05  # seconds; bounds how long close() waits for each server loop
_TYPES = {
    ".html": "text/html",
    ".ashx": "text/html",
    ".css": "text/css",
    ".js": "application/javascript",
    ".txt": "text/plain",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".gif": "image/gif",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
    ".mp4": "video/mp4",
    ".mp3": "audio/mpeg",
    ".vtt": "text/vtt",
}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([\w-]+)""", re.IGNORECASE)


@dataclass(frozen=True)
class _Resource:
    """One static file, rendered for this run of the site."""

    body: bytes
    content_type: str
    last_modified: str
    etag: str
    gzipped: bytes | None = None
    chunked: bool = False


def _content_type(path: Path, body: bytes) -> str:
    """Media type of a file from its suffix; text types carry a charset (HTML: from its <meta>)."""
    media = _TYPES[path.suffix]
    if media == "text/html":
        found = _META_CHARSET.search(body[:1024])
        return f"{media}; charset={found.group(1).decode('ascii').lower() if found else 'utf-8'}"
    return f"{media}; charset=utf-8" if media.startswith("text/") or media.endswith("javascript") else media


def _load(host: str, replacements: dict[bytes, bytes]) -> dict[str, _Resource]:
    """Read and render every file of one host, keyed by URL path."""
    root = FILES_DIR / host
    resources = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        body = path.read_bytes()
        for placeholder, base in replacements.items():
            body = body.replace(placeholder, base)
        url_path = "/" + path.relative_to(root).as_posix()
        resources[url_path] = _Resource(
            body=body,
            content_type=_content_type(path, body),
            last_modified=formatdate(path.stat().st_mtime, usegmt=True),
            etag='"%s"' % hashlib.sha1(body).hexdigest()[:16],
            gzipped=gzip.compress(body, mtime=0) if url_path in _GZIPPED.get(host, ()) else None,
            chunked=url_path in _CHUNKED.get(host, ()),
        )
    return resources


def _html_page(title: str, text: str) -> bytes:
    """A small HTML page for error and redirect responses."""
    return (
        f"<!DOCTYPE html>\n<html><head><title>{title}</title></head>"
        f"<body><h1>{title}</h1><p>{text}</p></body></html>\n"
    ).encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    """Serves one host's files over keep-alive HTTP/1.1; GET and HEAD only."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: _HostServer

    def version_string(self) -> str:
        return self.server.software

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - name set by the base class
        """Log nothing: the site serves tests and demos."""

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def _respond(self, *, send_body: bool) -> None:
        with self.server.requested_lock:
            self.server.requested[self.path] += 1
        path = urlsplit(self.path).path
        if path.endswith("/"):
            path += "index.html"
        target = self.server.redirects.get(path)
        if target is not None:
            location = self.server.base + target
            body = _html_page("301 Moved Permanently", f'The document has moved <a href="{location}">here</a>.')
            self._send_simple(301, body, send_body, location=location)
            return
        resource = self.server.resources.get(path)
        if resource is None:
            body = _html_page("404 Not Found", "The requested URL was not found on this server.")
            self._send_simple(404, body, send_body)
            return
        self._send_resource(resource, send_body)

    def _send_simple(self, status: int, body: bytes, send_body: bool, location: str | None = None) -> None:
        self.send_response(status)
        if location is not None:
            self.send_header("Location", location)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _send_resource(self, resource: _Resource, send_body: bool) -> None:
        body, etag = resource.body, resource.etag
        gzipped = resource.gzipped if "gzip" in self.headers.get("Accept-Encoding", "") else None
        if gzipped is not None:
            body, etag = gzipped, etag[:-1] + '-gzip"'
        self.send_response(200)
        self.send_header("Content-Type", resource.content_type)
        self.send_header("Last-Modified", resource.last_modified)
        self.send_header("ETag", etag)
        if resource.gzipped is not None:
            self.send_header("Vary", "Accept-Encoding")
        if gzipped is not None:
            self.send_header("Content-Encoding", "gzip")
        if resource.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not send_body:
            return
        if resource.chunked:
            for start in range(0, len(body), _CHUNK_SIZE):
                chunk = body[start : start + _CHUNK_SIZE]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(body)


class _HostServer(ThreadingHTTPServer):
    """The server of one host; remembers its open connections so close() can end them."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], software: str) -> None:
        self.software = software
        self.base = ""
        self.resources: dict[str, _Resource] = {}
        self.redirects: dict[str, str] = {}
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self.requested: collections.Counter[str] = collections.Counter()  # request target -> requests
        self.requested_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS lookup of the address, which can be slow."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = cast("tuple[str, int]", self.server_address[:2])  # AF_INET: (host, port)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client drops its connection; report anything else."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """End the open keep-alive connections, so their handler threads finish."""
        with self._connections_lock:
            for connection in self._connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@dataclass
class SampleSite:
    """A running sample site; close it (or use it as a context manager) to stop the servers."""

    bases: dict[str, str]
    post_url: str
    _servers: list[_HostServer] = field(default_factory=list, repr=False)

    def url(self, template: str) -> str:
        """Expand the host placeholders of ``template``: ``"{{sohr}}/en/"`` -> ``"http://127.0.0.4:PORT/en/"``."""
        for name, base in self.bases.items():
            template = template.replace("{{%s}}" % name, base)
        return template

    def requests(self, url: str) -> int:
        """How many requests for ``url`` (its path and query) its host's server has answered."""
        parts = urlsplit(url)
        for server in self._servers:
            if server.base == f"{parts.scheme}://{parts.netloc}":
                with server.requested_lock:
                    return server.requested[parts.path + (f"?{parts.query}" if parts.query else "")]
        raise ValueError(f"{url} is not a URL of the sample site")

    def manifest(self) -> dict[str, Any]:
        """``manifest.json`` with every placeholder expanded for this run."""
        manifest: dict[str, Any] = json.loads(self.url(MANIFEST_PATH.read_text(encoding="utf-8")))
        return manifest

    def close(self) -> None:
        """Stop every server, end open connections and free the ports. Safe to call twice."""
        for server in self._servers:
            server.shutdown()
            server.close_connections()
            server.server_close()
        self._servers.clear()

    def __enter__(self) -> SampleSite:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def serve(*, port: int = 0) -> SampleSite:
    """Start one server per host, each on (its loopback IP, ``port``); port 0 picks a free port per host.

    Returns once every server is listening; the servers run in daemon threads.
    """
    servers: dict[str, _HostServer] = {}
    try:
        for name, ip in HOSTS.items():
            servers[name] = _HostServer((ip, port), _SOFTWARE[name])
    except OSError:
        for server in servers.values():
            server.server_close()
        raise
    bases = {name: f"http://{HOSTS[name]}:{server.server_address[1]}" for name, server in servers.items()}
    replacements = {("{{%s}}" % name).encode("ascii"): base.encode("ascii") for name, base in bases.items()}
    for name, server in servers.items():
        server.base = bases[name]
        server.resources = _load(name, replacements)
        server.redirects = _REDIRECTS.get(name, {})
        threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": _POLL_INTERVAL},
            name=f"sample-site-{name}",
            daemon=True,
        ).start()
    return SampleSite(bases=bases, post_url=bases["blog"] + POST_PATH, _servers=list(servers.values()))
