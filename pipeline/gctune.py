"""Garbage-collector settings of a process that runs the stages: a worker, ``pipeline process``
and the benchmark's in-process run use the same ones, so the benchmark compares like with like."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Young objects allocated between two young collections (Python's default is 700). A story or a
# prepared batch allocates thousands of short-lived dicts and lists, so at 700 the collector ran
# many times per article. One worker, 3,000 articles, entities off, four alternating rounds
# (twelfth session): worker CPU per article 1.25 ms median against 1.31 ms at the default, 770
# against 738 articles/s. The older generations keep Python's default ratios (10, 10).
GC_YOUNG_THRESHOLD = 50_000


def tune_gc() -> None:
    """Set this process's collector thresholds to the stages' (see GC_YOUNG_THRESHOLD)."""
    gc.set_threshold(GC_YOUNG_THRESHOLD, 10, 10)


def freeze_loaded() -> None:
    """Move every object alive now (the loaded models above all) out of the collector's view:
    they live as long as the process, and full collections no longer walk them (measured over
    2,000 articles in one process: full collections took 0.80-0.94 s, 0.57-0.67 s frozen)."""
    gc.freeze()


@contextmanager
def stage_gc() -> Iterator[None]:
    """Within the block, the stages' thresholds; :func:`freeze_loaded` may be called in it. Both
    are undone at the end (for a run inside a longer-lived program, e.g. the benchmark)."""
    saved = gc.get_threshold()
    tune_gc()
    try:
        yield
    finally:
        gc.set_threshold(*saved)
        gc.unfreeze()
