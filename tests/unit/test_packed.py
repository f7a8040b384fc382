"""Prepared-topic packs: the prepare step sends one message per batch (a JSON array of the batch's
prepared articles); the story stage gives for a pack exactly what it gives for its articles one
by one, dead-letters a bad article alone and a pack it cannot read whole, and still reads the
one-article messages of earlier releases."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from pipeline.contracts import contracts, schema_error
from pipeline.evaluation import bench_corpus
from pipeline.prepare import is_packed, pack_prepared
from pipeline.processor import Processor, RawMessage, StoryStage
from pipeline.settings import Settings

SETTINGS = Settings(entities=True)


@pytest.fixture(scope="module")
def prepared() -> list[tuple[str, bytes]]:
    docs = bench_corpus.build(120, None)
    msgs = [RawMessage(orjson.dumps(d), None, "raw", 0, i) for i, d in enumerate(docs)]
    ok, dead = Processor(SETTINGS).prepare_batch(msgs)
    assert not dead
    return [(art.article.id, art.to_bytes()) for _, art in ok]


def test_pack_keeps_order_and_size_limit(prepared: list[tuple[str, bytes]]) -> None:
    limit = 40_000
    packs = pack_prepared(prepared, limit)
    assert len(packs) > 1
    items = [item for _, value in packs for item in orjson.loads(value)]
    assert [orjson.dumps(item) for item in items] == [v for _, v in prepared]
    for key, value in packs:
        assert is_packed(value)
        assert key == orjson.loads(value)[0]["article"]["id"]
        assert len(value) <= limit or len(orjson.loads(value)) == 1
    assert pack_prepared([]) == []
    big = [("a", b'{"x":"' + b"y" * 100 + b'"}'), ("b", b"{}")]
    assert [k for k, _ in pack_prepared(big, 50)] == ["a", "b"]  # the large one alone


def _stories(results: list[tuple[dict[str, Any] | None, dict[str, Any] | None]]) -> list[bytes]:
    out = []
    for story, dead in results:
        assert dead is None
        if story is not None:
            story = dict(story, updated_at=None, first_seen=None)  # clock fields
            out.append(orjson.dumps(story, option=orjson.OPT_SORT_KEYS))
    return out


def test_pack_gives_what_one_by_one_gives(prepared: list[tuple[str, bytes]]) -> None:
    single = StoryStage(SETTINGS, entries={}, stories={})
    one_by_one: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = []
    for i, (key, value) in enumerate(prepared):
        one_by_one.extend(single.assemble_packed(RawMessage(value, key.encode(), "prepared", 0, i)))
    packed = StoryStage(SETTINGS, entries={}, stories={})
    results = []
    for i, (key, value) in enumerate(pack_prepared(prepared, 64_000)):
        results.extend(packed.assemble_packed(RawMessage(value, key.encode(), "prepared", 0, i)))
    assert len(results) == len(one_by_one) == len(prepared)
    assert _stories(results) == _stories(one_by_one)
    assert len({orjson.loads(s)["story_id"] for s in _stories(results)}) < len(prepared)  # copies joined
    # a replayed pack (at least once) adds nothing new
    again = packed.assemble_packed(RawMessage(pack_prepared(prepared[:5])[0][1], b"k", "prepared", 0, 0))
    assert all(dead is None for _, dead in again)


def test_bad_article_in_a_pack_is_dead_lettered_alone(prepared: list[tuple[str, bytes]]) -> None:
    items = [orjson.loads(v) for _, v in prepared[:4]]
    del items[1]["signature"]
    value = b"[" + b",".join(orjson.dumps(i) for i in items) + b"]"
    stage = StoryStage(SETTINGS, entries={}, stories={})
    results = stage.assemble_packed(RawMessage(value, b"first", "prepared", 0, 17))
    assert [dead is None for _, dead in results] == [True, False, True, True]
    dead = results[1][1]
    assert dead is not None
    assert dead["reason"] == "internal_error" and dead["stage"] == "dedup"
    assert dead["article_id"] == items[1]["article"]["id"] and dead["offset"] == 17
    assert schema_error(contracts().dead_letter, dead) is None
    assert all(story is not None for story, _ in (results[0], results[2], results[3]))


@pytest.mark.parametrize("value", [b"[1, 2", b"[not json]", b"[{}"])
def test_unreadable_pack_without_articles_is_dead_lettered_whole(value: bytes) -> None:
    stage = StoryStage(SETTINGS, entries={}, stories={})
    results = stage.assemble_packed(RawMessage(value, b"k", "prepared", 0, 3))
    assert len(results) == 1
    story, dead = results[0]
    assert story is None and dead is not None and dead["reason"] == "internal_error"
    assert schema_error(contracts().dead_letter, dead) is None


def test_pack_item_that_is_no_article(prepared: list[tuple[str, bytes]]) -> None:
    value = b"[" + prepared[0][1] + b", 5]"
    results = StoryStage(SETTINGS, entries={}, stories={}).assemble_packed(RawMessage(value, b"k", "p", 0, 1))
    assert results[0][0] is not None and results[0][1] is None
    assert results[1][0] is None and results[1][1] is not None and results[1][1]["article_id"] is None


def test_pack_cut_short_names_every_article_in_dead_letters(prepared: list[tuple[str, bytes]]) -> None:
    (key, value), *_ = pack_prepared(prepared[:6])
    cut = value[: len(value) - 500]  # the last article cut short: the pack is no valid JSON
    stage = StoryStage(SETTINGS, entries={}, stories={})
    results = stage.assemble_packed(RawMessage(cut, key.encode(), "p", 0, 4))
    assert all(story is None for story, _ in results)
    dead = [d for _, d in results]
    assert [d["article_id"] for d in dead if d] == [article_id for article_id, _ in prepared[:6]]
    for d in dead:
        assert d is not None and schema_error(contracts().dead_letter, d) is None
        assert d["offset"] == 4 and d["reason"] == "internal_error"
    # each holds its own article's bytes (the last one what is left of it)
    import base64

    firsts = [base64.b64decode(d["original"]) for d in dead if d]
    assert firsts[:5] == [v for _, v in prepared[:5]]
    assert prepared[5][1].startswith(firsts[5]) and len(firsts[5]) < len(prepared[5][1])
