"""Teasers of other stories glued after the end of an article.

Feeds often append the leads of unrelated stories after the body ("PRECARIOUS RELATIONS: ..."
followed by a lead cut off mid-sentence). We walk back from the end and drop a paragraph while it
looks like a teaser of something else:

* it shares few content words with the body above it (lexical overlap, the main cue), and
* the formal cues lower the bar: an upper-case kicker ``"WORD WORD: "`` at its start, or an
  ending without final punctuation (the lead was cut off).

We stop at the first paragraph that is about the article. Nothing before the trailing run is ever
touched, so a sentence of the body can only be lost if it is the last one and shares almost
nothing with the rest of the story.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from pipeline.clean._patterns import KICKER, TERMINAL

_LONG_WORD = re.compile(r"[^\W\d_]{4,}")
_LIST_ITEM = re.compile(r"\s*(?:[-*•–|]\s|\d{1,2}[.)]\s)")


def content_words(text: str, stop: frozenset[str]) -> set[str]:
    """Lower-cased content-word stems (6-char prefixes of words of 4+ letters, no stopwords)."""
    return {w[:6] for w in set(_LONG_WORD.findall(text.lower())) - stop}


def word_counts(text: str, stop: frozenset[str]) -> Counter[str]:
    """Occurrences of each content-word stem of ``text`` (same stems as :func:`content_words`)."""
    counts: Counter[str] = Counter()
    for word, n in Counter(_LONG_WORD.findall(text.lower())).items():
        if word not in stop:
            counts[word[:6]] += n
    return counts


def overlap(unit: str, body_words: set[str], stop: frozenset[str]) -> float:
    """Share of the unit's content words that also occur in the body."""
    words = content_words(unit, stop)
    if not words:
        return 1.0
    return len(words & body_words) / len(words)


def trailing_teasers(
    units: Sequence[str],
    stop: frozenset[str],
    *,
    min_overlap: float = 0.12,
    cued_overlap: float = 0.3,
    min_words: int = 12,
    keep_units: int = 2,
) -> int:
    """Number of trailing units (from the end of ``units``) that are teasers of other stories."""
    n = len(units)
    if n <= keep_units:
        return 0
    cut = n
    counts = word_counts("\n".join(units), stop)  # one pass; tail units are subtracted below
    pending = 0  # short units passed over at the tail, removed only if a teaser lies above them
    while cut - pending > keep_units:
        index = cut - pending - 1
        unit = units[index]
        if _LIST_ITEM.match(unit):
            break  # list items and table rows belong to the article (teasers are leads)
        mine = word_counts(unit, stop)
        counts.subtract(mine)  # body = everything above this unit
        if len(unit.split()) < min_words:
            if pending >= 3:
                break
            pending += 1
            continue
        score = sum(counts[w] > 0 for w in mine) / len(mine) if mine else 1.0
        cues = bool(KICKER.match(unit)) + (not TERMINAL.search(unit))
        if score < min_overlap or (cues and score < cued_overlap + 0.15 * (cues - 1)):
            cut = index
            pending = 0
            continue
        break
    return n - cut
