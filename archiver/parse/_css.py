"""What CSS makes a browser load: every ``url()`` wherever it stands (declarations, ``@font-face``
sources, rules nested in ``@media`` or ``@supports``), the strings of ``image-set()``, and ``@import``
rules (string or ``url()`` form). Read with tinycss2's tokenizer, as a browser reads CSS (comments,
escapes and strings included), never with regular expressions; broken CSS is read as far as it goes
and never raises.

Bounded: the first :data:`MAX_CSS_BYTES` of a stylesheet are read (tinycss2 tokenizes about a
megabyte a second, in Python), and at most :data:`MAX_CSS_URLS` links are kept from one stylesheet,
style block or attribute.
"""

from __future__ import annotations

from typing import Any, Iterator

import tinycss2
from tinycss2.bytes import decode_stylesheet_bytes

from ._html import Link, charset_label, requisite_url

MAX_CSS_BYTES = 1 << 20  # of a stylesheet read (bootstrap.css is 0.2 MB); the archived record stays whole
MAX_CSS_URLS = 5_000  # links kept from one stylesheet; the rest are not fetched
IMPORT_TAG = "css-import"  # the tag of a link from an @import rule
_IMAGE_SETS = ("image-set", "-webkit-image-set")  # whose string arguments are URLs


def stylesheet_links(payload: bytes, *, url: str, content_type: str | None) -> list[Link]:
    """The links of a stylesheet's bytes served at ``url``, decoded as CSS says (a BOM, then the
    HTTP charset, then ``@charset``, else UTF-8, undecodable bytes replaced), tagged ``css``."""
    text, _ = decode_stylesheet_bytes(payload[:MAX_CSS_BYTES], protocol_encoding=charset_label(content_type))
    return css_links(text, base=url, tag="css")


def css_links(text: str, *, base: str, tag: str) -> list[Link]:
    """The links of CSS ``text`` resolved against ``base``: ``@import`` rules tagged ``css-import``,
    every other URL ``tag``."""
    links: list[Link] = []
    # what is left to read of each block open, and whether its strings are URLs (in image-set())
    stack: list[tuple[Iterator[Any], bool]] = [
        (iter(tinycss2.parse_component_value_list(text[:MAX_CSS_BYTES], skip_comments=True)), False)]
    importing = False  # the last token read was @import
    while stack and len(links) < MAX_CSS_URLS:
        tokens, image_set = stack[-1]
        token = next(tokens, None)
        if token is None:
            stack.pop()
            continue
        value = _url(token, strings=importing or image_set)
        target = requisite_url(base, value)
        if target:
            links.append(Link(url=target, kind="embed", tag=IMPORT_TAG if importing else tag))
        elif token.type == "function" and token.lower_name != "url":
            stack.append((iter(token.arguments), token.lower_name in _IMAGE_SETS))
        elif token.type in ("() block", "[] block", "{} block"):
            stack.append((iter(token.content), False))
        if token.type != "whitespace":
            importing = token.type == "at-keyword" and token.lower_value == "import"
    return links


def _url(token: Any, *, strings: bool) -> str | None:
    """The URL a token names: ``url(x)``, ``url("x")``, or a string where ``strings`` are URLs."""
    if token.type == "url" or (token.type == "string" and strings):
        return str(token.value)
    if token.type == "function" and token.lower_name == "url":
        quoted = [argument.value for argument in token.arguments if argument.type == "string"]
        return str(quoted[0]) if quoted else None
    return None
