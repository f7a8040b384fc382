"""Stopping: ``pipeline demo`` on SIGTERM stops its worker and broker, prints its summary and keeps no
work folder; a broker whose parent is SIGKILLed dies with it (Linux)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.broker import free_port

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; PR_SET_DEATHSIG"),
]


def _gone(pid: int, timeout_s: float = 10.0) -> bool:
    """The process has exited (a zombie waiting for init to reap it counts as gone)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_demo_on_sigterm_stops_everything_and_keeps_nothing(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        TMPDIR=str(tmp_path),  # the demo's work folder goes here: it must be gone afterwards
        PIPELINE_BROKER_PORT=str(free_port()),
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
    )
    demo = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "demo", "--json", "--no-entities"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert demo.stdout is not None
        first = demo.stdout.readline()  # the first story revision: broker and worker are running
        assert first.startswith("{"), demo.stderr.read() if demo.stderr else ""
        children = _children(demo.pid)
        assert len(children) == 2, children  # broker and worker
        demo.send_signal(signal.SIGTERM)
        _, stderr = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 0, stderr
    assert re.search(r"\d+ stories from \d+ articles; first story after [\d.]+s\n\Z", stderr), stderr
    assert all(_gone(pid, 0.5) for pid in children), children
    assert list(tmp_path.iterdir()) == []


def test_broker_dies_with_a_sigkilled_parent(tmp_path: Path) -> None:
    code = (
        "import sys, time; from pathlib import Path; from pipeline.broker import start_broker; "
        f"b = start_broker(log_path=Path({str(tmp_path / 'broker.log')!r})); "
        "print(b.process.pid, flush=True); time.sleep(120)"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        broker_pid = int(parent.stdout.readline())
        assert not _gone(broker_pid, 0.2)
        parent.kill()
        parent.wait(timeout=10)
        assert _gone(broker_pid), "the broker outlived its SIGKILLed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
