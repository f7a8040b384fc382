"""Thin Faust wiring: decode -> call a stage -> send. No text logic lives here.

Topology (see README):
    raw (N partitions) --[prepare agent: decode, validate, clean, fingerprint, enrich]--> prepared (1)
        (one message per batch: the batch's prepared articles as a JSON array, see pack_prepared)
    prepared --[story agent: dedup index + story state in tables]--> stories (keyed by story id)
        (a worker running both agents takes its own prepared articles straight to its story stage
        while it holds the prepared partition: Settings.direct_story)
    any failure --> dead-letter topic (original bytes: the message's, or the article's own JSON for
        an article of a prepared pack; topic/partition/offset, stage, reason)

The story agent's state lives in two Faust tables with changelog topics (``dedup-entries``,
``story-state``), so a restarted worker recovers it; the agent writes the tables and their
changelog records itself (:class:`ChangelogTable`, :class:`Sends`: about a quarter of the CPU of
Faust's own table writes). The prepared topic has one partition: the
dedup index must see every article, and one ordered stream keeps the grouping the same however
many workers share the (expensive, partitioned) prepare stage.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
from collections.abc import Iterator, MutableMapping
from typing import Any, cast

import faust
from faust.types import TP, EventT, StreamT

from pipeline.assignor import weighted_assignor
from pipeline.contracts import dumps
from pipeline.delivery import install_direct_delivery
from pipeline.gaps import OffsetGaps
from pipeline.gctune import freeze_loaded, tune_gc
from pipeline.kafka import (
    RangeReader,
    install_end_offset_check,
    install_fetch_max_wait,
    install_flat_produce_encoding,
)
from pipeline.prepare import PACKED_MESSAGE_BYTES, pack_spans, pack_value
from pipeline.prepare_pool import PreparePool, as_items
from pipeline.processor import Processor, RawMessage, StoryStage
from pipeline.settings import Settings

log = logging.getLogger(__name__)

PREPARE_BATCH = 32
PREPARE_WITHIN_S = 0.05
PRODUCER_BATCH_BYTES = 1 << 20
# Sends wait up to this long to share a produce request: the story agent sends three messages per
# article (story, two changelogs). Adjacent runs, 3,000 articles, 1 story + 2 prepare workers
# (when it sent them one article at a time): 2 ms 172/194/242/174 articles/s, 20 ms
# 197/212/247/207 (+40 ms latency).
PRODUCER_LINGER_S = 0.02


def _credentials(settings: Settings) -> Any:
    kwargs = settings.kafka_client_kwargs()
    if settings.security_protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=settings.sasl_username,
            password=kwargs["sasl_plain_password"],
            ssl_context=kwargs.get("ssl_context"),
            mechanism=settings.sasl_mechanism,
        )
    if settings.uses_ssl:
        return faust.SSLCredentials(kwargs["ssl_context"])
    return None


def build_app(
    settings: Settings, processor: Processor | None = None, child_cpus: frozenset[int] | None = None
) -> faust.App:
    """Create the Faust app, its topics, tables and agents (nothing runs until a Worker starts it).
    ``child_cpus``: where prepare child processes run (default: where this process may run)."""
    scheme = "kafka"
    # A prepare-only worker joins a consumer group of its own (Faust's group protocol, on this
    # broker at least, rejects members whose subscriptions differ); the story stage keeps the app
    # id, so its tables' changelog topics are the same whether it runs alone or with prepare.
    app = faust.App(
        f"{settings.app_id}-prepare" if settings.worker_role == "prepare" else settings.app_id,
        broker=f"{scheme}://{settings.bootstrap}",
        broker_credentials=_credentials(settings),
        store="memory://",
        processing_guarantee="at_least_once",
        topic_partitions=1,
        topic_replication_factor=1,
        topic_allow_declare=True,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=max(0.5, settings.session_timeout_s / 10),
        broker_rebalance_timeout=max(settings.session_timeout_s * 2, 10.0),
        broker_request_timeout=max(settings.session_timeout_s * 3, 30.0),
        producer_max_request_size=max(settings.max_message_bytes + 65536, PRODUCER_BATCH_BYTES),
        # Faust's default batch (16 KiB) holds one or two prepared articles or story revisions;
        # aiokafka then makes every send wait until the previous batch of its partition is sent.
        producer_max_batch_size=PRODUCER_BATCH_BYTES,
        producer_linger=PRODUCER_LINGER_S,
        consumer_max_fetch_size=max(settings.max_message_bytes * 2, 4 << 20),
        stream_wait_empty=False,
        web_enabled=settings.web_enabled,
        web_port=settings.web_port,
        datadir=settings.data_dir,
        table_standby_replicas=0,
        # With several "all" workers, the one running the story stage keeps fewer raw partitions.
        PartitionAssignor=weighted_assignor(settings),
    )

    # Every topic and table is read as raw bytes: decoding is ours, so a bad message becomes a
    # dead letter instead of being dropped by Faust's own deserializer.
    def raw_topic_of(name: str, key_type: type, partitions: int) -> Any:
        return app.topic(
            name,
            key_type=key_type,
            value_type=bytes,
            partitions=partitions,
            key_serializer="raw",
            value_serializer="raw",
        )

    raw_topic = raw_topic_of(settings.raw_topic, bytes, settings.raw_partitions)
    prepared_topic = raw_topic_of(settings.prepared_topic, str, 1)
    stories_topic = raw_topic_of(settings.stories_topic, str, settings.raw_partitions)
    # Roles: "all" runs both agents; "prepare" and "story" run one each ("prepare" in a consumer
    # group of its own, see above: Faust assigns a topic's partitions among the workers of a
    # group, so use one layout or the other, not "all" with "prepare"). Prepare scales out
    # with raw partitions; the story stage is one ordered stream, so a worker that runs only it
    # is not slowed by the prepare work of its raw partitions.
    role = settings.worker_role
    runs_prepare = role in ("all", "prepare")
    runs_story = role in ("all", "story")

    # Models load once per worker, in a thread started with the app, so loading overlaps the
    # broker connection and the consumer-group join instead of delaying the first article.
    loading: concurrent.futures.Future[Processor] = concurrent.futures.Future()
    if processor is not None:
        loading.set_result(processor)

    def _start_loading() -> None:
        if not loading.done() and not loading.running():
            loading.set_running_or_notify_cancel()
            threading.Thread(target=_load, name="load-models", daemon=True).start()

    def _load() -> None:
        try:
            processor = Processor(settings)
        except BaseException as exc:  # surfaced when the agent awaits it
            loading.set_exception(exc)
            return
        freeze_loaded()  # the models live as long as the worker
        loading.set_result(processor)

    async def get_processor() -> Processor:
        _start_loading()
        return await asyncio.wrap_future(loading)

    counts: dict[str, int] = {}  # dead letters per reason code, logged periodically

    @app.timer(interval=60.0)
    async def report_dead_letters() -> None:
        if counts:
            log.warning(
                "dead letters so far by reason: %s", ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
            )

    async def send_dead(record: dict[str, Any]) -> None:
        key = record.get("article_id") or f"{record['topic']}:{record['partition']}:{record['offset']}"
        counts[record["reason"]] = counts.get(record["reason"], 0) + 1
        try:
            # Wait for the broker's ack: a dead letter must never be lost silently.
            await app.producer.send_and_wait(
                settings.dead_letter_topic, key.encode("utf-8"), dumps(record), None, None, None
            )
        except Exception as exc:
            log.critical(
                "cannot write to dead-letter topic %s: %s; stopping the worker",
                settings.dead_letter_topic,
                exc,
            )
            await app.crash(exc)
            raise

    # Messages the stream skipped are read back from the broker before the next one is processed
    # (see pipeline/gaps.py: Faust can drop a fetched message when a recovery ends mid-flow).
    gaps = OffsetGaps()
    reader = RangeReader(settings)
    recovered = {"messages": 0}  # read back so far, for the log

    async def _forget_positions(*_: Any, **__: Any) -> None:
        gaps.reset()

    app.on_partitions_assigned.connect(_forget_positions)
    app.on_partitions_revoked.connect(_forget_positions)

    async def expect_start(m: RawMessage) -> None:
        """First message of a partition since an assignment: it should be where the group goes on
        (its commit, or the partition's first offset)."""
        for attempt in range(3):
            try:
                start = await reader.start_offset(app.conf.id, m.topic, m.partition)
                break
            except Exception as exc:
                if attempt == 2:
                    log.critical(
                        "%s[%d]: cannot read where the group goes on (%s); stopping the worker so no "
                        "message is skipped unseen", m.topic, m.partition, exc,
                    )  # fmt: skip
                    await app.crash(exc)
                    raise
                await asyncio.sleep(1.0 + attempt)
        if start < m.offset:
            gaps.expect(m.topic, m.partition, start)

    # Per agent, per partition of its current batch: [first offset, holes read back].
    Done = dict[tuple[str, int], tuple[int, list[tuple[int, int]]]]

    async def batch_done(done: Done) -> None:
        """After a batch from :func:`with_skipped` is processed: let Faust commit past it."""
        for (topic, partition), (first, holes) in done.items():
            await count_as_acked(app, topic, partition, first, holes)
        done.clear()

    async def with_skipped(msgs: list[RawMessage], done: Done) -> list[RawMessage]:
        """``msgs`` with, before each message, any messages its partition skipped just before it
        (read back from the broker). Their offsets are noted in ``done``: pass it to
        :func:`batch_done` once they are all processed. Each agent keeps its own."""
        out: list[RawMessage] = []
        for m in msgs:
            if not gaps.known(m.topic, m.partition):
                await expect_start(m)
            gap = gaps.observe(m.topic, m.partition, m.offset)
            if gap is not None:
                try:
                    records = await reader.read(m.topic, m.partition, *gap)
                except Exception as exc:
                    # Going on would lose them: nothing after the gap is processed (or committed),
                    # so a restarted worker reads them again.
                    log.critical(
                        "%s[%d]: cannot read skipped offsets %d..%d back: %s; stopping the worker",
                        m.topic, m.partition, gap[0], gap[1] - 1, exc,
                    )  # fmt: skip
                    await app.crash(exc)
                    raise
                recovered["messages"] += len(records)
                if records:
                    log.warning(
                        "%s[%d]: the stream skipped offsets %d..%d; read %d message(s) back from the "
                        "broker (%d recovered so far)",
                        m.topic, m.partition, gap[0], gap[1] - 1, len(records), recovered["messages"],
                    )  # fmt: skip
                out.extend(RawMessage(r.value, r.key, m.topic, m.partition, r.offset) for r in records)
            out.append(m)
            first, holes = done.setdefault((m.topic, m.partition), (m.offset, []))
            if gap is not None:
                holes.append(gap)
            low = gap[0] if gap is not None else m.offset
            if low < first:
                done[(m.topic, m.partition)] = (low, holes)
        return out

    # With PIPELINE_PREPARE_PROCESSES=N the prepare step runs in N child processes (each loads its
    # models once, while the worker joins its group); this process then only loads models if a
    # child dies and a batch has to be prepared here.
    pool = None
    if settings.prepare_processes and runs_prepare:
        pool = PreparePool(settings, settings.prepare_processes, child_cpus)

    def fallback_processor() -> Processor:
        _start_loading()
        return loading.result()

    # A pack stays within the message size the deployment allows (its broker's limit matches it).
    pack_bytes = min(PACKED_MESSAGE_BYTES, settings.max_message_bytes)

    # The story stage, in a worker that runs it. Its story agent and (below) its prepare agent use
    # it one at a time (story_lock): each runs a message's articles through it and sends the table
    # changes, then the revisions, before the other starts, so the changelogs keep the order of
    # the writes.
    story_lock = asyncio.Lock()
    if runs_story:
        entries = ChangelogTable(app, "dedup-entries")
        story_state = ChangelogTable(app, "story-state")
        story_stage = StoryStage(settings, entries=entries, stories=story_state)
        stories_name = stories_topic.get_topic_name()
        send = Sends(app)

        async def emit(results: list[tuple[dict[str, Any] | None, dict[str, Any] | None]]) -> None:
            await send.changes(entries, story_state)  # the state behind the revisions goes first
            for story, dead in results:
                if dead is not None:
                    await send_dead(dead)
                if story is not None:
                    await send(stories_name, story["story_id"].encode("utf-8"), dumps(story))

        async def _finish_story_work(*_: Any, **__: Any) -> None:
            """On revocation (Faust awaits this before the worker rejoins its group): wait for
            the message the story stage is on, then flush what it sent. Its table changes are then
            in the changelogs before any worker starts recovering the tables from them."""
            async with story_lock:
                await app.producer.flush()

        app.on_partitions_revoked.connect(_finish_story_work)

    # Direct story stage (see README): a worker that runs both agents, preparing in this process,
    # carries the articles it prepares straight to its own story stage while it holds the prepared
    # topic's partition and may write its tables (story_stage_ready), instead of sending them
    # through the prepared topic and reading them back. The raw messages are then the log: their
    # offsets are committed once the revisions and the state changes are sent (Faust flushes the
    # producer before each commit), so after a crash they are prepared and assembled again. Any
    # other batch goes through the prepared topic.
    direct = settings.direct_story and runs_prepare and runs_story and pool is None
    holds_story = {"now": False}
    prepared_tp = TP(prepared_topic.get_topic_name(), 0)
    if direct:

        async def _note_assignment(*args: Any, **__: Any) -> None:
            assigned: set[TP] = args[1] if len(args) > 1 else set()  # (app, the whole assignment)
            holds_story["now"] = prepared_tp in assigned

        async def _note_revoked(*_: Any, **__: Any) -> None:
            holds_story["now"] = False

        app.on_partitions_assigned.connect(_note_assignment)
        app.on_partitions_revoked.connect(_note_revoked)

    def story_here() -> bool:
        return direct and holds_story["now"] and story_stage_ready(app, prepared_tp)

    async def prepare_agent(stream: StreamT[bytes]) -> None:
        proc = await get_processor() if pool is None else None
        done: Done = {}
        async for events in stream.take_events(  # type: ignore[attr-defined]
            PREPARE_BATCH, within=PREPARE_WITHIN_S
        ):
            msgs = await with_skipped([_raw_message(ev) for ev in events], done)
            arts = None
            if pool is not None:
                prepared, dead = await pool.prepare(msgs, fallback_processor)
            else:
                assert proc is not None
                arts, dead = proc.prepare_batch(msgs)
            for record in dead:
                await send_dead(record)
            if arts is not None:
                if story_here():
                    async with story_lock:
                        if story_here():  # checked again: the sends above may have let a rebalance in
                            # No await between the check and the table writes.
                            await emit(story_stage.assemble_prepared(arts))
                            arts = []
                prepared = as_items(arts)
            for i, j in pack_spans(prepared, pack_bytes):
                await prepared_topic.send(key=prepared[i][0], value=pack_value(prepared[i:j]))
            await batch_done(done)

    if runs_prepare:
        app.agent(raw_topic, name="prepare")(prepare_agent)
        if pool is None:
            _start_loading()

    if runs_story:

        async def story_agent(stream: StreamT[bytes]) -> None:
            done: Done = {}
            async for event in stream.events():
                for msg in await with_skipped([_raw_message(event)], done):
                    async with story_lock:
                        await emit(story_stage.assemble_packed(msg))
                await batch_done(done)

        app.agent(prepared_topic, name="story")(story_agent)
    return app


class ChangelogTable(MutableMapping[str, bytes]):
    """A Faust table (str keys, bytes values, in memory, one partition) read and written here,
    with the changelog records of its changes queued for :meth:`Sends.changes`.

    Faust's own ``table[key] = value`` costs about 90 µs of CPU per write and a read about 10 µs
    (sensors, partition checks, a buffered send through its topic layer), against about 20 µs for
    the same record sent through the producer (measured in one worker, 2 KB values). Faust still
    rebuilds the table from the changelog at start: the records are the ones its own writes make
    (the key as Faust serializes it, the value as is, None to delete, on partition 0), and they
    go out before the offsets of the message that made them are committed (Faust flushes the
    producer before each commit)."""

    def __init__(self, app: faust.App, name: str) -> None:
        table: Any = app.Table(name, key_type=str, value_type=bytes, partitions=1)
        self.table = table
        self.topic = table.changelog_topic.get_topic_name()
        self.pending: list[tuple[bytes, bytes | None]] = []
        dumps_key, key_type, key_codec = app.serializers.dumps_key, table.key_type, table.key_serializer

        def key_bytes(key: str) -> bytes:
            return cast(bytes, dumps_key(key_type, key, serializer=key_codec))  # JSON: '"id"'

        self._key_bytes = key_bytes

    def _data(self) -> Any:
        store = self.table.data  # Faust's memory store; its dict is read directly
        return getattr(store, "data", store)

    def __getitem__(self, key: str) -> bytes:
        return cast(bytes, self._data()[key])

    def get(self, key: str, default: Any = None) -> Any:
        return self._data().get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._data()

    def __setitem__(self, key: str, value: bytes) -> None:
        self._data()[key] = value
        self.pending.append((self._key_bytes(key), value))

    def __delitem__(self, key: str) -> None:
        del self._data()[key]
        self.pending.append((self._key_bytes(key), None))

    def __iter__(self) -> Iterator[str]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())


