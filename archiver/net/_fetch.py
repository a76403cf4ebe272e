"""Fetch one URL, recording the exact bytes on the wire.

urllib3 -> http.client do the HTTP; requests' adapter sets up each origin's
connection pool once (proxies, CA bundle) and requests' URL preparation gives
the bytes of the request line, but a request then goes straight to its pool
(:class:`_Transport`). The connection classes here tee every byte sent and
every byte the response parser consumes into an :class:`Exchange`, so the WARC
records hold what crossed the wire, not a reconstruction. The same classes
enforce what urllib3 and requests cannot:

* the address actually connected to is checked against the private-address
  policy (no DNS rebinding between check and connect);
* a wall-clock deadline per resource (urllib3's timeouts bound each socket
  read, so a server trickling a byte a second would never time out);
* a cap on the bytes of a response.

Each redirect hop is its own exchange (its own request/response pair).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import http.client
import io
import ipaddress
import re
import socket
import ssl
import tempfile
import threading
import time
import urllib.parse
from typing import IO, Any, Callable, Generator, Mapping, cast

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from ..config import DEFAULT_USER_AGENT
from ..errors import (
    BlockedAddress,
    ConnectFailed,
    FetchError,
    FetchTimeout,
    InvalidURL,
    ProtocolFailure,
    RefusedURL,
    TooLarge,
    TooManyRedirects,
)
from ..warc import Hashes, dechunked

SPOOL_IN_MEMORY = 1 << 20
MAX_HEAD = 1 << 16
READ_SIZE = 1 << 16
MAX_URL = 8192  # what servers take in a request line (Apache 8190, nginx 8k); WARC readers choke on longer



def media_type(content_type: str | None) -> str | None:
    """The media type of a Content-Type header, lower case, without parameters (None without a header)."""
    return content_type.split(";")[0].strip().lower() if content_type else None

@dataclasses.dataclass(frozen=True, kw_only=True)
class Limits:
    """Bounds on one fetch. Times in seconds, sizes in bytes."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 120.0
    max_body: int = 100 * 1024 * 1024
    max_redirects: int = 10
    user_agent: str = DEFAULT_USER_AGENT
    digest: str = "sha256"
    verify_tls: bool = True  # False: HTTPS certificates are not checked (--insecure)


@dataclasses.dataclass(kw_only=True)
class Exchange:
    """One request and its response, as they crossed the wire."""

    url: str
    started_at: dt.datetime
    request: bytes = b""
    response: IO[bytes] = dataclasses.field(
        default_factory=lambda: tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY)
    )
    response_length: int = 0
    response_hashes: "Hashes" = None  # type: ignore[assignment]
    payload_hashes: "Hashes" = None  # type: ignore[assignment]
    payload_offset: int = 0
    peer_ip: str | None = None
    status: int | None = None
    reason: str = ""
    headers: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    truncated: str | None = None  # WARC-Truncated reason: length, time, disconnect
    error: FetchError | None = None
    body: bytes | None = None  # transfer-decoded payload, kept only for HTML
    ended_at: dt.datetime | None = None
    tls_verified: bool | None = None  # for https: whether the certificate was checked

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    @property
    def content_type(self) -> str | None:
        return media_type(self.header("content-type"))

    @property
    def location(self) -> str | None:
        """Absolute redirect target, for 3xx responses with a Location."""
        target = self.header("location")
        if self.status and 300 <= self.status < 400 and target:
            return urllib.parse.urljoin(self.url, target.strip())
        return None

    @property
    def has_response(self) -> bool:
        return self.response_length > 0



