"""aiokafka helpers for the edges: broker reachability, topic creation, producing, consuming.

Nothing here knows about article text; stages never import this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError

from pipeline.settings import Settings

log = logging.getLogger(__name__)


class BrokerUnavailable(RuntimeError):
    """The Kafka bootstrap could not be reached in the time allowed."""


async def _probe(settings: Settings) -> None:
    admin = AIOKafkaAdminClient(request_timeout_ms=3000, **settings.kafka_client_kwargs())
    try:
        await admin.start()
        await admin.list_topics()
    finally:
        await admin.close()


async def wait_for_broker(
    settings: Settings, timeout_s: float, say: Callable[[str], None] | None = None
) -> None:
    """Return once the broker answers; retry with exponential backoff up to ``timeout_s``.

    ``timeout_s == 0`` means one attempt. Raises :class:`BrokerUnavailable` with a clear message.
    """
    deadline = time.monotonic() + timeout_s
    delay = 0.25
    attempt = 0
    while True:
        attempt += 1
        try:
            await asyncio.wait_for(_probe(settings), timeout=max(3.0, min(10.0, timeout_s)))
            if attempt > 1 and say:
                say(f"broker {settings.bootstrap} is up (after {attempt} attempts)")
            return
        except (KafkaError, OSError, TimeoutError) as exc:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrokerUnavailable(
                    f"Kafka broker at {settings.bootstrap} is unreachable "
                    f"({type(exc).__name__}: {exc or 'no answer'}); gave up after {attempt} attempt(s). "
                    "Start one with `pipeline broker` or set PIPELINE_BOOTSTRAP."
                ) from None
            if say:
                say(
                    f"broker {settings.bootstrap} not reachable yet ({type(exc).__name__}); "
                    f"retrying in {delay:.1f}s ({remaining:.0f}s left)"
                )
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * 2, 5.0)


def _pipeline_topics(settings: Settings) -> list[NewTopic]:
    return [
        NewTopic(settings.raw_topic, settings.raw_partitions, 1),
        NewTopic(settings.prepared_topic, 1, 1),
        NewTopic(settings.stories_topic, settings.raw_partitions, 1),
        NewTopic(settings.dead_letter_topic, 1, 1),
    ]


async def ensure_topics(settings: Settings) -> None:
    """Create the pipeline's topics if missing (idempotent)."""
    wanted = _pipeline_topics(settings)
    admin = AIOKafkaAdminClient(**settings.kafka_client_kwargs())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t.name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
            log.info("created topics %s", ", ".join(t.name for t in missing))
    finally:
        await admin.close()


def topics_of(settings: Settings, names: Iterable[str]) -> list[str]:
    """Of ``names``, the topics these settings use: the four pipeline topics, and every topic
    of the app (Faust's table changelogs and assignor topic, a prepare-only worker's app), named
    ``<app id>-...``."""
    own = {t.name for t in _pipeline_topics(settings)}
    return sorted(n for n in names if n in own or n.startswith(f"{settings.app_id}-"))


async def delete_topics_of(settings: Settings) -> list[str]:
    """Delete the topics of :func:`topics_of` (a benchmark run's namespace when it is done: the
    embedded broker keeps every message in memory, about 100 MB per 3,000-article bench
    run, until its topics are deleted). Returns the names deleted."""
    admin = AIOKafkaAdminClient(**settings.kafka_client_kwargs())
    await admin.start()
    try:
        names = topics_of(settings, await admin.list_topics())
        if names:
            await admin.delete_topics(names)
        return names
    finally:
        await admin.close()


# A partition's batch is readable by consumers once its produce request is stored. One worker,
# 3,000 articles published at once (2026-12-04), batches of 16 KiB / 64 KiB / 256 KiB / 1 MiB:
# publishing took 0.60 / 0.22-0.24 / 0.11-0.12 / 0.13 s, the worker started 91 / 70-85 / 96-109 /
# 117-179 ms in, and the run reached 990-1,033 / 1,034-1,074 / 1,070-1,071 / 1,005-1,039 articles/s.
PUBLISH_BATCH_BYTES = 256 << 10


