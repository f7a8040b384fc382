"""The member marked "original" is the version the story started from, not just the first seen."""

from __future__ import annotations

from pipeline.clean import CleanConfig
from pipeline.dedup import DedupConfig
from pipeline.enrich import EnrichConfig
from pipeline.prepare import Preparer, StageConfigs
from pipeline.records import CleanedArticle
from pipeline.stories import StoryAssembler

TEXT = (
    "The county council voted on Tuesday to close the Carrow Bridge to cars for eleven months "
    "while engineers replace its 1936 steel deck, a project estimated at 14.2 million pounds.\n\n"
    "Buses will be diverted through Mill Street and a temporary footbridge will open in April, "
    "council leader Maria Okonjo said, adding that cyclists could keep using the east lane.\n\n"
    "Traders on Quay Road said the closure would cost them customers during the summer season."
)


def _add(assembler: StoryAssembler, preparer: Preparer, aid: str, published: str | None) -> dict:
    art = CleanedArticle(id=aid, url=f"https://{aid}.example/bridge", source=f"{aid}.example",
                         title="Carrow Bridge to close", text=TEXT, published_at=published)  # fmt: skip
    story = assembler.add(preparer.finish([art])[0])
    assert story is not None
    return story


def _relations(story: dict) -> dict[str, tuple[str, str | None]]:
    return {m["article_id"]: (m["relation"], m["matched"]) for m in story["members"]}


def test_a_copy_published_earlier_but_seen_later_is_the_original() -> None:
    preparer = Preparer(StageConfigs(CleanConfig(), DedupConfig(), EnrichConfig(entities=False)))
    assembler = StoryAssembler(DedupConfig(), {}, {})
    _add(assembler, preparer, "ledger", "2026-03-03T11:20:00Z")
    story = _add(assembler, preparer, "wire", "2026-03-03T10:05:00Z")  # the wire, seen second
    assert _relations(story) == {"wire": ("original", None), "ledger": ("exact", "wire")}
    # a third version, published after both, changes nothing of that
    story = _add(assembler, preparer, "gazette", "2026-03-03T12:00:00Z")
    rel = _relations(story)
    assert rel["wire"] == ("original", None) and rel["ledger"] == ("exact", "wire")
    assert rel["gazette"][0] == "exact"


def test_first_seen_stays_original_when_times_are_unknown_or_later() -> None:
    preparer = Preparer(StageConfigs(CleanConfig(), DedupConfig(), EnrichConfig(entities=False)))
    assembler = StoryAssembler(DedupConfig(), {}, {})
    _add(assembler, preparer, "first", None)
    story = _add(assembler, preparer, "second", "2026-03-03T10:05:00Z")
    assert _relations(story) == {"first": ("original", None), "second": ("exact", "first")}
    assembler = StoryAssembler(DedupConfig(), {}, {})
    _add(assembler, preparer, "first", "2026-03-03T09:00:00Z")
    story = _add(assembler, preparer, "second", "2026-03-03T10:05:00Z")
    assert _relations(story)["first"] == ("original", None)
