"""Story assembly: membership, canonical choice, revisions, replay and the time window."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from pipeline.contracts import contracts, schema_error
from pipeline.prepare import PreparedArticle
from pipeline.processor import Processor, RawMessage, StoryStage
from pipeline.settings import Settings

FERRY = (
    "The ferry operator Bluewater Lines said on Tuesday it would cancel all crossings between Port Arlan "
    "and the island of Merrow for two weeks after one of its two vessels failed a safety inspection.\n\n"
    "Inspectors from the Maritime Safety Board found corrosion in the hull of the MV Corran Star, the "
    "company's chief executive Dana Holm told reporters in Port Arlan.\n\n"
    "About 1,400 passengers a day use the route, which also carries fuel and food to the island's "
    "3,200 residents. The island council asked the government for an emergency supply boat."
)
EXTRA = (
    "\n\nThe second vessel, the MV Tessa, is in dry dock until the end of the month, Holm said, adding "
    "that the company expected to pay about 2.1 million euros for repairs."
)
OTHER = (
    "Farmers in the Kestrel Valley began the grape harvest three weeks early on Monday after the hottest "
    "summer recorded in the region, the growers' cooperative said.\n\nThe cooperative's president Luis "
    "Ferrant said yields were down by a fifth but quality was high, and that 600 seasonal workers had "
    "been hired."
)


def doc(aid: str, text: str, published: str = "2026-03-03T10:00:00Z") -> dict[str, Any]:
    return {
        "id": aid,
        "url": f"https://news.example/{aid}",
        "source": f"{aid}.example",
        "content": text,
        "content_type": "text/plain",
        "published_at": published,
    }


@pytest.fixture(scope="module")
def processor() -> Processor:
    return Processor(Settings(entities=False))


def prepare(processor: Processor, *docs: dict[str, Any]) -> list[PreparedArticle]:
    msgs = [RawMessage(orjson.dumps(d), None, "t", 0, i) for i, d in enumerate(docs)]
    prepared, dead = processor.prepare_batch(msgs)
    assert dead == []
    return [p for _, p in prepared]


def stage() -> StoryStage:
    return StoryStage(Settings(entities=False), entries={}, stories={})


def test_copy_joins_and_more_complete_version_becomes_canonical(processor: Processor) -> None:
    a, b, c = prepare(processor, doc("a", FERRY), doc("b", FERRY + EXTRA), doc("c", OTHER))
    st = stage()
    s1 = st.assemble(a)
    s2 = st.assemble(b)
    s3 = st.assemble(c)
    assert s1 and s2 and s3
    assert s1["story_id"] == s2["story_id"] != s3["story_id"]
    assert s2["revision"] == 2 and [m["article_id"] for m in s2["members"]] == ["a", "b"]
    assert s2["canonical"]["article_id"] == "b"  # the longer version
    assert s2["members"][1]["relation"] in ("copy", "rewrite") and s2["members"][1]["matched"] == "a"
    for s in (s1, s2, s3):
        assert schema_error(contracts().story, s) is None


def test_replay_adds_nothing(processor: Processor) -> None:
    a, b = prepare(processor, doc("a", FERRY), doc("b", FERRY + EXTRA))
    st = stage()
    st.assemble(a)
    latest = st.assemble(b)
    assert st.assemble(a) is None  # not the latest change: nothing to emit
    again = st.assemble(b)  # the article that made the latest revision: same revision again
    assert again is not None and latest is not None
    assert again["revision"] == latest["revision"] == 2
    assert [m["article_id"] for m in again["members"]] == ["a", "b"]


def test_equal_length_tie_goes_to_the_earliest(processor: Processor) -> None:
    late, early = prepare(
        processor, doc("late", FERRY, "2026-03-03T12:00:00Z"), doc("early", FERRY, "2026-03-03T08:00:00Z")
    )
    st = stage()
    st.assemble(late)
    story = st.assemble(early)
    assert story is not None and story["canonical"]["article_id"] == "early"


def test_window_evicts_old_index_entries_and_stories(processor: Processor) -> None:
    old, new, copy_of_old = prepare(
        processor,
        doc("old", FERRY, "2026-03-01T00:00:00Z"),
        doc("new", OTHER, "2026-03-20T00:00:00Z"),
        doc("late-copy", FERRY, "2026-03-20T01:00:00Z"),
    )
    entries: dict[str, bytes] = {}
    stories: dict[str, bytes] = {}
    st = StoryStage(Settings(entities=False, dedup_window_days=7), entries=entries, stories=stories)
    first = st.assemble(old)
    st.assemble(new)  # 19 days later: "old" leaves the window
    assert first is not None and first["story_id"] not in stories
    assert first["story_id"] not in st.assembler._cache  # the in-memory copy goes with it
    assert "old" not in entries
    late = st.assemble(copy_of_old)
    assert late is not None and late["story_id"] != first["story_id"]  # a new story, memory bounded


def test_late_article_and_its_copy_form_one_story_then_leave(processor: Processor) -> None:
    """Articles published before the window (a backfill, the seeds published after newer news) stay
    findable for half a window of the stream's clock, then leave like any other."""
    now, old, old_copy, later = prepare(
        processor,
        doc("now", OTHER, "2026-03-20T00:00:00Z"),
        doc("old", FERRY, "2022-01-13T09:00:00Z"),
        doc("old-copy", FERRY + EXTRA, "2022-01-13T11:00:00Z"),
        doc("later", OTHER + EXTRA, "2026-03-24T00:00:00Z"),  # 4 days on: past half the window
    )
    entries: dict[str, bytes] = {}
    stories: dict[str, bytes] = {}
    st = StoryStage(Settings(entities=False, dedup_window_days=7), entries=entries, stories=stories)
    st.assemble(now)
    first = st.assemble(old)
    joined = st.assemble(old_copy)
    assert first is not None and joined is not None
    assert joined["story_id"] == first["story_id"]
    assert [m["article_id"] for m in joined["members"]] == ["old", "old-copy"]
    st.assemble(later)
    assert "old" not in entries and "old-copy" not in entries and first["story_id"] not in stories
    assert "now" in entries  # published 4 days before the newest: inside the 7-day window


