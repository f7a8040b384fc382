"""A story merged member by member equals the same story merged at once, in any order of joins."""

from __future__ import annotations

import dataclasses
import random

import orjson

from pipeline.enrich import Enricher, StoryMerge, merge_enrichment
from pipeline.records import CleanedArticle
from pipeline.stories import StoryAssembler

TEXTS = [
    "President Kassym-Jomart Tokayev met Foreign Minister Murat Nurtleu in Astana on Tuesday to "
    "discuss the pipeline to the Caspian port of Aktau. Tokayev said the government would pay half.",
    "Kazakh President Kassym-Jomart Tokaev visited Aktau on Wednesday, where governor Nurlan "
    "Kilybay showed him the harbour. The UN Development Programme (UNDP) sent observers.",
    "Tokayev told reporters in Astana on March 3, 2026 that talks with Azerbaijan would resume. "
    "The United Nations Development Programme welcomed the plan; Nurtleu flew to Baku.",
    "Officials in Baku said Azerbaijani President Ilham Aliyev would meet Tokaev in Aktau next "
    "week. SOCAR and KazMunayGas will build the terminal, Aliyev said on Friday.",
]


def _article(aid: str, text: str) -> CleanedArticle:
    return CleanedArticle(id=aid, url=f"https://news.example/{aid}", source="news.example", title="",
                          text=text, published_at="2026-03-03T10:00:00Z")  # fmt: skip


def test_incremental_merge_equals_merge_at_once(enricher: Enricher) -> None:
    pool = [enricher.enrich(_article(f"t{i}", t)) for i, t in enumerate(TEXTS)]
    rng = random.Random(5)
    for trial in range(40):
        n = rng.randint(1, 40)
        members = [dataclasses.replace(rng.choice(pool), article_id=f"m{trial}-{k}") for k in range(n)]
        canonical = members[0]
        merge = StoryMerge(canonical)
        for k, member in enumerate(members[1:], start=1):
            merge.add(member)
            at_once = merge_enrichment(canonical, members[: k + 1])
            assert orjson.dumps(merge.result()) == orjson.dumps(at_once)
            assert merge.result()["member_count"] == k + 1


def test_story_revisions_equal_a_fresh_merge_when_the_canonical_changes() -> None:
    """Through the story assembler: a longer member becomes canonical (a new merge), later ones add."""
    from pipeline.clean import CleanConfig
    from pipeline.dedup import DedupConfig
    from pipeline.enrich import EnrichConfig
    from pipeline.prepare import Preparer, StageConfigs

    preparer = Preparer(StageConfigs(CleanConfig(), DedupConfig(), EnrichConfig()))
    base = TEXTS[0] + " " + TEXTS[2]
    texts = [base, base + " " + TEXTS[1], base, base + " " + TEXTS[1] + " " + TEXTS[3], base]
    assembler = StoryAssembler(DedupConfig(), {}, {})
    enrichments = {}
    for i, text in enumerate(texts):
        prepared = preparer.finish([_article(f"v{i}", text)])[0]
        enrichments[prepared.article.id] = prepared.enrichment
        story = assembler.add(prepared)
        assert story is not None and len(story["members"]) == i + 1  # one story
        canonical = story["canonical"]["article_id"]
        others = [enrichments[a] for a in enrichments if a != canonical]
        fresh = merge_enrichment(enrichments[canonical], others)
        assert orjson.dumps(story["enrichment"]) == orjson.dumps(fresh)
