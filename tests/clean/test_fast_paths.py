"""The clean stage's fast paths give exactly what the straightforward code they replace gives.

Each fast path (letter runs by ``bytes.translate``, literal pre-filters before the chrome
patterns, normalisation steps skipped when their characters are absent, clause ends without
regex, the early-stopping teaser score, the author search without a whole-page prune, meta tags
read without XPath) is checked against a reference written the slow, obvious way, on random
strings over alphabets chosen to hit the edge cases.
"""

from __future__ import annotations

import html
import random
import re
import unicodedata
from collections.abc import Sequence

import pytest
from lxml.etree import XPath
from trafilatura.metadata import extract_author
from trafilatura.utils import load_html

from pipeline.clean import _html, _patterns
from pipeline.clean._charset import repair_text
from pipeline.clean._lang import stopwords
from pipeline.clean._normalize import normalize_text
from pipeline.clean._prefilter import may_match, required_substrings
from pipeline.clean._teasers import trailing_teasers
from pipeline.clean._words import letter_runs

_RUNS = re.compile(r"[^\W\d_]+")


def _random_strings(alphabet: Sequence[str], n: int, seed: int, max_len: int = 30) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, max_len))) for _ in range(n)]


def test_letter_runs_match_the_regex() -> None:
    alphabet = list("abcXYZ019_ -.,'\n\t\x00\x1c\x85\xa0²½éÉßİΣσς—–…€•\u2028\u3000中\ud800ǅ٣ⅷ\u0301")
    for text in _random_strings(alphabet, 10_000, seed=1):
        for variant in (text, text.lower()):
            assert letter_runs(variant) == _RUNS.findall(variant), repr(variant)


def test_letter_runs_with_many_distinct_symbols_take_the_regex() -> None:
    text = " word ".join(chr(c) for c in range(0x2190, 0x2300))
    assert letter_runs(text) == _RUNS.findall(text)


def test_required_substrings_of_simple_patterns() -> None:
    assert required_substrings(re.compile(r"\bcookies?\s+policy\b")) == ("cookie",)
    assert required_substrings(re.compile(r"^\s*(?:share|tweet)\b")) == ("share", "tweet")
    assert required_substrings(re.compile(r"a?b*")) is None
    assert required_substrings(re.compile(r"cookie", re.IGNORECASE)) is None
    assert may_match("anything", None)
    assert not may_match("nothing here", ("cookie",))


_PATTERN_GROUPS = (
    _patterns.LINE_PATTERNS,
    _patterns.FORM_PATTERNS,
    _patterns.SENTENCE_PATTERNS,
    _patterns.PAGE_NOTICE_PATTERNS,
)


def test_prefilters_never_skip_a_match() -> None:
    vocabulary: set[str] = set()
    for group in _PATTERN_GROUPS:
        for _, pattern in group:
            vocabulary.update(re.findall(r"[a-zäöüéíà©'\-]+", pattern.pattern))
    words = [*sorted(vocabulary), "the", "our", "x", "(c)", "©", ":", ".", "(3)", "/", "|", "we'll", "2024"]
    rng = random.Random(5)
    matched = 0
    for _ in range(20_000):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 8)))
        for group in _PATTERN_GROUPS:
            for _, pattern in group:
                if pattern.search(text):
                    matched += 1
                    assert may_match(text, required_substrings(pattern)), (pattern.pattern, text)
    assert matched > 1_000  # the strings do exercise the patterns


_QUOTES = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
}  # fmt: skip


