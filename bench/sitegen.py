"""Synthetic Blogger-like site for the capture benchmarks, and a fallback static server.

``generate(root, posts=N, port=P)`` writes static files under ``root/<ip>/``:

* ``127.0.0.1`` the blog: ``N`` posts (``/2015/MM/post-NNNN.html``), each with a
  ``<div class="post-body entry-content">`` holding paragraphs, 5 images
  (``/images/pNNNN-K.jpg``) and links to the 3 pages it cites; nav links (home,
  older/newer post), a sidebar of other posts, one stylesheet; plus ``/index.html``.
* ``127.0.0.2-4`` the cited sites: one ``<article>`` page per citation
  (``/articles/aNNNN-C.html``, spread round-robin over the three hosts), each with
  5 images of its own and the host's stylesheet, a nav and an ``<aside>``.

Images are 2-30 KB of seeded random bytes behind a JPEG/JFIF header, so they do not
compress (as real JPEGs do not). Everything is seeded: the same arguments give the
same bytes. Absolute URLs name the port, so the site is generated for one port.

``python sitegen.py serve ROOT PORT [--hosts IP,IP] [--access-log FILE]`` serves ``ROOT/<ip>/``
on each ``<ip>:PORT`` with a threaded HTTP/1.1 (keep-alive) stdlib server: the fallback when nginx
is absent.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path
from typing import Sequence

BLOG_HOST = "127.0.0.1"
CITED_HOSTS = ("127.0.0.2", "127.0.0.3", "127.0.0.4")
HOSTS = (BLOG_HOST, *CITED_HOSTS)
CSS_PATH = "/static/style.css"

_WORDS = (
    "the of and to in a is that for it as was with be by on not he this are or his from at which but have an "
    "they you were her she there been one all we their has would when if so no will more out up into do any "
    "your what about than then them can only other new some could these two may first after most over must "
    "report offensive border village ridge town fighters government statement sources according officials "
    "army rebels killed positions control road valley mountain region week monday tuesday friday saturday "
    "province city district activists observatory group said news agency media local forces operation"
).split()

_CSS = """body{font:14px/1.5 Georgia,serif;margin:0;background:#f6f6f6;color:#222}
.header{background:#2b4a6f;color:#fff;padding:12px 24px}.header a{color:#fff;text-decoration:none}
.nav,.navbar{padding:6px 24px;background:#e4e9ef}.main{float:left;width:68%;padding:16px 24px}
.post-title{font-size:22px;margin:0 0 8px}.post-body img,article img{max-width:100%;display:block;margin:8px 0}
.sidebar,aside{float:right;width:24%;padding:16px}.sidebar li,aside li{margin:4px 0}
.footer,footer{clear:both;padding:12px 24px;font-size:12px;color:#666}
"""


@dataclasses.dataclass
class Site:
    """What was generated: every URL a one-hop capture of the posts must fetch."""

    root: Path
    port: int
    posts: list[str]
    cited: list[str]
    images: list[str]
    css: list[str]
    extra: list[str]  # pages that exist but a post-body capture does not follow (home page)
    sizes: dict[str, int]  # URL -> body bytes

    @property
    def pages(self) -> list[str]:
        return self.posts + self.cited

    @property
    def urls(self) -> list[str]:
        """Every URL of a correct one-hop capture, each once, grouped per post."""
        return self.posts + self.cited + self.images + self.css

    def fetch_order(self) -> list[str]:
        """The same URLs in crawl order: a post, its requisites, its cited pages and theirs."""
        return list(self._order)

    _order: list[str] = dataclasses.field(default_factory=list, repr=False)

    @property
    def total_bytes(self) -> int:
        return sum(self.sizes[url] for url in self.urls)


def _words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(count))


def _paragraph(rng: random.Random) -> str:
    sentences = []
    for _ in range(rng.randint(3, 6)):
        sentence = _words(rng, rng.randint(8, 20))
        sentences.append(sentence[0].upper() + sentence[1:] + ".")
    return " ".join(sentences)


def _jpeg(rng: random.Random, size: int) -> bytes:
    head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x01\x00H\x00H\x00\x00"
    return head + rng.randbytes(max(0, size - len(head) - 2)) + b"\xff\xd9"


def generate(root: Path, *, posts: int = 500, port: int, cited_per_post: int = 3, images_per_page: int = 5,
             seed: int = 2015) -> Site:
    rng = random.Random(seed)
    root = Path(root)
    base = {host: f"http://{host}:{port}" for host in HOSTS}
    site = Site(root=root, port=port, posts=[], cited=[], images=[], css=[], extra=[], sizes={})

    def write(host: str, path: str, data: bytes) -> str:
        target = root / host / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        url = base[host] + path
        site.sizes[url] = len(data)
        return url

    for host in HOSTS:
        site.css.append(write(host, CSS_PATH, _CSS.encode()))

    post_paths = [f"/2015/{(n % 12) + 1:02d}/post-{n:04d}.html" for n in range(posts)]
    titles = [_words(rng, rng.randint(4, 9)).title() for _ in range(posts)]

    index = ["<!DOCTYPE html><html><head><meta charset=\"UTF-8\"><title>Synthetic Blog</title>",
             f"<link rel=\"stylesheet\" href=\"{CSS_PATH}\"></head><body><div class=\"header\"><h1>Synthetic Blog</h1>"
             "</div><div class=\"main\"><ul>"]
    index += [f"<li><a href=\"{post_paths[n]}\">{titles[n]}</a></li>" for n in range(min(posts, 20))]
    index.append("</ul></div></body></html>")
    site.extra.append(write(BLOG_HOST, "/index.html", "\n".join(index).encode()))

    for n in range(posts):
        order = []
        # cited pages: one per citation, round-robin over the cited hosts
        citations = []
        for c in range(cited_per_post):
            host = CITED_HOSTS[(n * cited_per_post + c) % len(CITED_HOSTS)]
            path = f"/articles/a{n:04d}-{c}.html"
            citations.append((host, path, _words(rng, rng.randint(5, 10)).title()))

        image_paths = [f"/images/p{n:04d}-{k}.jpg" for k in range(images_per_page)]
        body = [f"<p>{_paragraph(rng)}</p>"]
        for k, image in enumerate(image_paths):
            body.append(f"<div class=\"separator\" style=\"clear: both; text-align: center;\">"
                        f"<img border=\"0\" src=\"{image}\" width=\"400\" height=\"300\" "
                        f"alt=\"{_words(rng, 3)}\"></div>")
            if k < len(citations):
                host, path, title = citations[k]
                body.append(f"<p>{_paragraph(rng)} According to <a href=\"{base[host]}{path}\">{title}</a>, "
                            f"{_words(rng, 12)}.</p>")
            else:
                body.append(f"<p>{_paragraph(rng)}</p>")
        older = post_paths[n - 1] if n > 0 else None
        newer = post_paths[n + 1] if n + 1 < posts else None
        nav = ["<a href=\"/\">Home</a>"]
        if newer:
            nav.append(f"<a class=\"blog-pager-newer-link\" href=\"{newer}\">Newer Post</a>")
        if older:
            nav.append(f"<a class=\"blog-pager-older-link\" href=\"{older}\">Older Post</a>")
        archive = [m for m in range(max(0, n - 5), n)]
        sidebar = "".join(f"<li><a href=\"{post_paths[m]}\">{titles[m]}</a></li>" for m in archive)
        html = f"""<!DOCTYPE html>
<html dir="ltr" lang="en"><head>
<meta charset="UTF-8"><meta name="viewport" content="width=1100">
<title>Synthetic Blog: {titles[n]}</title>
<link rel="stylesheet" href="{CSS_PATH}" type="text/css">
</head><body>
<div class="header"><h1 class="title"><a href="/">Synthetic Blog</a></h1>
<p class="description">{_words(rng, 8)}</p></div>
<div class="navbar">{" ".join(nav)}</div>
<div class="main-outer"><div class="main">
<div class="date-outer"><h2 class="date-header"><span>Saturday, May {n % 28 + 1}, 2015</span></h2>
<div class="post hentry" itemscope="itemscope" itemtype="http://schema.org/BlogPosting">
<h3 class="post-title entry-title" itemprop="name">{titles[n]}</h3>
<div class="post-header"><div class="post-header-line-1"></div></div>
<div class="post-body entry-content" id="post-body-{n:06d}">
{chr(10).join(body)}
<div style="clear: both;"></div>
</div>
<div class="post-footer"><span class="post-author vcard">Posted by <span class="fn">Analyst</span></span>
<span class="post-timestamp">at 10:{n % 60:02d} AM</span></div>
</div></div></div></div>
<div class="sidebar"><div class="widget BlogArchive"><h2>Blog Archive</h2><ul>{sidebar}</ul></div>
<div class="widget Text"><h2>About</h2><div class="widget-content">{_paragraph(rng)}</div></div></div>
<div class="footer">Synthetic Blog. Powered by nothing.</div>
</body></html>
"""
        post_url = write(BLOG_HOST, post_paths[n], html.encode())
        site.posts.append(post_url)
        order.append(post_url)
        order.append(base[BLOG_HOST] + CSS_PATH)
        for image in image_paths:
            url = write(BLOG_HOST, image, _jpeg(rng, rng.randint(2_000, 30_000)))
            site.images.append(url)
            order.append(url)

        for c, (host, path, title) in enumerate(citations):
            images = [f"/articles/img/a{n:04d}-{c}-{k}.jpg" for k in range(images_per_page)]
            figures = "\n".join(
                f"<figure><img src=\"{image}\" alt=\"{_words(rng, 3)}\"><figcaption>{_words(rng, 6)}</figcaption>"
                f"</figure><p>{_paragraph(rng)}</p>" for image in images)
            related = "".join(f"<li><a href=\"/articles/a{(n + d) % max(posts, 1):04d}-{c}.html\">"
                              f"{_words(rng, 5)}</a></li>" for d in (1, 2, 3))
            page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - News {host}</title>
<link rel="stylesheet" href="{CSS_PATH}"></head><body>
<header><nav><a href="/">Home</a> <a href="/">World</a> <a href="/">Middle East</a></nav></header>
<article><h1>{title}</h1><p class="byline">By {_words(rng, 2).title()}</p>
<p>{_paragraph(rng)}</p>
{figures}
<p>{_paragraph(rng)}</p></article>
<aside class="related"><h2>Related</h2><ul>{related}</ul></aside>
<footer>(c) 2015 News {host}</footer>
</body></html>
"""
            cited_url = write(host, path, page.encode())
            site.cited.append(cited_url)
            order.append(cited_url)
            order.append(base[host] + CSS_PATH)
            for image in images:
                url = write(host, image, _jpeg(rng, rng.randint(2_000, 30_000)))
                site.images.append(url)
                order.append(url)
        site._order.extend(order)
    # each URL once, at its first place in crawl order (stylesheets recur)
    seen: set[str] = set()
    site._order = [url for url in site._order if not (url in seen or seen.add(url))]
    for host in HOSTS:  # a host with no cited page still has its stylesheet in urls
        if base[host] + CSS_PATH not in seen:
            site._order.append(base[host] + CSS_PATH)
    return site


# --- fallback server ---------------------------------------------------------------------


def serve(root: Path, port: int, hosts: Sequence[str] = HOSTS, access_log: Path | None = None) -> None:
    """Serve ROOT/<ip>/ on <ip>:PORT for every host, HTTP/1.1 keep-alive, until killed; with
    ``access_log``, one line a request in it: ``<ip> <status> <path and query>``, as nginx's in bench/capture.py."""
    import functools
    import http.server
    import threading

    log = open(access_log, "a", buffering=1, encoding="utf-8") if access_log else None  # noqa: SIM115
    lock = threading.Lock()

    class Handler(http.server.SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go in separate writes

        def log_message(self, format, *args):  # noqa: A002 - no error log, as nginx's
            pass

        def log_request(self, code="-", size="-"):
            if log is not None:
                with lock:
                    log.write(f"{self.server.server_address[0]} {int(code)} {self.path}\n")

    servers = []
    for host in hosts:
        handler = functools.partial(Handler, directory=str(Path(root) / host))
        server = http.server.ThreadingHTTPServer((host, port), handler)
        server.daemon_threads = True
        servers.append(server)
    threads = [threading.Thread(target=server.serve_forever, daemon=True) for server in servers]
    for thread in threads:
        thread.start()
    print("serving", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog="sitegen.py", description="serve ROOT/<ip>/ on <ip>:PORT for each host")
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("root", type=Path)
    parser.add_argument("port", type=int)
    parser.add_argument("--hosts", default=",".join(HOSTS), help="comma-separated IPs [%(default)s]")
    parser.add_argument("--access-log", type=Path, default=None)
    arguments = parser.parse_args()
    serve(arguments.root, arguments.port, arguments.hosts.split(","), arguments.access_log)
