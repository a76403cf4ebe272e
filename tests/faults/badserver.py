"""A deliberately misbehaving loopback HTTP server.

Raw sockets and one thread per connection, so a route can send anything: a reset mid-body, headers
and then nothing, a Content-Length that lies, broken chunked framing, 10,000 headers, a 1 MB header
line, compression bombs, an endless body, invalid status lines. ``server.route(path, behaviour)``;
a behaviour gets the connected socket and writes whatever it likes. Behaviours that stall wait on
``server.closing`` (set by :meth:`BadServer.close`), never on a clock, so nothing outlives a test.
"""

from __future__ import annotations

import socket
import struct
import threading
import zlib
from typing import Callable, Iterator

Behaviour = Callable[[socket.socket, "BadServer"], None]
STALL_LIMIT = 60  # seconds a stalling route waits at most, should a test forget to close its server


class BadServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Behaviour] = {}
        self.hits: list[str] = []
        self.closing = threading.Event()
        self.not_http: Behaviour = raw(head("400 Bad Request", length=0))  # what a TLS ClientHello gets
        self.listener = socket.create_server((host, 0), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.port = self.listener.getsockname()[1]
        self.base = f"http://{'[' + host + ']' if ':' in host else host}:{self.port}"
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def route(self, path: str, behaviour: Behaviour) -> str:
        self.routes[path] = behaviour
        return self.base + path

    def _accept(self) -> None:
        while not self.closing.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(connection)
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            try:
                path = read_request(connection)
                if path is None:
                    return
                if path == NOT_HTTP:  # e.g. a TLS ClientHello: by default answered as plain servers do
                    self.not_http(connection, self)
                    return
                self.hits.append(path)
                self.routes.get(path.split("?")[0], not_found)(connection, self)
            except OSError:
                pass  # the client gave up (reset, closed at its deadline or size cap): as it should

    def close(self) -> None:
        self.closing.set()
        self.listener.close()
        for connection in self.connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


NOT_HTTP = "<not http>"


def read_request(connection: socket.socket) -> str | None:
    """The path of the request on ``connection`` (its head read up to the blank line), None if the
    client closed first, ``NOT_HTTP`` if what it sent does not start like an HTTP request."""
    head = b""
    while b"\r\n\r\n" not in head and len(head) < 65536:
        data = connection.recv(4096)
        if not data:
            return None
        head += data
        if not head[:1].isalpha():
            return NOT_HTTP
    parts = head.split(b"\r\n", 1)[0].split(b" ")
    return parts[1].decode("latin-1") if len(parts) >= 2 else "/"


# --- answers ------------------------------------------------------------------------------


def head(status: str = "200 OK", *, headers: list[tuple[str, str]] = (), length: int | None = None,
         content_type: str = "text/html; charset=utf-8", version: str = "HTTP/1.1") -> bytes:
    lines = [f"{version} {status}", f"Content-Type: {content_type}", "Connection: close", *(
        f"{name}: {value}" for name, value in headers)]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def raw(data: bytes) -> Behaviour:
    """Send ``data`` as the whole answer and close."""
    return lambda connection, server: connection.sendall(data)


def ok(body: bytes, content_type: str = "text/html; charset=utf-8") -> Behaviour:
    return raw(head(length=len(body), content_type=content_type) + body)


def not_found(connection: socket.socket, server: BadServer) -> None:
    connection.sendall(head("404 Not Found", length=9, content_type="text/plain") + b"not here\n")


def reset_mid_body(connection: socket.socket, server: BadServer) -> None:
    """Promise 100,000 bytes, send 1,000, then reset the connection (RST, not FIN)."""
    connection.sendall(head(length=100_000, content_type="application/octet-stream") + b"x" * 1000)
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def headers_then_stall(connection: socket.socket, server: BadServer) -> None:
    """Slowloris: the headers and a little body, then nothing until the client gives up."""
    connection.sendall(head(length=1000) + b"<html><body>")
    server.closing.wait(STALL_LIMIT)


def silent(connection: socket.socket, server: BadServer) -> None:
    """Read the request, answer nothing."""
    server.closing.wait(STALL_LIMIT)


def trickle(data: bytes, *, every: float = 0.05) -> Behaviour:
    """One byte at a time, a few a second: each read is quick, the whole is not."""
    def behaviour(connection: socket.socket, server: BadServer) -> None:
        for byte in data:
            connection.sendall(bytes([byte]))
            if server.closing.wait(every):
                return
    return behaviour


def stream(head_bytes: bytes, chunks: Iterator[bytes]) -> Behaviour:
    def behaviour(connection: socket.socket, server: BadServer) -> None:
        connection.sendall(head_bytes)
        for chunk in chunks:
            if server.closing.is_set():
                return
            connection.sendall(chunk)
    return behaviour


def zeros(total: int | None, size: int = 1 << 16) -> Iterator[bytes]:
    """``total`` zero bytes (endless if None), from a generator: never held in memory."""
    block = bytes(size)
    sent = 0
    while total is None or sent < total:
        part = block if total is None else block[: min(size, total - sent)]
        sent += len(part)
        yield part


def chunked(parts: Iterator[bytes]) -> Iterator[bytes]:
    for part in parts:
        yield b"%x\r\n%s\r\n" % (len(part), part)


def redirect(location: str, status: str = "302 Found") -> Behaviour:
    return raw(head(status, headers=[("Location", location)], length=0))


def many_headers(count: int) -> Behaviour:
    extra = "".join(f"X-Header-{n}: {n}\r\n" for n in range(count)).encode()
    return raw(b"HTTP/1.1 200 OK\r\nConnection: close\r\n" + extra + b"Content-Length: 2\r\n\r\nok")


def gzip_bomb(size: int) -> bytes:
    """A single gzip member that inflates to ``size`` zero bytes (about 1,000 times smaller)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    return b"".join(compressor.compress(part) for part in zeros(size, 1 << 20)) + compressor.flush()


def brotli_bomb(size: int) -> bytes:
    import brotli

    compressor = brotli.Compressor(quality=1)
    # Brotli (fastwarc's) calls it process, brotlipy (pywb's, which shadows it when both are installed) compress
    add = getattr(compressor, "process", None) or compressor.compress
    return b"".join(add(part) for part in zeros(size, 1 << 20)) + compressor.finish()


class PlainOnTLS:
    """A plain-HTTP server at an https:// URL (a TLS-less server where TLS is expected)."""

    def __init__(self) -> None:
        self.server = BadServer()
        self.server.route("/", ok(b"<html><body>plain</body></html>"))
        self.url = f"https://127.0.0.1:{self.server.port}/"

    def close(self) -> None:
        self.server.close()
