"""The fast paths of the enrich stage give the same answers as the plain formulations they replace."""

from __future__ import annotations

import re

import pytest

from pipeline.enrich import LanguageDetector
from pipeline.enrich._keywords import rank_keywords, tokenize
from pipeline.enrich._places import fold
from pipeline.enrich._summary import word_count

TEXTS = [
    "",
    "   ",
    "2022 was the year. In 2022, 4,000 people ran the 22nd marathon; 3-year-old twins watched.",
    "Kassym-Jomart Tokayev’s O'Brien rock’n’roll ' quoted ' “Almaty” — the U.S. and Kazakhstan’s CSTO",
    "Ünïcödé naïve café: İstanbul, Straße, ½ and ² aside, 5G networks, COVID-19 at 10am.",
    "The drought hit farmers across the valley. Farmers said the drought destroyed wheat crops.",
]


@pytest.mark.parametrize("text", TEXTS)
def test_shared_tokens_count_words_like_word_count(text: str) -> None:
    assert tokenize(text, len(text) + 1).words == word_count(text)
    assert tokenize(text, 5).words == (word_count(text) if len(text) <= 5 else -1)


def test_keyword_tokens_skip_numbers_and_read_words_from_their_first_letter() -> None:
    # As the ranker's regex always did: "2022" is no word and does not break a run, "22nd" is "nd".
    tokens = tokenize("The 22nd summit: In 2022 summit talks resumed; 2022 ended.")
    assert tokens.keys == ["nd", "summit", "summit", "talks", "resumed", "ended"]
    assert tokens.runs == [1, 1, 2, 2, 2, 3]
    assert tokens.n_runs == 3
    assert tokens.surfaces[0] == "22nd"  # as written; keyword spellings start at the letter
    assert [t for t, _ in rank_keywords("22nd 22nd 22nd word", top=1)] == ["nd"]


def test_language_scores_match_py3langid(detector: LanguageDetector) -> None:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(detector.languages))
    for text in [*TEXTS[1:], "Die Regierung hat am Mittwoch ein neues Gesetz beschlossen. " * 5]:
        ranked = ident.rank(text)
        code, prob = detector.detect(text)
        if sum(ch.isalpha() for ch in text) >= 200:
            assert (code, prob) == (ranked[0][0], float(ranked[0][1]))


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


def _slow_fold(name: str) -> str:
    import unicodedata

    plain = "".join(ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch))
    out = " ".join(plain.casefold().replace("’", "'").split())
    return out[4:] if out.startswith("the ") else out


@pytest.mark.parametrize(
    "name",
    ["The Hague", "  São  Paulo ", "Côte d’Ivoire", "ǅemal", "ﬁne", "Ångström", "İstanbul", "ß", "abc"],
)
def test_fold_fast_paths(name: str) -> None:
    assert fold(name) == _slow_fold(name)
    assert re.sub(r"\s+", " ", fold(name)) == fold(name)


def test_keyword_token_pattern_matches_the_plain_pattern() -> None:
    """The possessive token pattern finds exactly what the plain (backtracking) one finds."""
    import random

    from pipeline.enrich._keywords import _TOKEN

    plain = re.compile(r"[^\W_](?:[\w’'-]*[^\W_])?|[.,;:!?()\[\]\"“”‘—–]|(?<=\s)'(?=\s)")
    alphabet = "ab1_'’-– .,;\"“Zé²½\n"
    rng = random.Random(11)
    samples = [*TEXTS, "a_b c__d e_ _f g-'h i'- x--y z’’w ’tis don't foo_ bar- -baz _q_ a_1_b"]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(5000)]
    for text in samples:
        assert _TOKEN.findall(text) == plain.findall(text), text
