"""What a run fetches: tasks (a URL, its role, the link that led to it), which requisites are parsed
for what they load in turn, the last capture a re-crawl asks about, and the queue that hands tasks
to fetch workers, a few per host at a time."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import threading
from pathlib import Path

from .. import catalogue as cat
from ..errors import FetchError
from ..net import Exchange, RobotsPolicy, host_of
from ..parse import EXTRACTOR, FRAME_TAGS, HTML_TYPES, Link, Outlinks, is_stylesheet
from ..warc import Original

# What a fetch of each role leads to: a requisite's requisites (a stylesheet's, a frame's) have its role.
FOLLOW_UP: dict[str, tuple[cat.Role, ...]] = {
    cat.Role.POST: (cat.Role.EMBED, cat.Role.CITED), cat.Role.CITED: (cat.Role.CITED_EMBED,),
    cat.Role.EMBED: (cat.Role.EMBED,), cat.Role.CITED_EMBED: (cat.Role.CITED_EMBED,)}
EMBEDDED = (cat.Role.EMBED, cat.Role.CITED_EMBED)
MAX_FRAME_DEPTH = 2  # a frame is parsed when fewer frames than this hold it: frames nested 2 levels deep
MAX_EMBED_DEPTH = 5  # a stylesheet is parsed when fewer stylesheets and frames than this lead to it (@import chains)


def refused(url: str, error: FetchError) -> Exchange:
    """An exchange that never reached the network: refused, or a bug."""
    now = dt.datetime.now(dt.timezone.utc)
    return Exchange(url=url, started_at=now, ended_at=now, error=error)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Task:
    url: str
    role: str
    seed: str
    parent_fetch_id: int | None = None
    link_kind: str | None = None
    link_text: str | None = None
    link_tag: str | None = None  # the tag (or CSS construct) of the link (fetches.link_tag): a frame's is parsed
    depth: int = 0  # the stylesheets and frames between the page and this requisite
    follow: bool = True  # fetch what the page embeds and cites (a re-fetch to confirm an anomaly does not)
    previous: "Previous | None" = None  # the last capture of this URL, for a conditional request

    @property
    def host(self) -> str:
        return host_of(self.url)


def parsed_embed(task: Task, *, url: str, media_type: str | None) -> bool:
    """Is the response at ``url`` (of ``media_type``, no parameters) to a requisite's task parsed for what it
    loads in turn: a stylesheet not too deep in @imports, the HTML document of a frame not too deeply nested."""
    if task.role not in EMBEDDED:
        return False
    if is_stylesheet(url=url, media_type=media_type):
        return task.depth < MAX_EMBED_DEPTH
    return (task.link_tag in FRAME_TAGS and (media_type is None or media_type in HTML_TYPES)
            and task.depth < MAX_FRAME_DEPTH)


@dataclasses.dataclass(frozen=True, kw_only=True)
class EmbeddedLinks(Outlinks):
    """What a stylesheet or a frame's document loads (:func:`archiver.parse.embedded_links`)."""

    links: list[Link]

    def metadata_fields(self) -> list[tuple[str, str]]:
        """What the WARC metadata record of the stylesheet or frame says: its outlinks, each followed."""
        return [("extractor", EXTRACTOR), *self.outlink_fields()]


Robots = list[tuple[Task, list[Exchange], RobotsPolicy]]  # the robots.txt fetched for a task: its hops, its policy


@dataclasses.dataclass(frozen=True, kw_only=True)
class Previous:
    """The newest archived response for a URL: what a revisit refers to, and its validators."""

    record_pk: int
    original: Original
    payload_sha256: str
    path: Path
    offset: int
    fetch_id: int | None = None  # the fetch that brought the original, whose follow-ups the catalogue holds
    content_type: str | None = None  # as the last capture was served
    etag: str | None = None
    last_modified: str | None = None

    def conditional_headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


class HostQueue:
    """Tasks handed to workers FIFO, with at most ``per_host`` in flight for any one host."""

    def __init__(self, per_host: int) -> None:
        self._per_host = per_host
        self._pending: dict[str, collections.deque[Task]] = collections.OrderedDict()
        self._active: collections.Counter[str] = collections.Counter()
        self._ready = threading.Condition()
        self._closed = False

    def put(self, task: Task) -> None:
        with self._ready:
            self._pending.setdefault(task.host, collections.deque()).append(task)
            self._ready.notify()

    def get(self) -> Task | None:
        with self._ready:
            while True:
                for host, tasks in self._pending.items():
                    if tasks and self._active[host] < self._per_host:
                        self._active[host] += 1
                        task = tasks.popleft()
                        if not tasks:
                            del self._pending[host]
                        return task
                if self._closed:
                    return None
                self._ready.wait()

    def done(self, task: Task) -> None:
        with self._ready:
            self._active[task.host] -= 1
            self._ready.notify()  # one slot freed: one waiter can use it

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify_all()
