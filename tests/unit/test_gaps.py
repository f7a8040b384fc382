"""OffsetGaps: which offsets a stream skipped (pure; the worker reads them back from the broker)."""

from __future__ import annotations

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
