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
import math
import re
import unicodedata
from collections.abc import Callable
from typing import Any, NamedTuple

from pipeline import native

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


_fold_memo: tuple[str, str] = ("", "")  # the last non-ASCII text folded (a body is folded twice)


def fold(text: str) -> str:
    """Compatibility-fold and strip diacritics (keeps case)."""
    global _fold_memo
    if text.isascii():
        return text
    memo = _fold_memo
    if memo[0] == text:
        return memo[1]
    folded = _COMBINING_RE.sub("", unicodedata.normalize("NFKD", text))
    _fold_memo = (text, folded)
    return folded


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
    if not math.isfinite(value):  # a number past the float range ("9" * 400, "1e308 billion")
        return "inf"
    if value == int(value):
        return str(int(value))
    return f"{value:.6g}"


def _names_in(folded: str) -> frozenset[str]:
    """Lower-cased words that appear capitalised inside a sentence somewhere in the text."""
    return frozenset(map(str.lower, _NAME_RE.findall(folded)))


# ``split`` on the token pattern gives [gap, token, gap, token, ..., gap]: the tokens of
# ``_WORD_RE.finditer`` with the text between them, without a match object per token. Same
# pattern with possessive quantifiers (nothing follows them, so the matches are the same; the
# engine keeps no backtracking state).
_SPLIT_RE = re.compile(r"([A-Za-z]++(?:['’][A-Za-z]++)?+|\d++(?:[.,]\d++)*+)")
# ``_SPLIT_RE.split``, compiled when the kernels are built (pipeline/_native.c; same parts).
_kernel = native.module()
_split: Callable[[str], list[str]] = _SPLIT_RE.split if _kernel is None else _kernel.split_tokens
# ``(?<=[a-z,] )[A-Z][A-Za-z]+``, with the capital tested before the look-behind (same matches,
# most positions fail on their first character).
_NAME_RE = re.compile(r"[A-Z](?<=[a-z,] [A-Z])[A-Za-z]+")

# What a raw token means on its own (context-free part of :func:`features`), memoised per raw
# token: the vocabulary repeats. Entries are tuples starting with a kind:
# ``(_K_FEAT, feature, multiplier)``: always this feature (a word, or a month);
# ``(_K_CAP, name_feature, word_feature, low, multiplier)``: a capitalised content word, a name
# unless it starts a sentence and is not capitalised inside a sentence elsewhere;
# ``(_K_SKIP, None, multiplier)``: a function word, weekday word or short word;
# ``(_K_NUMWORD, value, None)``: a number word; ``(_K_NUM, value, None)``: a digit token.
_K_FEAT, _K_CAP, _K_SKIP, _K_NUMWORD, _K_NUM = range(5)
_TOKEN_CACHE_MAX = 100_000
_token_cache: dict[str, tuple[Any, ...]] = {}
# Raw token -> its feature when the token always gives that feature, or ``()`` when it always
# gives none (function words): what the loop needs while no number is pending.
_fast_cache: dict[str, Feature | tuple[()]] = {}
_number_feature_cache: dict[float, Feature] = {}


def _token_entry(tok: str) -> tuple[Any, ...]:
    first = tok[0]
    if first.isdigit():
        return (_K_NUM, _number_key(tok)[1], None)
    low = tok.lower().replace("’", "'")
    if low.endswith("'s"):
        low = low[:-2]
    mult = _MULTIPLIERS.get(low)
    if low in _NUMBER_WORDS:
        return (_K_NUMWORD, float(_NUMBER_WORDS[low]), None)
    month = _MONTHS.get(low)
    if month is not None and (low != "may" or first.isupper()):
        return (_K_FEAT, Feature("@" + month, NUMBER_WEIGHT, True), mult)
    if low in _STOPWORDS or len(low) < 3:
        return (_K_SKIP, None, mult)
    if len(low) >= LONG_WORD_LEN:
        word = Feature(stem(low), LONG_WORD_WEIGHT, True)
    else:
        word = Feature(stem(low), WORD_WEIGHT, False)
    if first.isupper():
        return (_K_CAP, Feature("#" + skeleton(low), NAME_WEIGHT, True), word, low, mult)
    return (_K_FEAT, word, mult)


def _number_feature(value: float) -> Feature:
    feat = _number_feature_cache.get(value)
    if feat is None:
        feat = Feature("=" + _fmt_number(value), NUMBER_WEIGHT, True)
        if len(_number_feature_cache) >= _TOKEN_CACHE_MAX:
            _number_feature_cache.clear()
        _number_feature_cache[value] = feat
    return feat


