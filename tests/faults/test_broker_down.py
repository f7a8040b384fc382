"""Broker down: worker and publisher start with no broker, say so, retry, proceed when it is up."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import orjson
import pytest

from pipeline.broker import free_port, start_broker
from pipeline.settings import Settings
from tests.faults.support import article, story_text
from tests.integration.harness import collect_until, settings_env, start_worker

pytestmark = pytest.mark.integration


def _offline_settings(port: int, tmp_path: Path) -> Settings:
    ns = uuid.uuid4().hex[:10]
    return Settings(
        bootstrap=f"127.0.0.1:{port}",
        raw_topic=f"t{ns}.raw",
        prepared_topic=f"t{ns}.prepared",
        stories_topic=f"t{ns}.stories",
        dead_letter_topic=f"t{ns}.deadletter",
        app_id=f"test-{ns}",
        session_timeout_s=4.0,
        data_dir=str(tmp_path / f"w-{ns}"),
        raw_partitions=1,
        wait_for_broker_s=60.0,
        entities=False,
    )


def _jsonl(tmp_path: Path, aid: str) -> Path:
    import random

    title, body = story_text(random.Random(aid))
    path = tmp_path / f"{aid}.jsonl"
    path.write_bytes(orjson.dumps(article(aid, title, body, "down.example")) + b"\n")
    return path


def _publish(settings: Settings, path: Path, wait: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "publish", "--wait", str(wait), str(path)],
        env=settings_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_publisher_without_wait_fails_fast_with_a_clear_message(tmp_path: Path) -> None:
    settings = _offline_settings(free_port(), tmp_path)
    start = time.monotonic()
    proc = _publish(settings, _jsonl(tmp_path, "nowait-1"), wait=0)
    out, _ = proc.communicate(timeout=30)
    took = time.monotonic() - start
    assert proc.returncode == 2, out
    assert took < 8.0, f"took {took:.1f}s"  # process start + one probe (3 s timeout)
    assert "unreachable" in out and settings.bootstrap in out, out


def test_worker_and_publisher_wait_for_the_broker_then_proceed(tmp_path: Path) -> None:
    port = free_port()
    settings = _offline_settings(port, tmp_path)
    worker = start_worker(settings, tmp_path / "worker.log")
    publisher = _publish(settings, _jsonl(tmp_path, "waited-1"), wait=45)
    broker = None
    try:
        deadline = time.monotonic() + 30
        while worker.log().count("not reachable yet") < 2:  # it said so, and retried
            assert worker.proc.poll() is None, worker.log()
            assert time.monotonic() < deadline, worker.log()
            time.sleep(0.3)
        assert publisher.poll() is None, "publisher gave up before its --wait"
        broker = start_broker(port=port, log_path=tmp_path / "broker.log")
        out, _ = publisher.communicate(timeout=60)
        assert publisher.returncode == 0, out
        assert "published 1" in out, out
        c = collect_until(settings, lambda c: len(c.stories) >= 1, timeout_s=120, worker=worker)
        assert [m["article_id"] for s in c.stories.values() for m in s["members"]] == ["waited-1"]
        log = worker.log_path.read_text("utf-8", errors="replace")
        assert "retrying in" in log and "is up" in log, log
    finally:
        worker.stop()
        if publisher.poll() is None:
            publisher.kill()
        if broker is not None:
            broker.stop()


def test_worker_gives_up_clearly_when_told_not_to_wait(tmp_path: Path) -> None:
    settings = _offline_settings(free_port(), tmp_path)
    env = {**settings_env(settings), "PIPELINE_WAIT_FOR_BROKER_S": "0"}
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "worker"], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1, proc.stderr
    assert "unreachable" in proc.stderr and "PIPELINE_BOOTSTRAP" in proc.stderr, proc.stderr
    assert os.environ.get("PIPELINE_BOOTSTRAP") != settings.bootstrap
