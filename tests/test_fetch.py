"""The recording fetcher, over real HTTP on loopback."""

from __future__ import annotations

import hashlib
import socket
import time

import pytest

from archiver.errors import BlockedAddress, ConnectFailed, FetchTimeout, InvalidURL, TooLarge
from archiver.net import Fetcher, Limits, address_is_public, check_url

from .servers import page, send


def fetcher(**limits) -> Fetcher:
    return Fetcher(limits=Limits(**limits))


def recorded(exchange) -> bytes:
    exchange.response.seek(0)
    return exchange.response.read()


def test_records_exact_request_and_response_bytes(server):
    url = server.route("/post", page("<p>hello</p>", headers={"X-Twice": "a"}))
    [exchange] = fetcher().fetch(url, allow_private=True)
    assert exchange.error is None and exchange.status == 200
    assert exchange.request.startswith(b"GET /post HTTP/1.1\r\nHost: 127.0.0.1:")
    assert exchange.request.endswith(b"\r\n\r\n")
    raw = recorded(exchange)
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n") and raw.endswith(b"\r\n\r\n<p>hello</p>")
    assert exchange.response_length == len(raw)
    assert exchange.response_hashes.sha256.hexdigest() == hashlib.sha256(raw).hexdigest()
    assert exchange.payload_hashes.sha256.hexdigest() == hashlib.sha256(b"<p>hello</p>").hexdigest()
    assert ("X-Twice", "a") in exchange.headers
    assert exchange.peer_ip == "127.0.0.1"
    assert exchange.body == b"<p>hello</p>"


def test_chunked_payload_digest_is_taken_after_dechunking(server):
    def chunked(request):
        request.send_response(200)
        request.send_header("Content-Type", "text/html")
        request.send_header("Transfer-Encoding", "chunked")
        request.end_headers()
        for part in (b"<p>one ", b"two ", b"three</p>"):
            request.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        request.wfile.write(b"0\r\n\r\n")

    [exchange] = fetcher().fetch(server.route("/c", chunked), allow_private=True)
    assert b"\r\n7\r\n<p>one \r\n" in recorded(exchange)  # the framing is archived as sent
    assert exchange.payload_hashes.sha256.hexdigest() == hashlib.sha256(b"<p>one two three</p>").hexdigest()


def test_content_encoding_is_kept(server):
    import gzip

    body = gzip.compress(b"<p>zipped</p>")
    url = server.route("/z", lambda r: send(r, 200, body, headers={"Content-Encoding": "gzip"}))
    [exchange] = fetcher().fetch(url, allow_private=True)
    assert exchange.body == body
    assert exchange.payload_hashes.sha256.hexdigest() == hashlib.sha256(body).hexdigest()


def test_each_redirect_hop_is_its_own_exchange(server):
    server.route("/a", page("", 301, headers={"Location": "/b"}))
    server.route("/b", page("", 302, headers={"Location": server.base + "/c"}))
    server.route("/c", page("<p>end</p>"))
    hops = list(fetcher().fetch(server.base + "/a", allow_private=True))
    assert [(h.url.removeprefix(server.base), h.status) for h in hops] == [("/a", 301), ("/b", 302), ("/c", 200)]
    assert all(h.request.startswith(b"GET " + h.url.removeprefix(server.base).encode()) for h in hops)


def test_redirect_limit(server):
    for n in range(5):
        server.route(f"/r{n}", page("", 302, headers={"Location": f"/r{n + 1}"}))
    hops = list(fetcher(max_redirects=2).fetch(server.base + "/r0", allow_private=True))
    assert [h.status for h in hops[:-1]] == [302, 302, 302]
    assert hops[-1].error.kind == "too-many-redirects"
    assert str(hops[-1].error) == (f"{server.base}/r0: more than 2 redirects, stopped before {server.base}/r3 "
                                   "(raise the limit with --max-redirects)")


def test_redirect_loop_is_named(server):
    server.route("/x", page("", 302, headers={"Location": "/y"}))
    server.route("/y", page("", 302, headers={"Location": "/x"}))
    hops = list(fetcher().fetch(server.base + "/x", allow_private=True))
    assert str(hops[-1].error) == f"{server.base}/y: redirect loop back to {server.base}/x"