def _cache_token(tok: str) -> tuple[Any, ...]:
    # The compiled kernel keeps a mirror of the two memos between calls and follows this function's
    # change to them (the token added, after a clear maybe); any other change to the memos here
    # would need the kernel's ``fm_follow`` (pipeline/_native.c) changed with it.
    entry = _token_entry(tok)
    if len(_token_cache) >= _TOKEN_CACHE_MAX:
        _token_cache.clear()
        _fast_cache.clear()
    _token_cache[tok] = entry
    if entry[0] == _K_FEAT:
        _fast_cache[tok] = entry[1]
    elif entry[0] == _K_SKIP:
        _fast_cache[tok] = ()
    return entry


_features_kernel = native.function("features")


def features(text: str) -> list[Feature]:
    """Content features of ``text`` in reading order (see module docstring)."""
    if _features_kernel is None:
        return features_python(text)
    # the compiled twin of ``features_python``: one pass over the tokens with the same memos
    # (same Feature objects), calling back only on a memo miss; the memos are looked up in a
    # mirror the kernel keeps of them while they stay unchanged (no str made per token, one
    # cache miss instead of three: 82 -> 46 µs per warm bench article)
    return _features_kernel(
        fold(text), _fast_cache, _token_cache, _cache_token, _number_feature_cache, _number_feature
    )


def features_python(text: str) -> list[Feature]:
    """:func:`features` in Python (the twin of the compiled kernel ``features``)."""
    folded = fold(text)
    parts = _split(folded)  # [gap, token, gap, token, ..., gap]
    toks = parts[1::2]
    n = len(toks)
    # Tokens that always give the same feature (or none) map to it (or ``()``); the others
    # (capitalised words, numbers, unseen tokens) to None and go through ``_context_tokens``.
    fast = list(map(_fast_cache.get, toks))
    out: list[Feature] = []
    names: frozenset[str] = frozenset()
    if None in fast:
        names = _names_in(folded)
        _resolve_names(toks, fast, names)
    i = 0
    while i < n:
        try:
            j = fast.index(None, i)
        except ValueError:
            j = n
        out.extend(filter(None, fast[i:j]))  # type: ignore[arg-type]
        if j == n:
            break
        i = _context_tokens(toks, parts, j, out, names)
    return out


def _resolve_names(toks: list[str], fast: list[Feature | tuple[()] | None], names: frozenset[str]) -> None:
    """Fill in ``fast`` the capitalised words that are names in this text (capitalised inside a
    sentence somewhere): they give their name feature wherever they stand."""
    slow: list[int] = []
    k = -1
    try:
        while True:
            k = fast.index(None, k + 1)
            slow.append(k)
    except ValueError:
        pass
    local: dict[str, Feature | None] = {}
    for k in slow:
        tok = toks[k]
        if tok in local:
            feat = local[tok]
        else:
            entry = _token_cache.get(tok)
            if entry is None:
                entry = _cache_token(tok)
            feat = local[tok] = entry[1] if entry[0] == _K_CAP and entry[3] in names else None
        if feat is not None:
            fast[k] = feat


def _context_tokens(
    toks: list[str], parts: list[str], i: int, out: list[Feature], names: frozenset[str]
) -> int:
    """Features of ``toks[i]`` and of the tokens after it while a number is pending (appended to
    ``out``); returns the index of the next token to read."""
    pending_number: float | None = None
    n = len(toks)
    while i < n:
        tok = toks[i]
        entry = _token_cache.get(tok)
        if entry is None:
            entry = _cache_token(tok)
        kind = entry[0]
        if pending_number is None:
            empty = not out
        else:
            if kind == _K_NUM:
                out.append(_number_feature(pending_number))
                pending_number = entry[1]
                i += 1
                continue
            mult = entry[-1]
            if mult is not None:
                out.append(_number_feature(pending_number * mult))
                return i + 1
            empty = not out  # before the flush, like the sentence-start test of the token
            out.append(_number_feature(pending_number))
            pending_number = None
        if kind == _K_FEAT:
            out.append(entry[1])
        elif kind == _K_CAP:
            # A name unless it starts a sentence (first token, after a line break or after
            # sentence punctuation) and is never capitalised inside a sentence.
            gap = parts[2 * i]
            if entry[3] in names or not (empty or "\n" in gap or _SENT_END_RE.search(gap)):
                out.append(entry[1])
            else:
                out.append(entry[2])
        elif kind != _K_SKIP:  # a digit token or a number word
            pending_number = entry[1]
            i += 1
            continue
        return i + 1
    if pending_number is not None:
        out.append(_number_feature(pending_number))
    return i


def position_factor(index: int) -> float:
    """Weight multiplier of the ``index``-th content token (1.0 near the top)."""
    if index < POSITION_FULL:
        return 1.0
    return float(0.5 ** ((index - POSITION_FULL) / POSITION_HALF))
