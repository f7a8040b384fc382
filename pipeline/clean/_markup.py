"""Markup guard: clean text and titles carry no markup from the input.

A text/plain article that is really an HTML page is cleaned as HTML; tags that survive cleaning
(entity-escaped tags such as ``&lt;script&gt;`` decode to text that reads as markup, a raw title may
hold tags) are removed together with script/style bodies. Bounded patterns and ``str.find`` keep
this linear on hostile input.
"""

from __future__ import annotations

import re

_HTML_DOC = re.compile(r"\s*(?:<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>])", re.IGNORECASE)
_TAG = re.compile(r"<\s{0,20}/?\s{0,20}[a-zA-Z!?][^<>]{0,2000}>")


def looks_like_html_page(content: str) -> bool:
    """True when ``content`` starts like a whole HTML document."""
    return _HTML_DOC.match(content[:2000]) is not None


def _drop_blocks(text: str, name: str) -> str:
    lower = text.lower()
    if f"<{name}" not in lower:
        return text
    out: list[str] = []
    pos = 0
    while (start := lower.find(f"<{name}", pos)) >= 0:
        out.append(text[pos:start])
        end = lower.find(f"</{name}", start)
        if end < 0:
            pos = len(text)
            break
        close = lower.find(">", end)
        pos = len(text) if close < 0 else close + 1
    out.append(text[pos:])
    return "".join(out)


def without_markup(text: str) -> str:
    """``text`` with script/style blocks and tag-like sequences removed."""
    if "<" not in text:
        return text
    for name in ("script", "style"):
        text = _drop_blocks(text, name)
    return _TAG.sub("", text)
