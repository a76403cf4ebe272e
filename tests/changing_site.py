"""A loopback blog whose post and cited pages change between crawls, and a page whose boilerplate
churns on every request (rotating ads, a clock, random tokens, view counters)."""

from __future__ import annotations

import dataclasses
import random
import secrets

from .servers import ScriptedServer, send

PARAGRAPHS = [
    "Hezbollah and the Syrian army launched a wide offensive in the Qalamoun mountains on the border with "
    "Lebanon, aiming to push Jaysh al-Fateh out of the hills above the town of Flita.",
    "The Lebanese army reinforced its positions around Arsal while refugees in the camps waited for news of "
    "relatives who had stayed behind in the villages across the border.",
    "By the end of the first week the Syrian Observatory for Human Rights counted {dead} fighters killed on "
    "both sides, most of them in the fighting for the hilltops of Tallet Moussa.",
    "Analysts in Beirut warned that the battle would not end with the summer, because the militants could "
    "retreat into the barren valleys further north and return once the snow melted.",
]


@dataclasses.dataclass
class State:
    """What the site serves now; tests change it between crawls."""

    paragraphs: list[str] = dataclasses.field(default_factory=lambda: list(PARAGRAPHS))
    dead: int = 36
    caption: str = "Jaysh al-Fateh Qalamoun logo / twitter"
    cite_b: bool = True
    b_status: int = 200
    etag_version: str = "v1"
    a_moved: bool = False
    logo: bytes = b"\x89PNG\r\n\x1a\n" + b"logo" * 50
    etag_hits: list[str] = dataclasses.field(default_factory=list)


def post_html(state: State, cited: str) -> str:
    body = "".join(f"<p>{text.format(dead=state.dead)}</p>" for text in state.paragraphs)
    cite_b = f' and <a href="{cited}/b.html">Al Jazeera</a>' if state.cite_b else ""
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>The Qalamoun offensive</title></head>
<body><div class="sidebar"><a href="/archive.html">Blog archive</a></div>
<div class="post hentry"><h3 class="post-title">The Qalamoun offensive</h3>
<div class="post-body entry-content">
<table class="tr-caption-container"><tr><td><img src="/logo.png"></td></tr>
<tr><td class="tr-caption">{state.caption}</td></tr></table>
{body}
<p>Sources: <a href="{cited}/a.html">The Daily Star</a>{cite_b} and <a href="{cited}/etag.html">SOHR</a>.</p>
</div></div><div class="footer">No comments: Post a Comment</div></body></html>"""


def article_html(title: str, text: str) -> str:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
            f"<nav><a href='/'>Home</a></nav><article><h1>{title}</h1><p>{text}</p><p>{text}</p></article>"
            "</body></html>")


def churn_html() -> str:
    """The same article every time, in different clothes."""
    ad = random.choice(["Buy shoes", "Cheap flights", "New phone"])
    token = secrets.token_hex(16)
    attributes = ['class="post-body entry-content"', 'id="body"']
    random.shuffle(attributes)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>Churning post</title>
<script>var session = "{secrets.token_urlsafe(24)}"; var t = {random.random()};</script>
<style>.ad{{color:#{random.randrange(0xffffff):06x}}}</style></head>
<body><div class="ad"><a href="/ads/{token}">{ad}</a></div>
<div class="post"><div {' '.join(attributes)}>
<p>Updated {random.randint(2, 59)} minutes ago. Read {random.randint(1000, 9999):,} times.</p>
<p>{PARAGRAPHS[0]}</p><p>{PARAGRAPHS[1]}</p>
<p>Server time {random.randint(10, 23)}:{random.randint(10, 59)}:{random.randint(10, 59)}, session {token}</p>
<p>{PARAGRAPHS[3]}</p></div></div>
<form><input type="hidden" name="csrf" value="{secrets.token_hex(20)}"></form></body></html>"""


class ChangingSite:
    """The blog on 127.0.0.1 and the cited site on 127.0.0.2, both scripted by ``state``."""

    def __init__(self) -> None:
        self.state = State()
        self.blog = ScriptedServer("127.0.0.1")
        self.cited = ScriptedServer("127.0.0.2")
        state = self.state
        self.post_url = self.blog.route("/post.html",
                                        lambda r: send(r, 200, post_html(state, self.cited.base).encode()))
        self.churn_url = self.blog.route("/churn.html", lambda r: send(r, 200, churn_html().encode()))
        self.blog.route("/logo.png", lambda r: send(r, 200, state.logo, "image/png"))
        a_page = article_html("Hezbollah assault on Qalamoun ruled out", PARAGRAPHS[1]).encode()
        self.cited.route("/a.html", lambda r: send(r, 301, b"", headers={"Location": "/2015/a.html"})
                         if state.a_moved else send(r, 200, a_page))
        self.cited.route("/2015/a.html", lambda r: send(r, 200, a_page))
        self.cited.route("/b.html", lambda r: send(r, state.b_status, article_html(
            "Battle for Qalamoun", PARAGRAPHS[3]).encode() if state.b_status == 200 else b"gone", "text/html"))
        self.cited.route("/etag.html", self._etag)
        self.logo_url = self.blog.base + "/logo.png"
        self.a_url, self.b_url, self.etag_url = (self.cited.base + path for path in ("/a.html", "/b.html",
                                                                                     "/etag.html"))

    def _etag(self, request) -> None:
        tag = f'"{self.state.etag_version}"'
        self.state.etag_hits.append(request.headers.get("If-None-Match") or "")
        if request.headers.get("If-None-Match") == tag:
            request.send_response(304)
            request.send_header("ETag", tag)
            request.end_headers()
            return
        send(request, 200, article_html("SOHR: casualties in Qalamoun", PARAGRAPHS[2].format(dead=7)).encode(),
             headers={"ETag": tag})

    def close(self) -> None:
        self.blog.close()
        self.cited.close()
