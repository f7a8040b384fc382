"""The quick sufficient conditions of the story check (``story_shell_surely_valid``,
``member_surely_valid``, ``enrichment_surely_valid``): whatever they accept, the compiled
validators accept too, so the check's verdicts stay the compiled validators'."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from typing import Any

import fastjsonschema
import orjson
import pytest

from pipeline.contracts import (
    SCHEMA_DIR,
    _story_parts,
    contracts,
    enrichment_surely_valid,
    member_surely_valid,
    story_shell_surely_valid,
)
from pipeline.processor import Processor, RawMessage, StoryStage
from pipeline.settings import Settings
from tests.unit.test_stories import EXTRA, FERRY, OTHER, doc

# values that sit on the edges of the schemas' rules
TRICKY: list[Any] = [
    None, True, False, 0, -1, 1, 2, 0.5, 1.0, 1.5, -0.0, float("nan"), float("inf"), "", "x", "ab",
    "AB", "Ab", "a1", "é", "XX", "s-0123456789abcdef", "s-0123456789ABCDEF", "s-0123456789abcde",
    "2026-03-03T10:00:00Z", "2026-03-03T10:00:00", "now", "2026-03-03", "2024-02-29", "2023-02-29",
    "2000-02-29", "1900-02-29", "0000-01-01", "0000-02-29", "１２３４-01-01", "2026-13-01",
    "2026-1-01", "original", "reprinted", "person", "city", [], {}, [1], [1, 2], [-1, 2], [1, 2, 3],
    [1.0, 2], ["a"], ["a", "a"], {"a": 1}, (1, 2), ("a",),
]  # fmt: skip


def revisions(entities: bool) -> list[dict[str, Any]]:
    """Revisions of a few small stories, as the stage emits them."""
    settings = Settings(entities=entities)
    proc = Processor(settings)
    docs = [doc("a", FERRY), doc("b", FERRY + EXTRA), doc("c", OTHER)]
    docs.append(doc("d", FERRY, "2026-03-03T09:00:00Z"))  # published before "a": changes it in place
    msgs = [RawMessage(orjson.dumps(d), None, "t", 0, i) for i, d in enumerate(docs)]
    prepared, dead = proc.prepare_batch(msgs)
    assert dead == []
    st = StoryStage(settings, entries={}, stories={})
    out = [st.assemble(p) for _, p in prepared]
    return [orjson.loads(orjson.dumps(s)) for s in out if s is not None]


def nodes(obj: Any) -> list[Any]:
    """Every dict and list in ``obj``, itself included."""
    out = [obj] if isinstance(obj, dict | list) else []
    for child in obj.values() if isinstance(obj, dict) else obj if isinstance(obj, list) else ():
        out += nodes(child)
    return out


def mutate(obj: Any, rng: random.Random) -> Any:
    """A copy of ``obj`` with one or two random changes: a value replaced, removed or added."""
    obj = copy.deepcopy(obj)
    for _ in range(rng.choice((1, 1, 2))):
        node = rng.choice(nodes(obj))
        value = rng.choice(TRICKY)
        op = rng.random()
        if isinstance(node, dict):
            key = rng.choice([*node, "extra", "member_count"])
            if op < 0.2 and key in node:
                del node[key]
            else:
                node[key] = copy.deepcopy(value)
        elif node and op < 0.2:
            del node[rng.randrange(len(node))]
        elif node and op < 0.8:
            node[rng.randrange(len(node))] = copy.deepcopy(value)
        else:
            node.append(copy.deepcopy(value))
    return obj


def passes(validator: Callable[[Any], Any], obj: Any) -> bool:
    try:
        validator(obj)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


@pytest.mark.parametrize("entities", [False, True])
def test_what_the_quick_checks_accept_the_compiled_validators_accept(entities: bool) -> None:
    parts = contracts().story_parts
    assert parts.sure  # the schemas are the ones the quick checks were written for
    stories = revisions(entities)
    assert any(s["enrichment"]["entities"] for s in stories) == entities
    cases: list[tuple[Callable[[Any], bool], Callable[[Any], Any], Any]] = []
    for s in stories:
        cases.append((story_shell_surely_valid, parts.shell, s))
        cases.append((enrichment_surely_valid, parts.enrichment, s["enrichment"]))
        cases += [(member_surely_valid, parts.member, m) for m in s["members"]]
    for sure, _, obj in cases:
        assert sure(obj)  # the stage's own output: the quick path is taken
    rng = random.Random(7)
    counts = {"sure": 0, "not sure, valid": 0, "invalid": 0}
    for _ in range(6000):
        sure, validator, obj = rng.choice(cases)
        changed = mutate(obj, rng)
        valid = passes(validator, changed)
        if sure(changed):
            assert valid, changed
            counts["sure"] += 1
        else:
            counts["not sure, valid" if valid else "invalid"] += 1
    assert counts["sure"] > 500 and counts["invalid"] > 500, counts


@pytest.mark.parametrize(
    "day", ["2024-02-29", "2023-02-28", "2000-02-29", "9999-12-31", "0001-01-01", "2026-04-30"]
)
def test_every_calendar_day_passes_both(day: str) -> None:
    enrichment = revisions(False)[0]["enrichment"]
    enrichment["dates"] = [{"text": "then", "date": day, "offset": 3}]
    assert enrichment_surely_valid(enrichment)
    assert passes(contracts().story_parts.enrichment, enrichment)


def test_other_schemas_turn_the_quick_checks_off() -> None:
    docs = {name: json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text("utf-8")) for name in ("story",)}
    docs["enrichment"] = json.loads((SCHEMA_DIR / "enrichment.schema.json").read_text("utf-8"))
    by_id = {d["$id"]: d for d in docs.values()}
    assert _story_parts(docs["story"], by_id).sure
    changed = copy.deepcopy(docs["enrichment"])
    changed["properties"]["keywords"]["maxItems"] = 5
    assert not _story_parts(docs["story"], {**by_id, changed["$id"]: changed}).sure
    story = copy.deepcopy(docs["story"])
    story["properties"]["revision"]["maximum"] = 10
    assert not _story_parts(story, by_id).sure
