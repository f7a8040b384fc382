"""Text normalisation shared by the HTML and plain-text paths.

Repairs mojibake, unescapes stray HTML entities, drops control and zero-width characters, folds
exotic spaces, normalises quotes to ASCII (optional) and collapses runs of spaces. Line breaks are
kept; callers split on them.
"""

from __future__ import annotations

import html
import re
import unicodedata

from pipeline.clean._charset import repair_text

_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060\ufeff]"
)
_SPACE_CHARS = r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]"
# Only runs that change: two or more space characters, or one that is not a plain space (matching
# every single space between words made the substitution the costliest step of the stage).
_SPACES = re.compile(rf" {_SPACE_CHARS}+|[\t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]{_SPACE_CHARS}*")
_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_QUOTES = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u2033": '"',
    "\u00ab": '"',
    "\u00bb": '"',
}
# The same character sets as the patterns above, to test the few distinct non-ASCII characters
# of a text instead of scanning all of it once per step.
_MOJIBAKE_CHARS = frozenset("ÃÂâ€œ€™Ð¢ï»¿")
_ASCII_CONTROL = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_WIDE_CONTROL = frozenset(
    [chr(c) for c in range(0x80, 0xA0)]
    + [chr(c) for c in (*range(0x200B, 0x2010), 0x2028, 0x2029, *range(0x202A, 0x202F), 0x2060, 0xFEFF)]
)
_WIDE_SPACES = frozenset(["\u00a0", "\u1680", *map(chr, range(0x2000, 0x200B)), "\u202f", "\u205f", "\u3000"])


def _has_ascii_control(text: str) -> bool:
    raw = text.encode("utf-8", "surrogatepass")
    return len(raw.translate(None, _ASCII_CONTROL)) != len(raw)


def normalize_text(text: str, *, ascii_quotes: bool = True) -> str:
    """Normalised copy of ``text`` (see module docstring); keeps ``\\n`` line breaks.

    Each step runs only when its characters occur. Quotes are folded before the NFC step (the
    quote characters neither decompose nor compose, so the order does not matter), which makes
    most English text ASCII and lets it skip NFC.
    """
    wide: set[str] | None = None  # the distinct non-ASCII characters of ``text``, when known
    if not text.isascii():
        wide = set(_NON_ASCII.findall(text))
        if not wide.isdisjoint(_MOJIBAKE_CHARS):
            text, wide = repair_text(text), None
    if "&" in text and _ENTITY.search(text):
        text, wide = html.unescape(text), None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.isascii():  # O(1) in CPython
        if wide is None:
            wide = set(_NON_ASCII.findall(text))
        if not wide.isdisjoint(_WIDE_CONTROL) or _has_ascii_control(text):
            text = _CONTROL.sub("", text)
            wide -= _WIDE_CONTROL
        if ascii_quotes:
            for fancy in wide.intersection(_QUOTES):
                text = text.replace(fancy, _QUOTES[fancy])
            wide.difference_update(_QUOTES)
        if wide:
            text = unicodedata.normalize("NFC", text)
            if not wide.isdisjoint(_WIDE_SPACES) or "\t" in text or "  " in text:
                text = _SPACES.sub(" ", text)
            return text
    elif _has_ascii_control(text):
        text = _CONTROL.sub("", text)
    if "\t" in text or "  " in text:
        text = _SPACES.sub(" ", text)
    return text