def check_url(url: str) -> str:
    """Return ``url`` if it is an absolute http(s) URL with a host, else raise InvalidURL."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise InvalidURL(f"{url!r} is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        if not parts.scheme:
            raise InvalidURL(f"{url!r} is not a URL: give it with http:// or https://")
        raise InvalidURL(f"{url!r} has the scheme {parts.scheme!r}: only http and https can be captured")
    if not parts.hostname:
        raise InvalidURL(f"{url!r} has no host name")
    _check_host_agrees(url, parts.hostname)
    return quote_unsafe(urllib.parse.urlunsplit(parts._replace(fragment="")))


_UNSAFE = re.compile(r'[\x00-\x20\x7f"<>\\^`{|}]')


def quote_unsafe(url: str) -> str:
    """Percent-encode, in the path, query and fragment, the ASCII characters a URI may not hold
    (controls, space, quotes, ``<>\\^`{|}``), as requests does when it sends them: the URL
    catalogued and written as WARC-Target-URI is then the one requested, and a valid URI."""
    parts = urllib.parse.urlsplit(url)
    fix = functools.partial(_UNSAFE.sub, lambda match: f"%{ord(match.group()):02X}")
    return urllib.parse.urlunsplit(parts._replace(path=fix(parts.path), query=fix(parts.query),
                                                  fragment=fix(parts.fragment)))


def _check_host_agrees(url: str, hostname: str) -> None:
    """Refuse a URL whose host urllib.parse reads differently from urllib3, which connects.

    ``http://127.0.0.1:6666\\@example.org/`` names example.org to urlsplit, but requests
    connects to 127.0.0.1: archived as it stands, the record would file 127.0.0.1's answer
    under example.org.
    """
    def host(text: str) -> str:  # as urllib3 reads it (IDNA-encoded, lower case, no brackets)
        return (urllib3.util.parse_url(text).host or "").strip("[]").lower()

    try:
        connects_to = host(url.strip())
        named = hostname.lower() if hostname.isascii() else host(f"http://{hostname}/")
    except urllib3.exceptions.LocationParseError as exc:
        raise InvalidURL(f"{url!r} is not a valid URL ({exc})") from None
    if connects_to != named:
        raise InvalidURL(f"{url!r} names the host {hostname!r}, but a connection would go to "
                         f"{connects_to!r}: refused")


def address_is_public(ip: str) -> bool:
    """True for globally routable unicast addresses (IPv4-mapped IPv6 checked as IPv4)."""
    addr = ipaddress.ip_address(ip.split("%")[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_global and not addr.is_multicast


# --- recording connections ---------------------------------------------------------

_current = threading.local()


@dataclasses.dataclass(kw_only=True)
class _Context:
    """What the connection classes need to know about the fetch in progress."""

    exchange: Exchange
    limits: Limits
    allow_private: bool
    deadline: float

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def check_peer(self, ip: str) -> None:
        if not self.allow_private and not address_is_public(ip):
            raise BlockedAddress(
                f"{self.exchange.url} resolves to the non-public address {ip}; "
                "pass --allow-private to follow links to such addresses"
            )


class _RecordingReader:
    """Wraps http.client's socket file: tees every consumed byte into the exchange."""

    def __init__(self, fp: io.BufferedReader, sock: socket.socket, ctx: _Context) -> None:
        self._fp = fp
        self._sock = sock
        self._ctx = ctx
        self._timeout: float | None = None  # what the socket's timeout was last set to

    def _before_read(self) -> None:
        remaining = self._ctx.remaining()
        if remaining <= 0:
            raise FetchTimeout(
                f"{self._ctx.exchange.url}: gave up after the total time limit of "
                f"{self._ctx.limits.total_timeout:g}s"
            )
        timeout = min(self._ctx.limits.read_timeout, remaining)
        # settimeout releases the GIL: call it only when the deadline tightens the bound
        if self._timeout is None or timeout < self._timeout - 0.05:
            self._sock.settimeout(timeout)
            self._timeout = timeout

    def _record(self, data: bytes | memoryview) -> None:
        if not data:
            return
        exchange = self._ctx.exchange
        exchange.response.write(data)
        exchange.response_hashes.update(data)
        exchange.response_length += len(data)
        # the status line and headers may take 64 KiB; the body max_body after them
        allowed = (exchange.payload_offset or MAX_HEAD) + self._ctx.limits.max_body
        if exchange.response_length > allowed:
            raise TooLarge(
                f"{exchange.url}: response larger than the limit of "
                f"{self._ctx.limits.max_body} bytes (raise it with --max-size)"
            )

    # Every method below does at most one socket read between deadline checks:
    # BufferedReader's own read/readline loop over the socket until satisfied,
    # which would let a server trickling bytes outlive the deadline.

    def read(self, amt: int | None = -1) -> bytes:
        out = bytearray()
        while amt is None or amt < 0 or len(out) < amt:
            self._before_read()
            data = self._fp.read1(READ_SIZE if amt is None or amt < 0 else amt - len(out))
            if not data:
                break
            self._record(data)
            out += data
        return bytes(out)

    def read1(self, amt: int = -1) -> bytes:
        self._before_read()
        data = self._fp.read1(amt)
        self._record(data)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:
        self._before_read()
        count = self._fp.readinto1(buffer)
        self._record(memoryview(buffer)[:count])
        return count

    def readline(self, limit: int = -1) -> bytes:
        out = bytearray()
        while limit < 0 or len(out) < limit:
            self._before_read()
            available = self._fp.peek(1)
            if not available:
                break
            end = available.find(b"\n")
            take = len(available) if end < 0 else end + 1
            if limit >= 0:
                take = min(take, limit - len(out))
            data = self._fp.read(take)
            self._record(data)
            out += data
            if data.endswith(b"\n"):
                break
        return bytes(out)

    def peek(self, n: int = 0) -> bytes:
        return self._fp.peek(n)

    def close(self) -> None:
        self._fp.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fp, name)


class _RecordingResponse(http.client.HTTPResponse):
    def __init__(self, ctx: _Context, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        self.fp = _RecordingReader(self.fp, sock, ctx)  # type: ignore[assignment]  # stands in for the BufferedReader


class _RecordingMixin:
    """Shared by the HTTP and HTTPS connection classes."""

    peer_ip: str | None = None
    response_class: type[http.client.HTTPResponse]  # HTTPConnection's

    def _new_conn(self) -> socket.socket:
        ctx: _Context = _current.context
        host, port = self._dns_host, self.port  # type: ignore[attr-defined]
        what = "the proxy " if getattr(self, "proxy", None) else ""  # set when this connection goes to one
        try:
            infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise ConnectFailed(f"{ctx.exchange.url}: cannot resolve {what or 'host '}{host!r} ({exc})") from None
        last_error: Exception | None = None
        for family, kind, proto, _, address in infos:
            ctx.check_peer(str(address[0]))  # an IP address: getaddrinfo of an Internet host
            sock = socket.socket(family, kind, proto)
            try:
                for option in self.socket_options or ():  # type: ignore[attr-defined]
                    sock.setsockopt(*option)
                remaining = ctx.remaining()
                if remaining <= 0:
                    raise socket.timeout("total time limit")
                sock.settimeout(min(ctx.limits.connect_timeout, remaining))
                sock.connect(address)
            except OSError as exc:
                sock.close()
                last_error = exc
                continue
            self.peer_ip = ctx.exchange.peer_ip = str(address[0])
            return sock
        if isinstance(last_error, socket.timeout):
            raise FetchTimeout(f"{ctx.exchange.url}: connection to {what}{host} timed out")
        raise ConnectFailed(f"{ctx.exchange.url}: cannot connect to {what}{host}:{port} ({last_error})")

    def putrequest(self, *args: Any, **kwargs: Any) -> None:
        ctx: _Context = _current.context
        if self.peer_ip is not None:
            ctx.check_peer(self.peer_ip)  # a pooled connection may come from an allowed fetch
            ctx.exchange.peer_ip = self.peer_ip
        self.response_class = functools.partial(_RecordingResponse, ctx)  # type: ignore[assignment]  # called as the class is
        return super().putrequest(*args, **kwargs)  # type: ignore[misc,no-any-return]

    def send(self, data: Any) -> None:  # bytes or str: a GET sends no body, so never a file
        ctx: _Context = _current.context
        if isinstance(data, str):
            data = data.encode("iso-8859-1")
        super().send(data)  # type: ignore[misc]
        if not self._tunnelling:
            ctx.exchange.request += bytes(data)

    _tunnelling = False

    def _tunnel(self) -> None:
        """A proxy's CONNECT is not part of the exchange with the site: it is not recorded."""
        self._tunnelling = True
        try:
            super()._tunnel()  # type: ignore[misc]
        finally:
            self._tunnelling = False


class _RecordingHTTPConnection(_RecordingMixin, urllib3.connection.HTTPConnection):
    pass


class _RecordingHTTPSConnection(_RecordingMixin, urllib3.connection.HTTPSConnection):
    pass


class _RecordingHTTPPool(HTTPConnectionPool):
    ConnectionCls = _RecordingHTTPConnection


class _RecordingHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _RecordingHTTPSConnection


_RECORDING_POOLS = {"http": _RecordingHTTPPool, "https": _RecordingHTTPSPool}


class _RecordingAdapter(HTTPAdapter):
    """requests' adapter with the recording pools, direct and through a proxy alike."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _RECORDING_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> urllib3.PoolManager:
        manager: urllib3.PoolManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _RECORDING_POOLS
        return manager


# --- the fetcher ---------------------------------------------------------------------


class _Transport:
    """One thread's connections: requests' adapter builds and keeps the urllib3 pools (proxies,
    CA bundle), looked up once per origin; each request then goes straight to its pool's
    ``urlopen``, as the adapter's own ``send`` would, without requests' per-request preparation."""

    def __init__(self, limits: Limits) -> None:
        self.adapter = _RecordingAdapter(max_retries=0, pool_connections=16, pool_maxsize=4)
        self.retries = self.adapter.max_retries
        self.timeout = urllib3.Timeout(connect=limits.connect_timeout, read=limits.read_timeout)
        # the headers requests' Session sends, in its order; urllib3 adds nothing to them
        self.headers = {"User-Agent": limits.user_agent, "Accept-Encoding": "gzip, deflate",
                        "Accept": "text/html,application/xhtml+xml,*/*;q=0.8", "Connection": "keep-alive"}
        self.origins: dict[tuple[str, str], HTTPConnectionPool] = {}

    def open(self, url: str, environment: Mapping[str, Any], headers: dict[str, str] | None
             ) -> urllib3.BaseHTTPResponse:
        prepared = requests.PreparedRequest()
        prepared.prepare_url(url, None)  # IDNA host, percent-encoded path: the bytes requests would send
        assert prepared.url is not None  # set by prepare_url
        origin = urllib.parse.urlsplit(prepared.url)[:2]
        pool = self.origins.get(origin)
        if pool is None:
            # an HTTP(S)ConnectionPool, as urllib3's PoolManager returns it (requests' stubs say ConnectionPool)
            pool = self.origins[origin] = cast(HTTPConnectionPool, self.adapter.get_connection_with_tls_context(
                prepared, environment["verify"], proxies=environment["proxies"]))
            self.adapter.cert_verify(  # type: ignore[no-untyped-call]  # unannotated in requests' stubs
                pool, prepared.url, environment["verify"], None)
        return pool.urlopen(
            method="GET",
            url=self.adapter.request_url(prepared, environment["proxies"]),  # absolute through an HTTP proxy
            body=None,
            headers={**self.headers, **headers} if headers else self.headers,
            redirect=False,
            assert_same_host=False,
            preload_content=False,
            decode_content=False,
            retries=self.retries,
            timeout=self.timeout,
        )


class Fetcher:
    """Fetches URLs, one recorded exchange per HTTP hop. Safe to share across threads."""

    def __init__(self, *, limits: Limits) -> None:
        self.limits = limits
        self._local = threading.local()
        self._environment: dict[tuple[str, str], Mapping[str, Any]] = {}
        if not limits.verify_tls:  # the operator chose it (--insecure): warcinfo and the records say so
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

    def _transport(self) -> _Transport:
        transport = getattr(self._local, "transport", None)
        if transport is None:
            transport = self._local.transport = _Transport(self.limits)
        return transport

    def _environment_for(self, url: str) -> Mapping[str, Any]:
        """requests' settings from the environment (CA bundle, proxies), looked up once per host."""
        key = urllib.parse.urlsplit(url)[:2]
        settings = self._environment.get(key)
        if settings is None:
            probe = requests.Session()
            settings = self._environment[key] = probe.merge_environment_settings(
                url, {}, True, self.limits.verify_tls, None)
            probe.close()
        return settings

    def fetch(
        self, url: str, *, allow_private: bool, trust_first: bool = False,
        keep_body: Callable[[str, str | None], bool] | None = None, conditional: dict[str, str] | None = None,
    ) -> Generator[Exchange, None, None]:
        """Yield one exchange per hop: redirects are followed up to ``limits.max_redirects``.

        ``trust_first``: the first hop may go to any address (a URL the operator
        typed); redirects from it still obey ``allow_private``. ``conditional``:
        headers such as If-None-Match sent with the first hop only (they were
        taken from an earlier capture of that URL). ``keep_body``: whether a response's
        body is kept (for parsing), by its URL and media type; by default an HTML page's is.

        The last exchange carries ``error`` when the chain ended in a failure; a
        chain that is too long ends with a ``TooManyRedirects`` error exchange.
        """
        seen = set()
        start = came_from = url
        for hop in range(self.limits.max_redirects + 1):
            try:
                url = check_url(url)  # a followed link or redirect target may be anything
                if len(url) > MAX_URL:
                    raise InvalidURL(f"{url[:60]!r}... is {len(url)} characters long: longer than {MAX_URL}, "
                                     "not fetched")
            except InvalidURL as exc:
                yield self._failed(url, RefusedURL(f"{came_from}: redirect to {exc}" if hop else str(exc)))
                return
            exchange = self.fetch_one(url, allow_private=allow_private or (trust_first and hop == 0),
                                      keep_body=keep_body, headers=conditional if hop == 0 else None)
            yield exchange
            target = exchange.location
            if exchange.error is not None or target is None:
                return
            seen.add(url)
            came_from = url
            if target in seen:
                error = TooManyRedirects(f"{url}: redirect loop back to {target}")
                yield self._failed(target, error)
                return
            url = target
        yield self._failed(
            url,
            TooManyRedirects(
                f"{start}: more than {self.limits.max_redirects} redirects, stopped before {url} "
                "(raise the limit with --max-redirects)"
            ),
        )

    def _failed(self, url: str, error: FetchError) -> Exchange:
        now = _now()
        return Exchange(url=url, started_at=now, ended_at=now, error=error)

    def fetch_one(self, url: str, *, allow_private: bool, keep_body: Callable[[str, str | None], bool] | None = None,
                  headers: dict[str, str] | None = None) -> Exchange:
        """Fetch ``url`` once, without following redirects."""
        sha1 = self.limits.digest == "sha1"
        exchange = Exchange(
            url=url,
            started_at=_now(),
            response_hashes=Hashes(sha1=sha1),
            payload_hashes=Hashes(sha1=sha1),
            tls_verified=self.limits.verify_tls if url.lower().startswith("https:") else None,
        )
        ctx = _Context(
            exchange=exchange,
            limits=self.limits,
            allow_private=allow_private,
            deadline=time.monotonic() + self.limits.total_timeout,
        )
        _current.context = ctx
        response = None
        try:
            response = self._transport().open(url, self._environment_for(url), headers)
            exchange.payload_offset = exchange.response_length
            exchange.status = response.status
            exchange.reason = response.reason or ""
            exchange.headers = parse_headers(exchange)
            keep = keep_body(url, exchange.content_type) if keep_body else _is_html(exchange.content_type)
            body = bytearray() if keep else None
            for chunk in response.stream(READ_SIZE, decode_content=False):
                exchange.payload_hashes.update(chunk)
                if body is not None:
                    body += chunk
            exchange.body = bytes(body) if body is not None else None
        except FetchError as exc:
            exchange.error = exc
        except requests.RequestException as exc:
            exchange.error = _classify(exchange, ctx, exc)
        except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
            exchange.error = _classify(exchange, ctx, exc)
        finally:
            _current.context = None
            if response is not None and exchange.error is None:
                response.release_conn()  # read to the end: the connection goes back to the pool
            elif response is not None:
                response.close()
            exchange.ended_at = _now()
        if exchange.error is not None and exchange.has_response:
            exchange.truncated = _truncation_reason(exchange.error)
            if exchange.status is not None:
                _rehash_payload(exchange)
        return exchange


def parse_headers(exchange: Exchange) -> list[tuple[str, str]]:
    """Headers exactly as received (order, case and repeats kept), from the recorded bytes."""
    spool = exchange.response
    spool.seek(0)
    head = spool.read(exchange.payload_offset)
    spool.seek(0, 2)
    lines = head.decode("iso-8859-1").split("\r\n")[1:]
    headers: list[tuple[str, str]] = []
    for line in lines:
        if not line:
            continue
        if line[0] in " \t" and headers:  # obsolete line folding
            name, value = headers[-1]
            headers[-1] = (name, value + " " + line.strip())
            continue
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    return headers


def _rehash_payload(exchange: Exchange) -> None:
    """Hash the payload of a cut-short response from the recorded bytes.

    urllib3 drops what it had read when a read fails, but the record keeps
    every byte received, so the payload digest must come from those bytes.
    """
    exchange.payload_hashes = Hashes(sha1=exchange.payload_hashes.sha1 is not None)
    spool = exchange.response
    spool.seek(exchange.payload_offset)
    source = dechunked(spool, exchange.header("transfer-encoding"))
    for data in iter(lambda: source.read(READ_SIZE), b""):
        exchange.payload_hashes.update(data)
    spool.seek(0, 2)
    exchange.body = None  # an incomplete page is archived, not parsed


def _is_html(content_type: str | None) -> bool:
    return content_type in (None, "text/html", "application/xhtml+xml")


def _classify(exchange: Exchange, ctx: _Context, exc: Exception) -> FetchError:
    """Map requests/urllib3 exceptions to archiver's, naming the URL."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, FetchError):
            return cause
        cause = cause.__context__ or cause.__cause__
    url = exchange.url
    root = _root_cause(exc)
    if isinstance(root, ssl.SSLCertVerificationError):
        return ConnectFailed(f"{url}: TLS certificate not trusted ({root.verify_message}); "
                             "set REQUESTS_CA_BUNDLE to a CA file that trusts it, or capture with --insecure")
    if isinstance(root, ssl.SSLError):
        return ConnectFailed(f"{url}: TLS handshake failed ({_short(root)})")
    if ctx.remaining() <= 0:
        return FetchTimeout(f"{url}: gave up after the total time limit of {ctx.limits.total_timeout:g}s")
    if isinstance(exc, (urllib3.exceptions.TimeoutError, TimeoutError)):
        return FetchTimeout(f"{url}: no answer within {ctx.limits.read_timeout:g}s")
    if exchange.status is None and not exchange.has_response:
        return ConnectFailed(f"{url}: connection failed ({_short(root)})")
    return ProtocolFailure(f"{url}: {_short(root)}")


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost exception behind requests' and urllib3's wrappers."""
    seen = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        inner = getattr(exc, "reason", None)
        if not isinstance(inner, BaseException):
            inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None
        inner = inner or exc.__cause__ or exc.__context__
        if inner is None:
            break
        exc = inner
    return exc


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def _truncation_reason(error: FetchError) -> str:
    if isinstance(error, TooLarge):
        return "length"
    if isinstance(error, FetchTimeout):
        return "time"
    return "disconnect"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
