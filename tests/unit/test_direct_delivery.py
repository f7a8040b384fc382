"""Faust's fetch loop delivering a message without four tasks per message (pipeline/delivery.py):
same results, same abandon-on-rebalance rule, same errors, only fewer tasks."""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

import pytest
from faust.transport.consumer import Consumer
from mode import Service

from pipeline.delivery import install_direct_delivery


class FakeConsumer(Service):
    """The parts of Faust's consumer its fetch loop's ``wait_first`` call touches."""

    def __init__(self) -> None:
        super().__init__()
        self.suspend_flow = asyncio.Event()


@pytest.fixture(autouse=True, scope="module")
def installed() -> None:
    assert install_direct_delivery()
    assert install_direct_delivery()  # idempotent


def wait_first(consumer: FakeConsumer, *coros: Any, **kw: Any) -> Any:
    return Consumer.wait_first(consumer, *coros, **kw)  # type: ignore[arg-type]


def tasks_created(loop: asyncio.AbstractEventLoop) -> list[int]:
    counter = [0]
    create = loop.create_task

    def counting(*a: Any, **kw: Any) -> Any:
        counter[0] += 1
        return create(*a, **kw)

    loop.create_task = counting  # type: ignore[method-assign]
    return counter


def test_a_delivery_that_does_not_suspend_takes_no_task() -> None:
    async def run() -> None:
        consumer = FakeConsumer()
        delivered: list[int] = []

        async def deliver(n: int) -> int:
            delivered.append(n)
            return n * 2

        counter = tasks_created(asyncio.get_running_loop())
        flow = consumer.suspend_flow.wait()
        res = await wait_first(consumer, deliver(21), flow)
        assert delivered == [21] and res.results == [42] and not res.stopped
        assert counter[0] == 0
        assert flow.cr_frame is None  # closed: no "never awaited" warning

    asyncio.run(run())


def test_a_delivery_that_suspends_finishes_as_before() -> None:
    async def run() -> None:
        consumer = FakeConsumer()
        loop = asyncio.get_running_loop()
        gate: asyncio.Future[str] = loop.create_future()
        steps: list[str] = []

        async def deliver() -> str:
            steps.append("start")
            await asyncio.sleep(0)  # a bare yield
            got = await gate  # a future
            steps.append(got)
            await asyncio.sleep(0.01)  # a timer
            return got.upper()

        loop.call_later(0.02, gate.set_result, "put")
        res = await wait_first(consumer, deliver(), consumer.suspend_flow.wait())
        assert steps == ["start", "put"] and res.results == ["PUT"]

    asyncio.run(run())


def test_a_suspended_delivery_is_abandoned_when_the_flow_is_suspended() -> None:
    async def run() -> None:
        consumer = FakeConsumer()
        loop = asyncio.get_running_loop()
        never: asyncio.Future[None] = loop.create_future()
        seen: list[str] = []

        async def deliver() -> None:
            try:
                await never  # e.g. a full stream buffer
            except asyncio.CancelledError:
                seen.append("cancelled")
                raise
            seen.append("delivered")

        loop.call_later(0.02, consumer.suspend_flow.set)  # a rebalance starts
        res = await wait_first(consumer, deliver(), consumer.suspend_flow.wait())
        assert res.results == [True]  # the flow's wait won
        for _ in range(3):
            await asyncio.sleep(0)  # the cancelled delivery's task runs its cancellation
        assert seen == ["cancelled"] and never.cancelled()

    asyncio.run(run())


def test_errors_of_a_delivery_propagate() -> None:
    async def run() -> None:
        consumer = FakeConsumer()

        async def at_once() -> None:
            raise ValueError("bad at once")

        async def later() -> None:
            await asyncio.sleep(0.01)
            raise KeyError("bad later")

        with pytest.raises(ValueError, match="bad at once"):
            await wait_first(consumer, at_once(), consumer.suspend_flow.wait())
        with pytest.raises(KeyError, match="bad later"):
            await wait_first(consumer, later(), consumer.suspend_flow.wait())

    asyncio.run(run())


def test_other_calls_and_a_suspended_flow_go_the_usual_way() -> None:
    async def run() -> None:
        consumer = FakeConsumer()
        counter = tasks_created(asyncio.get_running_loop())

        async def deliver() -> int:
            return 1

        other = asyncio.Event()
        other.set()
        res = await wait_first(consumer, deliver(), other.wait())  # not the consumer's flow
        assert counter[0] > 0 and 1 in res.results
        counter[0] = 0
        consumer.suspend_flow.set()  # already suspended: no shortcut
        res = await wait_first(consumer, deliver(), consumer.suspend_flow.wait())
        assert counter[0] > 0

    asyncio.run(run())


def test_a_delivery_runs_in_its_own_copy_of_the_context() -> None:
    """As in a task: a context variable it sets, before or after suspending, stays its own."""
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="loop")

    async def run() -> None:
        consumer = FakeConsumer()
        seen: list[str] = []

        async def quick() -> None:
            var.set("quick")

        async def slow() -> None:
            seen.append(var.get())  # the caller's value, copied
            var.set("slow, first step")
            await asyncio.sleep(0.005)
            seen.append(var.get())  # its own value, kept across the suspension
            var.set("slow, after")

        var.set("fetch loop")
        await wait_first(consumer, quick(), consumer.suspend_flow.wait())
        assert var.get() == "fetch loop"
        await wait_first(consumer, slow(), consumer.suspend_flow.wait())
        assert var.get() == "fetch loop"
        assert seen == ["fetch loop", "slow, first step"]

    asyncio.run(run())
