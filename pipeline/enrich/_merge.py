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

:class:`StoryMerge` keeps what it has read, so a story that gains a member is merged again by
reading only the new member's enrichment (the result is the same as merging all members anew).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipeline.enrich._entities import Item, _counter, item_roots, join_groups, preferred_name
from pipeline.enrich._types import ArticleEnrichment, Entity, EntityType

SCHEMA_ID = "https://schemas.news-pipeline.dev/enrichment/v1.json"


class StoryMerge:
    """The story-level enrichment of a canonical article and the members added so far.

    ``add`` reads one more member (in order; the canonical's own enrichment is ignored there);
    ``result`` gives the JSON-able object, equal to ``merge_enrichment(canonical, members added)``.
    """

    def __init__(self, canonical: ArticleEnrichment) -> None:
        self.canonical = canonical
        self.members = 1
        # entities, before grouping: copies of one story carry the same entities, so an entity
        # equal (names and type) to one already listed is added to it instead of becoming a new
        # item; grouping then costs what the story's distinct entities cost, not its members
        self._items: list[Item] = []
        self._same: dict[tuple[tuple[str, ...], str], Item] = {}
        self._first_seen: dict[str, int] = {}
        self._countries_of: dict[str, str] = {}
        self._canonical_names = {e.name for e in canonical.entities}
        self._places: dict[str, dict[str, Any]] = {}
        self._countries: list[str] = []
        self._kw_scores: dict[str, float] = {}
        self._kw_surface: dict[str, str] = {}
        self._kw_limit = 0
        # the items' main types, and their grouping (item_roots) for the first ``_grouped`` items.
        # Neither changes once an item is listed: its names are fixed (the key of ``_same``), and
        # its type votes only grow at the one type it was listed with (also in the key), which a
        # Counter of one key always names as its main type. A member that brings no new entity (a
        # copy) then costs no regrouping.
        self._types: list[EntityType] = []
        self._roots: list[int] = []
        self._grouped = 0
        self._dates = [{"text": d.text, "date": d.date, "offset": d.offset} for d in canonical.dates]
        self._seen_days = {d.date for d in canonical.dates}
        self._read(canonical, canonical=True)

    def add(self, member: ArticleEnrichment) -> None:
        if member.article_id == self.canonical.article_id:
            return
        self.members += 1
        self._read(member, canonical=False)
        for d in member.dates:
            if d.date not in self._seen_days:
                self._seen_days.add(d.date)
                self._dates.append({"text": d.text, "date": d.date, "offset": None})

    def _read(self, enr: ArticleEnrichment, canonical: bool) -> None:
        items, same, first_seen = self._items, self._same, self._first_seen
        for ent in enr.entities:
            etype: EntityType = ent.type
            key = ((ent.name, *ent.variants), etype)
            known = same.get(key)
            if known is not None:
                names = known.names
                for v in ent.variants:
                    names[v] += 1
                names[ent.name] += 1
                known.types[etype] += ent.count
                known.count += ent.count
                if canonical:
                    known.offsets.extend(ent.offsets)
            else:
                weights = _counter(dict.fromkeys(ent.variants, 1))
                weights[ent.name] += 1
                order = len(items)
                item = Item(
                    names=weights,
                    types=_counter({etype: ent.count}),
                    offsets=list(ent.offsets) if canonical else [],
                    count=ent.count,
                    first=order,
                )
                items.append(item)
                same[key] = item
                for v in (ent.name, *ent.variants):
                    first_seen.setdefault(v, order)
            if ent.country:
                self._countries_of.setdefault(ent.name, ent.country)
        for p in enr.places:
            if p.name not in self._places:
                self._places[p.name] = p.to_dict()
        self._countries.extend(c for c in enr.countries if c not in self._countries)
        for k in enr.keywords:
            key_text = k.text.casefold()
            self._kw_surface.setdefault(key_text, k.text)
            self._kw_scores[key_text] = self._kw_scores.get(key_text, 0.0) + k.score
        self._kw_limit = max(self._kw_limit, len(enr.keywords))

    def _groups(self) -> list[Item]:
        """``group_items(self._items)``, regrouping only when an item is new."""
        items, types = self._items, self._types
        if len(items) != self._grouped:
            types.extend([it.main_type() for it in items[len(types) :]])
            self._roots = item_roots(items, types)
            self._grouped = len(items)
        return join_groups(items, self._roots)

    def entity_dicts(self) -> list[dict[str, Any]]:
        """``[e.to_dict() for e in self.entities()]``, built directly."""
        canonical_names, first_seen, countries = self._canonical_names, self._first_seen, self._countries_of
        by_first = first_seen.__getitem__  # every name of an item is in first_seen
        items, types = self._items, self._types
        out: list[dict[str, Any]] = []
        for g in self._groups():
            names = g.names
            for name in names:  # the first name the canonical has, else the preferred one
                if name in canonical_names:
                    break
            else:
                name = preferred_name(g, first_seen)
            # the name first, then the others by first appearance (a stable sort, as the key
            # (s != name, first seen) would give)
            variants = [name]
            if len(names) > 1:
                variants += sorted([n for n in names if n != name], key=by_first)
            country = None
            if countries:
                for n in variants:
                    if n in countries:
                        country = countries[n]
                        break
            out.append(
                {
                    "name": name,
                    # an item alone in its group (first = its index): its type is known
                    "type": types[g.first] if items[g.first] is g else g.main_type(),
                    "count": g.count,
                    "variants": variants,
                    "offsets": [list(o) for o in sorted(g.offsets)],
                    "country": country,
                }
            )
        return out

    def entities(self) -> list[Entity]:
        return [Entity.from_dict(d) for d in self.entity_dicts()]

    def result(self) -> dict[str, Any]:
        canonical, n = self.canonical, self.members
        ranked = sorted(self._kw_scores.items(), key=lambda kv: (-kv[1], kv[0]))[: self._kw_limit]
        return {
            "language": {"code": canonical.language, "confidence": round(canonical.language_confidence, 4)},
            "entities": self.entity_dicts(),
            "places": list(self._places.values()),
            "countries": list(self._countries),
            "keywords": [{"text": self._kw_surface[k], "score": round(s / n, 4)} for k, s in ranked],
            "dates": list(self._dates),
            "summary": canonical.summary,
            "word_count": canonical.word_count,
            "reading_time_minutes": canonical.reading_time_minutes,
            "member_count": n,
        }


def merge_enrichment(canonical: ArticleEnrichment, members: Sequence[ArticleEnrichment]) -> dict[str, Any]:
    """Story-level enrichment object (JSON-able) from the canonical and the members' enrichments.

    ``members`` may or may not include the canonical article itself (matched by ``article_id``).
    """
    merge = StoryMerge(canonical)
    for m in members:
        merge.add(m)
    return merge.result()
