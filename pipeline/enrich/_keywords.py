"""Keyphrase ranking: a small TF-style ranker over stop-word-delimited n-grams.

YAKE gives similar lists but costs ~50 ms per 600-word article on our hardware; this ranker costs
about 0.1 ms with the compiled kernels (pipeline/_native.c: tokenize ~47 us, one pass over the text
making no str for punctuation or for a word seen before; rank_tokens ~55 us, the title's tokens
ranked before the text's without joining the lists; 0.22 ms before those two kernels) and about
0.9 ms on its pure-Python twins (the tokenisation is shared with the word count).
Candidates are the 1-3-grams inside runs of non-stop words (punctuation and stop words break runs;
numbers are skipped, as the tokeniser always did); multi-word candidates must occur twice or be an
entity name. A candidate scores ``freq * mean word frequency * length bonus * position * boosts``:
the position factor favours phrases first seen early; words in the title and entity names are
boosted. Candidates overlapping a better one are skipped. Scores are scaled so the best is 1.0
(higher = better).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from itertools import accumulate, compress, repeat
from operator import add, eq, ne, not_

from pipeline import native

# Words as the word count sees them (a letter or digit, then letters, digits, apostrophes and
# hyphens, ending in a letter or digit), run-breaking punctuation, and a quote between spaces.
# Keyword words are the words from their first letter on ("22nd" -> "nd"; "2022" is none).
# Written as runs of letters/digits joined by runs of "_", apostrophes or hyphens, with possessive
# quantifiers: the same matches as "[^\W_](?:[\w’'-]*[^\W_])?" without its backtracking from
# the end of every word (~35% less time in findall).
_TOKEN = re.compile(r"[^\W_]++(?:[_’'-]++[^\W_]++)*+|[.,;:!?()\[\]\"“”‘—–]|(?<=\s)'(?=\s)")
_kernel = native.module()
# The compiled tokenize (``keyword_scan``: the tokens of ``_TOKEN``, their kinds and runs in one
# pass, no str made for punctuation or for a word seen before) and the compiled ranking of the
# title's tokens followed by the text's (``keyword_rank_after``: no joined lists); None when the
# module predates them (``tokenize`` then runs ``_TOKEN.findall`` and ``_tokenize_python``).
_scan = native.function("keyword_scan")
_rank_after = native.function("keyword_rank_after")
_MAX_TOP: int = 0 if _kernel is None else _kernel.KEYWORD_RANK_MAX_TOP  # the compiled ranker's limit
_LETTER = re.compile(r"[^\W\d_]")
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
_MEMO_MAX = 1 << 17


class _Kinds(dict[str, "str | None"]):
    """Memo of what each token is to the ranker (a pure function of the token; cleared when big).

    A keyword word gives its casefolded key; a stop word or a one-letter word ``None`` (they break
    runs); punctuation ``""`` (breaks runs, is no word); a number ``" "`` (no keyword word: skipped,
    as if absent). A word that starts with a digit but has letters ("22nd") is a keyword word from
    its first letter on ("nd").
    """

    def __missing__(self, tok: str) -> str | None:
        if len(self) >= _MEMO_MAX:
            self.clear()
        kind: str | None
        if not tok[0].isalnum():
            kind = ""
        else:
            letter = _LETTER.search(tok)
            if letter is None:
                kind = " "
            else:
                word = tok[letter.start() :]
                key = word.casefold()
                stop = len(word) < 2 or key.replace("’", "'") in _STOP or not word[0].isalpha()
                kind = None if stop else key
        self[tok] = kind
        return kind


_KINDS = _Kinds()


def _surface(tok: str) -> str:
    """The keyword word of a word token as written (from its first letter on)."""
    if tok[0].isalpha() or _LETTER.match(tok):  # every isalpha() character is a _LETTER
        return tok
    letter = _LETTER.search(tok)
    return tok[letter.start() :] if letter else tok


@dataclass(frozen=True, slots=True)
class TextTokens:
    """One tokenisation of a text, shared by the keyword ranker and the word count.

    The keyword words in order: ``keys`` casefolded, ``surfaces`` as written, and ``runs`` the
    number (from 1) of the run of each: runs are the maximal sequences of keyword words between
    stop words, one-letter words and punctuation (numbers are skipped). ``n_runs`` runs in all.
    ``words`` counts the words of the whole text as :func:`pipeline.enrich._summary.word_count`
    does, or is -1 when the text was longer than the window tokenised.
    """

    keys: list[str]
    surfaces: list[str]
    runs: list[int]
    n_runs: int
    words: int

    def after(self, first: TextTokens) -> TextTokens:
        """``first`` followed by these tokens, in runs of their own (``words`` is ours)."""
        if not first.keys:
            return self
        runs = first.runs + list(map(add, self.runs, repeat(first.n_runs)))
        keys, surfaces = first.keys + self.keys, first.surfaces + self.surfaces
        return TextTokens(keys, surfaces, runs, first.n_runs + self.n_runs, self.words)


def tokenize(text: str, limit: int = MAX_CHARS) -> TextTokens:
    """Tokens of ``text[:limit]``; ``words`` is -1 when that is not the whole text."""
    whole = len(text) <= limit
    if _scan is not None:  # the regex and the loop below in one compiled pass (same lists)
        keys, surfaces, runs, n_runs, words = _scan(text if whole else text[:limit], _KINDS)
        return TextTokens(keys, surfaces, runs, n_runs, words if whole else -1)
    return _tokenize_python(_TOKEN.findall(text if whole else text[:limit]), whole)


def _tokenize_python(toks: list[str], whole: bool) -> TextTokens:
    """:func:`tokenize` after the regex, in Python: with the regex, the twin of ``keyword_scan``."""
    kinds = list(map(_KINDS.__getitem__, toks))
    words = len(toks) - kinds.count("") if whole else -1
    if " " in kinds:  # numbers are no keyword words: as if absent
        keep = list(map(ne, kinds, repeat(" ")))
        kinds = list(compress(kinds, keep))
        toks = list(compress(toks, keep))
    # All of this runs at C speed: a word starts a run when the token before it breaks runs.
    starts = compress(map(not_, [None, *kinds]), kinds)
    runs = list(accumulate(map(int, starts)))
    keys: list[str] = list(compress(kinds, kinds))  # type: ignore[arg-type]  # truthy: str
    surfaces = list(compress(toks, kinds))
    return TextTokens(keys, surfaces, runs, runs[-1] if runs else 0, words)


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


def text_limit(title: str) -> int:
    """How much of the text the ranker reads after ``title`` (the window is MAX_CHARS in all)."""
    return MAX_CHARS - len(title) - 2 if title else MAX_CHARS


def rank_keywords(
    text: str, title: str = "", entity_names: frozenset[str] = frozenset(), top: int = 10
) -> list[tuple[str, float]]:
    """Top ``top`` keyphrases of ``title`` + ``text`` with scores in (0, 1]."""
    return rank_tokens(tokenize(text, text_limit(title)), title, entity_names, top)


def _phrases(keys: list[str], runs: list[int], n: int) -> tuple[list[str], list[int], list[int]]:
    """The ``n``-word phrases inside runs: texts, run numbers, index of the first word."""
    same_run = list(map(eq, runs, runs[n - 1 :]))
    parts = [keys[k:] for k in range(n)]
    texts = list(map(" ".join, compress(zip(*parts, strict=False), same_run)))
    return texts, list(compress(runs, same_run)), list(compress(range(len(same_run)), same_run))


def rank_tokens(
    tokens: TextTokens, title: str = "", entity_names: frozenset[str] = frozenset(), top: int = 10
) -> list[tuple[str, float]]:
    """:func:`rank_keywords` of a text already tokenised by ``tokenize(text, text_limit(title))``."""
    if top <= 0:
        return []
    title_tokens = tokenize(title, len(title))
    title_words = set(title_tokens.keys)
    entity_keys = {" ".join(n.casefold().split()) for n in entity_names}
    # The ". " between title and text breaks runs; a title may fill the whole window alone.
    if _rank_after is not None and text_limit(title) > 0 and top <= _MAX_TOP:
        if not (tokens.keys or title_tokens.keys):
            return []
        # keyword_rank of tokens.after(title_tokens), without making the joined lists
        first = title_tokens
        ranked = _rank_after(
            first.keys, first.surfaces, first.runs, first.n_runs, tokens.keys, tokens.surfaces,
            tokens.runs, tokens.n_runs, title_words, entity_keys, top, _surface
        )  # fmt: skip
        return [(spelling, round(score, 4)) for spelling, score in ranked]
    tokens = tokens.after(title_tokens) if text_limit(title) > 0 else tokenize(title, MAX_CHARS)
    if not tokens.keys:
        return []
    # the same scores and order, compiled (up to the kernel's limit on top; past it the twin)
    if _kernel is not None and top <= _MAX_TOP:
        ranked = _kernel.keyword_rank(
            tokens.keys, tokens.surfaces, tokens.runs, tokens.n_runs, title_words, entity_keys, top, _surface
        )
    else:
        ranked = _rank_python(tokens, title_words, entity_keys, top)
    return [(spelling, round(score, 4)) for spelling, score in ranked]


def _rank_python(
    tokens: TextTokens, title_words: set[str], entity_keys: set[str], top: int
) -> list[tuple[str, float]]:
    """The ranking of :func:`rank_tokens` in Python (the twin of the compiled ``keyword_rank``):
    the best ``top`` phrases, each with its spelling and its score over the best score."""
    keys, runs, n_runs = tokens.keys, tokens.runs, tokens.n_runs
    # Position factor by run number (from 1): phrases first seen early weigh more.
    position = [0.0] + [1.0 + 1.0 / (1.0 + 10.0 * r / n_runs) for r in range(n_runs)]
    word_freq: Counter[str] = Counter(keys)
    word_first = dict(zip(reversed(keys), reversed(runs), strict=True))  # earliest run wins
    scores = {k: f * f * position[word_first[k]] for k, f in word_freq.items()}
    for key in (title_words | entity_keys) & scores.keys():
        scores[key] *= (1.5 if key in title_words else 1.0) * (1.5 if key in entity_keys else 1.0)
    phrases: list[str] = []
    phrase_runs: list[int] = []
    starts: list[int] = []
    for n in range(2, MAX_WORDS + 1):
        texts, in_run, first_word = _phrases(keys, runs, n)
        phrases += texts
        phrase_runs += in_run
        starts += first_word
    # A phrase seen once counts only when it is an entity name.
    kept = {k: f for k, f in Counter(phrases).items() if f > 1 or k in entity_keys}
    if kept:
        phrase_first = dict(zip(reversed(phrases), reversed(phrase_runs), strict=True))
        for key, freq in kept.items():
            parts = key.split()
            mean_tf = sum(word_freq[w] for w in parts) / len(parts)
            boost = (1.0 + 0.5 * sum(w in title_words for w in parts) / len(parts)) * (
                1.5 if key in entity_keys else 1.0
            )
            length = 1.0 + 0.5 * (len(parts) - 1)
            scores[key] = freq * mean_tf * length * position[phrase_first[key]] * boost
    # Only the best few can be chosen (each chosen phrase blocks at most a few overlapping ones):
    # the best n_best by (score desc, text), found by score first (no Python key per candidate).
    n_best = max(8 * top, 64)
    candidates = list(scores.items())
    if len(candidates) > n_best:
        cutoff = sorted(scores.values(), reverse=True)[n_best - 1]
        candidates = [kv for kv in candidates if kv[1] >= cutoff]
    order = sorted(candidates, key=lambda kv: (-kv[1], kv[0]))[:n_best]
    chosen, taken = _choose(order, top)
    if len(chosen) < top < len(scores) and len(order) < len(scores):
        chosen, taken = _choose(sorted(scores.items(), key=lambda kv: (-kv[1], kv[0])), top)
    spelling = _spellings(tokens, phrases, starts, set(taken))
    top_score = chosen[0][1] if chosen else 1.0
    return [(spelling[key], s / top_score) for key, s in chosen]


def _spellings(tokens: TextTokens, phrases: list[str], starts: list[int], wanted: set[str]) -> dict[str, str]:
    """The most frequent spelling of each phrase in ``wanted`` (the first seen on ties)."""
    keys, surfaces = tokens.keys, tokens.surfaces
    found = list(map(wanted.__contains__, keys))
    # (key, spelling) pairs counted in order of first appearance (a Counter keeps that order)
    counts = Counter(zip(compress(keys, found), map(_surface, compress(surfaces, found)), strict=True))
    for i in compress(range(len(phrases)), map(wanted.__contains__, phrases)):
        key = phrases[i]
        first = starts[i]
        counts[key, " ".join(map(_surface, surfaces[first : first + key.count(" ") + 1]))] += 1
    best: dict[str, tuple[str, int]] = {}
    for (key, spelling), n in counts.items():
        known = best.get(key)
        if known is None or n > known[1]:  # the first of the most frequent wins ties
            best[key] = (spelling, n)
    return {key: spelling for key, (spelling, _) in best.items()}
