"""``pipeline process``: the batch/backfill path, in-process, no broker.

Reads a JSONL file of raw articles (one JSON object per line, in file order), runs the very same
:class:`~pipeline.processor.Processor` and :class:`~pipeline.processor.StoryStage` the worker
runs, and returns the final revision of every story plus the dead letters. Each line is one
message: its bytes are what the worker would receive as a message value, so a bad line is
dead-lettered with the same reason code the worker would give (offset = line number from 0).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.processor import Processor, RawMessage, StoryStage
from pipeline.settings import Settings

BATCH = 64


@dataclass
class BatchResult:
    stories: dict[str, dict[str, Any]] = field(default_factory=dict)  # story id -> final revision
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    revisions: int = 0
    articles: int = 0


def iter_lines(path: Path) -> Iterator[RawMessage]:
    with path.open("rb") as fh:
        for number, line in enumerate(fh):
            value = line.rstrip(b"\r\n")
            if not value.strip():
                continue  # blank lines are layout, not messages
            yield RawMessage(value=value, key=None, topic=str(path), partition=-1, offset=number)


def run_batch(
    messages: Iterable[RawMessage],
    settings: Settings,
    *,
    processor: Processor | None = None,
    progress: Callable[[int], None] | None = None,
) -> BatchResult:
    """Process messages in order through the shared stages; keep the last revision per story."""
    proc = processor or Processor(settings)
    stage = StoryStage(settings, entries={}, stories={})
    result = BatchResult()
    batch: list[RawMessage] = []

    def flush() -> None:
        prepared, dead = proc.prepare_batch(batch)
        result.dead_letters.extend(dead)
        for msg, art in prepared:
            story, dead_letter = stage.assemble_message(msg, art)
            if dead_letter is not None:
                result.dead_letters.append(dead_letter)
            if story is not None:
                result.stories[story["story_id"]] = story
                result.revisions += 1
        result.articles += len(batch)
        if progress:
            progress(len(batch))
        batch.clear()

    for msg in messages:
        batch.append(msg)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return result