def make_producer(settings: Settings, **extra: Any) -> AIOKafkaProducer:
    install_flat_produce_encoding()
    return AIOKafkaProducer(
        acks="all",
        linger_ms=5,
        max_batch_size=PUBLISH_BATCH_BYTES,
        max_request_size=max(settings.max_message_bytes + 65536, 1 << 20),
        request_timeout_ms=15000,
        **settings.kafka_client_kwargs(),
        **extra,
    )


async def confirmed_end_offsets(
    settings: Settings, reported: dict[TopicPartition, int], timeout_s: float = 5.0
) -> dict[TopicPartition, int]:
    """End offsets checked against a fetch: ``reported`` raised to the fetch's high watermark.

    The embedded broker (Tansu 0.6, memory storage) answers ListOffsets(latest) with the first
    offset of a partition's last record batch plus one, not the offset after its last record:
    after batches of 3 and then 7 records it reports 4, not 10 (measured). A fetch from just
    before that offset returns the true high watermark. On Apache Kafka both agree, and this
    costs one short fetch per call.
    """
    todo = {tp: end for tp, end in reported.items() if end is not None and end > 0}
    if not todo:
        return dict(reported)
    consumer = AIOKafkaConsumer(
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=max(settings.max_message_bytes * 2, 1 << 20),
        **settings.kafka_client_kwargs(),
    )
    out = dict(reported)
    await consumer.start()
    try:
        tps = list(todo)
        consumer.assign(tps)
        for tp, end in todo.items():
            consumer.seek(tp, end - 1)
        deadline = time.monotonic() + timeout_s
        pending = set(tps)
        while pending and time.monotonic() < deadline:
            await consumer.getmany(*pending, timeout_ms=200, max_records=1)
            for tp in list(pending):
                high = consumer.highwater(tp)
                if high is not None:
                    out[tp] = max(todo[tp], high)
                    pending.discard(tp)
        if pending:
            log.warning("could not confirm the end offset of %s; using the broker's answer", sorted(pending))
    finally:
        await consumer.stop()
    return out


def install_end_offset_check(settings: Settings) -> None:
    """Make every ``AIOKafkaConsumer.end_offsets`` in this process confirm its answer with a fetch
    (:func:`confirmed_end_offsets`). Faust rebuilds its tables from their changelogs up to these
    offsets: with the broker's short answer it skipped the last batch of each changelog, so a
    restarted worker lost the story updates of its last moments (measured: 8-13 of 2,000 articles
    missing after a restart under load). Idempotent."""
    original = AIOKafkaConsumer.end_offsets
    if getattr(original, "_pipeline_checked", False):
        return

    async def end_offsets(self: AIOKafkaConsumer, partitions: Any) -> dict[TopicPartition, int]:
        reported = await original(self, partitions)
        return await confirmed_end_offsets(settings, dict(reported))

    end_offsets._pipeline_checked = True  # type: ignore[attr-defined]
    AIOKafkaConsumer.end_offsets = end_offsets


def install_fetch_max_wait(wait_ms: int) -> None:
    """Make the consumers Faust creates for its workers wait at most ``wait_ms`` per fetch.

    Faust passes ``fetch_max_wait_ms=1500`` to aiokafka, fixed. Kafka answers a fetch as soon as
    data arrives, so the value only bounds an idle poll there; the embedded Tansu holds a fetch
    for its whole wait, so each stage that had caught up with its input (the story agent waiting
    for the next prepared batch, a prepare agent for raw articles) received new messages up to
    1.5 s late and then caught up in a burst. Idempotent; the last value given wins.
    """
    from faust.transport.drivers import aiokafka as driver

    cls = driver.AIOKafkaConsumerThread
    original = getattr(cls._create_worker_consumer, "_pipeline_original", cls._create_worker_consumer)

    def create_worker_consumer(self: Any, transport: Any) -> AIOKafkaConsumer:
        consumer = original(self, transport)
        consumer._fetch_max_wait_ms = wait_ms  # read by AIOKafkaConsumer.start() for its fetcher
        return consumer

    create_worker_consumer._pipeline_original = original  # type: ignore[attr-defined]
    cls._create_worker_consumer = create_worker_consumer  # type: ignore[method-assign]


