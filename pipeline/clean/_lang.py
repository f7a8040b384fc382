"""Cheap language cues from stopwords: which language a text is in, and which lines are not in it.

Uses jusText's stoplists for a handful of languages common in news feeds. This is a line-level cue
(a navigation line in German inside an English article), not a language identifier for records.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache

import justext

from pipeline import native
from pipeline.clean._words import letter_runs

_LANGS: tuple[tuple[str, str], ...] = (
    ("en", "English"),
    ("de", "German"),
    ("es", "Spanish"),
    ("fr", "French"),
    ("it", "Italian"),
    ("pt", "Portuguese"),
    ("nl", "Dutch"),
    ("pl", "Polish"),
)
_LATIN = re.compile(r"[A-Za-zÀ-ɏ]")
_NON_LATIN = re.compile(r"[\u0370-\u1dff\u2c00-\ud7ff\uf900-\ufaff]")
_LETTER = re.compile(r"[^\W\d_]")
_SAMPLE = 6_000  # characters read to guess the document language (about 1,000 words)


@cache
def _word_langs() -> dict[str, str]:
    """Stopword -> the one language it belongs to (words shared by languages carry no signal)."""
    owners: dict[str, set[str]] = {}
    for code, name in _LANGS:
        for word in justext.get_stoplist(name):
            word = word.lower()
            if len(word) > 1:
                owners.setdefault(word, set()).add(code)
    return {w: next(iter(codes)) for w, codes in owners.items() if len(codes) == 1}


@cache
def stopwords(code: str) -> frozenset[str]:
    """All stopwords of one language (``"en"``, ``"de"`` ...), empty when unknown."""
    name = dict(_LANGS).get(code)
    return frozenset(w.lower() for w in justext.get_stoplist(name)) if name else frozenset()


@cache
def _word_lengths() -> tuple[int, int]:
    """Shortest and longest stopword of :func:`_word_langs` (runs outside are not looked up)."""
    lengths = [len(w) for w in _word_langs()]
    return (min(lengths), max(lengths)) if lengths else (1, 0)


_votes_kernel = native.function("stopword_votes")
# The same votes against a table of the stopwords built once: no str object and no dict look-up
# per letter run (about 48 -> 12 us for the 6,000 characters of an article's sample).
_table_kernel = native.function("stopword_table")
_votes_table_kernel = native.function("stopword_votes_table")


@cache
def _stop_table() -> object:
    assert _table_kernel is not None
    return _table_kernel(_word_langs())


def stopword_votes(text: str) -> Counter[str]:
    """Count of language-specific stopwords per language code, keys in order of first appearance
    (``guess_language`` breaks ties by it). The compiled kernel when built, else the twin."""
    if _votes_table_kernel is not None and _table_kernel is not None:
        return Counter(_votes_table_kernel(text.lower(), _stop_table()))
    if _votes_kernel is None:
        return stopword_votes_python(text)
    return Counter(_votes_kernel(text.lower(), _word_langs(), *_word_lengths()))


def stopword_votes_python(text: str) -> Counter[str]:
    """The pure-Python twin of the ``stopword_votes`` kernel (same counts, same key order)."""
    owners = _word_langs()
    return Counter([owners[w] for w in letter_runs(text.lower()) if w in owners])


def guess_language(text: str) -> str | None:
    """Most likely language code by stopwords, or ``None`` when there is too little evidence."""
    votes = stopword_votes(text[:_SAMPLE])
    if not votes:
        return None
    code, count = votes.most_common(1)[0]
    return code if count >= 3 else None


def latin_share(text: str) -> float:
    """Share of letters that are Latin script (1.0 for text without letters)."""
    if text.isascii() or not _NON_LATIN.search(text):
        return 1.0
    letters = len(_LETTER.findall(text))
    return len(_LATIN.findall(text)) / letters if letters else 1.0


@cache
def stopwords_and_english(code: str) -> frozenset[str]:
    """Stopwords of one language and of English (the union is built once per language)."""
    return stopwords(code) | stopwords("en")


@cache
def _any_stopwords() -> frozenset[str]:
    return frozenset().union(*(stopwords(code) for code, _ in _LANGS))


def is_foreign(line: str, doc_lang: str | None, doc_latin: float) -> bool:
    """True when ``line`` is clearly in another language or script than the document.

    Votes for another language: stopwords (3+ letters) of a known language that are not stopwords of
    the document's language, plus half a vote per word with a diacritic when the document is
    English. Votes against: the document language's stopwords. At least one stopword vote needed.
    """
    if doc_latin > 0.8 and latin_share(line) < 0.3:
        return True
    if doc_lang is None:
        return False
    own_stop = stopwords(doc_lang)
    if not own_stop:
        return False
    every = _any_stopwords()
    own = other = accented = 0
    for word in letter_runs(line.lower()):
        if word in own_stop:
            own += 1
        elif word in every and len(word) > 2:
            other += 1
        elif doc_lang == "en" and not word.isascii():
            accented += 1
    return other >= 1 and other + 0.5 * accented > own