def test_trickling_server_hits_the_total_deadline(server):
    def trickle(request):
        request.send_response(200)
        request.send_header("Content-Length", "1000")
        request.end_headers()
        for _ in range(1000):  # one byte every 50 ms: each read is quick, the whole is not
            request.wfile.write(b"x")
            request.wfile.flush()
            time.sleep(0.05)

    started = time.monotonic()
    [exchange] = fetcher(total_timeout=0.5, read_timeout=5).fetch(server.route("/t", trickle), allow_private=True)
    assert time.monotonic() - started < 5
    assert isinstance(exchange.error, FetchTimeout)
    assert exchange.truncated == "time"
    assert recorded(exchange).startswith(b"HTTP/1.0 200") or recorded(exchange).startswith(b"HTTP/1.1 200")


def test_body_over_the_limit_is_cut_and_marked(server):
    server.route("/big", lambda r: send(r, 200, b"x" * 300_000, "application/octet-stream"))
    [exchange] = fetcher(max_body=100_000).fetch(server.base + "/big", allow_private=True)
    assert isinstance(exchange.error, TooLarge)
    assert exchange.truncated == "length"
    assert 100_000 < exchange.response_length <= 100_000 + 65536 + 65536


def test_refused_connection():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    [exchange] = fetcher().fetch(f"http://127.0.0.1:{port}/", allow_private=True)
    assert isinstance(exchange.error, ConnectFailed)
    assert not exchange.has_response and exchange.request == b""


def test_unresolvable_host():
    [exchange] = fetcher().fetch("http://no-such-host.invalid/", allow_private=True)
    assert isinstance(exchange.error, ConnectFailed)
    assert "cannot resolve host 'no-such-host.invalid'" in str(exchange.error)


def test_private_addresses_are_refused_for_followed_links(server):
    url = server.route("/p", page("<p>x</p>"))
    [exchange] = fetcher().fetch(url, allow_private=False)
    assert isinstance(exchange.error, BlockedAddress)
    assert server.hits == []  # refused before connecting


def test_typed_url_is_trusted_but_its_redirects_are_not(server):
    server.route("/first", page("", 302, headers={"Location": "/second"}))
    server.route("/second", page("<p>x</p>"))
    hops = list(fetcher().fetch(server.base + "/first", allow_private=False, trust_first=True))
    assert hops[0].status == 302
    assert isinstance(hops[1].error, BlockedAddress)
    assert server.hits == ["/first"]


def test_pooled_connection_is_rechecked(server):
    """A connection opened for a trusted URL must not carry a followed link to the same host."""
    url = server.route("/p", page("<p>x</p>"))
    shared = fetcher()
    [first] = shared.fetch(url, allow_private=False, trust_first=True)
    [second] = shared.fetch(url, allow_private=False)
    assert first.status == 200 and isinstance(second.error, BlockedAddress)
    assert server.hits == ["/p"]


@pytest.mark.parametrize("ip, public", [
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("0.0.0.0", False), ("::1", False), ("fc00::1", False),
    ("::ffff:127.0.0.1", False), ("224.0.0.1", False), ("8.8.8.8", True), ("2001:4860:4860::8888", True),
])
def test_address_is_public(ip, public):
    assert address_is_public(ip) is public


@pytest.mark.parametrize("url, message", [
    ("example.org/post", "'example.org/post' is not a URL: give it with http:// or https://"),
    ("ftp://example.org/x", "'ftp://example.org/x' has the scheme 'ftp': only http and https can be captured"),
    ("http://", "'http://' has no host name"),
    ("http://example.org:99999/", "'http://example.org:99999/' is not a valid URL (Port out of range 0-65535)"),
])
def test_check_url(url, message):
    with pytest.raises(InvalidURL) as error:
        check_url(url)
    assert str(error.value) == message


def test_check_url_drops_the_fragment():
    assert check_url(" https://example.org/a#b ") == "https://example.org/a"


def test_https_records_the_plaintext_exchange(tls_server, monkeypatch):
    url, bundle = tls_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    [exchange] = fetcher().fetch(url, allow_private=True)
    assert exchange.error is None
    assert exchange.request.startswith(b"GET / HTTP/1.1\r\n")
    assert recorded(exchange).startswith(b"HTTP/1.1 200 OK\r\n")
    assert recorded(exchange).endswith(b"<p>secret-free plaintext</p>")
    assert exchange.peer_ip == "127.0.0.1"


