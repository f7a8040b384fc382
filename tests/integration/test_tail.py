"""``pipeline tail`` against the real broker: the default is the latest revision of each story."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from pipeline.kafka import ensure_topics, make_producer
from pipeline.settings import Settings
from tests.integration.harness import fresh_settings, settings_env


def _story(story_id: str, revision: int, updated: str) -> dict[str, Any]:
    return {"story_id": story_id, "revision": revision, "updated_at": updated}


async def _send(settings: Settings, stories: list[dict[str, Any]]) -> None:
    await ensure_topics(settings)
    producer = make_producer(settings)
    await producer.start()
    try:
        for s in stories:
            await producer.send(settings.stories_topic, key=s["story_id"].encode(), value=orjson.dumps(s))
        await producer.flush()
    finally:
        await producer.stop()


def _tail(settings: Settings, *flags: str) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "tail", "--json", *flags],
        env=settings_env(settings), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return [orjson.loads(line) for line in proc.stdout.splitlines()]


@pytest.mark.integration
def test_tail_shows_the_latest_revision_of_each_story(broker: str, tmp_path: Path) -> None:
    settings = fresh_settings(broker, tmp_path, raw_partitions=3)
    revisions = [
        _story("s-a", 1, "2026-03-03T10:00:00Z"),
        _story("s-b", 1, "2026-03-03T10:01:00Z"),
        _story("s-a", 2, "2026-03-03T10:02:00Z"),
        _story("s-c", 1, "2026-03-03T10:03:00Z"),
        _story("s-b", 2, "2026-03-03T10:04:00Z"),
        _story("s-b", 3, "2026-03-03T10:05:00Z"),
    ]
    asyncio.run(_send(settings, revisions))
    latest = _tail(settings)
    assert [(s["story_id"], s["revision"]) for s in latest] == [("s-a", 2), ("s-c", 1), ("s-b", 3)]
    assert len(_tail(settings, "--from-beginning")) == len(revisions)
    assert [s["story_id"] for s in _tail(settings, "--max", "1")] == ["s-b"]


@pytest.mark.integration
def test_tail_follow_alone_shows_only_new_revisions(broker: str, tmp_path: Path) -> None:
    settings = fresh_settings(broker, tmp_path, raw_partitions=1)
    # old revisions in multi-record batches (the broker's own end offset is short for those)
    asyncio.run(_send(settings, [_story(f"s-old{i}", 1, "2026-03-03T10:00:00Z") for i in range(7)]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "tail", "--json", "--follow", "--max", "1"],
        env=settings_env(settings), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(4.0)  # it is reading from the end by now
        asyncio.run(_send(settings, [_story("s-new", 1, "2026-03-03T11:00:00Z")]))
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr
    assert [orjson.loads(line)["story_id"] for line in stdout.splitlines()] == ["s-new"]
