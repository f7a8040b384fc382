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
from collections.abc import Sequence
from operator import itemgetter

from pipeline.clean._patterns import KICKER, TERMINAL
from pipeline.clean._words import letter_runs

_LIST_ITEM = re.compile(r"\s*(?:[-*•–|]\s|\d{1,2}[.)]\s)")
_STEM = itemgetter(slice(None, 6))


def content_words(text: str, stop: frozenset[str]) -> set[str]:
    """Lower-cased content-word stems (6-char prefixes of words of 4+ letters, no stopwords)."""
    return set(map(_STEM, {w for w in set(letter_runs(text.lower())) - stop if len(w) >= 4}))


def _body_stems(units: Sequence[str], stop: frozenset[str]) -> set[str]:
    """Stems of every non-stopword of ``units``; short words give stems no content word has."""
    return set(map(_STEM, set(letter_runs("\n".join(units).lower())) - stop))


def trailing_teasers(
    units: Sequence[str],
    stop: frozenset[str],
    *,
    min_overlap: float = 0.12,
    cued_overlap: float = 0.3,
    min_words: int = 12,
    keep_units: int = 2,
) -> int:
    """Number of trailing units (from the end of ``units``) that are teasers of other stories.

    A unit is scored against the stems of the units above it (the body at that point), computed
    only for the units actually scored: the walk usually stops at the last or second-last unit.
    """
    n = len(units)
    if n <= keep_units:
        return 0
    cut = n
    pending = 0  # short units passed over at the tail, removed only if a teaser lies above them
    while cut - pending > keep_units:
        index = cut - pending - 1
        unit = units[index]
        if _LIST_ITEM.match(unit):
            break  # list items and table rows belong to the article (teasers are leads)
        if len(unit.split()) < min_words:
            if pending >= 3:
                break
            pending += 1
            continue
        mine = content_words(unit, stop)
        score = len(mine & _body_stems(units[:index], stop)) / len(mine) if mine else 1.0
        cues = bool(KICKER.match(unit)) + (not TERMINAL.search(unit))
        if score < min_overlap or (cues and score < cued_overlap + 0.15 * (cues - 1)):
            cut = index
            pending = 0
            continue
        break
    return n - cut
