"""Keyphrase ranking: a small TF-style ranker over stop-word-delimited n-grams.

YAKE gives similar lists but costs ~50 ms per 600-word article on our hardware; this ranker costs
a few ms. Candidates are the 1-3-grams inside runs of non-stop words (punctuation and stop words
break runs); multi-word candidates must occur twice or be an entity name. A candidate scores
``freq * mean word frequency * length bonus * position * boosts``: the position factor favours
phrases first seen early; words in the title and entity names are boosted. Candidates overlapping a
better one are skipped. Scores are scaled so the best is 1.0 (higher = better).
"""

from __future__ import annotations

import heapq
import re
from collections import Counter
from itertools import pairwise

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
# English function words (written for this module; spaCy is not imported outside ner="spacy").
_FUNCTION_WORDS = frozenset(
    """a about above across after afterwards again against all almost alone along already also although
    always am among amongst an and another any anyhow anyone anything anyway anywhere are around as at
    back be became because become becomes becoming been before beforehand behind being below beside
    besides between beyond both bottom but by call can cannot could did do does doing done down due
    during each eight either eleven else elsewhere empty enough even ever every everyone everything
    everywhere except few fifteen fifty first five for former formerly forty four from front full
    further give go had has have he hence her here hereafter hereby herein hereupon hers herself him
    himself his how however hundred i if in indeed into is it its itself just keep last latter
    latterly least less made many may me meanwhile might mine more moreover most mostly move much must
    my myself name namely neither never nevertheless next nine no nobody none noone nor not nothing
    now nowhere of off often on once only onto or other others otherwise our ours ourselves out over
    own part per perhaps please put quite rather re really regarding same say see seem seemed seeming
    seems serious several she should show side since six sixty so some somehow someone something
    sometime sometimes somewhere still such take ten than that the their them themselves then thence
    there thereafter thereby therefore therein thereupon these they third this those though three
    through throughout thru thus to together too top toward towards twelve twenty two under unless
    until up upon us used using various very via was we well were what whatever when whence whenever
    where whereafter whereas whereby wherein whereupon wherever whether which while whither who
    whoever whole whom whose why will with within without yet you your yours yourself yourselves
    it's don't didn't won't can't isn't wasn't aren't weren't hasn't haven't he's she's that's
    there's they're we're i'm""".split()
)
_STOP = _FUNCTION_WORDS | _EXTRA_STOP
MAX_WORDS = 3
# Keyphrases are ranked on the first MAX_CHARS characters (title included): enough for news, and
# bounds the cost of very long texts.
MAX_CHARS = 6000


Run = tuple[list[str], list[str]]  # (words as written, casefolded words)


def _runs(text: str) -> list[Run]:
    """Maximal runs of non-stop words between stop words and punctuation."""
    toks = _TOKEN.findall(text)
    if not toks:
        return []
    folded = "\x00".join(toks).casefold()  # one casefold for the whole text
    keys = folded.split("\x00")
    if len(keys) != len(toks):  # cannot happen with _TOKEN, but stay correct if it did
        keys = [t.casefold() for t in toks]
    stop_keys = [k.replace("’", "'") for k in keys] if "’" in folded else keys
    runs: list[Run] = []
    words: list[str] = []
    lowered: list[str] = []
    for tok, key, stop_key in zip(toks, keys, stop_keys, strict=True):
        if stop_key in _STOP or len(tok) < 2 or not tok[0].isalpha():
            if words:
                runs.append((words, lowered))
                words, lowered = [], []
        else:
            words.append(tok)
            lowered.append(key)
    if words:
        runs.append((words, lowered))
    return runs


def _choose(best: list[tuple[str, float]], top: int) -> tuple[list[tuple[str, float]], list[str]]:
    """The first ``top`` phrases of ``best`` that do not overlap an earlier chosen one."""
    chosen: list[tuple[str, float]] = []
    taken: list[str] = []
    for key, score in best:
        padded = f" {key} "
        if any(padded in f" {t} " or f" {t} " in padded for t in taken):
            continue  # overlaps a phrase already chosen
        taken.append(key)
        chosen.append((key, score))
        if len(chosen) == top:
            break
    return chosen, taken


def rank_keywords(
    text: str, title: str = "", entity_names: frozenset[str] = frozenset(), top: int = 10
) -> list[tuple[str, float]]:
    """Top ``top`` keyphrases of ``title`` + ``text`` with scores in (0, 1]."""
    if top <= 0:
        return []
    runs = _runs((title + ".\n" + text if title else text)[:MAX_CHARS])
    if not runs:
        return []
    grams: list[str] = []
    surf: list[str] = []
    run_of: list[int] = []
    for i, (run, keys) in enumerate(runs):
        n = len(grams)
        grams += keys
        surf += run
        if len(run) > 1:
            grams += [f"{a} {b}" for a, b in pairwise(keys)]
            surf += [f"{a} {b}" for a, b in pairwise(run)]
        if len(run) > 2 and MAX_WORDS >= 3:
            grams += [f"{a} {b} {c}" for a, b, c in zip(keys, keys[1:], keys[2:], strict=False)]
            surf += [f"{a} {b} {c}" for a, b, c in zip(run, run[1:], run[2:], strict=False)]
        run_of += [i] * (len(grams) - n)
    word_freq: Counter[str] = Counter(k for _, keys in runs for k in keys)
    gram_freq: Counter[str] = Counter(grams)
    surfaces: Counter[tuple[str, str]] = Counter(zip(grams, surf, strict=True))
    first_seen = dict(zip(reversed(grams), reversed(run_of), strict=True))  # earliest run wins
    title_words = {k for _, keys in _runs(title) for k in keys}
    entity_keys = {" ".join(n.casefold().split()) for n in entity_names}
    n_runs = len(runs)
    scores: dict[str, float] = {}
    for key, freq in gram_freq.items():
        is_entity = key in entity_keys
        if " " not in key:  # one word: the common case, scored without splitting
            position = 1.0 + 1.0 / (1.0 + 10.0 * first_seen[key] / n_runs)
            boost = (1.5 if key in title_words else 1.0) * (1.5 if is_entity else 1.0)
            scores[key] = freq * word_freq[key] * position * boost
            continue
        if freq < 2 and not is_entity:
            continue
        words = key.split()
        mean_tf = sum(word_freq[w] for w in words) / len(words)
        position = 1.0 + 1.0 / (1.0 + 10.0 * first_seen[key] / n_runs)
        boost = (1.0 + 0.5 * sum(w in title_words for w in words) / len(words)) * (1.5 if is_entity else 1.0)
        scores[key] = freq * mean_tf * (1.0 + 0.5 * (len(words) - 1)) * position * boost
    # Only the best few can be chosen (each chosen phrase blocks at most a few overlapping ones).
    order: list[tuple[str, float]] = heapq.nsmallest(
        max(8 * top, 64), scores.items(), key=lambda kv: (-kv[1], kv[0])
    )
    chosen, taken = _choose(order, top)
    if len(chosen) < top < len(scores) and len(order) < len(scores):
        chosen, taken = _choose(sorted(scores.items(), key=lambda kv: (-kv[1], kv[0])), top)
    # The most frequent spelling of each chosen phrase (the first seen on ties).
    spelling: dict[str, tuple[str, int]] = {}
    wanted = set(taken)
    for (key, spelled), count in surfaces.items():
        if key in wanted and count > spelling.get(key, ("", 0))[1]:
            spelling[key] = (spelled, count)
    top_score = chosen[0][1] if chosen else 1.0
    return [(spelling[key][0], round(s / top_score, 4)) for key, s in chosen]