def test_future_published_time_does_not_flush_the_window(processor: Processor) -> None:
    from datetime import UTC, datetime, timedelta

    def ago(hours: float) -> str:
        return (datetime.now(UTC) - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")

    a, future, b = prepare(
        processor,
        doc("a", FERRY, ago(2)),
        doc("future", OTHER, "2099-01-01T00:00:00Z"),  # a publisher's wrong year
        doc("b", FERRY + EXTRA, ago(1)),
    )
    assert future.published_ts < a.published_ts + 10 * 365 * 86400  # counted as published now
    st = stage()
    s1 = st.assemble(a)
    st.assemble(future)
    s2 = st.assemble(b)
    assert s1 is not None and s2 is not None and s2["story_id"] == s1["story_id"]


def test_restart_recovers_from_stores(processor: Processor) -> None:
    a, b = prepare(processor, doc("a", FERRY), doc("b", FERRY + EXTRA))
    entries: dict[str, bytes] = {}
    stories: dict[str, bytes] = {}
    StoryStage(Settings(entities=False), entries=entries, stories=stories).assemble(a)
    restarted = StoryStage(Settings(entities=False), entries=entries, stories=stories)
    story = restarted.assemble(b)
    assert story is not None and [m["article_id"] for m in story["members"]] == ["a", "b"]


def test_story_stage_failure_becomes_a_dead_letter(
    processor: Processor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.processor import RawMessage

    a, c = prepare(processor, doc("a", FERRY), doc("c", OTHER))
    st = stage()
    real_add = st.assembler.add

    def failing_add(p: PreparedArticle) -> dict[str, Any] | None:
        if p.article.id == "a":
            raise RuntimeError("boom")
        return real_add(p)

    monkeypatch.setattr(st.assembler, "add", failing_add)
    story, dead = st.assemble_message(RawMessage(a.to_bytes(), b"a", "news.prepared", 0, 7))
    assert story is None and dead is not None
    assert (dead["reason"], dead["stage"], dead["article_id"], dead["offset"]) == (
        "internal_error",
        "dedup",
        "a",
        7,
    )
    story, dead = st.assemble_message(RawMessage(None, None, "in.jsonl", -1, 8), c)  # batch mode: no bytes
    assert dead is None and story is not None


def test_revisions_do_not_share_the_growing_member_list(processor: Processor) -> None:
    a, b = prepare(processor, doc("a", FERRY), doc("b", FERRY + EXTRA))
    st = stage()
    first = st.assemble(a)
    second = st.assemble(b)
    assert first is not None and second is not None
    assert [m["article_id"] for m in first["members"]] == ["a"]  # revision 1 stays as emitted
    assert [m["article_id"] for m in second["members"]] == ["a", "b"]


def test_state_changed_in_the_table_by_another_owner_is_not_shadowed_by_the_cache(
    processor: Processor,
) -> None:
    # Two workers take turns owning the story partition (a rebalance): each restores the tables
    # from the changelog, so one must not keep using its own older in-memory copy of a story.
    a, b, c = prepare(processor, doc("a", FERRY), doc("b", FERRY + EXTRA), doc("c", FERRY))
    entries: dict[str, bytes] = {}
    stories: dict[str, bytes] = {}
    one = StoryStage(Settings(entities=False), entries=entries, stories=stories)
    two = StoryStage(Settings(entities=False), entries=entries, stories=stories)
    assert one.assemble(a) is not None
    assert two.assemble(b) is not None
    story = one.assemble(c)
    assert story is not None and [m["article_id"] for m in story["members"]] == ["a", "b", "c"]
    assert story["revision"] == 3 and story["canonical"]["article_id"] == "b"


def test_prepared_article_round_trip(processor: Processor) -> None:
    [a] = prepare(processor, doc("a", FERRY))
    again = PreparedArticle.from_bytes(a.to_bytes())
    assert again == a and again.word_count() == a.word_count() == len(a.article.text.split())
    assert again.enrichment_dict() == a.enrichment.to_dict()


def test_state_cache_is_bounded_and_a_miss_reads_the_table(
    processor: Processor, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipeline.stories

    monkeypatch.setattr(pipeline.stories, "CACHE_MAX_STORIES", 1)
    a, c, b = prepare(processor, doc("a", FERRY), doc("c", OTHER), doc("b", FERRY + EXTRA))
    st = stage()
    first = st.assemble(a)
    st.assemble(c)  # pushes story "a" out of the cache
    assert len(st.assembler._cache) == 1 and first is not None
    assert first["story_id"] not in st.assembler._cache
    story = st.assemble(b)
    assert story is not None and story["story_id"] == first["story_id"] and story["revision"] == 2
    assert [m["article_id"] for m in story["members"]] == ["a", "b"]


def _with_old_signature_version(data: bytes) -> bytes:
    import base64

    doc = orjson.loads(data)
    raw = bytearray(base64.b64decode(doc["signature"]))
    raw[0] = 1  # a signature version no release of this code writes any more
    doc["signature"] = base64.b64encode(bytes(raw)).decode("ascii")
    return orjson.dumps(doc)


def test_deploy_with_another_signature_format(processor: Processor) -> None:
    # A prepared message written by an older release is fingerprinted again from its text, and
    # index entries in an older format are dropped on restart instead of crashing the rebuild.
    a, b = prepare(processor, doc("a", FERRY), doc("b", FERRY + EXTRA))
    old = PreparedArticle.from_bytes(_with_old_signature_version(a.to_bytes()))
    assert old.signature == a.signature
    entries: dict[str, bytes] = {}
    stories: dict[str, bytes] = {}
    StoryStage(Settings(entities=False), entries=entries, stories=stories).assemble(a)
    entries["legacy"] = b"\x01" + bytes(40)  # an entry from an older release
    restarted = StoryStage(Settings(entities=False), entries=entries, stories=stories)
    story = restarted.assemble(b)
    assert story is not None and [m["article_id"] for m in story["members"]] == ["a", "b"]
    assert "legacy" not in entries


@pytest.mark.parametrize("encoded", [5, None, ["AAAA"]])
def test_a_signature_of_the_wrong_type_fails_as_b64decode_fails(processor: Processor, encoded: Any) -> None:
    """A str goes straight to binascii; anything else keeps b64decode's own error (the dead letter
    names it)."""
    import base64

    [a] = prepare(processor, doc("a", FERRY))
    bad = orjson.loads(a.to_bytes())
    bad["signature"] = encoded
    with pytest.raises(TypeError) as expected:
        base64.b64decode(encoded)
    with pytest.raises(TypeError) as got:
        PreparedArticle.from_doc(bad)
    assert str(got.value) == str(expected.value)


def test_a_signature_that_is_no_base64_ascii_is_computed_again(processor: Processor) -> None:
    [a] = prepare(processor, doc("a", FERRY))
    bad = orjson.loads(a.to_bytes())
    bad["signature"] = "é" + bad["signature"]
    assert PreparedArticle.from_doc(bad).signature == a.signature


@pytest.mark.parametrize("from_messages", [False, True])
def test_a_state_read_from_the_table_continues_as_the_cached_one(
    processor: Processor, monkeypatch: pytest.MonkeyPatch, from_messages: bool
) -> None:
    """The states hold the enrichments added in this process as serialised JSON (Fragments); a
    state read back from the table holds them decoded. Both write the same bytes, and a story
    continued from the table (a restart after each article) emits what the cached one does,
    through changes of canonical (the merge read again from the decoded enrichments; from
    prepared messages, the cached story decodes them again from its Fragments)."""
    import pipeline.stories
    from pipeline.stories import _StoryState

    monkeypatch.setattr(pipeline.stories, "now_rfc3339", lambda: "2026-03-03T12:00:00.000Z")
    settings = Settings(entities=True)
    proc = Processor(settings)
    docs = [doc("a", FERRY), doc("c", FERRY), doc("b", FERRY + EXTRA), doc("d", OTHER)]
    docs.append(doc("e", FERRY + EXTRA))  # c is merged, then merged again for canonical b
    msgs = [RawMessage(orjson.dumps(d), None, "t", 0, i) for i, d in enumerate(docs)]
    prepared = [p for _, p in proc.prepare_batch(msgs)[0]]
    if from_messages:  # as the worker gets them: decoded from the prepared topic
        prepared = [PreparedArticle.from_bytes(p.to_bytes()) for p in prepared]
    cached = StoryStage(settings, entries={}, stories={})
    expected = [orjson.dumps(cached.assemble(p)) for p in prepared]
    assert len({orjson.loads(s)["canonical"]["article_id"] for s in expected}) == 3  # a, b, then d
    entries: dict[str, bytes] = {}
    stories: dict[str, bytes] = {}
    got = [orjson.dumps(StoryStage(settings, entries=entries, stories=stories).assemble(p)) for p in prepared]
    assert got == expected
    assert stories == cached.assembler.stories
    by_id = {p.article.id: p.enrichment.to_dict() for p in prepared}
    for raw in stories.values():
        state = _StoryState.from_bytes(raw)
        assert state.to_bytes() == raw and all(isinstance(e, dict) for e in state.enrichments.values())
        for aid, enrichment in state.enrichments.items():  # each as its article's, keys in order
            assert list(enrichment.items()) == list(by_id[aid].items())