class Sends:
    """Records sent straight through the app's producer (Faust's ``topic.send`` costs about 57 µs
    of CPU per record, this about 20).

    A record that cannot be sent (refused by ``send`` itself, or its delivery failed) stops the
    worker, and from then on no offsets are committed: the producer's flush, which Faust awaits
    before every commit, raises. (aiokafka's flush returns without an error when a batch failed;
    the failure is seen by then, through the record's future.) A restarted worker rebuilds its
    tables from what reached the changelogs and processes the uncommitted messages again."""

    def __init__(self, app: faust.App) -> None:
        self.app = app
        self.failed: BaseException | None = None
        self._guarded = False
        self._crashing: set[asyncio.Task[Any]] = set()

    async def __call__(
        self, topic: str, key: bytes, value: bytes | None, partition: int | None = None
    ) -> None:
        if not self._guarded:
            self._guard_commits()
        if self.failed is not None:
            raise RecordNotSent(f"an earlier record was not sent: {self.failed}") from self.failed
        try:
            fut = await self.app.producer.send(topic, key, value, partition, None, None)
        except Exception as exc:
            self._fail(exc)
            raise
        cast(asyncio.Future, fut).add_done_callback(self._check)

    async def changes(self, *tables: ChangelogTable) -> None:
        """Send the changelog records the tables queued (in order, on partition 0)."""
        for table in tables:
            if table.pending:
                pending, table.pending = table.pending, []
                for key, value in pending:
                    await self(table.topic, key, value, 0)

    def _guard_commits(self) -> None:
        producer = cast(Any, self.app.producer)
        flush = producer.flush

        async def flush_or_refuse() -> None:
            await flush()
            if self.failed is not None:
                raise RecordNotSent(f"not committing: a record was not sent ({self.failed})") from self.failed

        producer.flush = flush_or_refuse
        self._guarded = True

    def _check(self, fut: asyncio.Future[Any]) -> None:
        if not fut.cancelled() and fut.exception() is not None:
            self._fail(cast(BaseException, fut.exception()))

    def _fail(self, exc: BaseException) -> None:
        if self.failed is not None:
            return  # reported and stopping already
        self.failed = exc
        log.critical("a record was not sent (%s: %s); stopping the worker", type(exc).__name__, exc)
        task = asyncio.ensure_future(self.app.crash(exc))
        self._crashing.add(task)
        task.add_done_callback(self._crashing.discard)


