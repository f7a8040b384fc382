"""Named entities: spaCy NER spans (``ner="spacy"``), cheap correction rules, and variant grouping.

The default ``ner="fast"`` mode finds mentions with :mod:`pipeline.enrich._fastner` instead and
shares :func:`propagate`, :func:`build_entities` and the grouping below.

Rules applied on top of the model (en_core_web_sm mislabels some names):

* a span right after a title word ("President", "General", "engineer", "Mr."...) or starting with
  one is a person, and the title is not part of the name;
* a leading "the" and a trailing possessive "'s" are dropped;
* a span that the place resolver knows as a country, or as a city while the model said
  GPE/LOC/FAC/ORG/PRODUCT, is a place; a nationality word ("Kazakh") is "other" with its country;
* spans found in the first ``ner_max_chars`` characters are also searched, by exact word match, in
  the rest of the text, so counts and offsets cover the whole text.

Grouping (see :func:`group_items`) joins spelling variants, surname-only mentions of a person and
acronyms ("CSTO") of a name spelled out in the same story.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, TypeVar

from pipeline.enrich._places import PlaceResolver
from pipeline.enrich._types import Entity, EntityType
from pipeline.enrich._variants import (
    initials,
    is_acronym_shape,
    is_variant,
    name_key,
    tokens,
    variant_norms,
)

if TYPE_CHECKING:  # spaCy is imported only in ner="spacy" mode
    from spacy.tokens import Doc

LABELS: dict[str, EntityType] = {
    "PERSON": "person",
    "ORG": "organization",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
    "NORP": "other",
    "EVENT": "other",
    "PRODUCT": "other",
    "WORK_OF_ART": "other",
    "LAW": "other",
    "LANGUAGE": "other",
}
TITLES = frozenset(
    [
        "president",
        "vice-president",
        "premier",
        "chancellor",
        "minister",
        "secretary",
        "general",
        "gen.",
        "gen",
        "lt.",
        "col.",
        "colonel",
        "commander",
        "governor",
        "gov.",
        "senator",
        "sen.",
        "rep.",
        "representative",
        "mayor",
        "king",
        "queen",
        "prince",
        "princess",
        "brigadier",
        "marshal",
        "admiral",
        "pope",
        "judge",
        "justice",
        "ambassador",
        "spokesman",
        "spokeswoman",
        "spokesperson",
        "chairman",
        "chairwoman",
        "ceo",
        "director",
        "professor",
        "prof.",
        "dr.",
        "dr",
        "mr.",
        "mr",
        "mrs.",
        "mrs",
        "ms.",
        "ms",
        "sir",
        "lord",
        "lady",
        "engineer",
        "actress",
        "actor",
        "singer",
        "rapper",
        "coach",
        "captain",
        "capt.",
        "sgt.",
        "sergeant",
        "officer",
        "detective",
        "inspector",
        "leader",
        "envoy",
    ]
)
_K = TypeVar("_K")
_PLACE_LABELS = frozenset({"GPE", "LOC", "FAC", "ORG", "PRODUCT"})
_TRIM_END = re.compile(r"(?:['’]s|['’])$")


@dataclass(frozen=True, slots=True)
class Mention:
    start: int
    end: int
    surface: str
    type: EntityType


def mentions_from_doc(doc: Doc, resolver: PlaceResolver) -> list[Mention]:
    """Entity mentions of a spaCy doc after the correction rules; offsets into ``doc.text``."""
    out: list[Mention] = []
    for ent in doc.ents:
        etype = LABELS.get(ent.label_)
        if etype is None:
            continue
        toks = list(ent)
        inner = [k for k, t in enumerate(toks[:-1]) if t.lower_ in TITLES and k > 0]
        if inner and toks[-1].text[:1].isupper():
            toks = toks[inner[-1] + 1 :]  # "Kazakh President Kassym-Jomart Tokayev" -> the name
            etype = "person"
        while toks and (toks[0].lower_ in ("the",) or toks[0].lower_ in TITLES):
            if toks[0].lower_ != "the":
                etype = "person"
            toks = toks[1:]
        while toks and not toks[-1].text[:1].isalnum():
            toks = toks[:-1]
        if not toks:
            continue
        prev = doc[ent.start - 1].lower_ if ent.start > 0 else ""
        if (
            prev in TITLES
            and ent.label_ in ("PERSON", "ORG", "GPE", "NORP", "PRODUCT")
            and resolver.resolve(doc[toks[0].i : toks[-1].i + 1].text)[1] != "country"
        ):
            etype = "person"
        start = toks[0].idx
        end = toks[-1].idx + len(toks[-1].text)
        surface = _TRIM_END.sub("", doc.text[start:end])
        end = start + len(surface)
        if not surface or not any(ch.isupper() for ch in surface):
            continue
        if etype != "person":
            _code, kind = resolver.resolve(surface)
            if kind == "country" or (kind is not None and ent.label_ in _PLACE_LABELS):
                etype = "place"
            elif resolver.demonym(surface):
                etype = "other"
        out.append(Mention(start, end, surface, etype))
    return out


def propagate(mentions: list[Mention], text: str, cut: int) -> list[Mention]:
    """Add exact word matches, after ``cut``, of the surfaces found before it."""
    if cut >= len(text) or not mentions:
        return mentions
    types: dict[str, Counter[EntityType]] = {}
    for m in mentions:
        types.setdefault(m.surface, Counter())[m.type] += 1
    surfaces = sorted((s for s in types if len(s) >= 3), key=len, reverse=True)
    if not surfaces:
        return mentions
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(s) for s in surfaces) + r")(?!\w)")
    extra = [
        Mention(m.start(), m.end(), m.group(0), _commonest(types[m.group(0)]))
        for m in pattern.finditer(text, cut)
    ]
    return mentions + extra


@dataclass(slots=True)
class Item:
    """A name cluster candidate: its spellings with counts, type votes, offsets, country."""

    names: Counter[str]
    types: Counter[EntityType]
    offsets: list[tuple[int, int]]
    count: int
    first: int  # order of first appearance (lower = earlier / canonical)

    def main_type(self) -> EntityType:
        if self.types.get("person") and any(len(tokens(n)) > 1 for n in self.names):
            return "person"
        return _commonest(self.types)


def group_items(items: Sequence[Item], known_place: Callable[[str], bool] = lambda _s: True) -> list[Item]:
    """Join items that name the same entity; result sorted by count then first appearance.

    A one-word item typed "place" may still join a person as a surname when ``known_place``
    says its name is no known place (the model often tags surnames as GPE).

    An item that joins no other is returned itself, not a copy: the result is to be read, not
    changed (see :func:`join_groups`).
    """
    return join_groups(items, item_roots(items, [it.main_type() for it in items], known_place))


def item_roots(
    items: Sequence[Item], types: Sequence[EntityType], known_place: Callable[[str], bool] = lambda _s: True
) -> list[int]:
    """The grouping of :func:`group_items`: for each item, the index of the first item of its
    group. ``types`` are the items' ``main_type()``. It depends only on the items' sets of
    names, on ``types`` and on ``known_place`` (not on counts, offsets or order of appearance),
    so a caller whose items keep their names may keep it while the types stay the same.
    """
    n = len(items)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)

    # Variants share a transliteration key and acronyms equal their long form's initials, so only
    # items sharing a key or an initials string are compared (same result as all pairs, O(n)).
    by_key: dict[str, list[tuple[int, str]]] = {}
    by_initials: dict[str, set[int]] = {}
    for i, it in enumerate(items):
        for name in it.names:
            norm, key = name_key(name)
            if norm:
                by_key.setdefault(key, []).append((i, norm))
            by_initials.setdefault(initials(name), set()).add(i)
    for bucket in by_key.values():
        for x, (i, na) in enumerate(bucket):
            for j, nb in bucket[x + 1 :]:
                if (
                    i != j
                    and (types[i] == types[j] or "other" in (types[i], types[j]))
                    and find(i) != find(j)
                    and variant_norms(na, nb)
                ):
                    union(i, j)
    for i, it in enumerate(items):
        for name in it.names:
            if is_acronym_shape(name):
                for j in by_initials.get(name, ()):
                    if j != i:
                        union(i, j)
    # A one-word name joins the single person group whose full name ends with it.
    surnames: dict[str, list[tuple[int, str]]] = {}
    for i, it in enumerate(items):
        if types[i] == "person":
            for full in it.names:
                parts = tokens(full)
                if len(parts) > 1:
                    surnames.setdefault(name_key(parts[-1])[1], []).append((i, parts[-1]))
    for j in range(n):
        if (types[j] == "place" and any(known_place(s) for s in items[j].names)) or not all(
            len(tokens(s)) == 1 for s in items[j].names
        ):
            continue
        roots = {
            find(i)
            for s in items[j].names
            for i, last in surnames.get(name_key(s)[1], ())
            if is_variant(last, s)
        }
        if len(roots) == 1:
            union(next(iter(roots)), j)
    # union keeps the smaller root, so every group's root is its first item
    return [find(i) for i in range(n)]


_BY_FIRST = attrgetter("first")
_BY_COUNT = attrgetter("count")


def join_groups(items: Sequence[Item], roots: Sequence[int]) -> list[Item]:
    """The groups of ``items`` given by ``roots`` (see :func:`item_roots`), each summed over its
    items in order, sorted by count (descending) then first appearance.

    A group of one item is that item itself (most are: copying its counters cost a third of the
    story stage's grouping, bench corpus with entities on); a group of several is a new Item.
    """
    groups: dict[int, Item] = {}
    for i, it in enumerate(items):
        root = roots[i]
        if root == i:
            groups[i] = it
            continue
        g = groups[root]
        if g is items[root]:  # a second item joins: sum into a copy
            g = groups[root] = Item(_counter(g.names), _counter(g.types), list(g.offsets), g.count, g.first)
        g.names.update(it.names)
        g.types.update(it.types)
        g.offsets.extend(it.offsets)
        g.count += it.count
        g.first = min(g.first, it.first)
    # by (-count, first): two stable sorts on C keys instead of one on a Python tuple key
    out = sorted(groups.values(), key=_BY_FIRST)
    out.sort(key=_BY_COUNT, reverse=True)
    return out


def preferred_name(item: Item, first_seen: dict[str, int]) -> str:
    """Longest name (in words), then most frequent, then earliest seen."""
    return max(item.names, key=lambda s: (len(tokens(s)), item.names[s], -first_seen.get(s, 1 << 30)))


def to_entity(item: Item, first_seen: dict[str, int], resolver: PlaceResolver | None) -> Entity:
    name = preferred_name(item, first_seen)
    etype = item.main_type()
    if etype == "person" and any(n.isupper() and len(n) > 1 for n in item.names) and len(item.names) > 1:
        etype = "organization"  # an acronym joined a name: an organisation, not a person
    country: str | None = None
    if resolver is not None and etype in ("place", "other"):
        for candidate in sorted(item.names, key=lambda s: -item.names[s]):
            code = resolver.resolve(candidate)[0] if etype == "place" else resolver.demonym(candidate)
            if code:
                country = code
                break
    variants = tuple(sorted(item.names, key=lambda s: (-item.names[s], first_seen.get(s, 1 << 30))))
    return Entity(
        name=name,
        type=etype,
        variants=variants,
        offsets=tuple(sorted(item.offsets)),
        count=item.count,
        country=country,
    )


def build_entities(mentions: list[Mention], resolver: PlaceResolver) -> tuple[Entity, ...]:
    """Group one text's mentions into entities (offsets into that text)."""
    by_surface: dict[str, tuple[list[EntityType], list[tuple[int, int]]]] = {}
    first_seen: dict[str, int] = {}
    for m in sorted(mentions, key=attrgetter("start")):
        seen = by_surface.get(m.surface)
        if seen is None:
            first_seen[m.surface] = m.start
            seen = by_surface[m.surface] = ([], [])
        seen[0].append(m.type)
        seen[1].append((m.start, m.end))
    items = [
        Item(_counter({surface: len(offsets)}), Counter(types), offsets, len(offsets), first_seen[surface])
        for surface, (types, offsets) in by_surface.items()
    ]
    groups = group_items(items, lambda s: resolver.resolve(s)[1] is not None)
    return tuple(to_entity(g, first_seen, resolver) for g in groups)


def _commonest(counts: Counter[EntityType]) -> EntityType:
    """``counts.most_common(1)[0][0]`` (the first of the most frequent) without its overhead."""
    return max(counts.items(), key=itemgetter(1))[0]


def _counter(counts: dict[_K, int]) -> Counter[_K]:
    """A Counter holding ``counts`` (filled at C speed; ``Counter(mapping)`` loops in Python,
    and even ``Counter()`` runs ``__init__`` and ``update`` in Python: a Counter has no state
    besides its items, so the bare dict made by ``__new__`` is an empty Counter)."""
    out: Counter[_K] = Counter.__new__(Counter)
    dict.update(out, counts)
    return out
