"""The weighted raw-partition split: the pure function on literal assignments, and Faust's own
assignment through our subclass (no broker)."""

from __future__ import annotations

import random
import zlib
from typing import Any, cast

import pytest
from aiokafka.coordinator.protocol import ConsumerProtocolMemberMetadata
from faust.assignor.client_assignment import ClientAssignment, ClientMetadata

from pipeline.assignor import owner_keeps, owner_share, weighted_split
from pipeline.errors import ConfigError
from pipeline.settings import Settings


def _every_partition_once(split: dict[str, list[int]], partitions: int) -> None:
    flat = [p for held in split.values() for p in held]
    assert sorted(flat) == list(range(partitions))


def test_owner_share_formula() -> None:
    assert owner_share(2, 0.25) == pytest.approx(0.375)
    assert owner_share(3, 0.25) == pytest.approx(1 / 6)
    assert owner_share(2, 0.0) == pytest.approx(0.5)  # never more than an even share
    assert owner_share(3, 0.9) == 0.0  # the story stage alone outweighs an even share
    assert owner_keeps(8, 2, 0.25) == 3
    assert owner_keeps(4, 2, 0.25) == 2  # 1.5 rounds up
    assert owner_keeps(8, 3, 0.25) == 1


def test_two_clients_eight_partitions_three_and_five() -> None:
    split = weighted_split({"a": [0, 1, 2, 3], "b": [4, 5, 6, 7]}, "a", 8, 0.25)
    assert split == {"a": [0, 1, 2], "b": [3, 4, 5, 6, 7]}  # only one partition moved


def test_three_clients() -> None:
    raw = {"a": [0, 1, 2], "b": [3, 4, 5], "c": [6, 7]}
    split = weighted_split(raw, "b", 8, 0.25)
    assert len(split["b"]) == 1 and sorted(len(split[c]) for c in "ac") == [3, 4]
    _every_partition_once(split, 8)
    # only what the owner gave up moved (4 and 5, its highest), one to each of the others
    assert split == {"a": [0, 1, 2, 4], "b": [3], "c": [5, 6, 7]}


@pytest.mark.parametrize(
    ("raw", "owner", "weight"),
    [
        ({"a": [0, 1, 2, 3], "b": [4, 5, 6, 7]}, None, 0.25),  # nobody here runs the story stage
        ({"a": [0, 1, 2, 3], "b": [4, 5, 6, 7]}, "story-only", 0.25),  # the owner reads no raw topic
        ({"a": list(range(8))}, "a", 0.25),  # one reader
        ({"a": [0, 1, 2, 3], "b": [4, 5, 6, 7]}, "a", 0.0),  # weighting off
    ],
    ids=["owner-absent", "owner-not-a-reader", "single-client", "weight-0"],
)
def test_unchanged(raw: dict[str, list[int]], owner: str | None, weight: float) -> None:
    assert weighted_split(raw, owner, 8, weight) == raw


def test_owner_may_keep_none_when_the_formula_says_so() -> None:
    split = weighted_split({"a": [0, 1], "b": [2, 3], "c": [4, 5]}, "a", 6, 0.6)
    assert split["a"] == [] and sorted(len(v) for v in split.values()) == [0, 3, 3]


def test_every_partition_exactly_once_and_few_moves() -> None:
    rng = random.Random(7)
    for _ in range(500):
        partitions = rng.randint(1, 24)
        clients = [f"c{i}" for i in range(rng.randint(2, 5))]
        raw: dict[str, list[int]] = {c: [] for c in clients}
        for p in range(partitions):
            raw[rng.choice(clients)].append(p)
        owner = rng.choice(clients)
        weight = rng.choice([0.1, 0.25, 0.5, 0.9])
        split = weighted_split(raw, owner, partitions, weight)
        _every_partition_once(split, partitions)
        assert len(split[owner]) == owner_keeps(partitions, len(clients), weight)
        others = [len(split[c]) for c in clients if c != owner]
        assert max(others) - min(others) <= 1
        # only what a client had too many of moved
        moved = sum(len(set(split[c]) - set(raw[c])) for c in clients)
        assert moved == sum(max(0, len(raw[c]) - len(split[c])) for c in clients)


def test_partitions_missing_or_held_twice() -> None:
    split = weighted_split({"a": [0, 1, 2, 3, 9], "b": [3, 4, 5, 6]}, "a", 8, 0.25)
    _every_partition_once(split, 8)
    assert (len(split["a"]), len(split["b"])) == (3, 5)


def test_sticky_with_the_previous_assignment() -> None:
    """Faust balanced 4/4 again from last round's 3/5 by giving the owner one partition of the
    other's: that one goes back, not another."""
    previous = {"a": [0, 1, 2], "b": [3, 4, 5, 6, 7]}
    split = weighted_split({"a": [0, 1, 2, 5], "b": [3, 4, 6, 7]}, "a", 8, 0.25, previous)
    assert split == previous
    # without the previous assignment: still 3/5, the owner's highest goes
    assert weighted_split({"a": [0, 1, 2, 5], "b": [3, 4, 6, 7]}, "a", 8, 0.25) == {
        "a": [0, 1, 2],
        "b": [3, 4, 5, 6, 7],
    }


