"""Produce requests encoded by pipeline.kafka.encode_produce_request are byte for byte the ones
aiokafka's own schema encoder makes (the broker round trip is exercised by every integration
test: the worker and `make_producer` install it)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from aiokafka.protocol import produce
from aiokafka.protocol.struct import Struct

from pipeline.kafka import encode_produce_request, install_flat_produce_encoding

VERSIONS = [v for v in range(9) if hasattr(produce, f"ProduceRequest_v{v}")]


def _topics(rng: random.Random) -> list[tuple[str, list[tuple[int, Any]]]]:
    names = ["news.stories", "story-state-changelog", "ünïcode-topic", "t"]
    out = []
    for name in rng.sample(names, rng.randint(0, len(names))):
        parts: list[tuple[int, Any]] = []
        for partition in rng.sample(range(12), rng.randint(0, 4)):
            size = rng.choice([0, 1, 70, 5000, 300_000])
            data = rng.randbytes(size)
            kind = rng.choice(["bytes", "bytearray", "memoryview", "none"])
            records = {"bytes": data, "bytearray": bytearray(data), "memoryview": memoryview(data)}.get(kind)
            parts.append((partition, records))
        out.append((name, parts))
    return out


@pytest.mark.parametrize("version", VERSIONS)
def test_same_bytes_as_aiokafka(version: int) -> None:
    cls = getattr(produce, f"ProduceRequest_v{version}")
    rng = random.Random(version)
    for _ in range(30):
        acks, timeout, topics = rng.choice([-1, 0, 1]), rng.randint(0, 2**31 - 1), _topics(rng)
        if version >= 3:
            request = cls(rng.choice([None, "", "txn-é"]), acks, timeout, topics)
        else:
            request = cls(acks, timeout, topics)
        assert encode_produce_request(request) == Struct.encode(request)


def test_installed_on_every_version() -> None:
    assert install_flat_produce_encoding() is True
    assert install_flat_produce_encoding() is True  # idempotent
    for version in VERSIONS:
        cls = getattr(produce, f"ProduceRequest_v{version}")
        assert cls.encode is encode_produce_request
        request = cls(None, 1, 1000, [("t", [(0, b"abc")])]) if version >= 3 else cls(1, 1000, [])
        assert request.encode() == Struct.encode(request)


def test_an_unknown_layout_keeps_its_own_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    from aiokafka.protocol.types import Array, Bytes, Int16, Int32, Schema, String

    class ProduceRequest_v8(Struct):
        API_KEY = 0
        API_VERSION = 8
        SCHEMA = Schema(
            ("required_acks", Int16),
            ("timeout", Int32),
            (
                "topics",
                Array(
                    ("topic", String("utf-8")),
                    ("partitions", Array(("partition", Int32), ("messages", Bytes), ("extra", Int32))),
                ),
            ),
        )

    monkeypatch.setattr(produce, "ProduceRequest_v8", ProduceRequest_v8, raising=False)
    assert install_flat_produce_encoding() is False
    assert "encode" not in ProduceRequest_v8.__dict__
