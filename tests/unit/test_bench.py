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
