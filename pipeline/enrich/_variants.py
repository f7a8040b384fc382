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
from functools import lru_cache

import jellyfish

JW_MIN = 0.88
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_VOWELS = re.compile(r"[aeiou]")
_REPEATS = re.compile(r"(.)\1+")


@lru_cache(maxsize=65536)
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


@lru_cache(maxsize=65536)
def name_key(name: str) -> tuple[str, str]:
    """``(normalised name, its transliteration key)``; names that are variants share the key."""
    norm = normalise(name)
    return norm, translit_key(norm)


def variant_norms(na: str, nb: str) -> bool:
    """:func:`is_variant` for two normalised names with equal transliteration keys."""
    return na == nb or jellyfish.jaro_winkler_similarity(na, nb) >= JW_MIN


def is_variant(a: str, b: str) -> bool:
    """True if ``a`` and ``b`` spell the same name."""
    na, ka = name_key(a)
    nb, kb = name_key(b)
    if not na or not nb or ka != kb:
        return False
    return variant_norms(na, nb)


@lru_cache(maxsize=65536)
def tokens(name: str) -> tuple[str, ...]:
    """The whitespace-separated words of ``name``."""
    return tuple(name.split())


def surname_of(full: str, single: str) -> bool:
    """True if the one-word ``single`` is (a spelling of) the last word of the multi-word ``full``."""
    parts = tokens(full)
    return len(parts) > 1 and len(tokens(single)) == 1 and is_variant(parts[-1], single)


def is_acronym_shape(short: str) -> bool:
    return 2 <= len(short) <= 8 and short.isupper() and short.isalpha()


_WORD_SPLIT = re.compile(r"[\s-]+")


@lru_cache(maxsize=65536)
def initials(long: str) -> str:
    """Initials of the capitalised words: "Collective Security Treaty Organization" -> "CSTO"."""
    return "".join(w[0] for w in _WORD_SPLIT.split(long) if w[:1].isupper())


def is_acronym_of(short: str, long: str) -> bool:
    """ "CSTO" for "Collective Security Treaty Organization" (initials of capitalised words)."""
    return is_acronym_shape(short) and initials(long) == short
