"""A finished benchmark run (or test) deletes its own topics, and only those, on the real broker."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from pipeline.kafka import delete_topics_of, make_producer, topics_of
from pipeline.settings import Settings
from tests.integration.harness import fresh_settings

pytestmark = pytest.mark.integration


def test_topics_of_picks_the_pipeline_topics_and_the_apps_own() -> None:
    s = Settings().namespaced("bx1")
    names = [
        "bx1.raw", "bx1.prepared", "bx1.stories", "bx1.deadletter",
        "app-bx1-story-state-changelog", "app-bx1-prepare-__assignor-__leader",
        "bx1.raw-other", "app-bx10-story-state-changelog", "bx2.raw", "news.raw",
    ]  # fmt: skip
    assert topics_of(s, names) == [
        "app-bx1-prepare-__assignor-__leader",
        "app-bx1-story-state-changelog",
        "bx1.deadletter",
        "bx1.prepared",
        "bx1.raw",
        "bx1.stories",
    ]


async def _topics(bootstrap: str) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


def test_delete_topics_of_removes_a_namespace_and_leaves_the_others(broker: str, tmp_path: Path) -> None:
    mine = fresh_settings(broker, tmp_path)
    other = fresh_settings(broker, tmp_path)

    async def scenario() -> tuple[set[str], list[str], set[str]]:
        admin = AIOKafkaAdminClient(bootstrap_servers=broker)
        await admin.start()
        try:  # what a worker adds: a changelog topic under the app id
            await admin.create_topics([NewTopic(f"{mine.app_id}-story-state-changelog", 1, 1)])
        finally:
            await admin.close()
        producer = make_producer(mine)
        await producer.start()
        try:
            await producer.send_and_wait(mine.raw_topic, b"{}", key=b"k")
        finally:
            await producer.stop()
        before = await _topics(broker)
        deleted = await delete_topics_of(mine)
        return before, deleted, await _topics(broker)

    before, deleted, after = asyncio.run(scenario())
    expected = {mine.raw_topic, mine.prepared_topic, mine.stories_topic, mine.dead_letter_topic}
    expected.add(f"{mine.app_id}-story-state-changelog")
    assert expected <= before
    assert sorted(expected) == deleted
    assert not expected & after
    assert {other.raw_topic, other.prepared_topic, other.stories_topic, other.dead_letter_topic} <= after
