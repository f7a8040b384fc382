"""``pipeline demo``: broker + worker + bundled sample feed in, canonical stories out, live."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from rich.live import Live

from pipeline.cli._common import err, out, settings_from
from pipeline.cli._render import story_table

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "sample_feed.jsonl"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="start the embedded broker and a worker, publish the bundled sample feed, show stories live",
        description="Runs until Ctrl-C (or --exit-after). Everything runs on loopback; nothing is kept.",
    )
    p.add_argument("--sample", type=Path, default=SAMPLE, help="JSONL of raw articles to publish")
    p.add_argument(
        "--exit-after",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop after this many seconds of no new revisions (for scripts and tests)",
    )
    p.add_argument(
        "--json", action="store_true", help="print each story revision as JSON instead of a live table"
    )
    p.add_argument("--no-entities", action="store_true", help="skip named-entity recognition")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipeline.broker import BrokerError, free_port, port_open, start_broker
    from pipeline.kafka import ensure_topics

    started = time.monotonic()
    base = settings_from(args)
    port = base.broker_port if not port_open(base.broker_host, base.broker_port) else free_port()
    workdir = Path(tempfile.mkdtemp(prefix="pipeline-demo-"))
    try:
        broker = start_broker(base.broker_host, port, log_path=workdir / "broker.log")
    except BrokerError as exc:
        err.print(f"[red]pipeline demo: {exc}[/red]")
        return 1
    settings = base.replace(
        bootstrap=broker.bootstrap,
        app_id=f"demo-{uuid.uuid4().hex[:8]}",
        session_timeout_s=4.0,
        data_dir=str(workdir / "worker"),
        entities=not args.no_entities,
    )
    err.print(f"broker on {broker.bootstrap}; logs in {workdir}")
    worker: subprocess.Popen[bytes] | None = None
    try:
        asyncio.run(ensure_topics(settings))
        env = settings.to_env()
        with (workdir / "worker.log").open("wb") as wlog:
            worker = subprocess.Popen(
                [sys.executable, "-m", "pipeline", "worker"], env=env, stdout=wlog, stderr=subprocess.STDOUT
            )
        published = asyncio.run(_publish_sample(settings, args.sample))
        err.print(f"published {published} sample articles from {args.sample.name}; waiting for stories...")
        asyncio.run(_show(settings, args, started, worker))
    except KeyboardInterrupt:
        err.print("stopping")
    finally:
        if worker is not None and worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
        broker.stop()
    return 0


async def _publish_sample(settings: Any, path: Path) -> int:
    import orjson

    from pipeline.api import Publisher

    async with Publisher(settings, wait_s=10) as pub:
        for line in path.read_bytes().splitlines():
            if line.strip():
                await pub.publish(orjson.loads(line))
        await pub.flush()
        return pub.published


async def _show(
    settings: Any, args: argparse.Namespace, started: float, worker: subprocess.Popen[bytes]
) -> None:
    import orjson

    from pipeline.kafka import read_topic

    stories: dict[str, dict[str, Any]] = {}
    first_at: float | None = None
    last_change = time.monotonic()
    live = None if args.json else Live(story_table(stories), console=out, refresh_per_second=4)
    if live:
        live.start()
    queue: asyncio.Queue[Any] = asyncio.Queue()

    async def pump() -> None:
        async for rec in read_topic(settings, settings.stories_topic, from_beginning=True, follow=True):
            await queue.put(rec)

    reader = asyncio.create_task(pump())
    try:
        while True:
            try:
                record = await asyncio.wait_for(queue.get(), timeout=0.5)
            except TimeoutError:
                record = None
            if reader.done():
                reader.result()  # re-raise a consumer failure
                break
            if worker.poll() is not None:
                err.print(f"[red]worker exited with code {worker.returncode}; see its log[/red]")
                break
            if record is not None:
                story = orjson.loads(record.value)
                stories[story["story_id"]] = story
                last_change = time.monotonic()
                if first_at is None:
                    first_at = last_change - started
                    err.print(f"first story after {first_at:.1f}s")
                if args.json:
                    sys.stdout.write(orjson.dumps(story).decode() + "\n")
                    sys.stdout.flush()
                elif live:
                    live.update(story_table(stories))
            if (
                args.exit_after is not None
                and first_at is not None
                and (time.monotonic() - last_change > args.exit_after)
            ):
                break
    finally:
        reader.cancel()
        if live:
            live.stop()
    members = sum(len(s["members"]) for s in stories.values())
    err.print(
        f"{len(stories)} stories from {members} articles; first story after {first_at:.1f}s"
        if first_at is not None
        else "no story arrived"
    )
