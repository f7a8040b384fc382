"""The fast rule-based entity extractor (``ner="fast"``, the default) on literal texts."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from pipeline.enrich import EnrichConfig, Enricher, PlaceResolver
from pipeline.enrich._fastner import FastNer
from pipeline.records import CleanedArticle


@pytest.fixture(scope="module")
def ner() -> FastNer:
    return FastNer(PlaceResolver())


def found(ner: FastNer, text: str) -> dict[str, str]:
    return {m.surface: m.type for m in ner.mentions(text)}


def test_titles_make_persons_and_are_not_part_of_the_name(ner: FastNer) -> None:
    text = (
        "Kazakh President Kassym-Jomart Tokayev spoke first. Local engineer Malik Osmanov "
        "said the pump failed, and Gen. Ivan Drago agreed. Secretary of State Linda Park left."
    )
    got = found(ner, text)
    assert got["Kassym-Jomart Tokayev"] == "person"
    assert got["Malik Osmanov"] == "person"
    assert got["Ivan Drago"] == "person"
    assert got["Linda Park"] == "person"
    assert got["Kazakh"] == "other"
    assert not {"President", "Gen.", "Secretary", "State", "Kazakh President"} & set(got)


def test_places_organisations_acronyms_and_connectors(ner: FastNer) -> None:
    text = (
        "Troops of the Collective Security Treaty Organization (CSTO) left Almaty for Russia. "
        "The Ministry of the Interior and the Bank of England were not consulted, "
        "nor was the Moscow-led bloc. Bashar al-Assad met Ortega y Gasset in New York."
    )
    got = found(ner, text)
    assert got["Collective Security Treaty Organization"] == "organization"
    assert got["CSTO"] == "organization"
    assert got["Almaty"] == "place" and got["Russia"] == "place" and got["New York"] == "place"
    assert got["Ministry of the Interior"] == "organization"
    assert got["Bank of England"] == "organization"
    assert got["Moscow"] == "place" and "Moscow-led" not in got
    assert got["Bashar al-Assad"] == "person"
    assert "Ortega y Gasset" in got


def test_sentence_initial_common_words_and_calendar_words_are_skipped(ner: FastNer) -> None:
    text = (
        "However, Olga Petrova disagreed on Monday. Protesters gathered in March. "
        "Many Kazakhs stayed home. It rained at 5 PM. Petrova's office said nothing."
    )
    got = found(ner, text)
    assert got["Olga Petrova"] == "person"
    assert got["Kazakhs"] == "other"
    assert "Petrova" in got  # possessive trimmed, offsets still point at the name
    for word in ("However", "Monday", "Protesters", "March", "Many", "It", "PM", "Petrova's"):
        assert word not in got


def test_offsets_point_at_the_surface(ner: FastNer) -> None:
    text = "Officials in Paris said that Jean Dupont’s plan, backed by the UNHCR, would help."
    for m in ner.mentions(text):
        assert text[m.start : m.end] == m.surface
    assert {"Paris", "Jean Dupont", "UNHCR"} <= set(found(ner, text))


@pytest.mark.parametrize(
    "text",
    [
        "A " * 50_000,
        "Aa-" * 33_000,
        "A. " * 33_000,
        "Ab of " * 20_000,
        "Ab of the " * 10_000 + "x",
        "Abc" * 33_000,
        "Mr. " * 25_000,
        "al-Ab " * 16_000,
        "Abc-def-" * 12_000,
        "O'Ab " * 20_000,
    ],
)
def test_no_catastrophic_backtracking(ner: FastNer, text: str) -> None:
    t0 = time.perf_counter()
    ner.mentions(text)
    assert time.perf_counter() - t0 < 5.0  # linear: well under a second on any machine


def test_fast_mode_does_not_import_spacy() -> None:
    code = (
        "import sys\n"
        "from pipeline.enrich import Enricher\n"
        "from pipeline.records import CleanedArticle\n"
        "a = CleanedArticle(id='x', url='u', source='s', title='', text='Ana Lima visited Chile.')\n"
        "assert Enricher().enrich(a).entities\n"
        "assert 'spacy' not in sys.modules and 'thinc' not in sys.modules, 'spaCy imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_ner_config_modes_and_entities_alias() -> None:
    assert EnrichConfig().ner == "fast" and EnrichConfig().entities
    assert EnrichConfig(entities=False).ner == "off"
    assert EnrichConfig(ner="off").entities is False
    with pytest.raises(ValueError):
        EnrichConfig(ner="bert")  # type: ignore[arg-type]
    art = CleanedArticle(id="x", url="u", source="s", title="", text="President Ana Lima visited Chile.")
    assert Enricher(EnrichConfig(ner="off")).enrich(art).entities == ()


def test_enrich_many_equals_enrich_in_fast_mode(enricher: Enricher) -> None:
    arts = [
        CleanedArticle(id=str(i), url="u", source="s", title="", text=t)
        for i, t in enumerate(["Angela Merkel met Emmanuel Macron in Berlin.", "The UN said nothing.", ""])
    ]
    assert enricher.enrich_many(arts) == [enricher.enrich(a) for a in arts]
