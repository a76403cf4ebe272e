"""Exceptions raised by archiver.

Every exception carries a one-line message that says what went wrong and,
where there is one, what to do about it. The command line maps each branch
of the tree to an exit code (see ``exit_code``)::

    ArchiverError                   exit 1
    ├── InputError                  exit 2   the command was given something unusable
    │   ├── InvalidURL                       not an http(s) URL we can fetch
    │   └── ConfigError                      a bad flag, variable or config file value
    ├── FetchError                  exit 3   a resource could not be captured
    │   ├── ConnectFailed                    DNS failure, refused, reset before a response
    │   ├── FetchTimeout                     connect, read or total deadline passed
    │   ├── TooLarge                         body over the size limit
    │   ├── TooManyRedirects                 redirect chain longer than allowed
    │   ├── BlockedAddress                   a followed link resolves to a private address
    │   ├── RefusedURL                       a link or redirect to a URL never fetched (file:, ftp:, ...)
    │   ├── RobotsDisallowed                 robots.txt disallows a followed link
    │   ├── ProtocolFailure                  the server broke HTTP
    │   └── PostNotCaptured                  the post answered, but not with a page (404, 500, non-HTML)
    ├── CatalogueError              exit 4   the SQL catalogue cannot be opened or written
    └── StoreError                  exit 5   the WARC store cannot be written or read

Not an exception: verify found damage: exit 6. ``archiver verify`` lists every failure it finds
(a WARC file missing, moved, changed or cut short, a record tampered with, lost or not catalogued)
and exits 6 (``archiver.query.EXIT_DAMAGED``); its bad input and store errors are the ones above.
"""

from __future__ import annotations

import enum


class ErrorKind(enum.StrEnum):
    """Why a fetch failed (``fetches.error_kind``): the ``kind`` of each FetchError class below."""

    FETCH_ERROR = "fetch-error"
    CONNECT_FAILED = "connect-failed"
    TIMEOUT = "timeout"
    TOO_LARGE = "too-large"
    TOO_MANY_REDIRECTS = "too-many-redirects"
    BLOCKED_ADDRESS = "blocked-address"
    REFUSED_URL = "refused-url"
    ROBOTS_DISALLOWED = "robots-disallowed"
    PROTOCOL_ERROR = "protocol-error"
    NOT_CAPTURED = "not-captured"


class ArchiverError(Exception):
    """Base class: something archiver can explain in one line."""

    exit_code = 1


class InputError(ArchiverError):
    exit_code = 2


class InvalidURL(InputError):
    pass


class ConfigError(InputError):
    pass


class FetchError(ArchiverError):
    """A resource could not be captured. ``kind`` is a short machine-readable label."""

    exit_code = 3
    kind = ErrorKind.FETCH_ERROR


class ConnectFailed(FetchError):
    kind = ErrorKind.CONNECT_FAILED


class FetchTimeout(FetchError):
    kind = ErrorKind.TIMEOUT


class TooLarge(FetchError):
    kind = ErrorKind.TOO_LARGE


class TooManyRedirects(FetchError):
    kind = ErrorKind.TOO_MANY_REDIRECTS


class BlockedAddress(FetchError):
    kind = ErrorKind.BLOCKED_ADDRESS


class RefusedURL(FetchError):
    """A followed link or a redirect names a URL that is never fetched: another scheme than http(s),
    no host, or a host that URL parsers read differently (``http://a\\@b/``)."""

    kind = ErrorKind.REFUSED_URL


class RobotsDisallowed(FetchError):
    kind = ErrorKind.ROBOTS_DISALLOWED


class ProtocolFailure(FetchError):
    kind = ErrorKind.PROTOCOL_ERROR


class PostNotCaptured(FetchError):
    kind = ErrorKind.NOT_CAPTURED


class CatalogueError(ArchiverError):
    exit_code = 4


class StoreError(ArchiverError):
    exit_code = 5
