"""The prepare pool gives what the in-process path gives, in the same order, and survives a
child that dies."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import orjson
import pytest

from pipeline.prepare_pool import PreparePool, prepare_in_process
from pipeline.processor import Processor, RawMessage
from pipeline.settings import Settings

SETTINGS = Settings(entities=False, log_level="WARNING")


def _doc(i: int) -> dict[str, Any]:
    return {
        "id": f"art-{i:03d}",
        "url": f"https://news.example/{i}",
        "source": "news.example",
        "content": f"Report number {i} from the harbour town of Keswin. "
        + "The council met on Tuesday to discuss the new ferry timetable and the cost of repairs. " * 4,
        "content_type": "text/plain",
        "published_at": "2026-03-03T10:00:00Z",
    }


def _messages() -> list[RawMessage]:
    values = [orjson.dumps(_doc(i)) for i in range(30)]
    values[4] = b"{not json"
    values[17] = orjson.dumps({"id": "no-content"})
    values[25] = b"\xff\xfe\x00bad"
    return [RawMessage(v, None, "raw", 0, i) for i, v in enumerate(values)]


@pytest.fixture(scope="module")
def processor() -> Processor:
    return Processor(SETTINGS)


def test_pool_matches_the_in_process_path(processor: Processor) -> None:
    msgs = _messages()
    expected = prepare_in_process(processor, msgs)

    async def run() -> Any:
        pool = PreparePool(SETTINGS, 2)
        try:
            return await pool.prepare(msgs, lambda: processor)
        finally:
            pool.close()

    prepared, dead = asyncio.run(run())
    assert [aid for aid, _ in prepared] == [aid for aid, _ in expected[0]]
    assert len(prepared) == 27
    assert [orjson.loads(v)["signature"] for _, v in prepared] == [
        orjson.loads(v)["signature"] for _, v in expected[0]
    ]
    assert [(d["offset"], d["reason"]) for d in dead] == [(d["offset"], d["reason"]) for d in expected[1]]
    assert {d["reason"] for d in dead} == {"malformed_json", "schema_invalid", "invalid_encoding"}


def test_a_dead_child_loses_nothing(processor: Processor) -> None:
    msgs = _messages()

    async def run() -> Any:
        pool = PreparePool(SETTINGS, 2)
        try:
            await pool.prepare(msgs[:4], lambda: processor)  # children up
            assert pool._pool is not None
            victim = next(iter(pool._pool._processes))  # a child's pid
            os.kill(victim, signal.SIGKILL)
            await asyncio.sleep(0.5)
            first = await pool.prepare(msgs, lambda: processor)  # prepared here, pool restarted
            assert pool.failures == 1
            second = await pool.prepare(msgs, lambda: processor)  # by the new children
            assert pool.failures == 0
            return first, second
        finally:
            pool.close()

    first, second = asyncio.run(run())
    for prepared, dead in (first, second):
        assert len(prepared) == 27 and len(dead) == 3


def test_children_of_a_pinned_worker_run_on_the_cpus_given() -> None:
    from pipeline.prepare_pool import _ready

    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})  # the worker pinned (PIPELINE_CPUS)
    try:
        pool = PreparePool(SETTINGS, 1, cpus=frozenset(before))
        try:
            assert pool._pool is not None
            assert pool._pool.submit(_ready).result(timeout=120)  # initialised
            children = list(pool._pool._processes)
            assert children and all(os.sched_getaffinity(pid) == before for pid in children)
        finally:
            pool.close()
    finally:
        os.sched_setaffinity(0, before)
