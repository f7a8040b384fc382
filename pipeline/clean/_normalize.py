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
_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
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
    if _MOJIBAKE_HINT.search(text):
        text = repair_text(text)
    if "&" in text and _ENTITY.search(text):
        text = html.unescape(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    text = unicodedata.normalize("NFC", text)
    if ascii_quotes:
        for fancy, plain in _QUOTES:
            if fancy in text:
                text = text.replace(fancy, plain)
    text = _SPACES.sub(" ", text)
    return text
