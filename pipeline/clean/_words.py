"""Words as the clean stage counts them: maximal runs of letters (regex ``[^\\W\\d_]+``).

:func:`letter_runs` returns exactly what ``re.findall(r"[^\\W\\d_]+", text)`` returns, several
times faster on news text: the few distinct non-ASCII characters are looked up one by one (those
that are not letters become spaces), then one ``bytes.translate`` over the UTF-8 encoding turns
every ASCII non-letter into a space and ``str.split`` cuts the runs. Non-ASCII letters pass
through the translation untouched (their UTF-8 bytes are all >= 0x80). Text with many distinct
non-ASCII non-letters (symbols, CJK punctuation soup) takes the regex instead, so the cost stays
linear.
"""

from __future__ import annotations

import re

_RUN = re.compile(r"[^\W\d_]+")
_LETTER = re.compile(r"[^\W\d_]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_MAX_REPLACED = 16  # distinct non-ASCII non-letters replaced one by one before taking the regex
# ASCII letters map to themselves, every other ASCII byte to a space; bytes >= 0x80 are untouched.
_ASCII_TABLE = bytes(c if (c >= 0x80 or chr(c).isalpha()) else 0x20 for c in range(256))


def letter_runs(text: str) -> list[str]:
    """Maximal runs of letters of ``text``, in order (same as ``findall(r"[^\\W\\d_]+", text)``)."""
    if not text.isascii():
        others = [c for c in set(_NON_ASCII.findall(text)) if not _LETTER.match(c)]
        if len(others) > _MAX_REPLACED:
            return _RUN.findall(text)
        for char in others:
            text = text.replace(char, " ")
    spaced = text.encode("utf-8", "surrogatepass").translate(_ASCII_TABLE)
    return spaced.decode("utf-8", "surrogatepass").split()
