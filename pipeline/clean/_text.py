"""Plain-text cleaning: remove site chrome line by line, keep every sentence of the article.

Input: text already stripped of markup (feeds, syndication partners, or trafilatura's output).
Output: ``(title, body)`` with paragraphs joined by a blank line.

Steps:

1. normalise (mojibake, entities, control characters, spaces, quotes);
2. split into units: each non-empty line is a unit; a line is glued to the next one when it was
   hard-wrapped (no final punctuation and the next line starts in lower case);
3. title: ``title_hint`` wins and a first unit equal to it is removed (unless it is the only
   one); otherwise a first line that
   stands alone (followed by a blank line), has at most ``max_title_words`` words and does not end
   with a full stop is the title. Else the title is empty;
4. each unit is kept or dropped with a reason: cookie and disclaimer notices anywhere (sentence by
   sentence inside long paragraphs); newsletter, share/follow/comment prompts, advertisement
   markers, "Read more"/"Related" lists, photo credits and copyright lines when the unit is short;
   short lines without final punctuation (navigation, link lists, captions) unless they share a
   content word with the line above or below (a sub-heading, an item of a list); short lines in
   another language or script than the body;
5. trailing teasers of other stories (see :mod:`pipeline.clean._teasers`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from pipeline import native
from pipeline.clean import _header as H
from pipeline.clean import _patterns as P
from pipeline.clean._config import CleanConfig
from pipeline.clean._lang import guess_language, is_foreign, latin_share, stopwords_and_english
from pipeline.clean._normalize import normalize_text
from pipeline.clean._teasers import content_words, headline_like, trailing_teasers


@dataclass(frozen=True, slots=True)
class TextResult:
    """Outcome of :func:`clean_text_detailed`."""

    title: str
    body: str
    removed: tuple[str, ...]


def _units(text: str) -> tuple[list[str], list[bool]]:
    """Units (lines, hard wraps joined) and whether each one ends its block (blank line after)."""
    units: list[str] = []
    ends_block: list[bool] = []
    for block in text.split("\n\n"):
        if "\n" not in block:  # a paragraph on one line (most): one unit
            if unit := block.strip():
                units.append(unit)
                ends_block.append(True)
            continue
        lines = [ln.strip() for ln in block.split("\n")]
        lines = [ln for ln in lines if ln]
        if not lines:
            continue
        merged: list[str] = [lines[0]]
        for line in lines[1:]:
            prev = merged[-1]
            if not P.ends_terminal(prev) and line[0].islower() and len(prev) > 40:
                merged[-1] = f"{prev} {line}"
            else:
                merged.append(line)
        units.extend(merged)
        ends_block.extend([False] * (len(merged) - 1) + [True])
    return units, ends_block


_count_words_kernel = native.function("count_words")


def count_words(text: str, cap: int) -> int:
    """``len(text.split(maxsplit=cap))``: the word count, at most ``cap + 1``. The compiled kernel
    (no str per word; about 1.1 -> 0.1 us a unit) when built, else :func:`count_words_python`."""
    if _count_words_kernel is None:
        return count_words_python(text, cap)
    return int(_count_words_kernel(text, cap))


def count_words_python(text: str, cap: int) -> int:
    """The pure-Python twin of the ``count_words`` kernel."""
    return len(text.split(maxsplit=cap))


def _lower_words(text: str) -> list[str]:
    return [w.lower() for w in P.WORD.findall(text)]


def _strip_sentences(
    unit: str, patterns: tuple[tuple[str, re.Pattern[str]], ...] = P.SENTENCE_PATTERNS
) -> tuple[str, str | None]:
    """Drop cookie/disclaimer sentences glued inside a paragraph; returns (rest, kind)."""
    kept: list[str] = []
    kind: str | None = None
    for sentence in P.SENTENCE_SPLIT.split(unit):
        hit = P.match_kind(sentence, patterns)
        if hit:
            kind = kind or hit
        else:
            kept.append(sentence)
    rest = " ".join(kept).strip()
    # Mostly notice: the remainder is a fragment of it ("Accept Read More"), not article text.
    if kind and len(rest.split()) * 2 < len(unit.split()):
        rest = ""
    return rest, kind


_FORM_MAX_WORDS = 12
_LONG_FORM_MAX_WORDS = 20
# Units at each end of the article where notices of automatic republishing are looked for.
_EDGE_UNITS = 2
# Short units are checked for another language or script only up to this many words.
_FOREIGN_MAX_WORDS = 25


def _classify(
    unit: str, n_words: int, config: CleanConfig, low: str | None = None, hits: int | None = None
) -> str | None:
    """Kind of chrome a short unit is (long units are handled sentence by sentence).

    Any line pattern for units under 8 words or without a sentence end; for full sentences of up
    to ``_FORM_MAX_WORDS`` words only the newsletter, share/comment-form and copyright patterns
    ("Your email address will not be published."). ``low``: ``unit.lower()`` if already made;
    ``hits``: ``P.needle_hits(low)`` if already made.
    """
    if n_words > config.weak_pattern_max_words:
        return None
    if low is None:
        low = unit.lower()
    if P.has_strong_hint(unit, low=low, hits=hits):
        kind = P.match_kind(unit, P.SENTENCE_PATTERNS, low=low, hits=hits)
        if kind:
            return kind
    if n_words < 8 or not P.ends_sentence(unit):
        return P.match_kind(unit, low=low)
    if n_words <= _FORM_MAX_WORDS:
        form = P.match_kind(unit, P.FORM_PATTERNS, low=low, hits=hits)
        return form or P.match_kind(unit, P.LONG_FORM_PATTERNS, low=low, hits=hits)
    if n_words <= _LONG_FORM_MAX_WORDS:
        return P.match_kind(unit, P.LONG_FORM_PATTERNS, low=low, hits=hits)
    return None


# Kinds a unit above the headline is dropped for. "related" only with its colon ("Related: ...",
# "Read more: ..."): a headline may start with "More" ("More than 2,000 troops ...").
_LEADING_KINDS = frozenset(
    {P.ADVERTISEMENT, P.PHOTO_CREDIT, P.SHARE, P.COOKIE, P.NEWSLETTER, P.COPYRIGHT, P.DISCLAIMER}
)


def _leading_chrome(unit: str, config: CleanConfig) -> str | None:
    """The kind of chrome ``unit`` is, if it is one that may sit above a headline, else None."""
    n = len(unit.split())
    kind = _classify(unit, n, config)
    if kind in _LEADING_KINDS:
        return kind
    if kind == P.RELATED and ":" in unit[:25]:
        return kind
    return None


def _notice_patterns(
    unit: str, low: str, n_words: int, at_edge: bool, config: CleanConfig, hits: int | None = None
) -> Iterator[tuple[tuple[str, re.Pattern[str]], ...]]:
    """Sentence patterns to strip from ``unit`` (``low`` is ``unit.lower()``, ``hits`` its
    ``P.needle_hits`` if made), in order: cookie/disclaimer notices glued inside a long paragraph,
    then (first and last units only) notices of automatic republishing."""
    if n_words > config.weak_pattern_max_words and P.has_strong_hint(unit, low=low, hits=hits):
        yield P.SENTENCE_PATTERNS
    if at_edge and P.match_kind(unit, P.EDGE_PATTERNS, low=low, hits=hits):
        yield P.EDGE_PATTERNS


def clean_text_detailed(
    text: str, config: CleanConfig, title_hint: str | None = None, *, extracted: bool = False
) -> TextResult:
    """Clean plain text; see the module docstring for the rules.

    ``extracted=True`` is for text an extractor already took out of a page (its short lines are
    mostly list items, table rows and headings): the short-line and foreign-language rules then
    apply only to the leading and trailing runs of lines, not in the middle.
    """
    text = normalize_text(text, ascii_quotes=config.ascii_quotes)
    units, ends_block = _units(text)
    removed: list[str] = []
    title = normalize_text(title_hint, ascii_quotes=config.ascii_quotes).strip() if title_hint else ""
    # chrome above the headline ("Advertisement", a photo credit, a share bar, "Related: ...")
    # goes first, so that it is not taken for the title
    while len(units) > 1 and (kind := _leading_chrome(units[0], config)):
        units, ends_block = units[1:], ends_block[1:]
        removed.append(kind)
    # the lines above the headline: section labels, kickers, bylines, dates, breadcrumbs, menus
    shaped = [_looks_like_title(u, config) for u in units[: H.HEADER_MAX_UNITS]]
    if title:
        # the headline repeated under chrome lines: it and what stands above it go (a one-unit
        # text equal to its title is a one-sentence item, not a title over nothing)
        title_words = _lower_words(title)
        at = H.title_position(units, shaped, lambda u: _lower_words(u) == title_words)
        if at is not None and len(units) > at + 1:
            removed.extend([P.CHROME] * at + [P.TITLE])
            units, ends_block = units[at + 1 :], ends_block[at + 1 :]
    else:
        k, headline = H.header_chrome(units, shaped, ends_block)
        if k:
            removed.extend([P.CHROME] * k)
            units, ends_block = units[k:], ends_block[k:]
        if headline:
            title = units[0]
            units, ends_block = units[1:], ends_block[1:]
            removed.append(P.TITLE)
    if not title and len(units) > 1 and ends_block[0] and _looks_like_title(units[0], config):
        title = units[0]
        units, ends_block = units[1:], ends_block[1:]
        removed.append(P.TITLE)

    doc_lang = guess_language(text) or "en"
    doc_latin = latin_share(text[:20_000])
    stop = stopwords_and_english(doc_lang)
    keep: list[str] = []
    removed_headlines: list[str] = []  # per kept unit: the headline-like line removed just above it
    headline_gone = ""
    # The rules below only compare a unit's word count with limits of at most ``cap`` words:
    # counting a paragraph's words up to cap + 1 gives the same answers without a string per word.
    limits = (
        config.weak_pattern_max_words,
        config.max_chrome_words,
        _LONG_FORM_MAX_WORDS,
        _FOREIGN_MAX_WORDS,
    )
    cap = max(limits)
    for i, unit in enumerate(units):
        n = count_words(unit, cap)  # the word count, or cap + 1 when there are more
        if n == 0 or not P.WORD.search(unit):
            continue
        low = unit.lower()  # every unit is matched at least once (short ones in _classify)
        hits = P.needle_hits(low)  # the pre-filters of all its pattern checks, in one pass
        kind = _classify(unit, n, config, low, hits)
        if kind is None:
            at_edge = i < _EDGE_UNITS or i >= len(units) - _EDGE_UNITS
            for patterns in _notice_patterns(unit, low, n, at_edge, config, hits):
                rest, kind = _strip_sentences(unit, patterns)
                if kind:
                    break
            if kind:
                removed.append(kind)
                if rest:
                    keep.append(rest)
                    removed_headlines.append("")
                headline_gone = ""
                continue
        if extracted and kind is None:
            keep.append(unit)
            removed_headlines.append(headline_gone)
            headline_gone = ""
            continue
        if kind is None and n <= _FOREIGN_MAX_WORDS and is_foreign(unit, doc_lang, doc_latin):
            kind = P.CHROME
        open_ended = not P.ends_terminal(unit) or (n <= 6 and unit.endswith((":", "：")))
        short_open = n <= config.max_chrome_words and open_ended
        if kind is None and short_open and not _belongs(unit, units, i, stop):
            kind = P.CHROME
        if kind:
            removed.append(kind)
            headline_gone = unit if kind == P.CHROME and headline_like(unit) else ""
        else:
            keep.append(unit)
            removed_headlines.append(headline_gone)
            headline_gone = ""

    n_teasers = trailing_teasers(
        keep,
        stop,
        min_overlap=0.0 if extracted else config.teaser_min_overlap,
        cued_overlap=config.teaser_cued_overlap,
        min_words=config.teaser_min_words,
        removed_headlines=removed_headlines,
    )
    if n_teasers:
        keep = keep[: len(keep) - n_teasers]
        removed.extend([P.TEASER] * n_teasers)
    return TextResult(title=title, body="\n\n".join(keep), removed=tuple(removed))


def _looks_like_title(line: str, config: CleanConfig) -> bool:
    # the length first: most units are paragraphs longer than a title, not worth a word count
    if len(line) > 300:
        return False
    n = len(P.WORD.findall(line))
    return 0 < n <= config.max_title_words and not line.rstrip().endswith((".", "。"))


def _belongs(unit: str, units: list[str], i: int, stop: frozenset[str]) -> bool:
    """A short open line belongs to the article when it shares a content word with a neighbour.

    That covers a sub-heading followed by the paragraph it introduces and the items of a list
    ("June 26 -- ...", "June 27 -- ..."); chrome inserted between paragraphs shares nothing.
    """
    mine = content_words(unit, stop)
    if not mine:
        return False
    prev = units[i - 1] if i > 0 else ""
    following = units[i + 1] if i + 1 < len(units) else ""
    return bool(mine & (content_words(prev, stop) | content_words(following, stop)))


def clean_text(text: str, config: CleanConfig, title_hint: str | None = None) -> tuple[str, str]:
    """Return ``(title, body)`` of plain text with site chrome and trailing teasers removed."""
    result = clean_text_detailed(text, config, title_hint)
    return result.title, result.body
