"""Hostile input: long adversarial strings, deep nesting, whitespace and control characters."""

from __future__ import annotations

import time

import pytest

from pipeline.clean import CleanConfig, clean_html, clean_text
from pipeline.clean import _patterns as P
from pipeline.clean._charset import sniff_charset
from pipeline.clean._substance import has_article_text

ADVERSARIAL = [
    "a" * 100_000,
    "share " * 20_000,
    "Photo: " + "x" * 100_000,
    "cookie " * 15_000 + "!",
    "<meta " + " " * 100_000,
    "A" * 50_000 + ":" + " " * 50_000,
    ("Read more " * 10_000),
    "." * 100_000,
    "\u201c" * 50_000 + "a b c",
    "404 " * 25_000,
    "the page " * 12_000 + "you",
    "Home | " * 15_000,
]


@pytest.mark.parametrize("text", ADVERSARIAL)
def test_patterns_are_linear(text: str) -> None:
    start = time.perf_counter()
    for _, pattern in (*P.LINE_PATTERNS, *P.PAGE_NOTICE_PATTERNS):
        pattern.search(text)
    has_article_text(text, CleanConfig(weak_pattern_max_words=10**6))  # notices asked of any length
    P.KICKER.match(text)
    P.SENTENCE_SPLIT.split(text)
    sniff_charset(text.encode())
    assert time.perf_counter() - start < 15.0  # catastrophic backtracking takes minutes


@pytest.mark.parametrize("text", ADVERSARIAL)
def test_clean_text_on_adversarial(config: CleanConfig, text: str) -> None:
    start = time.perf_counter()
    clean_text(text, config)
    clean_text("\n".join([text[:2000]] * 50), config)
    assert time.perf_counter() - start < 30.0


@pytest.mark.parametrize(
    "text", ["", "   \n\n\t  \n", "\x00\x01\x02\x1b[31m", "\ufeff\u200b\u2028", "\n" * 10_000]
)
def test_empty_and_control(config: CleanConfig, text: str) -> None:
    _, body = clean_text(text, config)
    assert body.strip() == ""
    assert clean_html(text, config).body == ""


def test_control_chars_removed(config: CleanConfig) -> None:
    _, body = clean_text("The ferry\x00 left the harbour\x07 at noon on\u200b Monday.", config)
    assert body == "The ferry left the harbour at noon on Monday."


def test_deeply_nested_html(config: CleanConfig) -> None:
    paragraph = "<p>The council approved the new ferry route after a long debate on Tuesday evening.</p>"
    page = "<html><body>" + "<div>" * 10_000 + paragraph * 5 + "</div>" * 10_000 + "</body></html>"
    start = time.perf_counter()
    result = clean_html(page, config)
    assert time.perf_counter() - start < 60.0
    assert isinstance(result.body, str)


def test_many_lines(config: CleanConfig) -> None:
    text = "\n".join(f"Line number {i} of a very long feed item." for i in range(20_000))
    start = time.perf_counter()
    clean_text(text, config)
    assert time.perf_counter() - start < 30.0
