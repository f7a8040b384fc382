"""The ECB+ label ceiling: the most copy pairs a clustering can join without a false merge."""

from __future__ import annotations

from pipeline.evaluation.dedup_eval import _partitions, label_ceiling


def test_partitions_are_the_bell_numbers() -> None:
    assert [sum(1 for _ in _partitions(list(range(n)))) for n in range(6)] == [1, 1, 2, 5, 15, 52]


def test_two_parts_of_one_text_that_share_nothing() -> None:
    # 0 copies parts of 1 and of 2; 1 and 2 are different: one of the two copy pairs at most
    labels = {(0, 1): True, (0, 2): True, (1, 2): False}
    assert label_ceiling(labels) == {"positives": 2, "joinable": 1}


def test_transitive_labels_can_all_be_joined() -> None:
    labels = {(0, 1): True, (0, 2): True, (1, 2): True, (3, 4): True, (0, 3): False}
    assert label_ceiling(labels) == {"positives": 4, "joinable": 4}


def test_an_unscored_pair_does_not_block() -> None:
    # 0~1, 1~2, 0-2 left out (middle band): all three may sit together
    labels = {(0, 1): True, (1, 2): True}
    assert label_ceiling(labels) == {"positives": 2, "joinable": 2}


def test_chain_with_a_different_end_pair() -> None:
    # every pair a copy except 0/3: {0,1,2},{3} or {0},{1,2,3} join 3 of the 5 copy pairs
    labels = {(0, 1): True, (1, 2): True, (2, 3): True, (0, 3): False, (0, 2): True, (1, 3): True}
    assert label_ceiling(labels) == {"positives": 5, "joinable": 3}
