"""What CSS makes a browser load: every ``url()`` wherever it stands (declarations, ``@font-face``
sources, rules nested in ``@media`` or ``@supports``), the strings of ``image-set()``, and ``@import``
rules (string or ``url()`` form). Read as a browser reads CSS (comments, escapes and strings
included); broken CSS is read as far as it goes and never raises.

Two readers give the same links. tinycss2's tokenizer is the reference (:func:`_token_urls`), but
tokenizes about a megabyte a second, in Python: a page's 800 KB ``<style>`` block took half a second.
:func:`_scanned_urls` follows the same tokenization (CSS Syntax Level 3, with tinycss2's
preprocessing) with compiled regular expressions, for only the tokens that bear on a link: comments,
strings, ``url()``, escapes, brackets and the functions they open, ``@import``; the text between them
is skipped by the regular expression engine. Whatever it does not read exactly as tinycss2 would (an
escape that could spell ``url``, ``image-set`` or ``import``, a name just before such a function, a
bad string or URL, one left open at the end) makes it give way to tinycss2 for the whole text.
tests/test_requisites.py holds the two equal on hand-written tricky CSS and on every stylesheet, style
block and style attribute of the shared corpus.

Bounded: the first :data:`MAX_CSS_BYTES` of a stylesheet are read, and at most :data:`MAX_CSS_URLS`
links are kept from one stylesheet, style block or attribute.
"""

from __future__ import annotations

import re
import sys
from typing import Any, Iterator

import tinycss2
from tinycss2.bytes import decode_stylesheet_bytes

from ._html import Link, charset_label, requisite_url

MAX_CSS_BYTES = 1 << 20  # of a stylesheet read (bootstrap.css is 0.2 MB); the archived record stays whole
MAX_CSS_URLS = 5_000  # links kept from one stylesheet; the rest are not fetched
IMPORT_TAG = "css-import"  # the tag of a link from an @import rule
_IMAGE_SETS = ("image-set", "-webkit-image-set")  # whose string arguments are URLs
# The scanner's tokens (see the module's docstring); tinycss2 spells whitespace " \n\t" once it has
# made every newline "\n", and a name code point [A-Za-z0-9_-] or any non-ASCII one.
_NAME = "A-Za-z0-9_\\-\x80-\U0010ffff"
# (each starts with a set of characters, which the regular expression engine looks for fast)
_EVENT = re.compile(r"[/\"'\\()\[\]{}](?:(?<=/)\*|(?<!/))")
_LINKING = re.compile(r"[/\"'\\(](?:(?<=/)\*|(?<=[lLtT]\()|(?<=[\"'\\]))")  # what matters outside image-set(), url("x")
_STRINGS = {quote: re.compile(rf"{quote}((?:[^{quote}\\\n]|\\[\s\S])*){quote}") for quote in "\"'"}
_URL_TOKEN = re.compile(r"[ \n\t]*((?:[^\"'()\\ \n\t\x00-\x08\x0b\x0e-\x1f\x7f]|\\[^\n])*)[ \n\t]*\)")
_ESCAPED_NAME = re.compile(rf"(?:[{_NAME}]|\\(?:[0-9A-Fa-f]{{1,6}}[ \n\t]?|[^\n]))+")
_ESCAPE = re.compile(r"\\(?:([0-9A-Fa-f]{1,6})[ \n\t]?|(\n)|([\s\S]))")
_IMPORT = re.compile(rf"@[iI][mM][pP][oO][rR][tT](?![{_NAME}\\])")
_WHITESPACE = re.compile(r"[ \n\t]*")
_NAME_CHARACTER = re.compile(f"[{_NAME}]")
_FUNCTIONS = ("url", "-webkit-image-set", "image-set")  # the longer image-set before the shorter
_LAST_LETTERS = frozenset("lLtT")  # of their names
_SPELLED = re.compile(r"(url|image-set|import)\Z", re.I)  # what an escaped name must not end with
_CLOSING = {"(": ")", "[": "]", "{": "}"}


class _Unusual(Exception):
    """The scanner met CSS it does not read exactly as tinycss2: tinycss2 reads it."""


