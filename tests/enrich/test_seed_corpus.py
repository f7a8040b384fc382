"""The seed story (two versions of one wire story) enriched and merged."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

from pipeline.enrich import Enricher, merge_enrichment
from pipeline.records import CleanedArticle

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT.parent / "shared" / "seeds"


@pytest.mark.corpus
def test_seed_story_entities(any_enricher: Enricher) -> None:
    """Runs in both NER modes (fast, the default, and spaCy)."""
    enricher = any_enricher
    paths = sorted(SEEDS.glob("*.txt"))
    if len(paths) < 2:
        if os.environ.get("CI") == "true":
            pytest.fail(f"seed files missing under {SEEDS}")
        pytest.skip(f"seed files not found under {SEEDS} (../shared is only present on dev machines)")
    articles = [
        CleanedArticle(
            id=p.stem,
            url=f"https://example.test/{p.stem}",
            source="seed",
            title="",
            text=p.read_text(encoding="utf-8"),
            published_at="2022-01-13T12:00:00Z",
        )
        for p in paths
    ]
    enrichments = enricher.enrich_many(articles)
    story = merge_enrichment(enrichments[1], enrichments)
    jsonschema.validate(story, json.loads((ROOT / "schemas" / "enrichment.schema.json").read_text()))
    ents = story["entities"]

    def find(name: str) -> list[dict]:
        return [e for e in ents if name in e["variants"]]

    assert find("Kazakhstan") and find("Kazakhstan")[0]["country"] == "KZ"
    assert "KZ" in story["countries"]
    assert find("Almaty") and find("Almaty")[0]["country"] == "KZ"
    assert find("CSTO")
    assert find("Vladimir Putin") and find("Vladimir Putin")[0]["type"] == "person"
    tokayev = [e for e in ents if any("Tokayev" in v or "Tokaev" in v for v in e["variants"])]
    assert len(tokayev) == 1
    variants = tokayev[0]["variants"]
    assert any("Tokayev" in v for v in variants) and any("Tokaev" in v for v in variants)
    assert tokayev[0]["type"] == "person"
    engineer = [e for e in ents if any("mukhambetov" in v for v in e["variants"])]
    assert len(engineer) == 1 and {"Shaimukhambetov", "Malik Shai-mukhambetov"} <= set(
        engineer[0]["variants"]
    )
