"""A worker that reads back the prepared packs it sent hands its story stage the articles it
encoded (PackHandoff) instead of decoding the bytes again. That is only allowed because it gives
the same thing: every article equal to its decoded self, and every revision, dead letter and
table record of the story stage byte-equal to what decoding the packs gives."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

import pipeline.stories
from pipeline.enrich._types import Keyword
from pipeline.evaluation import bench_corpus
from pipeline.prepare import PackHandoff, PreparedArticle, json_stable, pack_spans, pack_value
from pipeline.prepare_pool import prepare_for_handoff, prepare_in_process
from pipeline.processor import Processor, RawMessage, StoryStage
from pipeline.settings import Settings
from tests.conftest import shared_path


def _messages(docs: list[dict[str, Any]]) -> list[RawMessage]:
    return [RawMessage(orjson.dumps(d), None, "raw", 0, i) for i, d in enumerate(docs)]


def _ecb_docs(limit: int) -> list[dict[str, Any]]:
    path = shared_path("data", "ecbplus-dev", "articles.jsonl")
    docs = []
    for i, line in enumerate(path.read_bytes().splitlines()[:limit]):
        d = orjson.loads(line)
        docs.append(
            {
                "id": f"ecb-{i}",
                "url": f"https://example.org/{i}",
                "source": "example.org",
                "title": d.get("title") or "untitled",
                "content": d.get("text") or d.get("body") or d.get("content") or "",
                "content_type": "text/plain",
            }
        )
    return docs


@pytest.fixture(scope="module", params=[False, True], ids=["entities-off", "entities-on"])
def batches(request: pytest.FixtureRequest) -> Iterator[tuple[Settings, list[list[RawMessage]]]]:
    """Batches of raw messages (bench corpus: copies, reprints, rewrites; and real articles when
    the shared corpora are there), as the prepare agent takes them."""
    settings = Settings(entities=request.param)
    docs = bench_corpus.build(600, shared_path("data"))
    msgs = _messages(docs)
    yield settings, [msgs[i : i + 32] for i in range(0, len(msgs), 32)]


def test_encode_gives_what_decoding_gives(batches: tuple[Settings, list[list[RawMessage]]]) -> None:
    settings, chunks = batches
    processor = Processor(settings)
    seen = 0
    for chunk in chunks:
        prepared, _dead = processor.prepare_batch(chunk)
        for _, art in prepared:
            data, back = art.encode()
            assert back is not None
            assert data == art.to_bytes()
            decoded = PreparedArticle.from_bytes(data)
            assert back == decoded  # every compared field: article, signature, enrichment, ...
            assert back.enrichment_doc == decoded.enrichment_doc
            assert orjson.dumps(back.enrichment_dict()) == orjson.dumps(decoded.enrichment_dict())
            assert back.to_bytes() == data
            seen += 1
    assert seen > 500


def test_real_articles_encode_as_they_decode() -> None:
    msgs = _messages(_ecb_docs(200))
    for entities in (False, True):
        prepared, _ = Processor(Settings(entities=entities)).prepare_batch(msgs)
        assert len(prepared) > 150
        for _, art in prepared:
            data, back = art.encode()
            assert back is not None and back == PreparedArticle.from_bytes(data)


def test_json_unstable_enrichment_is_taken_from_the_bytes() -> None:
    msgs = _messages(bench_corpus.build(3, None))
    (_, art), *_ = Processor(Settings(entities=False)).prepare_batch(msgs)[0]
    assert json_stable(art.enrichment)
    for odd in (
        dataclasses.replace(art.enrichment, keywords=(Keyword("storm", 0.123456789),)),
        dataclasses.replace(art.enrichment, language_confidence=float("nan")),
        dataclasses.replace(art.enrichment, language_confidence=float("inf")),
        dataclasses.replace(art.enrichment, extra={"pair": (1, 2)}),
    ):
        assert not json_stable(odd)
        data, back = dataclasses.replace(art, enrichment=odd).encode()
        decoded = PreparedArticle.from_bytes(data)
        assert back is not None
        assert back == decoded
        assert orjson.dumps(back.enrichment_doc) == orjson.dumps(decoded.enrichment_doc)
        assert back.enrichment != odd or odd.extra  # the unrounded or non-finite one is not kept
    # A keyword score JSON writes as null does not decode: no article to hand over, and the story
    # stage dead-letters it from the pack as it would without the handoff.
    handoff = PackHandoff()
    handoff.set_enabled(True)
    for score in (float("nan"), float("-inf")):
        odd = dataclasses.replace(art.enrichment, keywords=(Keyword("storm", score),))
        data, back = dataclasses.replace(art, enrichment=odd).encode()
        assert back is None
        with pytest.raises(TypeError):
            PreparedArticle.from_bytes(data)
        handoff.put(pack_value([("a", data)]), [None])
        assert len(handoff) == 0
    with_list = dataclasses.replace(art, article=dataclasses.replace(art.article, authors=["A. Writer"]))  # type: ignore[arg-type]
    _, back = with_list.encode()
    assert back is not None and back.article.authors == ("A. Writer",)


def _tables_and_results(
    settings: Settings, chunks: list[list[RawMessage]], handed_over: bool
) -> tuple[list[bytes], dict[str, bytes], dict[str, bytes], int]:
    processor = Processor(settings)
    entries: dict[str, bytes] = {}
    states: dict[str, bytes] = {}
    stage = StoryStage(settings, entries=entries, stories=states)
    handoff = PackHandoff()
    handoff.set_enabled(handed_over)
    out: list[bytes] = []
    offset = 0
    for chunk in chunks:
        if handed_over:
            items, dead, handed = prepare_for_handoff(processor, chunk)
        else:
            items, dead = prepare_in_process(processor, chunk)
        assert not dead
        for i, j in pack_spans(items, 64_000):  # several packs per batch
            value = pack_value(items[i:j])
            if handed_over:
                handoff.put(value, handed[i:j])
            msg = RawMessage(bytes(value), items[i][0].encode(), "prepared", 0, offset)  # a copy
            offset += 1
            articles = handoff.take(msg.value)
            assert (articles is not None) == handed_over
            if articles is None:
                results = stage.assemble_packed(msg)
            else:
                results = stage.assemble_articles(msg, articles)
            out.extend(orjson.dumps([story, dead]) for story, dead in results)
    return out, entries, states, handoff.hits


def test_handed_packs_give_byte_equal_stories_and_tables(
    batches: tuple[Settings, list[list[RawMessage]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline.stories, "now_rfc3339", lambda: "2026-12-03T12:00:00.000Z")
    settings, chunks = batches
    decoded, entries_d, states_d, _ = _tables_and_results(settings, chunks, handed_over=False)
    handed, entries_h, states_h, hits = _tables_and_results(settings, chunks, handed_over=True)
    assert hits >= len(chunks)
    assert len(decoded) == sum(len(c) for c in chunks)
    assert handed == decoded
    assert entries_h == entries_d
    assert states_h == states_d
    stories = {orjson.loads(r)[0]["story_id"] for r in decoded}
    assert len(stories) < len(decoded)  # copies and rewrites joined stories


def test_a_failing_article_is_dead_lettered_with_its_own_json() -> None:
    settings = Settings(entities=False)
    items, _, maybe = prepare_for_handoff(Processor(settings), _messages(bench_corpus.build(4, None)))
    handed = [a for a in maybe if a is not None]
    assert len(handed) == 4
    stage = StoryStage(settings, entries={}, stories={})
    broken = dataclasses.replace(handed[1], published_ts="not a time")  # type: ignore[arg-type]
    msg = RawMessage(pack_value(items), b"k", "prepared", 0, 5)
    results = stage.assemble_articles(msg, [handed[0], broken, handed[2], handed[3]])
    assert [dead is None for _, dead in results] == [True, False, True, True]
    dead = results[1][1]
    assert dead is not None and dead["article_id"] == items[1][0]
    assert dead["reason"] == "internal_error"


def test_handoff_matches_by_bytes_in_order_and_is_bounded() -> None:
    art = object()
    h = PackHandoff(max_packs=3, max_bytes=1_000)
    h.put(b"[1]", [art])  # type: ignore[list-item]
    assert len(h) == 0  # not enabled: nothing kept
    h.set_enabled(True)
    for i in range(5):
        h.put(b"[%d]" % i, [art])  # type: ignore[list-item]
    assert len(h) == 3 and h.take(b"[0]") is None  # the oldest two are out
    assert h.take(b"[3]") == [art]
    assert len(h) == 1  # [2], sent before [3], was read elsewhere: dropped
    assert h.take(b"[4]") == [art] and len(h) == 0 and h.bytes == 0
    h.put(b"x" * 600, [art])  # type: ignore[list-item]
    h.put(b"y" * 600, [art])  # type: ignore[list-item]
    assert len(h) == 1 and h.bytes == 600  # the byte bound
    h.set_enabled(False)
    assert len(h) == 0 and h.take(b"y" * 600) is None
    assert (h.hits, h.misses) == (2, 2)