def stylesheet_links(payload: bytes, *, url: str, content_type: str | None) -> list[Link]:
    """The links of a stylesheet's bytes served at ``url``, decoded as CSS says (a BOM, then the
    HTTP charset, then ``@charset``, else UTF-8, undecodable bytes replaced), tagged ``css``."""
    text, _ = decode_stylesheet_bytes(payload[:MAX_CSS_BYTES], protocol_encoding=charset_label(content_type))
    return css_links(text, base=url, tag="css")


def css_links(text: str, *, base: str, tag: str) -> list[Link]:
    """The links of CSS ``text`` resolved against ``base``: ``@import`` rules tagged ``css-import``,
    every other URL ``tag``."""
    links: list[Link] = []
    for value, imported in css_urls(text):
        target = requisite_url(base, value)
        if target:
            links.append(Link(url=target, kind="embed", tag=IMPORT_TAG if imported else tag))
            if len(links) == MAX_CSS_URLS:
                break
    return links


def css_urls(text: str) -> list[tuple[str, bool]]:
    """Every URL CSS ``text`` names, unresolved, in order, each with whether an ``@import`` names it."""
    text = _preprocessed(text[:MAX_CSS_BYTES])
    try:
        return _scanned_urls(text)
    except _Unusual:
        return list(_token_urls(text))


def _preprocessed(text: str) -> str:
    """What tinycss2 tokenizes: NUL replaced, every newline ``\\n``."""
    return text.replace("\0", "\ufffd").replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")


def _token_urls(text: str) -> Iterator[tuple[str, bool]]:
    """:func:`css_urls` by tinycss2's tokens, the reference."""
    # what is left to read of each block open, and whether its strings are URLs (in image-set())
    stack: list[tuple[Iterator[Any], bool]] = [
        (iter(tinycss2.parse_component_value_list(text, skip_comments=True)), False)]
    importing = False  # the last token read was @import
    while stack:
        tokens, image_set = stack[-1]
        token = next(tokens, None)
        if token is None:
            stack.pop()
            continue
        value = _url(token, strings=importing or image_set)
        if value is not None:
            yield value, importing
        elif token.type == "function" and token.lower_name != "url":
            stack.append((iter(token.arguments), token.lower_name in _IMAGE_SETS))
        elif token.type in ("() block", "[] block", "{} block"):
            stack.append((iter(token.content), False))
        if token.type != "whitespace":
            importing = token.type == "at-keyword" and token.lower_value == "import"


def _url(token: Any, *, strings: bool) -> str | None:
    """The URL a token names: ``url(x)``, ``url("x")``, or a string where ``strings`` are URLs."""
    if token.type == "url" or (token.type == "string" and strings):
        return str(token.value)
    if token.type == "function" and token.lower_name == "url":
        quoted = [argument.value for argument in token.arguments if argument.type == "string"]
        return str(quoted[0]) if quoted else None
    return None


