from __future__ import annotations

import pytest

from pipeline.enrich import EnrichConfig, Enricher


@pytest.fixture(scope="session")
def enricher() -> Enricher:
    """The default Enricher (fast rule-based entities) for the whole test session."""
    return Enricher(EnrichConfig())


@pytest.fixture(scope="session")
def spacy_enricher() -> Enricher:
    """An Enricher in ``ner="spacy"`` mode; the model is loaded once per test session."""
    e = Enricher(EnrichConfig(ner="spacy"))
    _ = e.nlp
    return e


@pytest.fixture(params=["fast", "spacy"])
def any_enricher(request: pytest.FixtureRequest) -> Enricher:
    """Each NER mode in turn (the spaCy one is session-scoped, so loaded once)."""
    name = "enricher" if request.param == "fast" else "spacy_enricher"
    e: Enricher = request.getfixturevalue(name)
    return e