# aiokafka encodes a produce request through its generic schema classes, which join the bytes
# of every nesting level separately (Bytes, partition, partition array, topic, topic array,
# request): each record batch is copied about six times. One worker, entities off, sends about
# 23 KB per article (prepared pack, story, two changelogs); py-spy put 4% of its CPU there. The
# same bytes joined once: 0.034 ms instead of 0.67 ms per 1 MB request (10 batches, this machine).
_PRODUCE_FIELDS = ("required_acks", "timeout", "topics")
_INT16 = struct.Struct(">h")
_INT32 = struct.Struct(">i")
_INT16_INT32 = struct.Struct(">hi")
_INT32_INT32 = struct.Struct(">ii")


def _kafka_string(value: str | None) -> bytes:
    if value is None:
        return _INT16.pack(-1)
    data = str(value).encode("utf-8")
    return _INT16.pack(len(data)) + data


def encode_produce_request(request: Any) -> bytes:
    """The bytes aiokafka's ``ProduceRequest_vN.encode()`` makes (v0-v8: an optional
    transactional id, acks, timeout, then per topic its name and per partition its record batch),
    with every part joined once."""
    fields = request.__dict__
    parts: list[bytes | bytearray | memoryview] = []
    if "transactional_id" in fields:  # v3 and later
        parts.append(_kafka_string(fields["transactional_id"]))
    parts.append(_INT16_INT32.pack(fields["required_acks"], fields["timeout"]))
    topics = fields["topics"]
    if topics is None:
        parts.append(_INT32.pack(-1))
        return b"".join(parts)
    parts.append(_INT32.pack(len(topics)))
    for topic, partitions in topics:
        parts.append(_kafka_string(topic))
        if partitions is None:
            parts.append(_INT32.pack(-1))
            continue
        parts.append(_INT32.pack(len(partitions)))
        for partition, records in partitions:
            if records is None:
                parts.append(_INT32_INT32.pack(partition, -1))
            else:
                parts.append(_INT32_INT32.pack(partition, len(records)))
                parts.append(records)
    return b"".join(parts)


def install_flat_produce_encoding() -> bool:
    """Make aiokafka's produce requests (every producer in this process) encode through
    :func:`encode_produce_request`. Only request classes whose schema is the one it writes are
    changed (checked field by field, so another aiokafka version that changed the layout keeps
    its own encoder). Idempotent; returns whether every version was changed."""
    from aiokafka.protocol import produce
    from aiokafka.protocol.types import Array, Bytes, Int16, Int32, String

    def utf8(field: Any) -> bool:
        return isinstance(field, String) and field.encoding == "utf-8"

    def layout_known(schema: Any) -> bool:
        names, types = list(schema.names), list(schema.fields)
        if names and names[0] == "transactional_id":
            if not utf8(types[0]):
                return False
            names, types = names[1:], types[1:]
        if tuple(names) != _PRODUCE_FIELDS or types[0] is not Int16 or types[1] is not Int32:
            return False
        topics = types[2]
        if not isinstance(topics, Array) or list(topics.array_of.names) != ["topic", "partitions"]:
            return False
        topic, partitions = topics.array_of.fields
        if not utf8(topic) or not isinstance(partitions, Array):
            return False
        return list(partitions.array_of.names) == ["partition", "messages"] and list(
            partitions.array_of.fields
        ) == [Int32, Bytes]

    all_known = True
    for version in range(9):
        cls = getattr(produce, f"ProduceRequest_v{version}", None)
        if cls is None:
            continue
        if cls.__dict__.get("encode") is encode_produce_request:
            continue
        if layout_known(cls.SCHEMA):
            cls.encode = encode_produce_request
        else:
            all_known = False
            log.warning("aiokafka %s: unexpected layout, left as it is", cls.__name__)
    return all_known


