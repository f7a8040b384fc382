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

from pipeline.clean._patterns import KICKER, SENTENCE_SPLIT, ends_terminal
from pipeline.clean._words import letter_runs

_LIST_ITEM = re.compile(r"\s*(?:[-*•–|]\s|\d{1,2}[.)]\s)")
_RUN = re.compile(r"[^\W\d_]+")
_LETTER = re.compile(r"[^\W\d_]")
_STEM = itemgetter(slice(None, 6))
# Above this many stems times body characters, look-ups one stem at a time could turn quadratic on
# hostile input; the body's stem set (linear) is built instead.
_MAX_LOOKUP_WORK = 2_000_000
# The longest line taken for the headline of a teaser (headline + blurb).
_HEADLINE_MAX_WORDS = 16
_BLURB_MAX_WORDS = 30
_BLURB_MAX_CHARS = 240  # also for scripts written without spaces


def content_words(text: str, stop: frozenset[str]) -> set[str]:
    """Lower-cased content-word stems (6-char prefixes of words of 4+ letters, no stopwords)."""
    return set(map(_STEM, {w for w in set(letter_runs(text.lower())) - stop if len(w) >= 4}))


def _body_stems(body: str, stop: frozenset[str]) -> set[str]:
    """Stems of every non-stopword of lower-cased ``body``; short words give no content stem."""
    return set(map(_STEM, set(letter_runs(body)) - stop))


def _stem_in(stem: str, body: str, stop: frozenset[str]) -> bool:
    """Whether lower-cased ``body`` has a non-stopword with content stem ``stem``."""
    pos = body.find(stem)
    while pos >= 0:
        if pos == 0 or not _LETTER.match(body, pos - 1):  # a word starts here
            word = _RUN.match(body, pos).group()  # type: ignore[union-attr]
            if word[:6] == stem and word not in stop:
                return True
        pos = body.find(stem, pos + 1)
    return False


def _is_teaser(score: float, cues: int, min_overlap: float, cued_overlap: float) -> bool:
    return score < min_overlap or bool(cues and score < cued_overlap + 0.15 * (cues - 1))


def _scored_teaser(
    unit: str, body: str, stop: frozenset[str], cues: int, min_overlap: float, cued_overlap: float
) -> bool:
    """Whether ``unit`` shares too few content stems with ``body`` (the units above it).

    The verdict falls with the share of shared stems, so the count stops as soon as the share
    reached so far already clears the bar; on an article's last paragraph that takes a stem or two.
    """
    mine = content_words(unit, stop)
    if not mine:
        return _is_teaser(1.0, cues, min_overlap, cued_overlap)
    body = body.lower()
    if len(mine) * len(body) > _MAX_LOOKUP_WORK:
        shared = len(mine & _body_stems(body, stop))
        return _is_teaser(shared / len(mine), cues, min_overlap, cued_overlap)
    shared = 0
    for stem in mine:
        if _stem_in(stem, body, stop):
            shared += 1
            if not _is_teaser(shared / len(mine), cues, min_overlap, cued_overlap):
                return False
    return _is_teaser(shared / len(mine), cues, min_overlap, cued_overlap)


def _headline_shaped(unit: str) -> bool:
    """A short line without final punctuation: a headline (or a sub-heading)."""
    return 2 <= len(unit.split()) <= _HEADLINE_MAX_WORDS and not ends_terminal(unit)


def headline_like(unit: str) -> bool:
    """A line that reads as another story's headline: 4-16 words, a capital or digit first, no
    final punctuation (navigation items and labels are shorter)."""
    first = unit[:1]
    capital = first.isalnum() and first == first.upper()
    return capital and 4 <= len(unit.split()) <= _HEADLINE_MAX_WORDS and _headline_shaped(unit)


def _blurb_shaped(unit: str) -> bool:
    """One or two sentences of at most ``_BLURB_MAX_WORDS`` words: the blurb under a teaser's
    headline (the paragraphs of an article are mostly longer)."""
    if len(unit) > _BLURB_MAX_CHARS or len(unit.split()) > _BLURB_MAX_WORDS:
        return False
    return len(SENTENCE_SPLIT.split(unit)) <= 2


