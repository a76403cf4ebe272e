"""RFC 7089 Memento TimeMaps of a URL's captures, in link-format (RFC 6690).

The mementos are the response and revisit records of the URL (a revisit is a capture too: its
payload is the one it refers to), oldest first. A memento's URI is where a pywb-style replay
serves it, ``{replay base}{14-digit timestamp}/{url}``; the TimeMap names itself
``{replay base}timemap/link/{url}`` and the TimeGate ``{replay base}{url}``, as pywb does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import urllib.parse
from typing import Any, Iterator

from .. import catalogue as cat
from ..errors import InputError
from ._history import captures

DEFAULT_REPLAY_BASE = "http://localhost:8080/archive/"
_URI_SAFE = "!#$%&'()*+,/:;=?@[]~"  # what may stay in a <URI> of link-format; the rest is %-escaped


@dataclasses.dataclass(frozen=True, kw_only=True)
class Memento:
    uri: str
    datetime: dt.datetime
    rel: str  # memento, first memento, last memento, or first last memento
    record_id: str
    record_type: str
    http_status: int | None
    warc_file: str
    offset: int
    length: int

    def as_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "datetime": self.datetime.isoformat()}


@dataclasses.dataclass(frozen=True, kw_only=True)
class TimeMap:
    original: str
    timegate: str
    timemap: str
    mementos: list[Memento]

    def as_json(self) -> dict[str, Any]:
        return {"original": self.original, "timegate": self.timegate, "timemap": self.timemap,
                "from": self.mementos[0].datetime.isoformat(), "until": self.mementos[-1].datetime.isoformat(),
                "mementos": [memento.as_json() for memento in self.mementos]}

    def link_format(self) -> str:
        """The TimeMap as ``application/link-format``: one link a line, separated by commas."""
        return ",\n".join(self._links()) + "\n"

    def _links(self) -> Iterator[str]:
        yield f'<{self.original}>; rel="original"'
        yield f'<{self.timegate}>; rel="timegate"'
        yield (f'<{self.timemap}>; rel="self"; type="application/link-format"; '
               f'from="{http_date(self.mementos[0].datetime)}"; until="{http_date(self.mementos[-1].datetime)}"')
        for memento in self.mementos:
            yield f'<{memento.uri}>; rel="{memento.rel}"; datetime="{http_date(memento.datetime)}"'


def replay_base(text: str) -> str:
    """The replay base as given, checked (an http(s) URL) and ending in ``/``."""
    parts = urllib.parse.urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InputError(f"--replay-base {text!r}: give the http(s) URL replay serves the collection at, "
                         f"e.g. {DEFAULT_REPLAY_BASE}")
    base = urllib.parse.urlunsplit(parts)
    return base if base.endswith("/") else base + "/"


def timemap(catalogue: cat.Catalogue, *, url: str, base: str = DEFAULT_REPLAY_BASE) -> TimeMap:
    """The TimeMap of ``url``'s captures, with memento URIs under the replay ``base``."""
    base = replay_base(base)
    r, f = cat.records, cat.warc_files
    query = captures(url, r.c.warc_record_id, r.c.record_type, r.c.warc_date, r.c.http_status, r.c.offset,
                     r.c.length, f.c.filename)
    with catalogue.reader() as reader:
        rows = reader.execute(query).all()
    if not rows:
        raise InputError(f"{url}: no capture in the catalogue (archiver capture {url} archives it)")
    target = urllib.parse.quote(url, safe=_URI_SAFE)
    mementos = [
        Memento(uri=f"{base}{row.warc_date.strftime('%Y%m%d%H%M%S')}/{target}", datetime=row.warc_date,
                rel=_rel(index, len(rows)), record_id=row.warc_record_id, record_type=row.record_type,
                http_status=row.http_status, warc_file=row.filename, offset=row.offset, length=row.length)
        for index, row in enumerate(rows)]
    return TimeMap(original=target, timegate=f"{base}{target}", timemap=f"{base}timemap/link/{target}",
                   mementos=mementos)


def _rel(index: int, count: int) -> str:
    """RFC 7089 section 5.1.4 (and 2.2.1): the first and last mementos say so."""
    words = (["first"] if index == 0 else []) + (["last"] if index == count - 1 else [])
    return " ".join([*words, "memento"])


def http_date(moment: dt.datetime) -> str:
    """RFC 7231 IMF-fixdate, as Memento-Datetime and the datetime attribute take it."""
    return email.utils.format_datetime(moment.astimezone(dt.timezone.utc), usegmt=True)