class RangeReader:
    """Reads given offset ranges of a partition back from the broker (no consumer group)."""

    def __init__(self, settings: Settings, timeout_s: float = 10.0) -> None:
        self.settings = settings
        self.timeout_s = timeout_s

    async def committed(self, group: str, topic: str, partition: int) -> int | None:
        """The consumer group's committed offset of the partition (None when it has none)."""
        tp = TopicPartition(topic, partition)
        admin = AIOKafkaAdminClient(
            request_timeout_ms=int(self.timeout_s * 1000), **self.settings.kafka_client_kwargs()
        )
        await admin.start()
        try:
            offsets = await admin.list_consumer_group_offsets(group, partitions=[tp])
        finally:
            await admin.close()
        meta = offsets.get(tp)
        return meta.offset if meta is not None and meta.offset >= 0 else None

    async def start_offset(self, group: str, topic: str, partition: int) -> int:
        """Where the group goes on in the partition: its committed offset, or the partition's first
        offset when it has committed none (consumers start at the earliest offset)."""
        committed = await self.committed(group, topic, partition)
        if committed is not None:
            return committed
        tp = TopicPartition(topic, partition)
        consumer = AIOKafkaConsumer(
            enable_auto_commit=False, group_id=None, **self.settings.kafka_client_kwargs()
        )
        await consumer.start()
        try:
            first = await consumer.beginning_offsets([tp])
        finally:
            await consumer.stop()
        return int(first[tp])

    async def read(self, topic: str, partition: int, start: int, end: int) -> list[Any]:
        """The records with ``start <= offset < end`` (fewer when some offsets hold no record, such
        as transaction markers). Raises TimeoutError when the broker does not deliver in time."""
        tp = TopicPartition(topic, partition)
        consumer = AIOKafkaConsumer(
            enable_auto_commit=False,
            group_id=None,
            auto_offset_reset="earliest",
            # as large as the worker's own fetches: any message it can receive, this reads back
            max_partition_fetch_bytes=max(self.settings.max_message_bytes * 2, 4 << 20),
            **self.settings.kafka_client_kwargs(),
        )
        await consumer.start()
        try:
            consumer.assign([tp])
            consumer.seek(tp, start)
            out: list[Any] = []
            deadline = time.monotonic() + self.timeout_s
            while await consumer.position(tp) < end:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{topic}[{partition}] offsets {start}..{end - 1} not read in {self.timeout_s:.0f} s"
                    )
                batch = await consumer.getmany(tp, timeout_ms=200)
                out.extend(r for r in batch.get(tp, []) if start <= r.offset < end)
            return out
        finally:
            await consumer.stop()


async def read_topic(
    settings: Settings,
    topic: str,
    *,
    from_beginning: bool,
    follow: bool,
    idle_timeout_s: float = 2.0,
) -> AsyncIterator[Any]:
    """Yield ConsumerRecords of ``topic`` without a consumer group (no offsets committed).

    Without ``follow``, stops once every partition is read up to its end offset as of the start.
    """
    consumer = AIOKafkaConsumer(
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest" if from_beginning else "latest",
        fetch_max_bytes=16 << 20,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        max_partition_fetch_bytes=max(settings.max_message_bytes * 2, 1 << 20),
        **settings.kafka_client_kwargs(),
    )
    await consumer.start()
    try:
        parts: set[int] = set()
        waited = time.monotonic()
        while True:  # the topic may not exist yet, or its metadata may lag behind its creation
            await consumer.topics()  # refreshes cluster metadata
            parts = consumer.partitions_for_topic(topic) or set()
            if parts:
                break
            if not follow and time.monotonic() - waited > idle_timeout_s:
                return
            await asyncio.sleep(0.25)
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        ends = await confirmed_end_offsets(settings, dict(await consumer.end_offsets(tps))) if tps else {}
        if from_beginning:
            await consumer.seek_to_beginning(*tps)
        else:
            for tp in tps:  # not seek_to_end: the broker's own answer can be short (see above)
                consumer.seek(tp, ends[tp])
        last_data = time.monotonic()
        while True:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for record in records:
                    yield record
                    last_data = time.monotonic()
            if not follow:
                positions = {tp: await consumer.position(tp) for tp in tps}
                if all(positions[tp] >= ends[tp] for tp in tps):
                    return
                if not batch and time.monotonic() - last_data > max(idle_timeout_s, 10.0):
                    return
    finally:
        await consumer.stop()


__all__ = [
    "BrokerUnavailable",
    "KafkaConnectionError",
    "RangeReader",
    "ensure_topics",
    "make_producer",
    "read_topic",
    "wait_for_broker",
]
