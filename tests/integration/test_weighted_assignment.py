"""Two ``all`` workers on 8 raw partitions: the one running the story stage keeps 3, the other
takes 5 (pipeline/assignor.py), and every article still comes out in exactly one story."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from pathlib import Path

import pytest

from pipeline.assignor import owner_keeps
from tests.faults.support import corpus
from tests.integration.harness import (
    WorkerProcess,
    article_value,
    collect_until,
    fresh_settings,
    member_count,
    publish_values,
    start_worker,
)

pytestmark = pytest.mark.integration

ASSIGNED = re.compile(r"assigned raw partitions \[([\d, ]*)\] of (\S+?)( and the story stage)?\s*$", re.M)


def _last_assignment(worker: WorkerProcess, raw_topic: str) -> tuple[set[int], bool] | None:
    """The raw partitions and whether it runs the story stage, from the worker's latest log line."""
    text = worker.log_path.read_text("utf-8", errors="replace")
    found = [m for m in ASSIGNED.finditer(text) if m.group(2) == raw_topic]
    if not found:
        return None
    last = found[-1]
    return {int(p) for p in last.group(1).split(",") if p.strip()}, last.group(3) is not None


def _settled_split(
    workers: list[WorkerProcess], raw_topic: str, timeout_s: float
) -> list[tuple[set[int], bool]]:
    """Wait until the workers' latest assignments cover the raw partitions once each and one of
    them runs the story stage (the group is stable); fail with their logs on timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = [_last_assignment(w, raw_topic) for w in workers]
        if all(g is not None for g in got):
            split = [g for g in got if g is not None]
            held = [p for parts, _ in split for p in parts]
            if sorted(held) == list(range(8)) and sum(story for _, story in split) == 1:
                return split
        for w in workers:
            assert w.proc.poll() is None, "a worker died:\n" + w.log()
        if time.monotonic() > deadline:
            raise AssertionError(f"no stable split: {got}\n" + "\n---\n".join(w.log() for w in workers))
        time.sleep(0.25)


def test_story_owner_keeps_fewer_raw_partitions(broker: str, tmp_path: Path) -> None:
    settings = fresh_settings(broker, tmp_path, raw_partitions=8, entities=False)
    assert settings.story_weight == 0.25 and owner_keeps(8, 2, settings.story_weight) == 3
    docs, groups = corpus(n_stories=120, copies=80, seed=11)
    values = [article_value(d) for d in docs]
    # One worker first, so the second one's join is a rebalance from an assignment Faust keeps.
    workers = [start_worker(settings, tmp_path / "w0.log")]
    try:
        assert _settled_split(workers, settings.raw_topic, timeout_s=30) == [(set(range(8)), True)]
        workers.append(start_worker(settings, tmp_path / "w1.log"))
        split = _settled_split(workers, settings.raw_topic, timeout_s=30)
        counts = sorted((len(parts), story) for parts, story in split)
        assert counts == [(3, True), (5, False)], split
        asyncio.run(publish_values(settings, values))
        c = collect_until(settings, lambda c: member_count(c) >= len(values), timeout_s=60, worker=workers[0])
        assert [w.proc.poll() for w in workers] == [None, None], "\n---\n".join(w.log() for w in workers)
        # no rebalance since: the split held while the articles went through
        assert [_last_assignment(w, settings.raw_topic) for w in workers] == split
    finally:
        for w in workers:
            w.stop()
    ids = Counter(m["article_id"] for s in c.stories.values() for m in s["members"])
    assert set(ids) == {d["id"] for d in docs} and set(ids.values()) == {1}
    assert {frozenset(m["article_id"] for m in s["members"]) for s in c.stories.values()} == {
        frozenset(g) for g in groups
    }
    assert c.dead == []
