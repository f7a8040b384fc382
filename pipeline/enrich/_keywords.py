"""Keyphrase ranking: a small TF-style ranker over stop-word-delimited n-grams.

YAKE gives similar lists but costs ~50 ms per 600-word article on our hardware; this ranker costs
a few ms. Candidates are the 1-3-grams inside runs of non-stop words (punctuation and stop words
break runs); multi-word candidates must occur twice or be an entity name. A candidate scores
``freq * mean word frequency * length bonus * position * boosts``: the position factor favours
phrases first seen early; words in the title and entity names are boosted. Candidates overlapping a
better one are skipped. Scores are scaled so the best is 1.0 (higher = better).
"""

from __future__ import annotations

import re
from collections import Counter

from spacy.lang.en.stop_words import STOP_WORDS

_TOKEN = re.compile(r"[^\W\d_][\w’'-]*[^\W_]|[^\W\d_]|[.,;:!?()\[\]\"“”‘—–]|\s'\s", re.UNICODE)
_EXTRA_STOP = frozenset(
    {
        "said",
        "says",
        "say",
        "told",
        "according",
        "also",
        "would",
        "could",
        "like",
        "including",
        "mr",
        "mrs",
        "ms",
        "dr",
        "year",
        "years",
        "time",
        "percent",
        "new",
        "one",
        "two",
        "week",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "yesterday",
        "today",
        "tomorrow",
        "people",
        "just",
        "get",
        "got",
        "made",
        "make",
        "way",
        "lot",
        "went",
    }
)
_STOP = frozenset(w.casefold() for w in STOP_WORDS) | _EXTRA_STOP
MAX_WORDS = 3


def _runs(text: str) -> list[list[str]]:
    """Maximal runs of non-stop words between stop words and punctuation."""
    runs: list[list[str]] = []
    current: list[str] = []
    for m in _TOKEN.finditer(text):
        tok = m.group(0)
        if not tok[0].isalpha() or tok.casefold().replace("’", "'") in _STOP or len(tok) < 2:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(tok)
    if current:
        runs.append(current)
    return runs


def rank_keywords(
    text: str, title: str = "", entity_names: frozenset[str] = frozenset(), top: int = 10
) -> list[tuple[str, float]]:
    """Top ``top`` keyphrases of ``title`` + ``text`` with scores in (0, 1]."""
    if top <= 0:
        return []
    runs = _runs(title + ".\n" + text if title else text)
    if not runs:
        return []
    word_freq: Counter[str] = Counter()
    gram_freq: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    surface: dict[str, Counter[str]] = {}
    for i, run in enumerate(runs):
        keys = [w.casefold() for w in run]
        word_freq.update(keys)
        for n in range(1, min(MAX_WORDS, len(run)) + 1):
            for j in range(len(run) - n + 1):
                key = " ".join(keys[j : j + n])
                gram_freq[key] += 1
                first_seen.setdefault(key, i)
                surface.setdefault(key, Counter())[" ".join(run[j : j + n])] += 1
    title_words = {w.casefold() for run in _runs(title) for w in run}
    entity_keys = {" ".join(n.casefold().split()) for n in entity_names}
    n_runs = len(runs)
    scores: dict[str, float] = {}
    for key, freq in gram_freq.items():
        words = key.split()
        is_entity = key in entity_keys
        if len(words) > 1 and freq < 2 and not is_entity:
            continue
        mean_tf = sum(word_freq[w] for w in words) / len(words)
        position = 1.0 + 1.0 / (1.0 + 10.0 * first_seen[key] / n_runs)
        boost = (1.0 + 0.5 * sum(w in title_words for w in words) / len(words)) * (1.5 if is_entity else 1.0)
        scores[key] = freq * mean_tf * (1.0 + 0.5 * (len(words) - 1)) * position * boost
    best = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    chosen: list[tuple[str, float]] = []
    taken: list[str] = []
    for key, score in best:
        padded = f" {key} "
        if any(padded in f" {t} " or f" {t} " in padded for t in taken):
            continue  # overlaps a phrase already chosen
        taken.append(key)
        chosen.append((surface[key].most_common(1)[0][0], score))
        if len(chosen) == top:
            break
    top_score = chosen[0][1] if chosen else 1.0
    return [(text_, round(s / top_score, 4)) for text_, s in chosen]
