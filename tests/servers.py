"""A loopback HTTP server whose answers the tests script, path by path."""

from __future__ import annotations

import hashlib
import http.server
import sys
import threading
import traceback
from typing import Callable

Handler = Callable[[http.server.BaseHTTPRequestHandler], None]
POLL_INTERVAL = 0.05  # how soon serve_forever sees a shutdown (its default, 0.5 s, is paid at every close)


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """As socketserver reports a handler's exception, but on the process's own stderr (pytest still
        shows it with the test): sys.stderr is the command's own output while invoke_archiver runs one."""
        print(f"Exception occurred during processing of request from {client_address}", file=sys.__stderr__)
        traceback.print_exc(file=sys.__stderr__)


class ScriptedServer:
    """``server.route("/path", handler)``; handlers write the raw answer themselves."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Handler] = {}
        self.hits: list[str] = []
        routes, hits = self.routes, self.hits

        class _Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                hits.append(self.path)
                handler = routes.get(self.path.split("?")[0])
                if handler is None:
                    send(self, 404, b"not here", "text/plain")
                else:
                    handler(self)

            def log_message(self, *args) -> None:
                pass

        self.httpd = _Server((host, 0), _Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://{host}:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": POLL_INTERVAL},
                                       daemon=True)
        self.thread.start()

    def route(self, path: str, handler: Handler) -> str:
        self.routes[path] = handler
        return self.base + path

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def send(request: http.server.BaseHTTPRequestHandler, status: int, body: bytes,
         content_type: str = "text/html; charset=utf-8", headers: dict[str, str] | None = None) -> None:
    request.send_response(status)
    request.send_header("Content-Type", content_type)
    request.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        request.send_header(name, value)
    request.end_headers()
    request.wfile.write(body)


def page(html: str, status: int = 200, **kwargs) -> Handler:
    return lambda request: send(request, status, html.encode("utf-8"), **kwargs)


def conditional(body: bytes, content_type: str) -> Handler:
    """``body`` with an ETag, answering 304 Not Modified to a request whose If-None-Match is it."""
    etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'

    def answer(request: http.server.BaseHTTPRequestHandler) -> None:
        if request.headers.get("If-None-Match") == etag:
            request.send_response(304)
            request.send_header("ETag", etag)
            request.end_headers()
        else:
            send(request, 200, body, content_type, headers={"ETag": etag})

    return answer
