"""Regexes and parsers stay safe from catastrophic backtracking on long adversarial strings.

Each stage runs on ~200k-character inputs built to trip nested quantifiers, alternations and
lookarounds. The bound is generous on purpose: it catches exponential or quadratic blow-ups, it
is not a performance assertion (benchmarks live in ``pipeline bench``).
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.clean import CleanConfig, clean_article, without_markup
from pipeline.dedup import DedupConfig, signature
from pipeline.enrich import EnrichConfig, Enricher
from pipeline.errors import StageError
from pipeline.feeds import read_items
from pipeline.records import CleanedArticle, RawArticle

N = 200_000
# Catastrophic backtracking on 200k characters takes minutes to hours; a linear pass takes at most
# a few seconds (feedparser needs ~7 s for 100k open tags on a loaded CI machine). The bound only
# separates those two; it is not a speed requirement.
BOUND_S = 30.0

ADVERSARIAL = {
    "a_run": "a" * N,
    "lt_run": "<" * N,
    "open_parens": "(" * N,
    "spaces_then_x": " " * (N - 1) + "x",
    "punctuation": ".,;:!?-" * (N // 7),
    "initials": "A. " * (N // 3),
    "capitalised_words": " ".join(["Word"] * 50_000),
    "open_tags": "<a " * (N // 3),
    "unclosed_comment": "<!--" + "-" * N,
    "entities": "&amp" * (N // 4),
    "url": "https://" + "a." * (N // 2),
    "digits": "1," * (N // 2),
    "newlines": "\n" * N + "x",
    "quote_runs": "\"'" * (N // 2),
    "script_opens": "<script>" * (N // 8),
    "mixed_words": "Aa bb. " * (N // 7),
    # a caption credit left open: "(Photo/" or "(Agency Name/" followed by one endless word
    "open_photo_credit": "Rescuers searched the river. (Photo/" + "a" * N,
    "open_agency_credit": "Rescuers searched the river. (Ab Cd/" + "a" * N,
}

Timed = Callable[[str], object]


def _timed(fn: Timed, text: str) -> float:
    start = time.perf_counter()
    with contextlib.suppress(StageError):  # a reason code is a fine outcome; only the time matters
        fn(text)
    return time.perf_counter() - start


def _cleaned(text: str) -> CleanedArticle:
    return CleanedArticle(
        id="x",
        url="https://x.example/a",
        source="x.example",
        title=text[:300],
        text=text,
        canonical_url=None,
        published_at=None,
        language=None,
        authors=(),
        removed=(),
    )


_enrichers: dict[str, Enricher] = {}


def _enrich(text: str, ner: str = "fast") -> object:
    if ner not in _enrichers:
        _enrichers[ner] = Enricher(EnrichConfig(ner=ner))  # type: ignore[arg-type]
    return _enrichers[ner].enrich(_cleaned(text))


def _raw(text: str, ctype: str) -> RawArticle:
    return RawArticle(id="x", url="https://x.example/a", source="x.example", content=text, content_type=ctype)


STAGES: dict[str, Timed] = {
    "clean_plain": lambda t: clean_article(_raw(t, "text/plain"), CleanConfig()),
    "clean_html": lambda t: clean_article(_raw(t, "text/html"), CleanConfig()),
    "dedup_signature": lambda t: signature(_cleaned(t), DedupConfig()),
    "enrich": _enrich,
    "markup_guard": without_markup,
}


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_stage_is_linear_enough_on_adversarial_strings(stage: str) -> None:
    _timed(STAGES[stage], "Warm up: models load on the first call.")
    slow = {}
    for name, text in ADVERSARIAL.items():
        took = _timed(STAGES[stage], text)
        if took > BOUND_S:
            slow[name] = round(took, 2)
    assert not slow, f"{stage}: catastrophic slowdown on {slow} (bound {BOUND_S}s each)"


def _read_all(path: Path, _name: str) -> object:
    return list(read_items(path))


@pytest.mark.parametrize("suffix", [".txt", ".html", ".xml", ".json", ".jsonl"])
def test_feed_reader_is_linear_enough_on_adversarial_files(tmp_path: Path, suffix: str) -> None:
    slow = {}
    for name, text in ADVERSARIAL.items():
        path = tmp_path / f"{name}{suffix}"
        body = text
        if suffix == ".xml":
            body = (
                f"<?xml version='1.0'?><rss version='2.0'><channel><title>{text}</title>"
                "<item><title>t</title>"
                f"<description>{text}</description></item></channel></rss>"
            )
        elif suffix == ".json":
            body = (
                '{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1", "content_text": "'
                + text.replace("\\", "").replace('"', "")
                + '"}]}'
            )
        path.write_text(body, "utf-8")
        took = _timed(functools.partial(_read_all, path), name)
        if took > BOUND_S:
            slow[name] = round(took, 2)
    assert not slow, f"feed reader ({suffix}): catastrophic slowdown on {slow} (bound {BOUND_S}s each)"


def test_spacy_ner_is_not_quadratic_on_punctuation_runs() -> None:
    """Doubling the run should about double the time (quadratic: four times)."""
    enrich = functools.partial(_enrich, ner="spacy")
    _timed(enrich, "Warm up: models load on the first call.")
    small = _timed(enrich, "(" * 3000)
    large = _timed(enrich, "<" * 6000)  # another character: no tokenizer cache hit
    assert large < 3 * max(small, 0.05), f"3k chars: {small:.2f}s, 6k chars: {large:.2f}s"
