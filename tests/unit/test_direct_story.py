"""A worker that holds the prepared partition carries the articles it prepares straight to its
story stage (``Settings.direct_story``) instead of sending them through the prepared topic and
reading them back. That is only allowed because it gives the same thing: every revision and every
table record of the story stage byte-equal to what the packs read from the topic give."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest

import pipeline.stories
from pipeline.evaluation import bench_corpus
from pipeline.prepare import PreparedArticle, pack_spans, pack_value
from pipeline.processor import Processor, RawMessage, StoryStage
from pipeline.settings import Settings
from tests.conftest import shared_path


def _messages(docs: list[dict[str, Any]]) -> list[RawMessage]:
    return [RawMessage(orjson.dumps(d), None, "raw", 0, i) for i, d in enumerate(docs)]


def _ecb_docs(limit: int) -> list[dict[str, Any]]:
    """Real articles, many of them real wire copies of each other."""
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
    """Batches of raw messages as the prepare agent takes them (bench corpus: copies, reprints,
    rewrites; then real articles)."""
    settings = Settings(entities=request.param)
    msgs = _messages(bench_corpus.build(600, shared_path("data")) + _ecb_docs(200))
    yield settings, [msgs[i : i + 32] for i in range(0, len(msgs), 32)]


Prepared = list[list[tuple[RawMessage, PreparedArticle]]]


def _run(
    settings: Settings, batches: Prepared, direct: bool
) -> tuple[list[bytes], dict[str, bytes], dict[str, bytes]]:
    """Every result of the story stage (as JSON) and its two tables, the articles taken either
    straight from the prepare step or from the packs of the prepared topic (copies of the bytes)."""
    entries: dict[str, bytes] = {}
    states: dict[str, bytes] = {}
    stage = StoryStage(settings, entries=entries, stories=states)
    out: list[bytes] = []
    offset = 0
    for prepared in batches:
        if direct:
            results = stage.assemble_prepared(prepared)
        else:
            items = [(a.article.id, a.to_bytes()) for _, a in prepared]
            results = []
            for i, j in pack_spans(items, 64_000):  # several packs per batch
                msg = RawMessage(bytes(pack_value(items[i:j])), items[i][0].encode(), "prepared", 0, offset)
                offset += 1
                results.extend(stage.assemble_packed(msg))
        out.extend(orjson.dumps([story, dead]) for story, dead in results)
    return out, entries, states


def test_direct_story_stage_gives_byte_equal_stories_and_tables(
    batches: tuple[Settings, list[list[RawMessage]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline.stories, "now_rfc3339", lambda: "2026-12-04T12:00:00.000Z")
    settings, chunks = batches
    processor = Processor(settings)
    # Prepared once for both (an article without a date is dated when it is prepared).
    prepared = [processor.prepare_batch(chunk)[0] for chunk in chunks]
    via_topic, entries_t, states_t = _run(settings, prepared, direct=False)
    direct, entries_d, states_d = _run(settings, prepared, direct=True)
    assert len(via_topic) == sum(len(p) for p in prepared) > 750
    assert direct == via_topic
    assert entries_d == entries_t
    assert states_d == states_t
    stories = {orjson.loads(r)[0]["story_id"] for r in via_topic}
    assert len(stories) < len(via_topic)  # copies and rewrites joined stories


def test_prepared_articles_equal_their_decoded_selves(
    batches: tuple[Settings, list[list[RawMessage]]],
) -> None:
    """Why the results are equal: what the prepare step makes is what decoding its bytes gives
    back, field for field (its enrichment already as JSON writes it)."""
    settings, chunks = batches
    processor = Processor(settings)
    seen = 0
    for chunk in chunks[:10]:
        for _, art in processor.prepare_batch(chunk)[0]:
            decoded = PreparedArticle.from_bytes(art.to_bytes())
            assert decoded == art
            assert orjson.dumps(decoded.enrichment_dict()) == orjson.dumps(art.enrichment_dict())
            seen += 1
    assert seen == sum(len(c) for c in chunks[:10])


def test_story_stage_is_ready_only_between_rebalances_and_after_recovery() -> None:
    """The direct path writes the tables only when Faust is not rebalancing and has resumed the
    prepared partition (it pauses every assigned partition and resumes it once the recovery for
    that assignment is over): pins the Faust attributes ``story_stage_ready`` reads."""
    import faust
    from faust.types import TP

    from pipeline.worker import story_stage_ready

    app = faust.App("test-direct-story-ready", broker="kafka://127.0.0.1:1")
    tp, other = TP("x.prepared", 0), TP("x.raw", 0)
    consumer = app.consumer
    assert story_stage_ready(app, tp)
    consumer.pause_partitions({tp, other})  # what an assignment does before recovering
    assert not story_stage_ready(app, tp)
    consumer.resume_partitions({other})
    assert not story_stage_ready(app, tp)
    consumer.resume_partitions({tp})  # what the end of recovery does
    assert story_stage_ready(app, tp)
    app.rebalancing = True  # set from the start of a revocation
    assert not story_stage_ready(app, tp)
    app.rebalancing = False
    assert story_stage_ready(app, tp)