class RecordNotSent(RuntimeError):
    """A record of the story agent did not reach the broker (see :class:`Sends`)."""


async def count_as_acked(
    app: faust.App, topic: str, partition: int, first: int, holes: list[tuple[int, int]]
) -> None:
    """Let Faust commit a partition past what this worker processed, up to ``first`` (the first
    offset of the batch just processed), and past ``holes`` (offsets read back in that batch).

    Faust commits a partition up to the first offset it has not seen acknowledged, and gives up
    for good when that offset is more than one past the commit. Offsets read back from the broker
    are not its events, so it never sees them acknowledged; nor, measured in the restart test, a
    few events it delivered just before its recovery ended (the commit of a partition then stayed
    at 150 of 278 although every message was processed). Faust records offsets known to hold no
    message (transaction markers, compaction) as a "gap" that counts as acknowledged once a later
    offset is; the holes, and the offsets below ``first`` that Faust has neither committed nor seen
    acknowledged, are recorded the same way. Those were processed: the worker processes each
    partition's offsets without holes (:class:`pipeline.gaps.OffsetGaps`), and Faust acknowledges
    a batch's events when the next batch is asked for. An offset in both Faust's acknowledged list
    and its gaps would stop its commits (it looks for a run of consecutive offsets), hence only
    the ones it has not seen. (Private Faust API, pinned by tests/unit/test_gaps.py.)
    """
    consumer = cast(Any, app.consumer)
    tp = TP(topic, partition)
    for start, end in holes:
        await consumer._add_gap(tp, start, end - 1)
    _no_double_acks(consumer, tp)
    committed = consumer._committed_offset[tp]
    if committed is None or committed >= first:
        return
    acked = consumer._acked_index[tp]
    if len(acked) == first - committed:  # the usual case: all of them acknowledged, nothing to do
        return
    run: int | None = None
    for offset in range(committed, first):
        if offset in acked:
            if run is not None:
                await consumer._add_gap(tp, run, offset - 1)
                run = None
        elif run is None:
            run = offset
    if run is not None:
        await consumer._add_gap(tp, run, first - 1)


