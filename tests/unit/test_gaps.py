"""OffsetGaps: which offsets a stream skipped (pure; the worker reads them back from the broker)."""

from __future__ import annotations

from typing import Any

from pipeline.gaps import OffsetGaps


def test_contiguous_offsets_have_no_gap() -> None:
    g = OffsetGaps()
    assert [g.observe("raw", 0, o) for o in range(5)] == [None] * 5


def test_a_skipped_offset_is_reported_once_as_a_half_open_range() -> None:
    g = OffsetGaps()
    for o in range(141, 157):
        assert g.observe("raw", 0, o) is None
    assert g.observe("raw", 0, 158) == (157, 158)  # the case measured in the restart test
    assert g.observe("raw", 0, 159) is None
    assert g.observe("raw", 0, 170) == (160, 170)


def test_partitions_and_topics_are_tracked_apart() -> None:
    g = OffsetGaps()
    g.observe("raw", 0, 10)
    g.observe("raw", 1, 50)
    g.observe("prepared", 0, 7)
    assert g.observe("raw", 0, 11) is None
    assert g.observe("raw", 1, 53) == (51, 53)
    assert g.observe("prepared", 0, 8) is None


def test_a_replay_moves_the_position_back_without_a_gap() -> None:
    g = OffsetGaps()
    for o in range(20, 30):
        g.observe("raw", 0, o)
    assert g.observe("raw", 0, 25) is None  # the consumer went back to a commit: replay
    assert g.observe("raw", 0, 26) is None
    assert g.observe("raw", 0, 28) == (27, 28)


def test_first_offset_after_reset_is_not_a_gap() -> None:
    g = OffsetGaps()
    g.observe("raw", 0, 5)
    g.reset()  # a rebalance: the next offset comes from the committed position
    assert g.observe("raw", 0, 90) is None
    assert g.observe("raw", 0, 92) == (91, 92)


def test_a_hole_before_the_first_message_is_found_from_the_commit() -> None:
    g = OffsetGaps()
    assert not g.known("raw", 0)
    g.expect("raw", 0, 40)  # the group's committed offset after an assignment
    assert g.known("raw", 0)
    assert g.observe("raw", 0, 42) == (40, 42)
    assert g.observe("raw", 0, 43) is None


def test_faust_commits_past_a_hole_read_back_only_once_counted_as_acked() -> None:
    """Pins the private Faust API the worker uses (``Consumer._add_gap``, ``_new_offset``): without
    it Faust never commits a partition again after a hole of 2 or more messages."""
    import asyncio

    import faust
    from faust.types import TP

    from pipeline.worker import count_as_acked

    app = faust.App("test-gaps", broker="kafka://127.0.0.1:1")  # never connects

    async def run() -> tuple[int | None, int | None, int | None]:
        consumer: Any = app.consumer
        tp = TP("raw", 0)
        consumer._committed_offset[tp] = 20
        for offset in (25, 26, 27):  # 20..24 were skipped by the stream, then read back
            consumer._acked[tp].append(offset)
            consumer._acked_index[tp].add(offset)
        stuck = consumer._new_offset(tp)
        await count_as_acked(app, "raw", 0, 25, [(20, 25)])
        moved = consumer._new_offset(tp)
        consumer._committed_offset[tp] = moved
        return stuck, moved, consumer._new_offset(tp)

    stuck, moved, after = asyncio.run(run())
    assert stuck is None  # Faust's own rule: the first unacked offset is more than one past the commit
    assert moved == 28
    assert after is None  # nothing new acked


def test_faust_commit_is_not_stalled_by_its_own_gap_over_acked_offsets() -> None:
    """Measured in the restart test: Faust added a gap 160..182 itself while 159..174 were being
    processed and acknowledged; each doubled offset ended its run of consecutive offsets, so its
    commit crept on by one or two offsets per interval."""
    import asyncio

    import faust
    from faust.types import TP

    from pipeline.worker import count_as_acked

    app = faust.App("test-gaps-double", broker="kafka://127.0.0.1:1")  # never connects

    async def run() -> tuple[int | None, int | None]:
        consumer: Any = app.consumer
        tp = TP("raw", 1)
        consumer._committed_offset[tp] = 159
        await consumer._add_gap(tp, 160, 182)  # Faust's own, from a jump of its read position
        for offset in [*range(159, 175), *range(183, 191)]:
            consumer._acked[tp].append(offset)
            consumer._acked_index[tp].add(offset)
        await count_as_acked(app, "raw", 1, 183, [(175, 183)])
        first = consumer._new_offset(tp)
        consumer._committed_offset[tp] = first
        return first, consumer._new_offset(tp)

    first, after = asyncio.run(run())
    assert first == 191
    assert after is None