def _normalize_reference(text: str, ascii_quotes: bool) -> str:
    """Every step unconditionally, in the original order."""
    if re.search(r"[ÃÂâ€œ€™Ð¢ï»¿]", text):
        text = repair_text(text)
    if "&" in text and re.search(r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});", text):
        text = html.unescape(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    controls = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060\ufeff]"
    text = re.sub(controls, "", text)
    text = unicodedata.normalize("NFC", text)
    if ascii_quotes:
        for fancy, plain in _QUOTES.items():
            text = text.replace(fancy, plain)
    return re.sub(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+", " ", text)


def test_normalize_text_matches_the_unconditional_steps() -> None:
    chars = "ab ,.\n\r\t\x00\x0b\x1f\x7f\x85\xa0\u2000\u2001\u3000\u200b\u202f\u2060\ufeff\u0301\u0344e\u0308"
    alphabet = [*chars, *"“”‘’«»′″„&;#xamp1éÃ©â€™ ", "&amp;", "&#233;", "  ", "Ã©"]
    for text in _random_strings(alphabet, 10_000, seed=2, max_len=25):
        for ascii_quotes in (True, False):
            expected = _normalize_reference(text, ascii_quotes)
            assert normalize_text(text, ascii_quotes=ascii_quotes) == expected, repr(text)


def test_clause_and_sentence_ends_match_the_regexes() -> None:
    alphabet = list(".!?…:;\"”’'»)]ab \n\t\u3000\x85([“")
    for text in _random_strings(alphabet, 50_000, seed=3, max_len=8):
        assert _patterns.ends_terminal(text) == bool(_patterns.TERMINAL.search(text)), repr(text)
        assert _patterns.ends_sentence(text) == bool(_patterns.SENTENCE_END.search(text)), repr(text)


def _teasers_reference(
    units: Sequence[str], stop: frozenset[str], removed: Sequence[str] | None = None, **kw: float
) -> int:
    """The walk with full stem sets: share of the unit's stems found in the units above (the
    headline/blurb shapes are the module's own; what is checked here is the scoring)."""
    from pipeline.clean._teasers import _blurb_shaped, _headline_shaped

    def stems(text: str) -> set[str]:
        return {w[:6] for w in re.findall(r"[^\W\d_]{4,}", text.lower()) if w not in stop}

    list_item = r"\s*(?:[-*•–|]\s|\d{1,2}[.)]\s)"
    removed = removed or [""] * len(units)

    def blurb(i: int) -> bool:
        return _blurb_shaped(units[i]) and not _headline_shaped(units[i])

    def headed(i: int) -> bool:
        head = units[i - 1] if i >= 3 else ""
        return (
            bool(head)
            and blurb(i)
            and _headline_shaped(head)
            and not head.isupper()
            and (not re.match(list_item, head))
        )

    def pair(i: int) -> bool:
        return i >= 2 and (headed(i) or bool(removed[i] and blurb(i)))

    n, cut, pending, pairs_cut, only_pairs = len(units), len(units), 0, 0, True
    if n <= 2:
        return 0
    while cut - pending > 2:
        index = cut - pending - 1
        unit = units[index]
        if re.match(list_item, unit):
            break
        h = headed(index)
        above = removed[index] if not h and pair(index) else ""
        start = index - 1 if h else index
        if not h and not above and len(unit.split()) < kw["min_words"]:
            if pending >= 3:
                break
            pending += 1
            continue
        text = f"{units[index - 1]}\n{unit}" if h else f"{above}\n{unit}" if above else unit
        mine = stems(text)
        score = len(mine & stems("\n".join(units[:start]))) / len(mine) if mine else 1.0
        paired = h or bool(above)
        in_run = only_pairs and (pairs_cut > 0 or pair(start - 1))
        kicker = _patterns.KICKER.match(units[start]) or _patterns.KICKER.match(unit)
        cues = bool(kicker) + (not _patterns.TERMINAL.search(unit)) + (paired and in_run)
        if score < kw["min_overlap"] or (cues and score < kw["cued_overlap"] + 0.15 * (cues - 1)):
            cut, pending = start, 0
            pairs_cut += paired
            only_pairs = only_pairs and paired
            continue
        break
    return n - cut


def test_trailing_teasers_match_the_full_stem_sets() -> None:
    stop = stopwords("en")
    vocabulary = (
        "government governor govern about before beforehand police policies Minister MINISTRY report "
        "reporter "
        "city fire firefighters ÉCOLE école straße x1y abc_def word2word naïve İstanbul ΣΟΦΟΣ σοφός the which"
    ).split()
    rng = random.Random(7)
    removed = 0
    for _ in range(3_000):
        units = []
        for _ in range(rng.randint(1, 7)):
            words = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 25)))
            kicker = "BIG NEWS: " if rng.random() < 0.2 else ""
            units.append(kicker + words + rng.choice([".", "", ":"]))
        kw = {
            "min_overlap": rng.choice([0.0, 0.05, 0.12]),
            "cued_overlap": rng.choice([0.3, 0.35]),
            "min_words": rng.choice([3, 8, 12]),
        }
        removed_lines = [rng.choice(["", "", "Police report fire near the city"]) for _ in units]
        expected = _teasers_reference(units, stop, removed_lines, **kw)
        got = trailing_teasers(units, stop, removed_headlines=removed_lines, **kw)  # type: ignore[arg-type]
        assert got == expected, (units, removed_lines, kw)
        removed += expected
    assert removed > 20  # teasers are found, not only kept


_AUTHOR_PAGES = [
    "<html><body><div class='author'>By <time>today</time>John Smith</div></body></html>",
    "<html><body><div class='sidebar'><span class='author'>Side Bar</span></div>"
    "<p class='byline'>By <figure>x</figure> Jane Doe</p></body></html>",
    "<html><body><span class='author-name'>A<span class='print'>PRINT</span>B</span></body></html>",
    "<html><body><figure><span class='author'>In figure</span></figure>"
    "<div itemprop='author'>Real Person</div></body></html>",
    "<html><body><section class='comments'><a rel='author'>Commenter</a></section>"
    "<author>Tag Author</author></body></html>",
    "<html><body><div id='comments-list'><p class='byline'>Nope</p></div><p>text</p></body></html>",
    "<html class='writer'><body><p>Hello <time>x</time> there</p></body></html>",
    "<html><body><p>No author markup at all.</p></body></html>",
]


