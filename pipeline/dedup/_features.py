"""Weighted, paraphrase-tolerant features of an article body.

What goes in: plain text (paragraphs separated by blank lines). What comes out: a list of
``(key, weight, salient)`` features, one per content token in reading order, where ``key`` is a
normalised token that stays the same across the edits a rewrite or a light edit makes:

- Unicode compatibility folding, diacritics stripped, lower case.
- Function words, weekday names and relative day words ("yesterday", "on Thursday") dropped.
- Numbers normalised: "2,000" -> "2000", "1.8 million" -> "1800000", "ten" -> "10"; month
  names and their abbreviations ("Jan." / "January") -> one key.
- Light suffix stemming ("withdrawing" / "withdraw", "clashes" / "clash").
- Capitalised words inside a sentence (names) keyed by a consonant skeleton, so transliteration
  variants collide: "Tokayev" / "Tokaev" -> ``#tkv``.

Weights favour what survives paraphrase: names and numbers weigh most, long (rarer) words more
than short ones. Tokens far down the text weigh less (news is written top-down; papers abridge
from the bottom and sites glue teasers at the end). ``salient`` marks names, numbers and long
words: the verification sketch is built from those.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import NamedTuple

_WORD_RE = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)?|\d+(?:[.,]\d+)*")
_COMBINING_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_SENT_END_RE = re.compile(r"[.!?:;\"“”]\s*$")

_STOPWORDS = frozenset(
    """
    a about above after again against all almost also although am among an and another any are
    around as at away be became because been before being below between both but by can cannot
    could did do does doing done down during each either else even ever every few for from further
    had has have having he her here hers herself him himself his how however i if in into is it
    its itself just least less like made make many may me might more most much must my myself near
    neither no nor not now of off often on once one only onto or other others our ours ourselves
    out over own per perhaps quite rather same several shall she should since so some still such
    than that the their theirs them themselves then there these they this those though through
    thus to too toward towards under until up upon us very was we were what whatever when where
    whether which while who whom whose why will with within without would yet you your yours
    yourself said says say told according mr mrs ms also just new newly monday tuesday wednesday
    thursday friday saturday sunday yesterday today tomorrow tonight week weekend day days earlier
    later last next ago
    """.split()
)

_MONTHS = {
    "jan": "january", "january": "january", "feb": "february", "february": "february",
    "mar": "march", "march": "march", "apr": "april", "april": "april", "may": "may",
    "jun": "june", "june": "june", "jul": "july", "july": "july", "aug": "august",
    "august": "august", "sep": "september", "sept": "september", "september": "september",
    "oct": "october", "october": "october", "nov": "november", "november": "november",
    "dec": "december", "december": "december",
}  # fmt: skip

_NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "hundred": 100, "dozen": 12,
}  # fmt: skip

_MULTIPLIERS = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000, "trillion": 10**12}

_VOWELS = frozenset("aeiouy")

NAME_WEIGHT = 3.0
NUMBER_WEIGHT = 3.0
LONG_WORD_WEIGHT = 1.6
WORD_WEIGHT = 1.0
LONG_WORD_LEN = 8
POSITION_FULL = 120
POSITION_HALF = 40


class Feature(NamedTuple):
    key: str
    weight: float
    salient: bool


def fold(text: str) -> str:
    """Compatibility-fold and strip diacritics (keeps case)."""
    if text.isascii():
        return text
    return _COMBINING_RE.sub("", unicodedata.normalize("NFKD", text))


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light, deterministic suffix stripper (lower-case input)."""
    if len(word) <= 4:
        return word
    for suffix, repl in (
        ("ations", "ate"), ("ation", "ate"), ("ments", ""), ("ment", ""), ("ings", ""),
        ("ing", ""), ("ies", "y"), ("ied", "y"), ("ed", ""), ("es", ""), ("ly", ""), ("s", ""),
    ):  # fmt: skip
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: len(word) - len(suffix)] + repl
            break
    if len(word) > 3 and word[-1] == "e":
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "ls":
        word = word[:-1]
    return word


@functools.lru_cache(maxsize=65536)
def skeleton(word: str) -> str:
    """Transliteration-insensitive key: first letter + consonants, repeats collapsed."""
    out = [word[0]]
    for ch in word[1:]:
        if ch in _VOWELS or ch == "'" or ch == "’":
            continue
        if ch == "h" and out[-1] in "kgszct":  # kh/k, sh/s, zh/z, ch/c, th/t
            continue
        if ch != out[-1]:
            out.append(ch)
    return "".join(out)


def _number_key(tok: str) -> tuple[str, float]:
    """Normalise a digit token; return (string form, numeric value)."""
    if "," in tok and re.fullmatch(r"\d{1,3}(?:,\d{3})+", tok):
        tok = tok.replace(",", "")
    elif "," in tok:
        tok = tok.replace(",", ".")
    try:
        value = float(tok)
    except ValueError:
        return tok, 0.0
    return tok, value


def _fmt_number(value: float) -> str:
    if value == int(value):
        return str(int(value))
    return f"{value:.6g}"


def _names_in(folded: str) -> frozenset[str]:
    """Lower-cased words that appear capitalised inside a sentence somewhere in the text."""
    names: set[str] = set()
    for m in re.finditer(r"(?<=[a-z,] )[A-Z][A-Za-z]+", folded):
        names.add(m.group(0).lower())
    return frozenset(names)


def features(text: str) -> list[Feature]:
    """Content features of ``text`` in reading order (see module docstring)."""
    folded = fold(text)
    names = _names_in(folded)
    out: list[Feature] = []
    last_end = 0
    pending_number: float | None = None
    for m in _WORD_RE.finditer(folded):
        tok = m.group(0)
        between = folded[last_end : m.start()]
        last_end = m.end()
        sentence_start = not out or bool(_SENT_END_RE.search(between)) or "\n" in between
        first = tok[0]
        if first.isdigit():
            if pending_number is not None:
                out.append(Feature("=" + _fmt_number(pending_number), NUMBER_WEIGHT, True))
            _, pending_number = _number_key(tok)
            continue
        low = tok.lower().replace("’", "'")
        if low.endswith("'s"):
            low = low[:-2]
        if pending_number is not None:
            mult = _MULTIPLIERS.get(low)
            if mult is not None:
                out.append(Feature("=" + _fmt_number(pending_number * mult), NUMBER_WEIGHT, True))
                pending_number = None
                continue
            out.append(Feature("=" + _fmt_number(pending_number), NUMBER_WEIGHT, True))
            pending_number = None
        if low in _NUMBER_WORDS:
            pending_number = float(_NUMBER_WORDS[low])
            continue
        month = _MONTHS.get(low)
        if month is not None and (low != "may" or first.isupper()):
            out.append(Feature("@" + month, NUMBER_WEIGHT, True))
            continue
        if low in _STOPWORDS or len(low) < 3:
            continue
        if first.isupper() and (not sentence_start or low in names):
            out.append(Feature("#" + skeleton(low), NAME_WEIGHT, True))
        elif len(low) >= LONG_WORD_LEN:
            out.append(Feature(stem(low), LONG_WORD_WEIGHT, True))
        else:
            out.append(Feature(stem(low), WORD_WEIGHT, False))
    if pending_number is not None:
        out.append(Feature("=" + _fmt_number(pending_number), NUMBER_WEIGHT, True))
    return out


def position_factor(index: int) -> float:
    """Weight multiplier of the ``index``-th content token (1.0 near the top)."""
    if index < POSITION_FULL:
        return 1.0
    return float(0.5 ** ((index - POSITION_FULL) / POSITION_HALF))