def test_untrusted_certificate_is_named(tls_server, monkeypatch):
    url, _ = tls_server
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    [exchange] = fetcher().fetch(url, allow_private=True)
    assert str(exchange.error) == (f"{url}: TLS certificate not trusted (unable to get local issuer certificate); "
                                   "set REQUESTS_CA_BUNDLE to a CA file that trusts it, or capture with --insecure")


def test_connections_are_kept_alive_between_fetches(server):
    peers = []

    def answer(request):
        peers.append(request.client_address)
        send(request, 200, b"<p>again</p>")

    url = server.route("/again", answer)
    one = fetcher()
    for _ in range(3):
        [exchange] = one.fetch(url, allow_private=True)
        assert exchange.error is None and exchange.status == 200
    assert len(peers) == 3 and len(set(peers)) == 1


def test_an_http_proxy_from_the_environment_gets_the_absolute_url(server, monkeypatch):
    server.route("http://archive.example/post", page("<p>via the proxy</p>"))
    monkeypatch.setenv("HTTP_PROXY", server.base)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    [exchange] = fetcher().fetch("http://archive.example/post", allow_private=True)
    assert exchange.error is None and exchange.status == 200
    assert exchange.request.startswith(b"GET http://archive.example/post HTTP/1.1\r\nHost: archive.example\r\n")
    assert server.hits == ["http://archive.example/post"]
    assert exchange.peer_ip == "127.0.0.1" and exchange.body == b"<p>via the proxy</p>"


@pytest.fixture
def tunnel_proxy():
    """A CONNECT proxy on loopback: it reads the CONNECT head, then pipes bytes both ways."""
    import socketserver
    import threading

    connects = []

    class Tunnel(socketserver.BaseRequestHandler):
        def handle(self):
            head = b""
            while b"\r\n\r\n" not in head:
                head += self.request.recv(4096)
            connects.append(head.split(b"\r\n")[0])
            host, port = head.split()[1].decode().rsplit(":", 1)
            upstream = socket.create_connection((host, int(port)))
            self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")

            def pipe(source, sink):
                try:
                    while data := source.recv(65536):
                        sink.sendall(data)
                    sink.shutdown(socket.SHUT_WR)
                except OSError:  # the other side has gone: so does the tunnel
                    pass

            back = threading.Thread(target=pipe, args=(upstream, self.request), daemon=True)
            back.start()
            pipe(self.request, upstream)
            back.join()
            upstream.close()

    proxy = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Tunnel)
    proxy.daemon_threads = True
    threading.Thread(target=proxy.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{proxy.server_address[1]}", connects
    proxy.shutdown()
    proxy.server_close()


def test_https_through_a_connect_proxy_records_only_the_tunnelled_exchange(tls_server, tunnel_proxy, monkeypatch):
    url, bundle = tls_server
    proxy, connects = tunnel_proxy
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    [exchange] = fetcher().fetch(url, allow_private=True)
    assert exchange.error is None and exchange.status == 200
    assert connects == [f"CONNECT {url[8:-1]} HTTP/1.0".encode()]
    assert exchange.request.startswith(b"GET / HTTP/1.1\r\nHost: 127.0.0.1:")
    assert recorded(exchange).startswith(b"HTTP/1.1 200 OK\r\n")
    assert recorded(exchange).endswith(b"<p>secret-free plaintext</p>")


@pytest.mark.parametrize("scheme, variable", [("http", "HTTP_PROXY"), ("https", "HTTPS_PROXY")])
def test_a_dead_proxy_is_named_as_the_proxy(monkeypatch, scheme, variable):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # nothing listens here once the socket is closed
    monkeypatch.setenv(variable, f"http://127.0.0.1:{port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    [exchange] = fetcher().fetch(f"{scheme}://archive.example/post", allow_private=True)
    assert isinstance(exchange.error, ConnectFailed)
    assert str(exchange.error) == (f"{scheme}://archive.example/post: cannot connect to the proxy 127.0.0.1:{port} "
                                   "([Errno 111] Connection refused)")
