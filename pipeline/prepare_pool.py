"""The prepare step in child processes, so one worker uses every core.

The worker's event loop (Faust, the story agent) stays in the main process; each batch of raw
messages is split into contiguous chunks, prepared in parallel by ``processes`` children (each
loads its own models once) and put back together in the input order, so the prepared topic
receives exactly what the in-process path would send, in the same order. The batch is finished,
sent and only then acknowledged, as in the in-process path, so at-least-once holds.

No Kafka here: the worker awaits :meth:`PreparePool.prepare` inside its agent.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from pipeline.gctune import freeze_loaded, tune_gc
from pipeline.prepare import PreparedArticle
from pipeline.processor import Processor, RawMessage
from pipeline.settings import Settings

log = logging.getLogger(__name__)

Prepared = list[tuple[str, bytes]]  # (article id, PreparedArticle.to_bytes()) in input order
DeadLetters = list[dict[str, Any]]

_child_processor: Processor | None = None
_MAX_FAILURES = 3


def _init_child(settings: Settings, cpus: frozenset[int] | None = None) -> None:
    global _child_processor
    if cpus is not None:  # a pinned worker's children run on every CPU it was allowed before
        os.sched_setaffinity(0, cpus)
    logging.basicConfig(level=settings.log_level)
    tune_gc()  # the collector as in the worker (pipeline.gctune)
    _child_processor = Processor(settings)
    freeze_loaded()  # the models stay for the process's life


def _ready() -> bool:
    return _child_processor is not None


def as_items(prepared: Sequence[tuple[RawMessage, PreparedArticle]]) -> Prepared:
    """:meth:`Processor.prepare_batch`'s articles as ``(article id, bytes)``, ready to pack."""
    return [(art.article.id, art.to_bytes()) for _, art in prepared]


def _prepare_chunk(messages: Sequence[RawMessage]) -> tuple[Prepared, DeadLetters]:
    assert _child_processor is not None, "child process not initialised"
    prepared, dead = _child_processor.prepare_batch(messages)
    return as_items(prepared), dead


def prepare_in_process(processor: Processor, messages: Sequence[RawMessage]) -> tuple[Prepared, DeadLetters]:
    """The same result as the pool, computed here (the fallback and the ``processes=0`` path)."""
    prepared, dead = processor.prepare_batch(messages)
    return as_items(prepared), dead


class PreparePool:
    """``processes`` child processes running :meth:`Processor.prepare_batch` (on ``cpus``, when
    given: the worker's own CPU set otherwise)."""

    def __init__(self, settings: Settings, processes: int, cpus: frozenset[int] | None = None) -> None:
        if processes < 1:
            raise ValueError("a prepare pool needs at least one process")
        self.settings = settings
        self.processes = processes
        self.cpus = cpus
        self.failures = 0  # consecutive batches lost to a broken pool
        self._pool: ProcessPoolExecutor | None = self._start()

    def _start(self) -> ProcessPoolExecutor:
        # spawn: the worker process runs threads (the event loop, the Kafka clients), which a
        # forked child must not inherit
        ctx = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(
            self.processes, mp_context=ctx, initializer=_init_child, initargs=(self.settings, self.cpus)
        )
        for _ in range(self.processes):
            pool.submit(_ready)  # start the children now: their models load while the worker joins
        return pool

    async def prepare(
        self, messages: Sequence[RawMessage], fallback: Callable[[], Processor]
    ) -> tuple[Prepared, DeadLetters]:
        """Prepared articles (input order) and dead letters of ``messages``.

        If a child dies (killed, out of memory), the pool is restarted and this batch is prepared
        in this process with the processor ``fallback()`` returns: nothing is skipped.
        """
        if not messages:
            return [], []
        if self._pool is None:  # disabled after repeated failures
            return prepare_in_process(fallback(), messages)
        loop = asyncio.get_running_loop()
        size = -(-len(messages) // self.processes)
        chunks = [messages[i : i + size] for i in range(0, len(messages), size)]
        try:
            results = await asyncio.gather(
                *(loop.run_in_executor(self._pool, _prepare_chunk, chunk) for chunk in chunks)
            )
        except BrokenProcessPool:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self.failures += 1
            if self.failures >= _MAX_FAILURES:
                log.error("prepare processes died %d times in a row; preparing in the worker process "
                          "from now on", self.failures)  # fmt: skip
                self._pool = None
            else:
                log.error("a prepare process died; restarting the pool and preparing this batch here")
                self._pool = self._start()
            return prepare_in_process(fallback(), messages)
        self.failures = 0
        prepared: Prepared = []
        dead: DeadLetters = []
        for p, d in results:
            prepared.extend(p)
            dead.extend(d)
        return prepared, dead

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
