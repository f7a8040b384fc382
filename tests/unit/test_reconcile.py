"""Accounting logic: missing and doubled messages are found."""

from __future__ import annotations

import orjson

from pipeline.reconcile import reconcile


def raw(i: int, aid: str | None) -> tuple[str, int, int, bytes]:
    return ("raw", 0, i, orjson.dumps({"id": aid}) if aid else b"garbage")


def story(sid: str, rev: int, members: list[str]) -> dict:
    return {"story_id": sid, "revision": rev, "members": [{"article_id": m} for m in members]}


def dead(i: int) -> dict:
    return {"topic": "raw", "partition": 0, "offset": i, "stage": "decode", "reason": "malformed_json"}


def test_all_accounted() -> None:
    r = reconcile(
        [raw(0, "a"), raw(1, "b"), raw(2, None), raw(3, "a")],
        [story("s1", 1, ["a"]), story("s1", 2, ["a", "b"])],
        [dead(2)],
    )
    assert r.ok and r.in_stories == 3 and r.dead_lettered == 1 and r.stories == 1


def test_missing_and_doubled() -> None:
    r = reconcile(
        [raw(0, "a"), raw(1, "b"), raw(2, "c")],
        [story("s1", 1, ["a"]), story("s2", 1, ["b"]), story("s3", 1, ["b"])],
        [],
    )
    assert not r.ok
    assert len(r.missing) == 1 and "c" in r.missing[0]
    assert len(r.doubled) == 1 and "b" in r.doubled[0]


def test_member_twice_in_one_story_is_doubled() -> None:
    r = reconcile([raw(0, "a")], [story("s1", 1, ["a", "a"])], [])
    assert len(r.doubled) == 1


def test_older_revisions_do_not_count() -> None:
    r = reconcile([raw(0, "a")], [story("s1", 2, ["a"]), story("s1", 1, ["a", "zzz"])], [])
    assert r.ok
