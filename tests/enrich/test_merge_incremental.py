"""A story merged member by member equals the same story merged at once, in any order of joins."""

from __future__ import annotations

import dataclasses
import random
from collections import Counter

import orjson

from pipeline.enrich import Enricher, StoryMerge, merge_enrichment
from pipeline.enrich._entities import Item, group_items, item_roots, join_groups, preferred_name
from pipeline.enrich._types import Entity, EntityType
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


def _reference_join(items: list[Item], roots: list[int]) -> list[Item]:
    """Groups summed into copies and sorted with one tuple key (what join_groups must equal)."""
    groups: dict[int, Item] = {}
    for i, it in enumerate(items):
        g = groups.get(roots[i])
        if g is None:
            g = Item(Counter(it.names), Counter(it.types), list(it.offsets), it.count, it.first)
            groups[roots[i]] = g
        else:
            g.names.update(it.names)
            g.types.update(it.types)
            g.offsets.extend(it.offsets)
            g.count += it.count
            g.first = min(g.first, it.first)
    return sorted(groups.values(), key=lambda g: (-g.count, g.first))


def _shape(groups: list[Item]) -> list[tuple[object, ...]]:
    return [(list(g.names.items()), list(g.types.items()), g.offsets, g.count, g.first) for g in groups]


def test_join_groups_equals_summing_copies_and_leaves_the_items_alone() -> None:
    names = ["Kassym-Jomart Tokayev", "Tokayev", "Tokaev", "UNDP", "United Nations Development Programme"]
    names += ["Aktau", "Astana", "Aliyev", "Ilham Aliyev", "SOCAR", "Baku", "Nurtleu", "Murat Nurtleu"]
    types: list[EntityType] = ["person", "organization", "place", "other"]
    rng = random.Random(11)
    for _ in range(300):
        items = []
        for order in range(rng.randint(0, 12)):
            spellings = rng.sample(names, rng.randint(1, 3))
            items.append(Item(Counter({s: rng.randint(1, 3) for s in spellings}),
                              Counter({rng.choice(types): rng.randint(1, 4)}),
                              [(rng.randint(0, 99), rng.randint(100, 200)) for _ in range(rng.randint(0, 3))],
                              rng.randint(1, 3), order if rng.random() < 0.8 else 0))  # fmt: skip
        before = _shape(items)
        roots = item_roots(items, [it.main_type() for it in items])
        assert _shape(join_groups(items, roots)) == _shape(_reference_join(items, roots))
        assert _shape(group_items(items)) == _shape(_reference_join(items, roots))
        assert _shape(items) == before


def _reference_entities(merge: StoryMerge) -> list[dict[str, object]]:
    """The merged entities as StoryMerge.entities built them before entity_dicts."""
    first_seen, countries = merge._first_seen, merge._countries_of
    out = []
    for g in group_items(merge._items):
        in_canonical = [n for n in g.names if n in merge._canonical_names]
        name = in_canonical[0] if in_canonical else preferred_name(g, first_seen)
        variants = sorted(g.names, key=lambda s: (s != name, first_seen.get(s, 1 << 30)))
        country = next((countries[n] for n in variants if n in countries), None)
        entity = Entity(name, g.main_type(), tuple(variants), tuple(sorted(g.offsets)), g.count, country)
        out.append(entity.to_dict())
    return out


def test_entity_dicts_equal_the_entities_built_anew_at_every_step(enricher: Enricher) -> None:
    """The grouping kept between steps (regrouped only when an item is new) gives what grouping
    all items anew gives, as members of all kinds join."""
    pool = [enricher.enrich(_article(f"t{i}", t)) for i, t in enumerate(TEXTS)]
    rng = random.Random(3)
    for trial in range(30):
        members = [dataclasses.replace(rng.choice(pool), article_id=f"m{trial}-{k}") for k in range(12)]
        merge = StoryMerge(members[0])
        for member in members[1:]:
            merge.add(member)
            assert merge.entity_dicts() == _reference_entities(merge)
            assert [e.to_dict() for e in merge.entities()] == _reference_entities(merge)
