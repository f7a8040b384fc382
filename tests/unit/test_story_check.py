"""The story stage's output check: by parts (shell, new or changed members, a new enrichment), and
never weaker than the whole story schema."""

from __future__ import annotations

import copy
import dataclasses
import json
import random
from typing import Any

import orjson
import pytest

from pipeline import errors
from pipeline.contracts import SCHEMA_DIR, _story_parts, contracts, schema_error, story_revision_error
from pipeline.dedup import DedupIndex
from pipeline.enrich import StoryMerge
from pipeline.prepare import PreparedArticle
from pipeline.processor import Processor, RawMessage, StoryStage
from pipeline.settings import Settings
from pipeline.stories import _Live, _StoryState
from tests.unit.test_stories import EXTRA, FERRY, OTHER, doc, prepare

SETTINGS = Settings(entities=False)


@pytest.fixture(scope="module")
def processor() -> Processor:
    return Processor(SETTINGS)


def stage(stories: dict[str, bytes] | None = None, entries: dict[str, bytes] | None = None) -> StoryStage:
    return StoryStage(
        SETTINGS, entries={} if entries is None else entries, stories={} if stories is None else stories
    )


def bad_relation_for(monkeypatch: pytest.MonkeyPatch, article_ids: set[str]) -> None:
    """The dedup index reports the match of these articles with a relation the schema lacks."""
    lookup = DedupIndex.lookup

    def patched(self: DedupIndex, article_id: str, sig: Any) -> Any:
        match = lookup(self, article_id, sig)
        if match is not None and article_id in article_ids:
            return dataclasses.replace(match, relation="reprinted")
        return match

    monkeypatch.setattr(DedupIndex, "lookup", patched)


# -- the split itself ------------------------------------------------------------------------------


def story_doc() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMA_DIR / "story.schema.json").read_text("utf-8"))
    return loaded


def test_shell_leaves_members_items_and_enrichment_open_but_checks_the_rest(processor: Processor) -> None:
    (a,) = prepare(processor, doc("a", FERRY))
    story = stage().assemble(a)
    assert story is not None
    parts = contracts().story_parts
    parts.shell({**story, "members": [{"anything": 1}], "enrichment": {"x": None}})  # left open
    for broken in ({**story, "members": []}, {**story, "members": {}}, {**story, "revision": 0}):
        with pytest.raises(Exception, match="must"):
            parts.shell(broken)
    with pytest.raises(Exception, match="must"):
        parts.member({**story["members"][0], "relation": "reprinted"})
    with pytest.raises(Exception, match="must"):
        parts.enrichment({**story["enrichment"], "word_count": -1})


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["properties"]["members"].update(uniqueItems=True),  # looks at two members
        lambda d: d["properties"]["members"].update(contains={"type": "object"}),
        lambda d: d.update(allOf=[{"properties": {"enrichment": {"type": "object"}}}]),  # a second look
        lambda d: d.update(unevaluatedProperties=False),
        lambda d: d["properties"].update(enrichment={"type": "object"}),  # not the enrichment schema
        lambda d: d["properties"]["members"]["items"].update({"$ref": "#/properties/canonical"}),
    ],
)
def test_a_story_schema_that_cannot_be_split_is_refused(change: Any) -> None:
    by_id = {"https://schemas.news-pipeline.dev/enrichment/v1.json": {"type": "object"}}
    _story_parts(story_doc(), by_id)  # the real one splits
    broken = story_doc()
    change(broken)
    with pytest.raises(ValueError, match="part by part"):
        _story_parts(broken, by_id)


# -- each part is still checked ----------------------------------------------------------------------


