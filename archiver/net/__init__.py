"""Network: the recording HTTP fetch, robots.txt, per-host politeness, URL checks and quoting.

Knows nothing of the catalogue, capture or queries: it turns a URL into recorded exchanges.
"""

from ._fetch import Exchange, Fetcher, Limits, address_is_public, check_url, media_type, quote_unsafe
from ._hosts import HostGate, SharedHosts, host_of
from ._robots import MAX_BYTES as ROBOTS_MAX_BYTES
from ._robots import MAX_REDIRECTS as ROBOTS_MAX_REDIRECTS
from ._robots import RobotsCache, RobotsPolicy

__all__ = [
    "ROBOTS_MAX_BYTES",
    "ROBOTS_MAX_REDIRECTS",
    "Exchange",
    "Fetcher",
    "HostGate",
    "Limits",
    "RobotsCache",
    "RobotsPolicy",
    "SharedHosts",
    "address_is_public",
    "check_url",
    "host_of",
    "media_type",
    "quote_unsafe",
]
