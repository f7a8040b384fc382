"""Name normalisation and spelling-variant matching (pure; used per article and when merging).

Two names are variants when their normalised forms (casefolded, diacritics, hyphens, punctuation and
spaces removed) are equal, or when their transliteration keys are equal *and* their Jaro-Winkler
similarity is at least ``JW_MIN``. The key collapses y/j->i, kh->h, ph->f, drops vowels after the
first letter and squeezes repeated letters, so "Tokayev"/"Tokaev" and "Shai-mukhambetov"/
"Shaimukhambetov" match while "Tokayev"/"Takeva" do not (JW too low).
"""

from __future__ import annotations

import re
import unicodedata

import jellyfish

JW_MIN = 0.88
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_VOWELS = re.compile(r"[aeiou]")
_REPEATS = re.compile(r"(.)\1+")


def normalise(name: str) -> str:
    """Casefold, strip diacritics, drop everything that is not a letter or digit."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_ALNUM.sub("", plain)


def translit_key(norm: str) -> str:
    if not norm:
        return norm
    s = norm.replace("kh", "h").replace("ph", "f").replace("y", "i").replace("j", "i")
    s = s[0] + _VOWELS.sub("", s[1:])
    return _REPEATS.sub(r"\1", s)


def is_variant(a: str, b: str) -> bool:
    """True if ``a`` and ``b`` spell the same name."""
    na, nb = normalise(a), normalise(b)
    if not na or not nb:
        return False
    if na == nb:
        return True
    if translit_key(na) != translit_key(nb):
        return False
    return jellyfish.jaro_winkler_similarity(na, nb) >= JW_MIN


def tokens(name: str) -> list[str]:
    return [t for t in re.split(r"\s+", name.strip()) if t]


def surname_of(full: str, single: str) -> bool:
    """True if the one-word ``single`` is (a spelling of) the last word of the multi-word ``full``."""
    parts = tokens(full)
    return len(parts) > 1 and len(tokens(single)) == 1 and is_variant(parts[-1], single)


def is_acronym_of(short: str, long: str) -> bool:
    """ "CSTO" for "Collective Security Treaty Organization" (initials of capitalised words)."""
    if not (2 <= len(short) <= 8 and short.isupper() and short.isalpha()):
        return False
    initials = "".join(w[0] for w in re.split(r"[\s-]+", long) if w[:1].isupper())
    return initials == short