def test_a_bad_member_added_late_is_rejected(processor: Processor, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b, c = prepare(
        processor, doc("a", FERRY), doc("b", FERRY + EXTRA), doc("c", FERRY, "2026-03-03T11:00:00Z")
    )
    st = stage()
    assert st.assemble(a) is not None and st.assemble(b) is not None  # checked: a and b, the enrichment
    bad_relation_for(monkeypatch, {"c"})
    with pytest.raises(AssertionError, match=r"story s-[0-9a-f]{16} violates its schema: members/2/relation"):
        st.assemble(c)


def test_a_bad_member_keeps_failing_every_later_revision(
    processor: Processor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed check marks nothing as checked: the bad member is checked (and fails) again."""
    a, b, c = prepare(
        processor, doc("a", FERRY), doc("b", FERRY + EXTRA), doc("c", FERRY, "2026-03-03T11:00:00Z")
    )
    st = stage()
    st.assemble(a)
    with monkeypatch.context() as m:
        bad_relation_for(m, {"b"})
        with pytest.raises(AssertionError, match="members/1/relation"):
            st.assemble(b)
    with pytest.raises(AssertionError, match="members/1/relation"):
        st.assemble(c)


def test_a_checked_member_changed_in_place_is_checked_again(
    processor: Processor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy published before the member marked original takes its place: that member (checked
    with an earlier revision) is rewritten in place, and checked again."""
    late, early = prepare(
        processor,
        doc("late", FERRY, "2026-03-03T12:00:00Z"),
        doc("early", FERRY + EXTRA, "2026-03-03T08:00:00Z"),
    )
    st = stage()
    assert st.assemble(late) is not None
    bad_relation_for(monkeypatch, {"early"})
    with pytest.raises(AssertionError, match="members/0/relation"):  # "late" took the bad relation
        st.assemble(early)


def test_the_earlier_branch_passes_when_valid(processor: Processor) -> None:
    late, early = prepare(
        processor,
        doc("late", FERRY, "2026-03-03T12:00:00Z"),
        doc("early", FERRY + EXTRA, "2026-03-03T08:00:00Z"),
    )
    st = stage()
    st.assemble(late)
    story = st.assemble(early)
    assert story is not None and [m["relation"] for m in story["members"]][1] == "original"
    assert story["members"][0]["matched"] == "early"
    assert schema_error(contracts().story, story) is None


def test_a_bad_merged_enrichment_is_rejected(processor: Processor, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = prepare(processor, doc("a", FERRY), doc("b", FERRY + EXTRA))
    st = stage()
    assert st.assemble(a) is not None  # the first merged enrichment is checked and passes
    result = StoryMerge.result

    def broken(self: StoryMerge) -> dict[str, Any]:
        merged = result(self)
        merged["language"]["confidence"] = 1.5
        return merged

    monkeypatch.setattr(StoryMerge, "result", broken)
    with pytest.raises(AssertionError, match="enrichment/language/confidence"):
        st.assemble(b)


def test_a_bad_shell_is_rejected(processor: Processor, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = prepare(processor, doc("a", FERRY), doc("b", FERRY + EXTRA))
    st = stage()
    assert st.assemble(a) is not None
    monkeypatch.setattr("pipeline.stories.now_rfc3339", lambda: "yesterday")
    with pytest.raises(AssertionError, match="updated_at"):
        st.assemble(b)


def test_a_rejected_revision_becomes_a_dead_letter(
    processor: Processor, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = prepare(processor, doc("a", FERRY), doc("b", FERRY + EXTRA))
    st = stage()
    st.assemble(a)
    bad_relation_for(monkeypatch, {"b"})
    story, dead = st.assemble_message(RawMessage(b.to_bytes(), b"b", "news.prepared", 0, 7), b)
    assert story is None and dead is not None
    assert (dead["reason"], dead["stage"], dead["article_id"]) == (errors.INTERNAL_ERROR, "dedup", "b")
    assert "violates its schema: members/1/relation" in dead["error"]


def corrupt_member(stories: dict[str, bytes], index: int) -> bytes:
    """The one stored state with its member ``index`` given a relation the schema lacks."""
    (sid,) = stories
    state = _StoryState.from_bytes(stories[sid])
    state.members[index]["relation"] = "reprinted"
    return state.to_bytes()


def test_a_state_read_from_the_table_is_checked_whole(processor: Processor) -> None:
    """A restart or a restore starts with nothing checked: a bad member already in the stored
    state (checked by no one in this process) fails the first revision."""
    a, b, c = prepare(processor, doc("a", FERRY), doc("b", FERRY + EXTRA), doc("c", OTHER))
    stories: dict[str, bytes] = {}
    entries: dict[str, bytes] = {}
    first = stage(stories, entries)
    first.assemble(a)
    stories.update(dict.fromkeys(stories, corrupt_member(stories, 0)))
    restarted = stage(stories, entries)
    with pytest.raises(AssertionError, match="members/0/relation"):
        restarted.assemble(b)
    # the same in a running stage whose table was restored under it (a cache miss)
    stories.clear()
    entries.clear()
    running = stage(stories, entries)
    running.assemble(a)
    running.assemble(c)  # another story
    (sid,) = (k for k, v in stories.items() if b'"a"' in v)
    state = _StoryState.from_bytes(stories[sid])
    state.members[0]["relation"] = "reprinted"
    stories[sid] = state.to_bytes()
    with pytest.raises(AssertionError, match="members/0/relation"):
        running.assemble(b)


def test_a_replayed_revision_is_checked_again(processor: Processor) -> None:
    a, b = prepare(processor, doc("a", FERRY), doc("b", FERRY + EXTRA))
    st = stage()
    st.assemble(a)
    latest = st.assemble(b)
    assert latest is not None
    again = st.assemble(b)
    assert again == latest and schema_error(contracts().story, again) is None


# -- over a real run: the same verdicts as the whole schema --------------------------------------------


def test_checks_by_parts_give_the_full_validators_verdict_over_a_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-process pipeline over the bench corpus, with faults injected into what each check
    is handed as new (a member, the enrichment, the revision itself): every check's verdict is
    the full story validator's, a story with a bad member stays rejected, and every revision that
    leaves the stage is valid. Stories merge the enrichments of at most 3 members here (32 in
    the stage), so that the enrichment of a story stops changing and its check is skipped; the
    articles arrive in a shuffled order, so that copies published earlier than the member marked
    original arrive after it and change it in place."""
    from pipeline.evaluation import bench_corpus
    from pipeline.runner import run_batch
    from tests.conftest import shared_path

    monkeypatch.setattr("pipeline.stories.MAX_MERGED_ENRICHMENTS", 3)

    docs = bench_corpus.build(600, shared_path("data"))
    rng = random.Random(5)
    rng.shuffle(docs)
    full = contracts().story
    verdicts = {"accepted": 0, "rejected": 0, "members_skipped": 0, "enrichment_skipped": 0, "changed": 0}
    emitted: list[bytes] = []

    def check(story: dict[str, Any], members: list[dict[str, Any]], enrichment: bool) -> str | None:
        fault = rng.random()
        if fault < 0.01 and members:
            rng.choice(members)["similarity"] = 1.5  # stays in the state: later revisions fail too
        elif fault < 0.02 and enrichment:
            story["enrichment"] = copy.deepcopy(story["enrichment"])
            story["enrichment"]["keywords"] = [{"text": "x"}]
        elif fault < 0.03:
            story["updated_at"] = "now"
        problem = story_revision_error(story, members, enrichment)
        assert problem == schema_error(full, story), story["story_id"]
        verdicts["rejected" if problem else "accepted"] += 1
        verdicts["members_skipped"] += len(members) < len(story["members"])
        verdicts["enrichment_skipped"] += not enrichment
        return problem

    class Recording(StoryStage):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.assembler.check = check

        def assemble(self, prepared: PreparedArticle) -> dict[str, Any] | None:
            story = super().assemble(prepared)
            if story is not None:
                emitted.append(orjson.dumps(story))
            return story

    changed_member = _Live.changed_member

    def counted(self: _Live, member: dict[str, Any]) -> None:
        verdicts["changed"] += 1
        changed_member(self, member)

    monkeypatch.setattr(_Live, "changed_member", counted)
    monkeypatch.setattr("pipeline.runner.StoryStage", Recording)
    result = run_batch(
        [RawMessage(orjson.dumps(d), d["id"].encode(), "raw", 0, i) for i, d in enumerate(docs)], Settings()
    )
    assert verdicts["rejected"] == len(result.dead_letters) > 10
    assert verdicts["accepted"] == len(emitted) == result.revisions > 500
    assert verdicts["members_skipped"] > 100 and verdicts["enrichment_skipped"] > 100
    assert verdicts["changed"] > 0  # members changed in place (published before the original)
    for raw in emitted:
        assert schema_error(full, orjson.loads(raw)) is None


def test_a_clean_run_emits_only_valid_revisions() -> None:
    """The stage as shipped (no faults) over the bench corpus: each revision, as it left the
    stage, passes the full story validator."""
    from pipeline.evaluation import bench_corpus
    from tests.conftest import shared_path

    docs = bench_corpus.build(600, shared_path("data"))
    proc = Processor(SETTINGS)
    st = stage()
    msgs = [RawMessage(orjson.dumps(d), d["id"].encode(), "raw", 0, i) for i, d in enumerate(docs)]
    full = contracts().story
    multi = 0
    for start in range(0, len(msgs), 64):
        prepared, dead = proc.prepare_batch(msgs[start : start + 64])
        assert dead == []
        for msg, art in prepared:
            story, dead_letter = st.assemble_message(msg, art)
            assert dead_letter is None and story is not None
            assert schema_error(full, orjson.loads(orjson.dumps(story))) is None
            multi += len(story["members"]) > 1
    assert multi > 100
