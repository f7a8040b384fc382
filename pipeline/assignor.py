"""Partition assignment that leaves the story stage's worker fewer raw partitions.

With several ``all`` workers in one group, Faust spreads the raw partitions evenly, and one of the
workers also owns the single partition of the prepared topic: it runs the story stage for every
article on top of an even share of the prepare work, and the others wait for it. After Faust's own
(sticky) assignment, :class:`WeightedAssignor` moves raw partitions from that worker to the others
so the owner keeps about the share :func:`owner_share` gives. The rest of the assignment (the
prepared topic, the tables' changelogs, standbys) is Faust's.

:func:`weighted_split` is the pure part (plain dicts, no Faust), the class only finds the topics
and clients in Faust's structures. Workers that do not run both stages never see the two topics in
one group (a ``prepare`` worker has a group of its own, a ``story`` worker reads no raw topic), so
for them the assignment is Faust's unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from faust.assignor.partition_assignor import (
    ClientAssignmentMapping,
    MemberAssignmentMapping,
    MemberMetadataMapping,
    PartitionAssignor,
)
from faust.types.assignor import HostToPartitionMap

from pipeline.settings import Settings

log = logging.getLogger(__name__)


def owner_share(workers: int, story_weight: float) -> float:
    """The share of the raw partitions that equalises the story owner's CPU with the others'.

    ``workers`` read the raw topic, one of them also runs the story stage, whose CPU per article
    is ``story_weight`` times the prepare stage's. With the owner's share ``x`` and the others'
    ``(1 - x) / (workers - 1)``: ``x + r = (1 - x) / (n - 1)``, so
    ``x = (1/(n-1) - r) / (1 + 1/(n-1))``, clamped to ``[0, 1/n]`` (never more than an even share;
    0 when the story stage alone outweighs an even share of the prepare work)."""
    if workers < 2:
        return 1.0
    per_other = 1.0 / (workers - 1)
    x = (per_other - story_weight) / (1.0 + per_other)
    return min(max(x, 0.0), 1.0 / workers)


def owner_keeps(partitions: int, workers: int, story_weight: float) -> int:
    """How many of ``partitions`` raw partitions the story owner keeps (the share, rounded half up)."""
    return int(owner_share(workers, story_weight) * partitions + 0.5)


def weighted_split(
    raw: Mapping[str, Iterable[int]],
    owner: str | None,
    partitions: int,
    story_weight: float,
    previous: Mapping[str, Iterable[int]] | None = None,
) -> dict[str, list[int]]:
    """Raw partitions per client (``raw``: every client that reads the raw topic, also those with
    none) moved so that ``owner`` keeps :func:`owner_keeps` of them and the other clients share
    the rest as evenly as possible.

    Every partition in ``range(partitions)`` ends up with exactly one client. As few partitions
    move as the targets allow: a client over its target gives up first what it did not hold
    before this rebalance (``previous``: client -> partitions of its last assignment), then its
    highest partitions; a client under its target takes first what it held before, then the
    lowest. Of the others, those holding more already get the larger targets. Unchanged (sorted)
    when ``story_weight`` is 0, ``owner`` does not read the raw topic or is its only reader."""
    current = {client: sorted(set(held)) for client, held in raw.items()}
    if story_weight <= 0 or owner not in current or len(current) < 2 or partitions < 1:
        return current
    clients = sorted(current)
    before = {c: set(previous.get(c, ())) if previous else set() for c in clients}

    holder: dict[int, str] = {}  # a partition listed twice stays with the first client (by name)
    for client in clients:
        for p in current[client]:
            if 0 <= p < partitions:
                holder.setdefault(p, client)
    held = {c: {p for p, h in holder.items() if h == c} for c in clients}
    pool = set(range(partitions)) - holder.keys()

    keep = owner_keeps(partitions, len(clients), story_weight)
    others = sorted((c for c in clients if c != owner), key=lambda c: (-len(held[c]), c))
    base, extra = divmod(partitions - keep, len(others))
    target = {owner: keep} | {c: base + (i < extra) for i, c in enumerate(others)}

    def to_give_up(client: str) -> list[int]:
        return sorted(held[client], key=lambda p: (p in before[client], -p))

    def to_take(client: str) -> list[int]:
        return sorted(pool, key=lambda p: (p not in before[client], p))

    for client in clients:
        excess = len(held[client]) - target[client]
        for p in to_give_up(client)[: max(excess, 0)]:
            held[client].remove(p)
            pool.add(p)
    for client in clients:
        need = target[client] - len(held[client])
        for p in to_take(client)[: max(need, 0)]:
            pool.remove(p)
            held[client].add(p)
    assert not pool, f"unassigned raw partitions {sorted(pool)}"
    return {c: sorted(held[c]) for c in clients}


class WeightedAssignor(PartitionAssignor):
    """Faust's assignor, then :func:`weighted_split` on the raw topic (and any topic Faust
    co-partitions with it). Bound to a deployment's topic names by :func:`weighted_assignor`."""

    raw_topic: ClassVar[str] = ""
    prepared_topic: ClassVar[str] = ""
    story_weight: ClassVar[float] = 0.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._previous_raw: dict[str, list[int]] = {}
        self._raw_partitions = 0

    def assign(self, cluster: Any, member_metadata: MemberMetadataMapping) -> MemberAssignmentMapping:
        self._raw_partitions = len(cluster.partitions_for_topic(self.raw_topic) or ())
        # Each member's last assignment, as it reports it when joining: where its raw partitions were.
        self._previous_raw = {}
        for member, metadata in member_metadata.items():
            try:
                last = self._get_client_metadata(metadata).assignment
            except Exception:  # not ours to judge: Faust's own assignment decides about such a member
                continue
            self._previous_raw[member] = list(last.actives.get(self.raw_topic, []))
        return super().assign(cluster, member_metadata)

    def _protocol_assignments(
        self,
        assignments: ClientAssignmentMapping,
        cl_distribution: HostToPartitionMap,
        tp_distribution: HostToPartitionMap,
        topic_groups: Mapping[str, int],
    ) -> MemberAssignmentMapping:
        try:
            moved = self._reweigh(assignments, topic_groups)
        except Exception:  # a fault here must not keep the group from forming: Faust's split stands
            log.exception("weighting the raw partitions failed; keeping Faust's own assignment")
            moved = False
        if moved:
            cl_distribution = self._get_changelog_distribution(assignments)
            tp_distribution = self._get_external_topic_distribution(assignments)
        return super()._protocol_assignments(assignments, cl_distribution, tp_distribution, topic_groups)

    def _reweigh(self, assignments: ClientAssignmentMapping, topic_groups: Mapping[str, int]) -> bool:
        """Move raw partitions in ``assignments`` (client -> ClientAssignment); True if any moved."""
        raw, prepared = self.raw_topic, self.prepared_topic
        if self.story_weight <= 0 or raw not in topic_groups:
            return False
        readers = {c for c, a in assignments.items() if raw in a.actives}
        owner = next((c for c in sorted(assignments) if assignments[c].actives.get(prepared)), None)
        if owner not in readers or len(readers) < 2:
            return False
        # Faust gives the same partitions to topics of one size read by the same clients: move those
        # along (none in this topology). Never split the prepared topic from the raw one.
        together = [
            t
            for t, group in topic_groups.items()
            if group == topic_groups[raw] and {c for c, a in assignments.items() if t in a.actives} == readers
        ]
        if prepared in together:
            return False
        if self._raw_partitions < 1:
            return False
        current = {c: list(assignments[c].actives[raw]) for c in readers}
        split = weighted_split(current, owner, self._raw_partitions, self.story_weight, self._previous_raw)
        if all(set(split[c]) == set(current[c]) for c in readers):
            return False
        for client in readers:
            assignment = assignments[client]
            for topic in together:
                assignment.actives[topic] = list(split[client])
                if topic in assignment.standbys:
                    assignment.standbys[topic] = [
                        p for p in assignment.standbys[topic] if p not in split[client]
                    ]
        log.info(
            "raw partitions of %s weighted for the story stage (weight %s, %d readers): %s",
            raw,
            self.story_weight,
            len(readers),
            "; ".join(f"{c}{' (story)' if c == owner else ''}: {split[c]}" for c in sorted(readers)),
        )
        return True

    def on_assignment(self, assignment: Any) -> None:
        super().on_assignment(assignment)
        mine = sorted(self._assignment.actives.get(self.raw_topic, []))
        story = bool(self._assignment.actives.get(self.prepared_topic))
        log.info(
            "assigned raw partitions %s of %s%s",
            mine,
            self.raw_topic,
            " and the story stage" if story else "",
        )


def weighted_assignor(settings: Settings) -> type[WeightedAssignor]:
    """A :class:`WeightedAssignor` for ``settings``' topics and story weight (Faust's
    ``PartitionAssignor`` setting takes a class)."""
    return type(
        "WeightedAssignor",
        (WeightedAssignor,),
        {
            "raw_topic": settings.raw_topic,
            "prepared_topic": settings.prepared_topic,
            "story_weight": settings.story_weight,
        },
    )
