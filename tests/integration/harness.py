"""Test harness: a fresh topic namespace and consumer group per test, real worker processes."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from pipeline.kafka import ensure_topics, make_producer, read_topic
from pipeline.settings import Settings


def fresh_settings(bootstrap: str, tmp_path: Path, **overrides: Any) -> Settings:
    """Settings with a fresh topic namespace and consumer group; the topics are created."""
    ns = f"t{uuid.uuid4().hex[:10]}"
    values: dict[str, Any] = dict(
        session_timeout_s=4.0, data_dir=str(tmp_path / f"worker-{ns}"), raw_partitions=2
    )
    values.update(overrides)
    settings = Settings(bootstrap=bootstrap).namespaced(ns, **values)
    asyncio.run(ensure_topics(settings))
    return settings


def settings_env(settings: Settings) -> dict[str, str]:
    return settings.to_env()


@dataclass
class WorkerProcess:
    proc: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")[-6000:]

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def start_worker(settings: Settings, log_path: Path, *extra: str) -> WorkerProcess:
    fh = log_path.open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "worker", *extra],
        env=settings_env(settings),
        stdout=fh,
        stderr=subprocess.STDOUT,
    )
    return WorkerProcess(proc, log_path)


async def publish_values(settings: Settings, values: list[tuple[bytes | None, bytes | None]]) -> None:
    """Send raw (key, value) pairs to the raw topic, bypassing the publisher's validation."""
    producer = make_producer(settings)
    await producer.start()
    try:
        for key, value in values:
            await producer.send(settings.raw_topic, value=value, key=key)
        await producer.flush()
    finally:
        await producer.stop()


def article_value(doc: dict[str, Any]) -> tuple[bytes, bytes]:
    return doc["id"].encode(), orjson.dumps(doc)


@dataclass
class Collected:
    stories: dict[str, dict[str, Any]] = field(default_factory=dict)  # latest revision per story
    revisions: list[dict[str, Any]] = field(default_factory=list)
    dead: list[dict[str, Any]] = field(default_factory=list)


async def _collect_once(settings: Settings) -> Collected:
    c = Collected()
    async for r in read_topic(settings, settings.stories_topic, from_beginning=True, follow=False):
        story = orjson.loads(r.value)
        c.revisions.append(story)
        prev = c.stories.get(story["story_id"])
        if prev is None or story["revision"] >= prev["revision"]:
            c.stories[story["story_id"]] = story
    async for r in read_topic(settings, settings.dead_letter_topic, from_beginning=True, follow=False):
        c.dead.append(orjson.loads(r.value))
    return c


def collect_until(
    settings: Settings,
    done: Callable[[Collected], bool],
    timeout_s: float,
    worker: WorkerProcess | None = None,
) -> Collected:
    """Poll the output topics until ``done`` holds; fail with the worker's log on timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        c = asyncio.run(_collect_once(settings))
        if done(c):
            return c
        if worker is not None and worker.proc.poll() is not None:
            raise AssertionError(f"worker exited with {worker.proc.returncode}:\n{worker.log()}")
        if time.monotonic() > deadline:
            log = worker.log() if worker else ""
            raise AssertionError(f"timed out: {len(c.stories)} stories, {len(c.dead)} dead letters\n{log}")
        time.sleep(0.5)


def member_count(c: Collected) -> int:
    return sum(len(s["members"]) for s in c.stories.values())
