"""Two workers in one consumer group give the same grouping of articles into stories as one."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from pipeline.settings import Settings
from tests.faults.support import assert_reconciled, corpus, grouping, reconcile_now
from tests.integration.harness import (
    Collected,
    WorkerProcess,
    article_value,
    collect_until,
    fresh_settings,
    member_count,
    publish_values,
    start_worker,
)

pytestmark = pytest.mark.integration


def _publish_and_group(
    values: list[tuple[bytes, bytes]],
    deployments: list[tuple[Settings, WorkerProcess]],
    workers: list[WorkerProcess],
) -> dict[str, Any]:
    """Publish ``values`` to each deployment's namespace; return each one's grouping (by app id)
    once every article is in a story, after checking it reconciles and no worker died."""
    for settings, _ in deployments:
        asyncio.run(publish_values(settings, values))
    got: dict[str, Any] = {}
    for settings, worker in deployments:
        c: Collected = collect_until(
            settings, lambda c: member_count(c) >= len(values), timeout_s=240, worker=worker
        )
        got[settings.app_id] = grouping(c.stories.values())
        assert_reconciled(reconcile_now(settings), raw_messages=len(values))
    for w in workers:
        assert w.proc.poll() is None, "a worker died:\n" + w.log()
    return got


def test_two_workers_group_like_one(broker: str, tmp_path: Path) -> None:
    docs, groups = corpus(n_stories=400, copies=200, seed=2)
    values = [article_value(d) for d in docs]
    one = fresh_settings(broker, tmp_path, entities=False)
    two = fresh_settings(broker, tmp_path, entities=False)  # same input, its own namespace and group
    workers = [
        start_worker(one, tmp_path / "one.log"),
        start_worker(two, tmp_path / "two-a.log"),
        start_worker(two, tmp_path / "two-b.log"),
    ]
    try:
        time.sleep(8)  # let both members of the second group join before the input arrives
        got = _publish_and_group(values, [(one, workers[0]), (two, workers[1])], workers)
        logs = [w.log() for w in workers[1:]]
    finally:
        for w in workers:
            w.stop()
    assert got[one.app_id] == got[two.app_id]
    assert got[one.app_id] == {frozenset(g) for g in groups}
    # both workers of the second group took part (each owned raw partitions at some point)
    assert all("prepare" in text or "Assigned" in text or "consuming" in text for text in logs)


def test_split_roles_group_like_one_worker(broker: str, tmp_path: Path) -> None:
    """A story worker and two prepare workers (``--role``) give the same stories as one worker."""
    docs, groups = corpus(n_stories=150, copies=80, seed=3)
    values = [article_value(d) for d in docs]
    one = fresh_settings(broker, tmp_path, entities=False)
    split = fresh_settings(broker, tmp_path, entities=False)
    workers = [
        start_worker(one, tmp_path / "one.log"),
        start_worker(split, tmp_path / "story.log", "--role", "story"),
        start_worker(split, tmp_path / "prepare-a.log", "--role", "prepare"),
        start_worker(split, tmp_path / "prepare-b.log", "--role", "prepare"),
    ]
    try:
        time.sleep(8)  # let both prepare workers join their group before the input arrives
        got = _publish_and_group(values, [(one, workers[0]), (split, workers[1])], workers)
        story_log, *prepare_logs = (w.log_path.read_text("utf-8", errors="replace") for w in workers[1:])
    finally:
        for w in workers:
            w.stop()
    assert got[one.app_id] == got[split.app_id] == {frozenset(g) for g in groups}
    assert "(story) consuming" in story_log
    assert all("(prepare) consuming" in text for text in prepare_logs)