@pytest.mark.parametrize("page", _AUTHOR_PAGES)
def test_authors_match_trafilatura_extract_author(page: str) -> None:
    tree = load_html(page)
    assert tree is not None
    found = extract_author(tree) or ""
    assert _html._authors(tree) == tuple(a.strip() for a in found.split(";") if a.strip())


def test_meta_tags_read_without_xpath_match_the_xpath() -> None:
    page = load_html(
        "<html><head><meta property='og:url' content=' '><meta property='og:url' content='https://a/1'>"
        "<link rel='canonical' href=''><meta name='date' content='2024-01-02'>"
        "<meta http-equiv='Content-Language' content='de-DE'></head><body><p>x</p></body></html>"
    )
    assert page is not None
    for sources in (_html._CANONICAL, _html._LANG, _html._PUBLISHED):
        for source in sources:
            if isinstance(source, str):
                continue
            tests = " or ".join(f'@{attr}="{value}"' for attr, value in source.tests)
            expected = [str(v) for v in XPath(f"//{source.tag}[{tests}]/@{source.value}")(page)]
            assert [str(v) for v in _html._values(page, source, {})] == expected
    assert _html._first(page, _html._CANONICAL, {}) == "https://a/1"
    assert _html._language(page, {}) == "de"


def _units_of_the_corpora() -> list[str]:
    """Lines of the shared corpora (bench articles with their chrome, labelled boilerplate)."""
    import csv
    from pathlib import Path

    from pipeline.evaluation import bench_corpus
    from tests.conftest import shared_path

    data = shared_path("data")
    lines = [ln for doc in bench_corpus.build(300, Path(data)) for ln in doc["content"].split("\n")]
    with (data / "boilerplate" / "trafilatura_eval_segments.tsv").open(encoding="utf-8") as handle:
        lines += [row["text"] for row in csv.DictReader(handle, delimiter="\t")]
    return [ln for ln in lines if ln.strip()]


def test_needle_hits_gate_the_patterns_as_the_prefilters_do() -> None:
    """``match_kind`` and ``has_strong_hint`` read from ``needle_hits`` (one scan of a unit) give
    what they give when each pre-filter is tested on its own: a unit the bits let pass is searched
    exactly when ``may_match`` would have searched it, so no unit the full check catches is skipped."""
    groups = [
        _patterns.LINE_PATTERNS, _patterns.FORM_PATTERNS, _patterns.LONG_FORM_PATTERNS,
        _patterns.SENTENCE_PATTERNS, _patterns.EDGE_PATTERNS, _patterns.PAGE_NOTICE_PATTERNS,
    ]  # fmt: skip
    alphabet = [*sorted({n for g in _patterns._NEEDLE_GROUPS for n in g}), " ", ".", "é", "Ä", "©"]
    texts = _units_of_the_corpora() + _random_strings(alphabet, 4000, seed=41, max_len=6)
    caught = 0
    for text in texts:
        low = text.lower()
        hits = _patterns.needle_hits_python(low)
        assert _patterns.has_strong_hint(text, hits=hits) == _patterns.has_strong_hint(text)
        for gated in map(_patterns._gated, groups):
            for _, pattern, required, bit in gated:
                assert bool(not bit or hits & bit) == may_match(low, required), (pattern.pattern, text)
        for group in groups:
            kind = _patterns.match_kind(text, group)
            assert _patterns.match_kind(text, group, hits=hits) == kind, text
            caught += kind is not None
        if (fast := _patterns.needle_hits(low)) is not None:
            assert fast == hits, text
    assert caught > 500


def test_clean_text_without_the_clean_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the compiled scans (a module not built, or built before them) the twins run and
    the cleaned text is the same."""
    from pipeline.clean import _lang, _text

    texts = ["\n\n".join(_units_of_the_corpora()[i : i + 12]) for i in range(0, 600, 12)]
    config = _text.CleanConfig()
    fast = [_text.clean_text_detailed(text, config) for text in texts]
    monkeypatch.setattr(_patterns, "_hits_kernel", None)
    monkeypatch.setattr(_text, "_count_words_kernel", None)
    monkeypatch.setattr(_lang, "_votes_table_kernel", None)
    monkeypatch.setattr(_lang, "_votes_kernel", None)
    assert _patterns.needle_hits("cookie") is None
    assert [_text.clean_text_detailed(text, config) for text in texts] == fast
