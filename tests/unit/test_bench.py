# ruff: noqa: E501
"""The benchmark's CPU accounting (how it splits end-to-end cost between stages and layer)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from pipeline.evaluation.bench import cpu_seconds


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs Linux /proc")
def test_cpu_seconds_counts_a_process_and_its_descendants() -> None:
    busy = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6: pass\ntime.sleep(60)"
    parent = subprocess.Popen(
        [sys.executable, "-c", f"import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', {busy!r}])\ntime.sleep(60)"]
    )
    try:
        deadline = time.monotonic() + 30
        while cpu_seconds([parent.pid]) < 0.6 and time.monotonic() < deadline:
            time.sleep(0.1)
        spent = cpu_seconds([parent.pid])
        assert spent >= 0.6  # the grandchild's busy loop is counted through its parent
        assert cpu_seconds([]) == 0.0
        assert cpu_seconds([2**22 + 12345]) == 0.0  # no such process: nothing, no error
    finally:
        for child in _children(parent.pid):
            os.kill(child, 9)
        parent.kill()
        parent.wait()


def _children(pid: int) -> list[int]:
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as fh:
            out += [int(c) for c in fh.read().split()]
    return out


@pytest.mark.parametrize(
    ("argv", "quick", "articles"),
    [
        (["bench", "--quick", "run"], True, None),
        (["bench", "run", "--quick"], True, None),
        (["bench", "--articles", "500", "run"], False, 500),
        (["bench", "run"], False, None),
        (["bench", "--quick"], True, None),
    ],
)
def test_bench_options_before_or_after_run(argv: list[str], quick: bool, articles: int | None) -> None:
    from pipeline.cli import _build_parser

    args = _build_parser("bench").parse_args(argv)
    assert args.quick is quick and args.articles == articles
    assert args.workers == 2 and args.json is None


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs Linux /proc")
def test_settle_waits_for_quiet_processes() -> None:
    from pipeline.evaluation.bench import _settle

    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.5)  # the interpreter's start-up is over
        assert _settle([idle.pid], interval_s=0.2, timeout_s=10) is True
        assert _settle([busy.pid, idle.pid], interval_s=0.2, timeout_s=1.5) is False
    finally:
        for proc in (busy, idle):
            proc.kill()
            proc.wait()


def test_groups_stable_counts_the_members_of_a_real_group(broker: str) -> None:
    import asyncio
    import uuid

    from aiokafka import AIOKafkaConsumer

    from pipeline.evaluation.bench import _groups_stable
    from pipeline.kafka import ensure_topics
    from pipeline.settings import Settings

    settings = Settings(bootstrap=broker).namespaced(f"g{uuid.uuid4().hex[:8]}")
    group = f"bench-group-{uuid.uuid4().hex[:8]}"

    async def scenario() -> tuple[bool, bool, bool]:
        await ensure_topics(settings)
        before = await _groups_stable(settings, {group: 1}, timeout_s=1.0)  # nobody joined yet
        consumer = AIOKafkaConsumer(
            settings.raw_topic, group_id=group, bootstrap_servers=broker, session_timeout_ms=6000
        )
        await consumer.start()
        try:
            deadline = time.monotonic() + 30
            while not consumer.assignment() and time.monotonic() < deadline:
                await consumer.getmany(timeout_ms=200)
            one = await _groups_stable(settings, {group: 1}, timeout_s=20.0)
            two = await _groups_stable(settings, {group: 2}, timeout_s=1.5)  # only one member
        finally:
            await consumer.stop()
        return before, one, two

    before, one, two = asyncio.run(scenario())
    assert (before, one, two) == (False, True, False)
