"""Accounting: every raw message ends in exactly one place.

A raw message is accounted for when it is a member of exactly one story (by article id, in the
latest revision of each story) or when a dead letter names its topic/partition/offset. It is
*missing* when neither holds, and *doubled* when its article is a member of two stories, appears
twice in one story, or is both a member and dead-lettered at the same offset.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass
class Report:
    raw_messages: int = 0
    in_stories: int = 0
    dead_lettered: int = 0
    stories: int = 0
    missing: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.doubled

    def summary(self) -> str:
        lines = [
            f"raw messages:   {self.raw_messages}",
            f"  in a story:   {self.in_stories} (across {self.stories} stories)",
            f"  dead-lettered: {self.dead_lettered} "
            + (", ".join(f"{k}={v}" for k, v in sorted(self.reasons.items())) or ""),
            f"  missing:      {len(self.missing)}",
            f"  doubled:      {len(self.doubled)}",
        ]
        lines += [f"    missing {m}" for m in self.missing[:20]]
        lines += [f"    doubled {d}" for d in self.doubled[:20]]
        lines.append("OK: every raw message is accounted for exactly once" if self.ok else "NOT OK")
        return "\n".join(lines)


def _article_id(value: bytes | None) -> str | None:
    try:
        doc = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return None
    if isinstance(doc, dict) and isinstance(doc.get("id"), str):
        return doc["id"]
    return None


def reconcile(
    raw: Iterable[tuple[str, int, int, bytes | None]],
    story_revisions: Iterable[dict[str, Any]],
    dead_letters: Iterable[dict[str, Any]],
) -> Report:
    """``raw``: (topic, partition, offset, value) of every raw message."""
    latest: dict[str, dict[str, Any]] = {}
    for story in story_revisions:
        prev = latest.get(story["story_id"])
        if prev is None or story["revision"] >= prev["revision"]:
            latest[story["story_id"]] = story
    membership: dict[str, list[str]] = defaultdict(list)
    for sid, story in latest.items():
        for m in story["members"]:
            membership[m["article_id"]].append(sid)
    dead_refs: dict[tuple[str, int, int], str] = {}
    dead_ids: dict[str, str] = {}
    for d in dead_letters:
        dead_refs[(d["topic"], d["partition"], d["offset"])] = d["reason"]
        if d.get("article_id") and d["stage"] not in ("decode", "publish"):
            dead_ids[d["article_id"]] = d["reason"]

    report = Report(stories=len(latest))
    for topic, partition, offset, value in raw:
        report.raw_messages += 1
        ref = f"{topic}[{partition}]@{offset}"
        aid = _article_id(value)
        stories = membership.get(aid, []) if aid else []
        if (topic, partition, offset) in dead_refs:
            report.dead_lettered += 1
            report.reasons[dead_refs[(topic, partition, offset)]] += 1
            continue
        if aid is not None and aid in dead_ids and not stories:
            report.dead_lettered += 1
            report.reasons[dead_ids[aid]] += 1
            continue
        if not stories:
            report.missing.append(f"{ref} (article {aid})")
            continue
        report.in_stories += 1
        if len(stories) > 1:
            report.doubled.append(
                f"{ref} (article {aid} in {len(stories)} story memberships: {sorted(stories)})"
            )
    return report


async def reconcile_topics(settings: Any) -> Report:
    """Read the three topics from the beginning and reconcile them."""
    from pipeline.kafka import read_topic

    raw = [
        (r.topic, r.partition, r.offset, r.value)
        async for r in read_topic(settings, settings.raw_topic, from_beginning=True, follow=False)
    ]
    stories = [
        orjson.loads(r.value)
        async for r in read_topic(settings, settings.stories_topic, from_beginning=True, follow=False)
    ]
    dead = [
        orjson.loads(r.value)
        async for r in read_topic(settings, settings.dead_letter_topic, from_beginning=True, follow=False)
    ]
    return reconcile(raw, stories, dead)
