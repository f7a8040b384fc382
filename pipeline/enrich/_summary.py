"""Lead summary, word count and reading time (pure text functions)."""

from __future__ import annotations

import math
import re

_WORD = re.compile(r"[^\W_](?:[\w’'-]*[^\W_])?", re.UNICODE)
# A candidate sentence end: . ! ? (optionally a closing quote/bracket) before whitespace and an
# upper-case letter, digit or opening quote; rejected after a single initial or a known abbreviation.
_SENT_END = re.compile(r"[.!?][\"”’)\]]?(?=\s+[\"“‘(\[]?[A-Z0-9])")
_ABBREV = frozenset(
    [
        "mr",
        "ms",
        "mrs",
        "dr",
        "st",
        "jr",
        "sr",
        "gen",
        "gov",
        "sen",
        "rep",
        "prof",
        "lt",
        "col",
        "sgt",
        "capt",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "no",
        "vs",
        "etc",
        "inc",
        "corp",
        "co",
        "ltd",
        "u.s",
        "u.k",
    ]
)


def _is_sentence_end(flat: str, pos: int) -> bool:
    if flat[pos] != ".":
        return True
    word = flat[:pos].rsplit(" ", 1)[-1].lstrip('"“‘([').casefold()
    return not (len(word) == 1 or word in _ABBREV)


def word_count(text: str) -> int:
    """Number of words: runs of letters/digits, inner apostrophes and hyphens kept."""
    return len(_WORD.findall(text))


def reading_time_minutes(words: int, words_per_minute: int) -> int:
    """Whole minutes rounded up, at least 1 for a non-empty text (238 wpm: Brysbaert 2019)."""
    return 0 if words == 0 else max(1, math.ceil(words / words_per_minute))


def lead_summary(text: str, max_chars: int) -> str:
    """Leading whole sentences of the first paragraph(s) up to ``max_chars``.

    Always at least the first sentence (cut at a word boundary with "…" if it alone is too long).
    """
    # Only the first max_chars + 1 characters of the flattened text matter, and flattening a prefix
    # of the text gives a prefix of the flattened text: flatten a generous prefix first.
    flat = " ".join(text[: 4 * max_chars + 64].split())
    if len(flat) <= max_chars:
        flat = " ".join(text.split())
    if len(flat) <= max_chars:
        return flat
    ends = [m.end() for m in _SENT_END.finditer(flat, 0, max_chars + 1) if _is_sentence_end(flat, m.start())]
    if ends:
        return flat[: ends[-1]].strip()
    cut = flat[:max_chars].rsplit(" ", 1)[0].rstrip(",;:—–- ")
    return cut + "…"