def _scanned_urls(text: str) -> list[tuple[str, bool]]:
    """:func:`css_urls` by the scanner (``text`` preprocessed); raises :class:`_Unusual` where it
    might differ from tinycss2."""
    found: list[tuple[str, bool]] = []
    # the blocks open: the character closing each, whether its strings are URLs (image-set()), and
    # whether it is skipped (the arguments of url("x"), which tinycss2's reader never enters)
    stack: list[tuple[str | None, bool, bool]] = [(None, False, False)]
    imports = [(match.start(), match.end()) for match in _IMPORT.finditer(text)]
    next_import = 0
    pending = -1  # where an @import, the last token read but whitespace, comments and closings, ended
    position = 0
    while True:
        # Without @import, brackets bear on links only inside image-set() and url("x"): outside them
        # only what may open one is read (the blocks under one are never closed while it is open).
        plain = not imports and len(stack) == 1
        match = (_LINKING if plain else _EVENT).search(text, position)
        if match is None:
            break
        start = match.start()
        closing, image_set, skipped = stack[-1]
        while next_import < len(imports) and imports[next_import][0] < start:
            if imports[next_import][0] >= position and not skipped:
                pending = imports[next_import][1]
            next_import += 1
        character = text[start]
        if character == "/":  # a comment
            end = text.find("*/", start + 2)
            if end < 0:
                break  # unclosed: the rest is the comment
            position = end + 2
            if pending >= 0:
                pending = _still_pending(text, pending, start, position)
        elif character == closing:
            stack.pop()
            position = start + 1
            if pending >= 0:
                pending = _still_pending(text, pending, start, position)
        elif character in ")]}":
            pending, position = -1, start + 1  # unmatched: an error token
        elif character in "\"'":
            value, position = _string(text, start)
            importing = _importing(text, pending, start)
            if not skipped and (image_set or importing):
                found.append((value, importing))
            pending = -1
        elif character == "\\":
            position = _escaped_name(text, start)
            pending = -1
        elif character == "(":
            name, name_start = _function(text, start)
            importing = _importing(text, pending, name_start)
            pending = -1
            if name != "url":
                if not plain or name is not None:
                    stack.append((")", name in _IMAGE_SETS, skipped))
                position = start + 1
                continue
            quote = start + 1
            while text.startswith((" ", "\n", "\t"), quote):
                quote += 1
            if quote == len(text):
                raise _Unusual("EOF in url(")
            if text[quote] in "\"'":  # url("x"): a function whose first argument is the URL
                value, position = _string(text, quote)
                stack.append((")", False, True))
            else:
                token = _URL_TOKEN.match(text, start + 1)
                if token is None:
                    raise _Unusual("bad or unclosed url(")
                value, position = _unescaped(token[1]), token.end()
            if not skipped:
                found.append((value, importing))
        else:  # an opening bracket
            stack.append((_CLOSING[character], False, skipped))
            pending, position = -1, start + 1
    return found


def _still_pending(text: str, pending: int, start: int, end: int) -> int:
    """Where an @import counts from after a comment or a closing at ``start``..``end``."""
    return end if _importing(text, pending, start) else -1


def _importing(text: str, pending: int, start: int) -> bool:
    """Is an @import the last token before ``start`` (nothing but whitespace since ``pending``)?"""
    return pending >= 0 and _WHITESPACE.fullmatch(text, pending, start) is not None


def _string(text: str, start: int) -> tuple[str, int]:
    """The value of the string at ``start``, and where it ends."""
    match = _STRINGS[text[start]].match(text, start)
    if match is None:
        raise _Unusual("bad or unclosed string")
    return _unescaped(match[1]), match.end()


def _escaped_name(text: str, start: int) -> int:
    """Where the name holding the escape at ``start`` ends; a name that may spell a function or
    ``@import`` this way is left to tinycss2."""
    if text.startswith("\\\n", start):
        return start + 1  # not an escape: a delimiter
    if start + 1 == len(text):
        raise _Unusual("escaped EOF")
    name = _ESCAPED_NAME.match(text, start)
    assert name is not None  # a valid escape starts it
    end = name.end()
    if _SPELLED.search(text[max(0, start - 17):start] + _unescaped(text[start:end])):
        raise _Unusual("an escaped name")
    return end


def _function(text: str, start: int) -> tuple[str | None, int]:
    """The function of the ``(`` at ``start`` that bears on links (``url`` or an image-set), and where
    its name starts; (None, ``start``) for another function or a block."""
    if text[start - 1:start] not in _LAST_LETTERS:
        return None, start
    for name in _FUNCTIONS:
        name_start = start - len(name)
        spelled = text[max(0, name_start):start]
        if spelled.isascii() and spelled.lower() == name:
            before = text[name_start - 1] if name_start else " "
            if before in "#@" or _NAME_CHARACTER.match(before):
                raise _Unusual("a name before " + name)  # another token's, or a longer name
            return name, name_start
    return None, start


def _unescaped(value: str) -> str:
    return _ESCAPE.sub(_escape, value) if "\\" in value else value


def _escape(match: re.Match[str]) -> str:
    """tinycss2's value of an escape (a string's escaped newline is nothing)."""
    if match[1]:
        codepoint = int(match[1], 16)
        return chr(codepoint) if 0 < codepoint <= sys.maxunicode else "\ufffd"
    return "" if match[2] else match[3]
