"""A story with many copies merges to the canonical's entities with the copies' mentions added."""

from __future__ import annotations

import dataclasses

from pipeline.enrich import Enricher, merge_enrichment
from pipeline.records import CleanedArticle

TEXT = (
    "President Kassym-Jomart Tokayev met Foreign Minister Murat Nurtleu in Astana on Tuesday to "
    "discuss the new pipeline to the Caspian port of Aktau.\n\nTokayev said the Kazakh government "
    "would finance half of the project, and Nurtleu told reporters in Astana that talks with "
    "Azerbaijan would resume in March."
)
OTHER = (
    "Kazakh President Kassym-Jomart Tokaev visited Aktau on Wednesday, where the regional governor "
    "Nurlan Kilybay showed him the harbour that the pipeline will reach."
)


def _article(aid: str, text: str) -> CleanedArticle:
    return CleanedArticle(id=aid, url=f"https://news.example/{aid}", source="news.example", title="",
                          text=text, published_at="2026-03-03T10:00:00Z")  # fmt: skip


def test_copies_add_mentions_without_changing_names(enricher: Enricher) -> None:
    canonical = enricher.enrich(_article("a", TEXT))
    copies = [dataclasses.replace(canonical, article_id=f"copy-{i}") for i in range(6)]
    alone = merge_enrichment(canonical, [])
    merged = merge_enrichment(canonical, copies)
    assert [e["name"] for e in merged["entities"]] == [e["name"] for e in alone["entities"]]
    for e, single in zip(merged["entities"], alone["entities"], strict=True):
        assert e["count"] == 7 * single["count"]
        assert e["variants"] == single["variants"]
        assert e["offsets"] == single["offsets"]  # offsets refer to the canonical text only
    assert merged["member_count"] == 7


def test_copies_and_a_different_report_merge_as_without_the_copies(enricher: Enricher) -> None:
    canonical = enricher.enrich(_article("a", TEXT))
    other = enricher.enrich(_article("b", OTHER))
    copies = [dataclasses.replace(canonical, article_id=f"copy-{i}") for i in range(4)]
    with_copies = merge_enrichment(canonical, [*copies, other])
    without = merge_enrichment(canonical, [other])
    # the same entities in the same order, spellings joined the same way (Tokayev / Tokaev)
    assert [(e["name"], e["variants"]) for e in with_copies["entities"]] == [
        (e["name"], e["variants"]) for e in without["entities"]
    ]
    tokayev = next(e for e in with_copies["entities"] if "Tokayev" in e["name"])
    assert any("Tokaev" in v for v in tokayev["variants"])