def _no_double_acks(consumer: Any, tp: TP) -> None:
    """Keep every offset once in Faust's record of what is done.

    Faust counts an offset twice when it is both acknowledged and inside one of its gaps: it adds
    a gap itself when its read position jumps (measured: offsets 160..182 while the worker was
    processing 159..174, delivered just before its recovery ended). Its commit looks for a run of
    consecutive offsets in the sorted list, so a doubled offset ends the run: the commit then
    crept on by one or two offsets per commit interval (it stayed at 168 of 322)."""
    gap = consumer._gap[tp]
    acked_index = consumer._acked_index[tp]
    if gap and acked_index:
        # The gap spans clipped to the acknowledged range; walk whichever is shorter: the offsets
        # inside them (usually a few holes) or the acknowledged ones (the spans are few).
        lo, hi = min(acked_index), max(acked_index) + 1
        spans = [(b, e) for b, e in ((max(iv.begin, lo), min(iv.end, hi)) for iv in gap) if b < e]
        if sum(e - b for b, e in spans) <= len(acked_index):
            doubled = [o for b, e in spans for o in range(b, e) if o in acked_index]
        else:
            doubled = [o for o in acked_index if any(b <= o < e for b, e in spans)]
        for offset in doubled:
            gap.chop(offset, offset + 1)
    acked = consumer._acked[tp]
    if len(acked) > len(acked_index):  # an earlier merge left doubles (gap offsets are not indexed)
        unique = sorted(set(acked))
        if len(unique) < len(acked):
            acked[:] = unique


