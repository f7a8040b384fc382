"""Soak run: publish generated articles for M minutes against a real broker and a worker process,
sample the worker's resident memory and consumer lag, then reconcile every raw message.

Not a test: a command (``pipeline soak``) whose table shows whether the worker keeps up (lag) and
whether its memory stays bounded over time, and whose closing lines count the payloads tried,
the messages processed, and how many were lost or doubled.

The mix: new stories, exact copies of recent ones (another id, URL and source), light rewrites (a
sentence added) and a share of bad payloads (not JSON, invalid UTF-8, missing fields, oversize)
that must end in the dead-letter topic. Topic names and the consumer group are fresh per run.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
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
from aiokafka import TopicPartition

from pipeline.api import encode_article
from pipeline.errors import StageError
from pipeline.kafka import ensure_topics, make_producer, wait_for_broker
from pipeline.reconcile import Report, reconcile_topics
from pipeline.settings import Settings

_SYLLABLES = (
    "ka",
    "ven",
    "mor",
    "lis",
    "tan",
    "ro",
    "bel",
    "dri",
    "su",
    "gal",
    "fen",
    "op",
    "ri",
    "mau",
    "sel",
    "tor",
    "ny",
    "quel",
    "har",
    "zo",
    "pim",
    "do",
    "lek",
    "ast",
)


def pseudo_word(rng: random.Random, capital: bool = False) -> str:
    """A made-up word of 2-4 syllables (capitalised for names): text no corpus contains."""
    w = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
    return w.capitalize() if capital else w


_THINGS = ("ferry pier", "water plant", "library", "bridge", "school roof", "bus depot", "harbour wall")


@dataclass(frozen=True)
class SoakConfig:
    minutes: float = 3.0
    rate: float | None = None  # messages per second; None = as fast as the publisher can
    sample_s: float = 10.0
    bad_share: float = 0.05
    copy_share: float = 0.25
    rewrite_share: float = 0.10
    drain_minutes: float = 15.0
    seed: int = 1


@dataclass
class Sample:
    t: float
    published: int
    raw_end: int
    committed: int
    lag: int
    rss_mib: float


@dataclass
class SoakResult:
    published: int = 0
    good: int = 0
    bad: int = 0
    refused: int = 0  # refused by the publisher's own checks (not sent)
    samples: list[Sample] = field(default_factory=list)
    report: Report | None = None
    drained: bool = False
    publish_s: float = 0.0


class ArticleMaker:
    """Generated small articles: new stories, copies, rewrites, bad payloads."""

    def __init__(self, config: SoakConfig, max_bytes: int) -> None:
        self.rng = random.Random(config.seed)
        self.config = config
        self.max_bytes = max_bytes
        self.recent: list[dict[str, Any]] = []
        self.n = 0

    def _word(self, capital: bool = False) -> str:
        return pseudo_word(self.rng, capital)

    def _sentence(self, n: int) -> str:
        return " ".join(self._word(self.rng.random() < 0.2) for _ in range(n)).capitalize() + "."

    def _new(self, aid: str) -> dict[str, Any]:
        place, thing = self._word(True), self.rng.choice(_THINGS)
        body = (
            f"{place} said on Monday that the {thing} will close. {self._sentence(12)}\n\n"
            f"{self._word(True)} {self._word(True)} said {self.rng.randint(2, 900)} {self._word()} "
            f"cost {self.rng.randint(1000, 99999)} euros. {self._sentence(14)}\n\n{self._sentence(16)}"
        )
        return {
            "id": aid,
            "url": f"https://soak{self.rng.randint(0, 9)}.example/{aid}",
            "source": f"soak{self.rng.randint(0, 9)}.example",
            "content_type": "text/plain",
            "title": f"{place} {thing} to close",
            "content": body,
        }

    def next(self) -> tuple[bytes, bytes | None, bool]:
        """(key, value, valid): ``valid`` False for a payload meant to be dead-lettered."""
        self.n += 1
        aid = f"soak-{self.config.seed}-{self.n}"
        roll = self.rng.random()
        c = self.config
        if roll < c.bad_share:
            kind = self.rng.randrange(5)
            value: bytes | None = [
                b'{"id": "' + aid.encode() + b'", "url": ',
                b'{"id": "' + aid.encode() + b'", "content": "caf\xe9"}',
                orjson.dumps({"id": aid, "content": "no url or source"}),
                orjson.dumps({**self._new(aid), "content": "x" * (self.max_bytes + 1)}),
                orjson.dumps({**self._new(aid), "content": "\n \t "}),
            ][kind]
            return aid.encode(), value, False
        if self.recent and roll < c.bad_share + c.copy_share:
            src = self.rng.choice(self.recent)
            doc = {**src, "id": aid, "url": f"https://mirror.example/{aid}", "source": "mirror.example"}
        elif self.recent and roll < c.bad_share + c.copy_share + c.rewrite_share:
            src = self.rng.choice(self.recent)
            doc = {
                **src,
                "id": aid,
                "url": f"https://rewrite.example/{aid}",
                "source": "rewrite.example",
                "content": src["content"] + "\n\n" + self._sentence(8),
            }
        else:
            doc = self._new(aid)
            self.recent.append(doc)
            if len(self.recent) > 500:
                self.recent.pop(0)
        return aid.encode(), orjson.dumps(doc), True


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


async def group_lag(settings: Settings) -> tuple[int, int]:
    """(end offsets, committed offsets) summed over the raw and prepared topics for the worker group.

    Committed offsets are read with a consumer in the worker's group that never joins it (no
    subscription, OffsetFetch only); the admin client's ListConsumerGroupOffsets does not decode
    the embedded broker's answer.
    """
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        group_id=settings.app_id, enable_auto_commit=False, **settings.kafka_client_kwargs()
    )
    await consumer.start()
    try:
        await consumer.topics()
        tps = [
            TopicPartition(t, p)
            for t in (settings.raw_topic, settings.prepared_topic)
            for p in sorted(consumer.partitions_for_topic(t) or ())
        ]
        ends = await consumer.end_offsets(tps) if tps else {}
        done = 0
        for tp in tps:
            # Faust may commit one past the end offset; a partition is never more than done
            done += min(await consumer.committed(tp) or 0, ends[tp])
        return sum(ends.values()), done
    finally:
        await consumer.stop()


def worker_env(settings: Settings) -> dict[str, str]:
    return settings.to_env()


async def _publish(settings: Settings, config: SoakConfig, result: SoakResult, stop_at: float) -> None:
    maker = ArticleMaker(config, settings.max_message_bytes)
    # The producer accepts more than the pipeline's limit so oversize payloads reach the worker.
    producer = make_producer(settings)
    await producer.start()
    start = time.monotonic()
    pending: list[asyncio.Future[Any]] = []
    try:
        while time.monotonic() < stop_at:
            key, value, valid = maker.next()
            if valid:
                try:
                    _, value = encode_article(orjson.loads(value or b""), settings.max_message_bytes)
                except StageError:
                    result.refused += 1
                    continue
                result.good += 1
            else:
                result.bad += 1
            pending.append(await producer.send(settings.raw_topic, value=value, key=key))
            result.published += 1
            if len(pending) >= 500:
                await asyncio.gather(*pending)
                pending.clear()
            if config.rate:
                ahead = result.published / config.rate - (time.monotonic() - start)
                if ahead > 0:
                    await asyncio.sleep(ahead)
            elif result.published % 200 == 0:
                await asyncio.sleep(0)  # let the sampler run
        await asyncio.gather(*pending)
        await producer.flush()
    finally:
        await producer.stop()
        result.publish_s = time.monotonic() - start


async def _sampler(
    settings: Settings,
    pid: int,
    result: SoakResult,
    t0: float,
    config: SoakConfig,
    say: Callable[[str], None],
    stop: asyncio.Event,
) -> None:
    while not stop.is_set():
        try:
            ends, done = await group_lag(settings)
        except Exception as exc:  # a slow answer must not end the soak; show it
            say(f"  (lag sample failed: {type(exc).__name__}: {exc})")
            ends, done = -1, 0
        s = Sample(time.monotonic() - t0, result.published, ends, done, ends - done, rss_mib(pid))
        result.samples.append(s)
        say(f"{s.t:7.0f} {s.published:10d} {s.raw_end:10d} {s.committed:10d} {s.lag:9d} {s.rss_mib:9.1f}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=config.sample_s)


async def _run(settings: Settings, config: SoakConfig, pid: int, say: Callable[[str], None]) -> SoakResult:
    result = SoakResult()
    t0 = time.monotonic()
    stop = asyncio.Event()
    say("lag = end offsets minus the worker group's committed offsets, raw + prepared topics")
    say(f"{'t (s)':>7} {'published':>10} {'end offs':>10} {'committed':>10} {'lag':>9} {'RSS MiB':>9}")
    sampler = asyncio.create_task(_sampler(settings, pid, result, t0, config, say, stop))
    await _publish(settings, config, result, t0 + config.minutes * 60)
    say(
        f"-- publishing stopped after {result.publish_s:.0f}s: {result.published} sent "
        f"({result.published / max(result.publish_s, 1e-9):.0f}/s); draining --"
    )
    deadline = time.monotonic() + config.drain_minutes * 60
    while time.monotonic() < deadline:
        await asyncio.sleep(2)
        last = result.samples[-1] if result.samples else None
        if last is not None and last.published == result.published and last.lag == 0 and last.raw_end >= 0:
            result.drained = True
            break
    await asyncio.sleep(config.sample_s / 2)
    stop.set()
    await sampler
    # Offsets are committed after processing; the last stories may need a moment more to land.
    for _ in range(30):
        result.report = await reconcile_topics(settings)
        if not result.report.missing:
            break
        await asyncio.sleep(2)
    return result


def run_soak(base: Settings, config: SoakConfig, *, external: bool, say: Callable[[str], None]) -> SoakResult:
    """Start a broker (unless ``external``) and a worker, soak, reconcile, stop both."""
    from pipeline.broker import start_broker

    ns = uuid.uuid4().hex[:8]
    settings = base.replace(
        raw_topic=f"soak{ns}.raw",
        prepared_topic=f"soak{ns}.prepared",
        stories_topic=f"soak{ns}.stories",
        dead_letter_topic=f"soak{ns}.deadletter",
        app_id=f"soak-{ns}",
        data_dir=f"/tmp/news-pipeline-soak-{ns}",
        session_timeout_s=min(base.session_timeout_s, 6.0),
        # oversize payloads are limit + 1 bytes; a lower limit keeps the memory-only broker small
        max_message_bytes=min(base.max_message_bytes, 256 * 1024),
    )
    # SIGTERM (e.g. from `timeout`) unwinds like Ctrl-C, so the worker and broker are stopped
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    broker = None
    if not external:
        broker = start_broker(log_path=Path(f"/tmp/pipeline-soak-{ns}-broker.log"))
        settings = settings.replace(bootstrap=broker.bootstrap)
    log_path = Path(f"/tmp/pipeline-soak-{ns}-worker.log")
    worker = None
    try:
        asyncio.run(wait_for_broker(settings, settings.wait_for_broker_s, say=say))
        asyncio.run(ensure_topics(settings))
        with log_path.open("wb") as fh:
            worker = subprocess.Popen(
                [sys.executable, "-m", "pipeline", "worker"],
                env=worker_env(settings),
                stdout=fh,
                stderr=subprocess.STDOUT,
            )
        say(
            f"broker {settings.bootstrap}, worker pid {worker.pid} (log {log_path}), topics soak{ns}.*, "
            f"{config.minutes:g} min at {f'{config.rate:g}/s' if config.rate else 'full speed'}"
        )
        return asyncio.run(_run(settings, config, worker.pid, say))
    finally:
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
        if broker is not None:
            broker.stop()


def summary(result: SoakResult) -> str:
    rep = result.report
    rss = [s.rss_mib for s in result.samples if s.rss_mib == s.rss_mib]
    lags = [s.lag for s in result.samples if s.lag >= 0]
    lines = [
        f"payloads tried:      {result.published + result.refused} "
        f"({result.good} articles, {result.bad} bad payloads, {result.refused} refused by the publisher)",
        f"messages processed:  {rep.raw_messages if rep else 0} "
        f"({rep.in_stories if rep else 0} in {rep.stories if rep else 0} stories, "
        f"{rep.dead_lettered if rep else 0} dead-lettered: "
        + (", ".join(f"{k}={v}" for k, v in sorted(rep.reasons.items())) if rep else "")
        + ")",
        f"lost:                {len(rep.missing) if rep else 'n/a'}",
        f"doubled:             {len(rep.doubled) if rep else 'n/a'}",
        f"drained:             {'yes' if result.drained else 'NO (lag left when the drain time ran out)'}",
    ]
    if rss:
        lines.append(f"worker RSS MiB:      first {rss[0]:.0f}, max {max(rss):.0f}, last {rss[-1]:.0f}")
    if lags:
        lines.append(f"lag (messages):      max {max(lags)}, last {lags[-1]}")
    return "\n".join(lines)
