"""Story-level enrichment: merge the canonical article's enrichment with the other members'.

Pure and model-free (runs in the global dedup stage). The result follows
``schemas/enrichment.schema.json``:

* ``language``, ``summary``, ``word_count``, ``reading_time_minutes``: the canonical article's;
* ``entities``: all members' entities joined by variant (same rules as within an article).
  ``count`` is the number of mentions summed over all members; ``offsets`` are the canonical
  text's mentions only (empty for an entity that only other members mention); ``variants`` lists
  every spelling seen, the canonical article's preferred name first when it has the entity;
* ``places``/``countries``: union, canonical first;
* ``keywords``: score = sum of a phrase's member scores / number of members, top N by score;
* ``dates``: the canonical's (with offsets) plus days only other members mention (offset null).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from pipeline.enrich._entities import Item, group_items, preferred_name
from pipeline.enrich._types import ArticleEnrichment, Entity, EntityType

SCHEMA_ID = "https://schemas.news-pipeline.dev/enrichment/v1.json"


def _merge_entities(canonical: ArticleEnrichment, others: Sequence[ArticleEnrichment]) -> list[Entity]:
    items: list[Item] = []
    first_seen: dict[str, int] = {}
    # Copies of one story carry the same entities: an entity equal (names and type) to one
    # already listed is added to it instead of becoming a new item, so grouping costs grow with
    # the distinct entities of a story, not with its members. The result is the same, since
    # group_items would join those items and sum them in the same way.
    same: dict[tuple[tuple[str, ...], str], Item] = {}
    order = 0
    for rank, enr in enumerate([canonical, *others]):
        for ent in enr.entities:
            etype: EntityType = ent.type
            weights = Counter({v: 1 for v in ent.variants})
            weights[ent.name] += 1
            key = ((ent.name, *ent.variants), etype)
            known = same.get(key)
            if known is not None:
                known.names.update(weights)
                known.types[etype] += ent.count
                known.count += ent.count
                if rank == 0:
                    known.offsets.extend(ent.offsets)
                continue
            item = Item(
                names=weights,
                types=Counter({etype: ent.count}),
                offsets=list(ent.offsets) if rank == 0 else [],
                count=ent.count,
                first=order,
            )
            items.append(item)
            same[key] = item
            for v in (ent.name, *ent.variants):
                first_seen.setdefault(v, order)
            order += 1
    canonical_names = {e.name for e in canonical.entities}
    countries: dict[str, str] = {}
    for enr in [canonical, *others]:
        for ent in enr.entities:
            if ent.country:
                countries.setdefault(ent.name, ent.country)
    out: list[Entity] = []
    for g in group_items(items):
        in_canonical = [n for n in g.names if n in canonical_names]
        name = in_canonical[0] if in_canonical else preferred_name(g, first_seen)
        variants = sorted(g.names, key=lambda s: (s != name, first_seen.get(s, 1 << 30)))
        country = next((countries[n] for n in variants if n in countries), None)
        out.append(
            Entity(
                name=name,
                type=g.main_type(),
                variants=tuple(variants),
                offsets=tuple(sorted(g.offsets)),
                count=g.count,
                country=country,
            )
        )
    return out


def merge_enrichment(canonical: ArticleEnrichment, members: Sequence[ArticleEnrichment]) -> dict[str, Any]:
    """Story-level enrichment object (JSON-able) from the canonical and the members' enrichments.

    ``members`` may or may not include the canonical article itself (matched by ``article_id``).
    """
    others = [m for m in members if m.article_id != canonical.article_id]
    everyone = [canonical, *others]

    places: dict[str, dict[str, Any]] = {}
    for enr in everyone:
        for p in enr.places:
            places.setdefault(p.name, p.to_dict())
    countries: list[str] = []
    for enr in everyone:
        countries.extend(c for c in enr.countries if c not in countries)

    kw_scores: dict[str, float] = {}
    kw_surface: dict[str, str] = {}
    for enr in everyone:
        for k in enr.keywords:
            key = k.text.casefold()
            kw_surface.setdefault(key, k.text)
            kw_scores[key] = kw_scores.get(key, 0.0) + k.score
    limit = max((len(e.keywords) for e in everyone), default=0)
    ranked = sorted(kw_scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]

    dates = [{"text": d.text, "date": d.date, "offset": d.offset} for d in canonical.dates]
    seen_days = {d.date for d in canonical.dates}
    for enr in others:
        for d in enr.dates:
            if d.date not in seen_days:
                seen_days.add(d.date)
                dates.append({"text": d.text, "date": d.date, "offset": None})

    return {
        "language": {"code": canonical.language, "confidence": round(canonical.language_confidence, 4)},
        "entities": [e.to_dict() for e in _merge_entities(canonical, others)],
        "places": list(places.values()),
        "countries": countries,
        "keywords": [{"text": kw_surface[k], "score": round(s / len(everyone), 4)} for k, s in ranked],
        "dates": dates,
        "summary": canonical.summary,
        "word_count": canonical.word_count,
        "reading_time_minutes": canonical.reading_time_minutes,
        "member_count": len(everyone),
    }
