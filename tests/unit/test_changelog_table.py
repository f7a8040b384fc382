"""The story agent's tables write their changelog records themselves (pipeline.worker.ChangelogTable):
the records must be the ones Faust's own table writes make, or a restarted worker cannot rebuild
its tables from them (the restart itself is tested in tests/faults/test_crash_recovery.py)."""

from __future__ import annotations

import uuid

import faust

from pipeline.worker import ChangelogTable


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
