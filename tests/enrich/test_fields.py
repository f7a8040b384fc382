"""Unit tests of each enrichment field on literal texts written for these tests."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import jsonschema
import pytest

from pipeline.enrich import (
    ArticleEnrichment,
    Enricher,
    LanguageDetector,
    PlaceResolver,
    find_dates,
    is_variant,
    merge_enrichment,
    parse_publish_date,
)
from pipeline.enrich._keywords import rank_keywords
from pipeline.enrich._summary import lead_summary, reading_time_minutes, word_count
from pipeline.records import CleanedArticle

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "enrichment.schema.json").read_text())


def article(
    text: str,
    title: str = "",
    published: str | None = "2024-03-15T09:00:00Z",
    aid: str = "a1",
    language: str | None = None,
) -> CleanedArticle:
    return CleanedArticle(
        id=aid,
        url=f"https://example.test/{aid}",
        source="test",
        title=title,
        text=text,
        published_at=published,
        language=language,
    )


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


@pytest.fixture(scope="module")
def places() -> PlaceResolver:
    return PlaceResolver()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Stocks fell sharply", "en"),
        ("Rain expected tomorrow", "en"),
        ("The central bank raised interest rates again on Thursday, citing stubborn inflation.", "en"),
        ("Die Regierung hat am Mittwoch ein neues Klimagesetz beschlossen.", "de"),
        ("O governo anunciou ontem novas medidas para conter a inflação.", "pt"),
        ("El presidente habló ayer con los periodistas en la capital.", "es"),
        ("Le gouvernement a présenté hier son nouveau budget.", "fr"),
        ("ಬೆಂಗಳೂರು ನಗರದಲ್ಲಿ ಭಾರಿ ಮಳೆ ಸುರಿಯಿತು", "kn"),
    ],
)
def test_language(detector: LanguageDetector, text: str, code: str) -> None:
    got, conf = detector.detect(text)
    assert got == code
    assert 0.0 < conf <= 1.0


def test_language_hint_wins_on_very_short_text(detector: LanguageDetector) -> None:
    assert detector.detect("Wetter heute", hint="de-DE")[0] == "de"
    assert detector.detect("12345") == (None, 0.0)


def test_variants() -> None:
    assert is_variant("Tokayev", "Tokaev")
    assert is_variant("Shai-mukhambetov", "Shaimukhambetov")
    assert is_variant("Kassym-Jomart Tokayev", "Kassym-Jomart Tokaev")
    assert not is_variant("Tokayev", "Takeva")
    assert not is_variant("Paris", "Peru")


def test_places_to_country_codes(places: PlaceResolver) -> None:
    assert places.resolve("Kazakhstan") == ("KZ", "country")
    assert places.resolve("Russia") == ("RU", "country")
    assert places.resolve("Almaty") == ("KZ", "city")
    assert places.resolve("Moscow") == ("RU", "city")
    assert places.resolve("Texas") == ("US", "region")
    assert places.resolve("Asia") == (None, "region")
    assert places.resolve("Narnia") == (None, None)
    assert places.demonym("Kazakh") == "KZ"


def test_entities_offsets_and_joining(any_enricher: Enricher) -> None:
    enricher = any_enricher
    text = (
        "President Maria Fernandez of Chile met executives from Microsoft in Santiago on Monday.\n\n"
        "Fernandez said the talks with Microsoft went well. Angela Merkel was not present."
    )
    enr = enricher.enrich(article(text))
    by_name = {e.name: e for e in enr.entities}
    assert "Maria Fernandez" in by_name
    fernandez = by_name["Maria Fernandez"]
    assert fernandez.type == "person"
    assert set(fernandez.variants) == {"Maria Fernandez", "Fernandez"}
    assert fernandez.count == 2
    for start, end in fernandez.offsets:
        assert text[start:end] in fernandez.variants
    assert by_name["Microsoft"].type == "organization" and by_name["Microsoft"].count == 2
    assert by_name["Chile"].country == "CL" and by_name["Chile"].type == "place"
    assert by_name["Santiago"].type == "place"
    assert "CL" in enr.countries
    assert by_name["Angela Merkel"].type == "person"


def test_keywords() -> None:
    text = (
        "The drought hit farmers across the valley. Farmers said the drought destroyed wheat crops, "
        "and wheat prices rose. Officials promised drought relief for farmers."
    )
    ranked = rank_keywords(text, "Drought hits valley farmers", top=3)
    words = [t.casefold() for t, _ in ranked]
    assert "drought" in words and "farmers" in words
    assert ranked[0][1] == 1.0 and all(0 < s <= 1 for _, s in ranked)


def test_dates_relative_to_publish_date() -> None:
    ref = parse_publish_date("2024-03-15T09:00:00+01:00")  # a Friday
    text = "Police said yesterday that the suspect fled on Wednesday, a week after the Jan. 6 hearing."
    found = {d.text: d.date for d in find_dates(text, ref)}
    assert found == {"yesterday": "2024-03-14", "Wednesday": "2024-03-13", "Jan. 6": "2024-01-06"}
    more = {
        d.text: d.date
        for d in find_dates(
            "Talks resume next Monday after last week's pause; "
            "the deal was signed on March 3, 2023 (2023-03-03).",
            ref,
        )
    }
    assert more == {
        "next Monday": "2024-03-18",
        "last week": "2024-03-08",
        "March 3, 2023": "2023-03-03",
        "2023-03-03": "2023-03-03",
    }
    assert [d.text for d in find_dates("It rained yesterday and on 4 May 2021.", None)] == ["4 May 2021"]


def test_summary_word_count_reading_time() -> None:
    text = (
        "Gen. Smith arrived on Monday. He met the mayor. " + "More details followed in the afternoon. " * 20
    )
    assert lead_summary(text, 60) == "Gen. Smith arrived on Monday. He met the mayor."
    assert word_count("It's a well-known fact: 3 cats, 2 dogs.") == 8
    assert reading_time_minutes(0, 238) == 0
    assert reading_time_minutes(10, 238) == 1
    assert reading_time_minutes(600, 238) == 3


def test_roundtrip_batch_and_merge(enricher: Enricher) -> None:
    a = article(
        "Prime Minister Olaf Schulz visited Kyiv on Tuesday. Schulz promised aid to Ukraine.", aid="a"
    )
    b = article(
        "German chancellor Olaf Scholz travelled to Kyiv yesterday, and Scholz met officials.", aid="b"
    )
    single = [enricher.enrich(a), enricher.enrich(b)]
    assert enricher.enrich_many([a, b]) == single
    for enr in single:
        assert ArticleEnrichment.from_dict(json.loads(json.dumps(enr.to_dict()))) == enr
    story = merge_enrichment(single[0], single)
    jsonschema.validate(story, SCHEMA)
    olaf = [e for e in story["entities"] if "Olaf Schulz" in e["variants"]]
    assert len(olaf) == 1 and "Olaf Scholz" in olaf[0]["variants"]
    assert olaf[0]["name"] == "Olaf Schulz"  # the canonical's spelling
    assert olaf[0]["count"] == 4
    assert all(a.text[s:e] in olaf[0]["variants"] for s, e in olaf[0]["offsets"])
    assert story["member_count"] == 2 and "UA" in story["countries"]
    assert story["summary"] == single[0].summary


def test_no_entities_config() -> None:
    from pipeline.enrich import EnrichConfig

    enr = Enricher(EnrichConfig(entities=False)).enrich(article("Berlin is big. It rained today."))
    assert enr.entities == () and enr.dates[0].date == "2024-03-15"


def _matches(found: list[re.Match[str]]) -> list[tuple[int, int, dict[str, str | None]]]:
    return [(m.start(), m.end(), m.groupdict()) for m in found]


def test_date_scan_finds_what_the_pattern_finds_everywhere() -> None:
    """``date_matches`` tries the date pattern only where a form can start: the same matches as
    ``finditer`` over the whole text, on written cases, generated strings and real articles."""
    from pipeline.enrich._dates import _PATTERN, date_matches
    from tests.conftest import shared_path

    rng = random.Random(3)
    chars = "abc JFMASONDTtYyLlNnW0123456789-,. \n_éÅ日1st2nd of Monday last next this today Jan. Sept"
    words = ["Jan.", "January", "6", "6th", "2022", "2022-01-06", "of", "last", "Last", "next", "week",
             "this", "morning", "Monday", "on", "x", "_", "é", "1", ",", "Sept.", "Sep", "today",
             "Tonight", "night", "a6", "06", "Mar", "Market", "May", "may", "Thursday's"]  # fmt: skip
    texts = [
        "On Jan. 6, 2022 and 6 January 2022; last Friday, next week, this morning, 2022-01-06.",
        "xMay 5, May5, 05 May, 5th of May 2021, Sept. 30th, Sep. 1, lastFriday last\nFriday",
        "",
    ]
    texts += ["".join(rng.choice(chars) for _ in range(rng.randint(0, 300))) for _ in range(4000)]
    texts += [" ".join(rng.choice(words) for _ in range(rng.randint(0, 30))) for _ in range(4000)]
    seps = ["", " ", "\n", "-", "_", "é", ", "]
    for _ in range(4000):
        texts.append("".join(rng.choice(words) + rng.choice(seps) for _ in range(rng.randint(0, 30))))
    for text in texts:
        assert _matches(date_matches(text)) == _matches(list(_PATTERN.finditer(text))), text
    lines = shared_path("data", "ecbplus-dev", "articles.jsonl").read_text().splitlines()
    found = 0
    for line in lines:
        text = json.loads(line)["text"]
        expected = _matches(list(_PATTERN.finditer(text)))
        assert _matches(date_matches(text)) == expected
        found += len(expected)
    assert found > len(lines)  # the real articles do mention dates
