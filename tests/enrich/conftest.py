from __future__ import annotations

import pytest

from pipeline.enrich import EnrichConfig, Enricher


@pytest.fixture(scope="session")
def enricher() -> Enricher:
    """One Enricher (spaCy model, langid model, place tables) for the whole test session."""
    e = Enricher(EnrichConfig())
    _ = e.nlp
    return e