# A news headline: a capitalised subject of one to five words, then a verb in the present tense
# ("Kane Ridley keeps regional middleweight title", "Dunmere port operator plans 900 million euro
# terminal"). A closing sub-heading is a question or a label ("What happens next", "Reaction").
_HEADLINE_CLAUSE = re.compile(
    r"(?:[A-Z0-9][\w'’.-]*\s+)(?:[\w'’.-]+\s+){0,4}?(?:[a-z]+s|is|are|has|have)\s+"
    # ... followed by an object, not a preposition ("Election results by region" is a label)
    r"(?!(?:by|in|of|for|from|at|on|to|and|or|with|per|since|after|before)\b)\w"
)
_SUBHEAD_START = re.compile(
    r"(?:what|how|why|when|where|who|which|whose|the|a|an|our|your|more|read|see)\b", re.I
)


def _lone_teaser(head: str, blurb: str) -> bool:
    """Whether a headline + blurb pair closing a text reads as a teaser of another story even
    alone: the headline is a clause in news-headline form, the blurb one sentence of reporting
    (not a quote, not a line leading into something)."""
    head = head.strip()
    blurb = blurb.strip()
    return (
        headline_like(head)
        and not _SUBHEAD_START.match(head)
        and bool(_HEADLINE_CLAUSE.match(head))
        and blurb.endswith(".")
        and blurb[:1] not in "\"'“”‘’«»„"
        and len(SENTENCE_SPLIT.split(blurb)) == 1
    )


def trailing_teasers(
    units: Sequence[str],
    stop: frozenset[str],
    *,
    min_overlap: float = 0.12,
    cued_overlap: float = 0.3,
    min_words: int = 12,
    keep_units: int = 2,
    removed_headlines: Sequence[str] | None = None,
) -> int:
    """Number of trailing units (from the end of ``units``) that are teasers of other stories.

    A unit is scored by the share of its content stems found in the units above it (the body at
    that point); the walk usually stops at the last or second-last unit. A teaser is often a
    headline and a one-sentence blurb: a blurb under a headline-shaped unit is scored together with
    it (against the body above both); a blurb under a headline that was already removed as chrome
    (``removed_headlines``: per unit, the removed line just above it, or "") is scored together
    with that line. The headline counts as a cue only in a run of at least two such pairs from the
    end (teaser blocks list several stories; one sub-heading and paragraph closing an article, or a
    chrome line inside the body, do not get it).
    """
    n = len(units)
    if n <= keep_units:
        return 0
    removed = removed_headlines or [""] * n

    def headed_at(i: int) -> bool:
        """Is units[i] a blurb under a headline-shaped unit of its own?"""
        head = units[i - 1] if i - 1 >= keep_units else ""
        return bool(
            head
            and _blurb_shaped(units[i])
            and not _headline_shaped(units[i])
            and _headline_shaped(head)
            and not head.isupper()  # "AUSTRALIA AHEAD": a wire story's sub-heading
            and not _LIST_ITEM.match(head)
        )

    def pair_at(i: int) -> bool:
        """Is units[i] a blurb under a headline (kept above it, or removed as chrome)?"""
        if i < keep_units:
            return False
        return headed_at(i) or bool(removed[i] and _blurb_shaped(units[i]) and not _headline_shaped(units[i]))

    cut = n
    pending = 0  # short units passed over at the tail, removed only if a teaser lies above them
    pairs_cut = 0  # headline + blurb teasers found so far
    only_pairs = True  # every teaser so far was such a pair
    while cut - pending > keep_units:
        index = cut - pending - 1
        unit = units[index]
        if _LIST_ITEM.match(unit):
            break  # list items and table rows belong to the article (teasers are leads)
        headed = headed_at(index)
        above = removed[index] if not headed and pair_at(index) else ""
        start = index - 1 if headed else index
        if not headed and not above and len(unit.split()) < min_words:
            if pending >= 3:
                break
            pending += 1
            continue
        text = f"{units[index - 1]}\n{unit}" if headed else f"{above}\n{unit}" if above else unit
        # the headline is a cue only in a run of two or more headline + blurb pairs from the end:
        # a single sub-heading and paragraph closing the article is scored like any paragraph
        paired = headed or bool(above)
        in_run = only_pairs and (pairs_cut > 0 or pair_at(start - 1))
        cues = bool(KICKER.match(units[start]) or KICKER.match(unit)) + (not ends_terminal(unit))
        # ... or, closing the text, when it reads as a teaser even alone
        closing = cut == n and pending == 0
        cues += paired and (in_run or (closing and _lone_teaser(units[start] if headed else above, unit)))
        body = "\n".join(units[:start])
        if _scored_teaser(text, body, stop, cues, min_overlap, cued_overlap):
            cut = start
            pending = 0
            pairs_cut += paired
            only_pairs = only_pairs and paired
            continue
        break
    return n - cut