def story_stage_ready(app: faust.App, prepared_tp: TP) -> bool:
    """Whether the tables of a worker assigned ``prepared_tp`` are its own to write now: it is not
    rebalancing (``app.rebalancing``: from the moment partitions are revoked until the recovery
    of the tables ends) and Faust has resumed the partition, which it does only once the recovery
    for the current assignment is over (a recovery of an earlier one can end, and clear
    ``rebalancing``, while the next assignment's is still to run). (Private Faust API: the
    consumer's ``_paused_partitions``, pinned by tests/unit/test_direct_story.py.)"""
    if app.rebalancing:
        return False
    paused = getattr(app.consumer, "_paused_partitions", None)
    return paused is not None and prepared_tp not in paused


def _raw_message(event: EventT) -> RawMessage:
    m = event.message
    return RawMessage(value=m.value, key=m.key, topic=m.topic, partition=m.partition, offset=m.offset)


def pin_cpus(settings: Settings) -> frozenset[int] | None:
    """Pin this process to ``settings.cpus`` (when set); returns the CPUs it could run on before,
    or None when not pinned."""
    cpus = settings.cpu_set()
    if cpus is None:
        return None
    before = frozenset(os.sched_getaffinity(0))
    os.sched_setaffinity(0, cpus)
    log.info("worker pinned to CPU %s (of %s)", settings.cpus, ",".join(map(str, sorted(before))))
    return before


def run_worker(settings: Settings) -> None:
    """Run a worker until SIGINT/SIGTERM (blocking)."""
    from pipeline import native

    tune_gc()

    (log.info if native.available() else log.warning)("stages: %s", native.status())
    if settings.check_end_offsets:
        install_end_offset_check(settings)
    install_fetch_max_wait(settings.fetch_max_wait_ms)
    install_flat_produce_encoding()
    install_direct_delivery()
    unpinned = pin_cpus(settings)
    app = build_app(settings, child_cpus=unpinned)
    worker = faust.Worker(
        app,
        loglevel=settings.log_level,
        quiet=True,
        # Keep the loggers created before the worker configured logging (ours, per module).
        logging_config={"merge": True, "disable_existing_loggers": False},
    )
    worker.spinner = None  # the spinner forces the root logger to DEBUG (10-25% throughput)
    worker.execute_from_commandline()
