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
_ASCII_CONTROL = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_MOJIBAKE_HINT = re.compile(r"[ÃÂâ€œ€™Ð¢ï»¿]")
_QUOTES = tuple(
    {
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
    }.items()
)


def normalize_text(text: str, *, ascii_quotes: bool = True) -> str:
    """Normalised copy of ``text`` (see module docstring); keeps ``\\n`` line breaks."""
    if not text.isascii() and _MOJIBAKE_HINT.search(text):
        text = repair_text(text)
    if "&" in text and _ENTITY.search(text):
        text = html.unescape(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.isascii():  # O(1) in CPython; most feed text after entity decoding
        raw = text.encode("ascii")
        if len(raw.translate(None, _ASCII_CONTROL)) != len(raw):
            text = _CONTROL.sub("", text)
        if "\t" in text or "  " in text:
            text = _SPACES.sub(" ", text)
        return text
    text = _CONTROL.sub("", text)
    text = unicodedata.normalize("NFC", text)
    if ascii_quotes:
        for fancy, plain in _QUOTES:
            if fancy in text:
                text = text.replace(fancy, plain)
    return _SPACES.sub(" ", text)
