"""A worker process, `pipeline process` and the benchmark's in-process run use the collector
thresholds of pipeline.gctune."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from pipeline import gctune, worker
from pipeline.settings import Settings


@pytest.fixture
def thresholds() -> Iterator[None]:
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        yield
    finally:
        gc.set_threshold(*saved)


class _Stop(Exception):
    pass


def test_tune_gc_sets_the_young_threshold(thresholds: None) -> None:
    gctune.tune_gc()
    assert gc.get_threshold() == (gctune.GC_YOUNG_THRESHOLD, 10, 10)
    assert gctune.GC_YOUNG_THRESHOLD > 700  # fewer young collections than Python's default


def test_run_worker_tunes_the_collector_before_it_builds_the_app(
    thresholds: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, int, int]] = []

    def build_app(settings: Settings, processor: Any = None, child_cpus: Any = None) -> Any:
        seen.append(gc.get_threshold())
        raise _Stop

    monkeypatch.setattr(worker, "build_app", build_app)
    monkeypatch.setattr(worker, "install_fetch_max_wait", lambda wait_ms: None)
    with pytest.raises(_Stop):
        worker.run_worker(Settings(check_end_offsets=False))
    assert seen == [(gctune.GC_YOUNG_THRESHOLD, 10, 10)]


def test_stage_gc_restores_the_thresholds_and_unfreezes(thresholds: None) -> None:
    with gctune.stage_gc():
        assert gc.get_threshold() == (gctune.GC_YOUNG_THRESHOLD, 10, 10)
        gctune.freeze_loaded()
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0
