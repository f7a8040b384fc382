"""The story agent's tables write their changelog records themselves (pipeline.worker.ChangelogTable):
the records must be the ones Faust's own table writes make, or a restarted worker cannot rebuild
its tables from them (the restart itself is tested in tests/faults/test_crash_recovery.py)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, cast

import faust
import pytest

from pipeline.worker import ChangelogTable, RecordNotSent, Sends


def _table() -> tuple[faust.App, ChangelogTable]:
    app = faust.App(f"t-{uuid.uuid4().hex[:8]}", store="memory://", broker="kafka://127.0.0.1:1")
    return app, ChangelogTable(app, "entries")


def test_records_are_the_ones_faust_writes() -> None:
    _, t = _table()
    topic = t.table.changelog_topic
    keys = ["a1", "article-é-中", 'quo"te\\', ""]
    values = [bytes([i, 0, 255]) + key.encode() for i, key in enumerate(keys)]
    for key, value in zip(keys, values, strict=True):
        t[key] = value
    del t["a1"]
    assert len(t.pending) == len(keys) + 1
    for (key_bytes, _), key in zip(t.pending, [*keys, "a1"], strict=True):
        assert key_bytes == topic.prepare_key(key, t.table.key_serializer)[0]
    for (_, sent), value in zip(t.pending, values, strict=False):
        assert sent == topic.prepare_value(value, t.table.value_serializer)[0] == value
    assert t.pending[-1][1] is None  # a deletion is a tombstone, as Faust's own
    assert t.topic == topic.get_topic_name()


def test_keys_read_back_as_faust_reads_them() -> None:
    app, t = _table()
    for key in ["x", "article-é-中", 'quo"te\\']:
        t[key] = b"v"
        loaded = app.serializers.loads_key(str, t.pending[-1][0], serializer=t.table.key_serializer)
        assert loaded == key


def test_mapping_reads_the_table_store() -> None:
    _, t = _table()
    t["a"] = b"1"
    t["b"] = b"2"
    assert t["a"] == b"1" and t.get("b") == b"2" and t.get("c") is None and t.get("c", b"d") == b"d"
    assert "a" in t and "c" not in t
    assert sorted(t) == ["a", "b"] and len(t) == 2
    assert t.pop("a") == b"1" and "a" not in t and t.pop("a", None) is None
    assert dict(t.table.data.items()) == {"b": b"2"}  # the table Faust recovers into holds it


# Sends: the story agent's records go straight to the producer. A stub producer stands in for
# aiokafka here (the broker itself is exercised by the integration and fault tests).


class _Producer:
    def __init__(self, refuse: Exception | None = None) -> None:
        self.records: list[tuple[str, bytes, bytes | None, int | None]] = []
        self.futures: list[asyncio.Future[None]] = []
        self.refuse = refuse
        self.flushes = 0

    async def send(self, topic: str, key: bytes, value: bytes | None, partition: int | None,
                   timestamp: float | None, headers: object) -> asyncio.Future[None]:  # fmt: skip
        if self.refuse is not None:
            raise self.refuse
        self.records.append((topic, key, value, partition))
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.futures.append(fut)
        return fut

    async def flush(self) -> None:
        self.flushes += 1


class _App:
    def __init__(self, producer: _Producer) -> None:
        self.producer = producer
        self.crashed: list[BaseException] = []

    async def crash(self, exc: BaseException) -> None:
        self.crashed.append(exc)


def test_sends_changelog_records_in_order_then_the_revision() -> None:
    _, entries = _table()
    entries["a1"] = b"entry"
    del entries["a1"]
    producer = _Producer()
    send = Sends(cast(Any, _App(producer)))

    async def run() -> None:
        await send.changes(entries)
        await send("stories", b"s1", b"{}")
        for fut in producer.futures:
            fut.set_result(None)
        await asyncio.sleep(0)
        await producer.flush()  # the guarded flush: nothing failed, so it does not raise

    asyncio.run(run())
    assert producer.records == [
        (entries.topic, b'"a1"', b"entry", 0),
        (entries.topic, b'"a1"', None, 0),
        ("stories", b"s1", b"{}", None),
    ]
    assert entries.pending == [] and producer.flushes == 1


def test_a_failed_delivery_stops_the_worker_and_its_commits() -> None:
    producer = _Producer()
    app = _App(producer)
    send = Sends(cast(Any, app))

    async def run() -> None:
        await send("stories", b"s1", b"{}")
        await send("stories", b"s2", b"{}")
        producer.futures[0].set_exception(ConnectionError("broker gone"))
        producer.futures[1].set_exception(ConnectionError("broker gone"))
        await asyncio.sleep(0)
        with pytest.raises(RecordNotSent):
            await producer.flush()  # what Faust awaits before committing offsets
        with pytest.raises(RecordNotSent):
            await send("stories", b"s3", b"{}")
        await asyncio.sleep(0)

    asyncio.run(run())
    assert len(app.crashed) == 1 and isinstance(app.crashed[0], ConnectionError)
    assert [r[1] for r in producer.records] == [b"s1", b"s2"]


def test_a_record_refused_by_send_stops_the_worker_and_its_commits() -> None:
    producer = _Producer(refuse=ValueError("record too large"))
    app = _App(producer)
    send = Sends(cast(Any, app))

    async def run() -> None:
        with pytest.raises(ValueError):
            await send("stories", b"s1", b"x")
        with pytest.raises(RecordNotSent):
            await producer.flush()
        await asyncio.sleep(0)

    asyncio.run(run())
    assert len(app.crashed) == 1 and isinstance(app.crashed[0], ValueError)
