"""robots.txt (RFC 9309): fetched once per origin per capture, consulted for followed links.

Matching is protego's (Scrapy's parser): the group of the longest matching product token,
else ``*``; groups naming one agent merged; the longest matching rule wins, ``Allow`` on a tie;
``*`` and ``$`` in paths; percent-encoding normalised. What RFC 9309 says about fetching is
decided here, from the last hop of the fetch of ``/robots.txt`` (redirects followed up to
:data:`MAX_REDIRECTS`):

* 2xx: its rules apply, parsed from the first :data:`MAX_BYTES` of the file;
* 4xx ("unavailable"), or more than five redirects: no rules, everything allowed;
* 5xx, or no answer at all ("unreachable"): everything disallowed.

A URL typed by the archivist is always fetched; ``--ignore-robots`` fetches followed links
whatever robots.txt says too. Each robots.txt fetched is archived like any response (role
``robots``) with a metadata record giving the verdict and the file's sha256.
"""

from __future__ import annotations

import dataclasses
import threading
import urllib.parse
from typing import Callable

from protego import Protego

from ..errors import BlockedAddress, ConnectFailed, FetchError, RobotsDisallowed, TooManyRedirects
from ..warc import dechunked, decode_content
from ._fetch import READ_SIZE, Exchange

PRODUCT_TOKEN = "archiver"  # what a robots.txt names in ``User-agent:`` to address archiver
MAX_BYTES = 500 * 1024  # RFC 9309 2.5: a parsing limit of at least 500 KiB
MAX_REDIRECTS = 5  # RFC 9309 2.3.1.2: follow at least five consecutive redirects

ALLOW_ALL = "allow-all"
DISALLOW_ALL = "disallow-all"
RULES = "rules"
NOT_CONSULTED = "not-consulted"  # robots.txt's own address is refused: the fetch will be refused too


def robots_url(url: str) -> str:
    """The robots.txt of ``url``'s origin (scheme, host and port)."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))


@dataclasses.dataclass(frozen=True, kw_only=True)
class RobotsPolicy:
    """What one origin's robots.txt says for archiver."""

    url: str
    verdict: str  # RULES, ALLOW_ALL, DISALLOW_ALL or NOT_CONSULTED
    reason: str
    status: int | None = None
    sha256: str | None = None  # of the robots.txt payload as received
    rules: Protego | None = None
    error: FetchError | None = None  # why robots.txt was unreachable

    def allows(self, url: str) -> bool:
        if self.verdict == RULES:
            assert self.rules is not None  # the RULES verdict comes with its rules
            return self.rules.can_fetch(url, PRODUCT_TOKEN)
        return self.verdict != DISALLOW_ALL

    def refusal(self, url: str) -> FetchError:
        """Why ``url`` is not fetched. A host that cannot be connected to keeps its error's kind
        (a dead host is ``gone``, whatever stopped us asking)."""
        if isinstance(self.error, ConnectFailed):
            return ConnectFailed(f"{url}: not fetched: its robots.txt is unreachable ({self.error})")
        if self.verdict == RULES:
            return RobotsDisallowed(f"{url}: disallowed by {self.url} (--ignore-robots fetches it)")
        return RobotsDisallowed(f"{url}: not fetched: {self.reason}, so RFC 9309 disallows everything "
                                "(--ignore-robots fetches it)")

    def metadata_fields(self, policy: str) -> list[tuple[str, str]]:
        """The fields of the metadata record archived beside the robots.txt response."""
        fields = [("robots-policy", policy), ("robots-verdict", self.verdict), ("robots-reason", self.reason)]
        if self.sha256:
            fields.append(("robots-txt-sha256", self.sha256))
        return fields


def decide(url: str, hops: list[Exchange]) -> RobotsPolicy:
    """The policy of the origin whose robots.txt at ``url`` was fetched as ``hops``."""
    last = hops[-1]
    error = last.error
    if isinstance(error, BlockedAddress) and len(hops) == 1:
        return RobotsPolicy(url=url, verdict=NOT_CONSULTED, reason=f"robots.txt not fetched ({error})")
    if isinstance(error, TooManyRedirects):
        return RobotsPolicy(url=url, verdict=ALLOW_ALL, reason="robots.txt unavailable (more than "
                            f"{MAX_REDIRECTS} redirects)")
    status = last.status
    if status is None:
        return RobotsPolicy(url=url, verdict=DISALLOW_ALL, reason=f"robots.txt unreachable ({error})",
                            error=error)
    if 500 <= status:
        return RobotsPolicy(url=url, verdict=DISALLOW_ALL, status=status,
                            reason=f"robots.txt answered HTTP {status}")
    if 400 <= status:
        return RobotsPolicy(url=url, verdict=ALLOW_ALL, status=status,
                            reason=f"robots.txt answered HTTP {status}: no rules")
    if not 200 <= status < 300:
        return RobotsPolicy(url=url, verdict=ALLOW_ALL, status=status,
                            reason=f"robots.txt answered HTTP {status}: no rules")
    payload = _payload(last)
    text = payload[:MAX_BYTES].decode("utf-8", "replace")
    reason = f"robots.txt rules ({len(payload)} bytes"
    reason += f", a response cut short: {last.truncated})" if last.truncated else ")"
    return RobotsPolicy(url=url, verdict=RULES, status=status, reason=reason,
                        sha256=last.payload_hashes.sha256.hexdigest(), rules=Protego.parse(text))


def _payload(exchange: Exchange) -> bytes:
    """The robots.txt body as received (transfer encoding removed), content-decoded, at most
    :data:`MAX_BYTES`; read from the recorded response bytes."""
    spool = exchange.response
    spool.seek(exchange.payload_offset)
    source = dechunked(spool, exchange.header("transfer-encoding"))
    data = bytearray()
    while len(data) < MAX_BYTES and (block := source.read(READ_SIZE)):
        data += block
    spool.seek(0, 2)
    return decode_content(bytes(data), exchange.header("content-encoding"), limit=MAX_BYTES)


class RobotsCache:
    """One policy per origin for one capture run; thread-safe. The first caller for an origin
    fetches its robots.txt (others for that origin wait) and gets the exchanges to archive."""

    def __init__(self, fetch: Callable[[str], list[Exchange]]) -> None:
        self._fetch = fetch
        self._lock = threading.Lock()
        self._origins: dict[str, tuple[threading.Lock, list[RobotsPolicy]]] = {}

    def policy(self, url: str) -> tuple[RobotsPolicy, list[Exchange]]:
        """The policy for ``url``, and the robots.txt exchanges if this call fetched them."""
        target = robots_url(url)
        with self._lock:
            lock, known = self._origins.setdefault(target, (threading.Lock(), []))
        with lock:
            if known:
                return known[0], []
            hops = self._fetch(target)
            known.append(decide(target, hops))
            return known[0], [] if known[0].verdict == NOT_CONSULTED else hops