def test_story_weight_setting() -> None:
    assert Settings().story_weight == 0.25
    s = Settings.from_env({"PIPELINE_STORY_WEIGHT": "0.1"})
    assert s.story_weight == 0.1
    assert Settings.from_env(s.to_env({})).story_weight == 0.1
    for bad in ("1", "-0.1", "1.5", "nan", "heavy"):
        with pytest.raises(ConfigError, match="PIPELINE_STORY_WEIGHT"):
            Settings.from_env({"PIPELINE_STORY_WEIGHT": bad})


class _Cluster:
    def __init__(self, partitions: dict[str, int]) -> None:
        self.partitions = partitions

    def partitions_for_topic(self, topic: str) -> set[int]:
        return set(range(self.partitions.get(topic, 0)))


def _faust_round(
    assignor: Any, topics: dict[str, int], last: dict[str, ClientAssignment]
) -> dict[str, ClientAssignment]:
    """One assignment by the group leader, as Faust runs it: each member reports its last one."""
    members = {
        member: ConsumerProtocolMemberMetadata(
            4,
            sorted(topics),
            ClientMetadata(
                assignment=assignment, url=f"http://{member}:6066", changelog_distribution={}
            ).dumps(),
        )
        for member, assignment in last.items()
    }
    result = assignor.assign(_Cluster(topics), members)
    out = {}
    for member, protocol in result.items():
        metadata = cast(ClientMetadata, ClientMetadata.loads(zlib.decompress(protocol.user_data)))
        assert sorted(protocol.assignment) == sorted(
            metadata.assignment.kafka_protocol_assignment(assignor.app.tables)
        )
        out[member] = metadata.assignment
    return out


@pytest.mark.parametrize("role", ["all", "prepare"])
def test_through_faust(role: str) -> None:
    """The real app's assignor: Faust's assignment, then 3 of 8 raw partitions for the owner of
    the prepared topic (with its two changelogs); the next rebalance keeps it; a prepare-only
    group keeps Faust's even split."""
    from pipeline.worker import build_app

    settings = Settings(bootstrap="127.0.0.1:9", raw_partitions=8, worker_role=role).namespaced("asg")
    app = build_app(settings, processor=cast(Any, object()))  # the processor is never used here
    assignor = app.assignor
    assert type(assignor).__name__ == "WeightedAssignor"
    topics = {settings.raw_topic: 8}
    if role == "all":
        topics |= {settings.prepared_topic: 1} | {t: 1 for t in app.tables.changelog_topics}
    empty = {m: ClientAssignment(actives={}, standbys={}) for m in ("m1", "m2")}
    first = _faust_round(assignor, topics, empty)
    raw = {m: sorted(a.actives[settings.raw_topic]) for m, a in first.items()}
    _every_partition_once(raw, 8)
    if role == "prepare":
        assert sorted(map(len, raw.values())) == [4, 4]
        return
    [owner] = [m for m, a in first.items() if a.actives.get(settings.prepared_topic)]
    other = "m2" if owner == "m1" else "m1"
    assert (len(raw[owner]), len(raw[other])) == (3, 5)
    assert all(first[owner].actives[t] == [0] for t in app.tables.changelog_topics)
    second = _faust_round(assignor, topics, first)
    assert {m: sorted(a.actives[settings.raw_topic]) for m, a in second.items()} == raw
    assert second[owner].actives.get(settings.prepared_topic) == [0]


def test_a_fault_in_the_weighting_leaves_faust_s_assignment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The group leader runs the assignor: if the weighting fails, every partition is still
    assigned (Faust's even split) instead of the group failing to form."""
    import pipeline.assignor
    from pipeline.worker import build_app

    def broken(*_: Any, **__: Any) -> dict[str, list[int]]:
        raise RuntimeError("boom")

    monkeypatch.setattr(pipeline.assignor, "weighted_split", broken)
    settings = Settings(bootstrap="127.0.0.1:9", raw_partitions=8).namespaced("asgf")
    app = build_app(settings, processor=cast(Any, object()))
    topics = {settings.raw_topic: 8, settings.prepared_topic: 1} | {t: 1 for t in app.tables.changelog_topics}
    empty = {m: ClientAssignment(actives={}, standbys={}) for m in ("m1", "m2")}
    first = _faust_round(app.assignor, topics, empty)
    raw = {m: sorted(a.actives[settings.raw_topic]) for m, a in first.items()}
    _every_partition_once(raw, 8)
    assert sorted(map(len, raw.values())) == [4, 4]
    assert sum(bool(a.actives.get(settings.prepared_topic)) for a in first.values()) == 1
