"""``pipeline demo``: broker + worker + bundled sample feed in, canonical stories out, live."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from rich.live import Live
from rich.markup import escape

from pipeline.cli._common import err, out, settings_from
from pipeline.cli._render import story_table

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "sample_feed.jsonl"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="start the embedded broker and a worker, publish the bundled sample feed, show stories live",
        description="Runs until Ctrl-C, SIGTERM or --exit-after, then prints a summary. Everything runs on "
        "loopback; nothing is kept (the work folder with the logs is removed on exit).",
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
    from pipeline.broker import (
        BrokerError,
        EmbeddedBroker,
        die_with_parent,
        free_port,
        port_open,
        start_broker,
    )
    from pipeline.kafka import ensure_topics

    started = time.monotonic()
    base = settings_from(args)
    port = base.broker_port if not port_open(base.broker_host, base.broker_port) else free_port()
    workdir = Path(tempfile.mkdtemp(prefix="pipeline-demo-"))
    board = _Board(live=not args.json)
    broker: EmbeddedBroker | None = None
    worker: subprocess.Popen[bytes] | None = None
    previous_term = signal.signal(signal.SIGTERM, _term_as_interrupt)
    try:
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
        err.print(f"broker on {broker.bootstrap}; logs in {workdir} (removed on exit)")
        asyncio.run(ensure_topics(settings))
        env = settings.to_env()
        with (workdir / "worker.log").open("wb") as wlog:
            worker = subprocess.Popen(
                [sys.executable, "-m", "pipeline", "worker"],
                env=env,
                stdout=wlog,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent(),
            )
        published = asyncio.run(_publish_sample(settings, args.sample))
        err.print(f"published {published} sample articles from {args.sample.name}; waiting for stories...")
        asyncio.run(_show(settings, args, started, worker, workdir / "worker.log", board))
    except KeyboardInterrupt:
        pass  # Ctrl-C, or SIGTERM (see _term_as_interrupt): stop as below, like --exit-after
    finally:
        try:
            board.stop()  # the final table stays on screen, once
            if worker is not None:
                err.print(board.summary())
        finally:
            _stop(worker, broker, workdir)
            signal.signal(signal.SIGTERM, previous_term)
    return 0


def _term_as_interrupt(signum: int, frame: Any) -> None:
    """SIGTERM (``timeout``, ``kill``, a process manager) stops the demo the way Ctrl-C does."""
    if callable(signal.getsignal(signal.SIGINT)):
        # Python's handler, or asyncio's while a loop runs (it cancels the main task cleanly)
        signal.raise_signal(signal.SIGINT)
    else:  # SIGINT ignored (e.g. started in the background by a script)
        raise KeyboardInterrupt


def _stop(worker: subprocess.Popen[bytes] | None, broker: Any, workdir: Path) -> None:
    """Stop the worker, then the broker, then remove the work folder; each even if the one before
    it was interrupted (a second Ctrl-C)."""
    try:
        if worker is not None and worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=5)
    finally:
        try:
            if broker is not None:
                broker.stop()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


class _Board:
    """The stories seen so far, the first one's arrival time, and the live table if there is one."""

    def __init__(self, live: bool) -> None:
        self.stories: dict[str, dict[str, Any]] = {}
        self.first_at: float | None = None
        self.live = Live(story_table(self.stories), console=out, refresh_per_second=4) if live else None

    def start(self) -> None:
        if self.live is not None:
            self.live.start()

    def update(self) -> None:
        if self.live is not None:
            self.live.update(story_table(self.stories))

    def say(self, message: str) -> None:
        """A status line. While the table is live on the terminal it goes above the table, through
        the table's console: printed straight to stderr, the next refresh would draw over it."""
        if self.live is not None and self.live.is_started and out.is_terminal and err.is_terminal:
            out.print(message)
        else:
            err.print(message)

    def stop(self) -> None:
        if self.live is not None and self.live.is_started:
            self.live.stop()
            if not out.is_terminal:
                out.line()  # rich ends the line after the final table only on a terminal

    def summary(self) -> str:
        if self.first_at is None:
            return "no story arrived"
        members = sum(len(s["members"]) for s in self.stories.values())
        return f"{len(self.stories)} stories from {members} articles; first story after {self.first_at:.1f}s"


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
    settings: Any,
    args: argparse.Namespace,
    started: float,
    worker: subprocess.Popen[bytes],
    worker_log: Path,
    board: _Board,
) -> None:
    import orjson

    from pipeline.kafka import read_topic

    last_change = time.monotonic()
    board.start()
    queue: asyncio.Queue[Any] = asyncio.Queue()

    async def pump() -> None:
        async for rec in read_topic(settings, settings.stories_topic, from_beginning=True, follow=True):
            await queue.put(rec)

    reader = asyncio.create_task(pump())
    try:
        while True:
            try:
                # not wait_for: on 3.11 it can swallow the cancellation that Ctrl-C (and SIGTERM)
                # deliver, when the get completes at the same moment; timeout() passes it on
                async with asyncio.timeout(0.5):
                    record = await queue.get()
            except TimeoutError:
                record = None
            if reader.done():
                reader.result()  # re-raise a consumer failure
                break
            if worker.poll() is not None:
                # its log goes with the work folder: show the end of it now
                tail = worker_log.read_text("utf-8", errors="replace").strip().splitlines()[-15:]
                board.say(
                    f"[red]worker exited with code {worker.returncode}; the end of its log:[/red]\n"
                    + escape("\n".join(tail))
                )
                break
            if record is not None:
                story = orjson.loads(record.value)
                board.stories[story["story_id"]] = story
                last_change = time.monotonic()
                if board.first_at is None:
                    board.first_at = last_change - started
                    board.say(f"first story after {board.first_at:.1f}s")
                if args.json:
                    sys.stdout.write(orjson.dumps(story).decode() + "\n")
                    sys.stdout.flush()
                else:
                    board.update()
            if (
                args.exit_after is not None
                and board.first_at is not None
                and (time.monotonic() - last_change > args.exit_after)
            ):
                break
    finally:
        reader.cancel()
