"""End offsets on the real embedded broker: confirmed by a fetch, as Faust's table recovery and
``pipeline tail --follow`` need them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from pipeline.kafka import (
    RangeReader,
    confirmed_end_offsets,
    ensure_topics,
    install_end_offset_check,
    make_producer,
)
from pipeline.settings import Settings
from tests.integration.harness import fresh_settings

pytestmark = pytest.mark.integration


async def _batches(settings: Settings, sizes: list[int]) -> int:
    """Send record batches of these sizes to the raw topic's partition 0; the next offset."""
    await ensure_topics(settings)
    producer = make_producer(settings)
    await producer.start()
    last = -1
    try:
        for n in sizes:
            futures = [await producer.send(settings.raw_topic, b"v", key=b"k", partition=0) for _ in range(n)]
            await producer.flush()
            acked = [await f for f in futures]
            last = max(r.offset for r in acked)
    finally:
        await producer.stop()
    return last + 1


async def _ends(settings: Settings) -> tuple[int, int, int]:
    tp = TopicPartition(settings.raw_topic, 0)
    consumer = AIOKafkaConsumer(group_id=None, **settings.kafka_client_kwargs())
    await consumer.start()
    try:
        reported = (await consumer.end_offsets([tp]))[tp]
        confirmed = (await confirmed_end_offsets(settings, {tp: reported}))[tp]
        install_end_offset_check(settings)
        patched = (await consumer.end_offsets([tp]))[tp]
    finally:
        await consumer.stop()
    return reported, confirmed, patched


def test_end_offsets_count_every_record_of_the_last_batch(
    broker: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the check is installed process-wide below: put the plain method back after the test
    monkeypatch.setattr(AIOKafkaConsumer, "end_offsets", AIOKafkaConsumer.end_offsets)
    settings = fresh_settings(broker, tmp_path, raw_partitions=1)
    after_last = asyncio.run(_batches(settings, [3, 7]))
    assert after_last == 10
    reported, confirmed, patched = asyncio.run(_ends(settings))
    # the broker's own answer may be short (Tansu 0.6 reports 4 here); the confirmed one is not
    assert reported <= after_last
    assert confirmed == after_last and patched == after_last


def test_range_reader_reads_exactly_the_requested_offsets(broker: str, tmp_path: Path) -> None:
    """What the worker does with offsets its stream skipped: read them back from the broker."""
    settings = fresh_settings(broker, tmp_path)

    async def run() -> tuple[list[int], list[int], list[int]]:
        end = await _batches(settings, [3, 7, 5])
        reader = RangeReader(settings)
        middle = await reader.read(settings.raw_topic, 0, 2, 11)  # spans three record batches
        one = await reader.read(settings.raw_topic, 0, 9, 10)
        tail = await reader.read(settings.raw_topic, 0, end - 2, end)
        return [r.offset for r in middle], [r.offset for r in one], [r.offset for r in tail]

    middle, one, tail = asyncio.run(run())
    assert middle == list(range(2, 11))
    assert one == [9]
    assert tail == [13, 14]


def test_range_reader_times_out_on_offsets_that_do_not_exist(broker: str, tmp_path: Path) -> None:
    settings = fresh_settings(broker, tmp_path)

    async def run() -> None:
        await _batches(settings, [2])
        await RangeReader(settings, timeout_s=1.0).read(settings.raw_topic, 0, 0, 5)

    with pytest.raises(TimeoutError, match=r"offsets 0\.\.4"):
        asyncio.run(run())


async def _commit(settings: Settings, group: str, offset: int) -> None:
    """Commit ``offset`` of the raw topic's partition 0 for ``group``."""
    consumer = AIOKafkaConsumer(group_id=group, enable_auto_commit=False, **settings.kafka_client_kwargs())
    await consumer.start()
    try:
        tp = TopicPartition(settings.raw_topic, 0)
        consumer.assign([tp])
        await consumer.commit({tp: offset})
    finally:
        await consumer.stop()


def test_range_reader_reads_a_groups_committed_offset(broker: str, tmp_path: Path) -> None:
    """The worker compares the first message of a partition after an assignment with this."""
    settings = fresh_settings(broker, tmp_path)
    group = f"{settings.app_id}-committed"

    async def run() -> tuple[int | None, int | None]:
        await _batches(settings, [6])
        reader = RangeReader(settings)
        before = await reader.committed(group, settings.raw_topic, 0)
        await _commit(settings, group, 4)
        return before, await reader.committed(group, settings.raw_topic, 0)

    before, after = asyncio.run(run())
    assert before is None
    assert after == 4


def test_start_offset_is_the_commit_or_the_first_offset(broker: str, tmp_path: Path) -> None:
    """Where the worker expects a partition to go on after an assignment."""
    settings = fresh_settings(broker, tmp_path)
    group = f"{settings.app_id}-start"

    async def run() -> tuple[int, int]:
        await _batches(settings, [5])
        reader = RangeReader(settings)
        fresh = await reader.start_offset(group, settings.raw_topic, 0)
        await _commit(settings, group, 3)
        return fresh, await reader.start_offset(group, settings.raw_topic, 0)

    assert asyncio.run(run()) == (0, 3)
