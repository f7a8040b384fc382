"""Accounting: the reconcile check finds every raw message that is missing or doubled."""

from __future__ import annotations

from typing import Any

import orjson

from pipeline.reconcile import reconcile


def _raw(offset: int, aid: str | None, partition: int = 0) -> tuple[str, int, int, bytes | None]:
    value = orjson.dumps({"id": aid}) if aid else b"\xff not json"
    return ("raw", partition, offset, value)


def _story(sid: str, revision: int, *ids: str) -> dict[str, Any]:
    return {"story_id": sid, "revision": revision, "members": [{"article_id": a} for a in ids]}


def _dead(offset: int, reason: str, aid: str | None = None, stage: str = "decode") -> dict[str, Any]:
    return {
        "topic": "raw",
        "partition": 0,
        "offset": offset,
        "reason": reason,
        "stage": stage,
        "article_id": aid,
    }


def test_every_message_in_one_place_is_ok() -> None:
    raw = [_raw(0, "a"), _raw(1, "b"), _raw(2, None), _raw(3, "a")]  # offset 3: a replay of "a"
    stories = [_story("s1", 1, "a"), _story("s1", 2, "a", "b")]
    report = reconcile(raw, stories, [_dead(2, "malformed_json")])
    assert report.ok, report.summary()
    assert (report.raw_messages, report.in_stories, report.dead_lettered, report.stories) == (4, 3, 1, 1)
    assert report.reasons == {"malformed_json": 1}


def test_missing_message_is_reported() -> None:
    report = reconcile([_raw(0, "a"), _raw(1, "b"), _raw(2, None)], [_story("s1", 1, "a")], [])
    assert not report.ok
    assert len(report.missing) == 2 and "raw[0]@1" in report.missing[0] and "raw[0]@2" in report.missing[1]
    assert "NOT OK" in report.summary()


def test_only_the_latest_revision_counts() -> None:
    # "b" was in revision 1 of s2 but not in its latest revision: it is missing now
    stories = [_story("s1", 1, "a"), _story("s2", 1, "b"), _story("s2", 2, "c")]
    report = reconcile([_raw(0, "a"), _raw(1, "b"), _raw(2, "c")], stories, [])
    assert [m.split(" ")[0] for m in report.missing] == ["raw[0]@1"]


def test_member_of_two_stories_is_doubled() -> None:
    report = reconcile([_raw(0, "a"), _raw(1, "b")], [_story("s1", 1, "a"), _story("s2", 3, "b", "a")], [])
    assert not report.ok and len(report.doubled) == 1 and "article a" in report.doubled[0]


def test_twice_in_one_story_is_doubled() -> None:
    report = reconcile([_raw(0, "a")], [_story("s1", 2, "a", "a")], [])
    assert not report.ok and len(report.doubled) == 1


def test_dead_letter_after_decode_counts_by_article_id() -> None:
    report = reconcile([_raw(0, "a")], [], [_dead(0, "empty_after_cleaning", "a", stage="clean")])
    assert report.ok and report.reasons == {"empty_after_cleaning": 1}
