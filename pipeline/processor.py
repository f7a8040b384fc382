"""The processing core shared by the Faust worker and ``pipeline process``.

Both paths call exactly these two steps, so the batch path has no logic the worker lacks:

1. :meth:`Processor.prepare_batch`: raw messages (bytes with their topic/partition/offset) ->
   prepared articles, plus dead letters for the ones that failed (any reason code; an unexpected
   exception becomes ``internal_error``). Stateless; runs partitioned.
2. :meth:`StoryStage.assemble_message`: one prepared article -> the story revision to emit (or
   None), or a dead letter (``internal_error``, stage ``dedup``) if the story stage fails on it.
   The worker calls :meth:`StoryStage.assemble_packed`, the same for each article of a message
   of the prepared topic (one message per prepared batch).
   Stateful (dedup index + story states); runs in order on one partition.
"""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import orjson

from pipeline import errors
from pipeline.clean import CleanConfig
from pipeline.contracts import dead_letter, decode_raw, story_revision_error
from pipeline.dedup import DedupConfig
from pipeline.enrich import EnrichConfig
from pipeline.enrich._types import NerMode
from pipeline.errors import StageError
from pipeline.prepare import PreparedArticle, Preparer, StageConfigs, is_packed
from pipeline.records import CleanedArticle
from pipeline.settings import Settings
from pipeline.stories import StoryAssembler

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One message as read from the raw topic (or one line of a JSONL file)."""

    value: bytes | None
    key: bytes | None
    topic: str
    partition: int
    offset: int


def stage_configs(settings: Settings) -> StageConfigs:
    return StageConfigs(
        clean=CleanConfig(html_fallback=settings.html_fallback),
        dedup=DedupConfig(window_days=settings.dedup_window_days),
        enrich=EnrichConfig(ner=cast(NerMode, settings.ner if settings.entities else "off")),
        memo=settings.prepare_memo,
    )


def _where(msg: RawMessage) -> str:
    return f"{msg.topic}[{msg.partition}]@{msg.offset}"


def _readable_id(value: bytes | None) -> str | None:
    """The article id of a message rejected before it became an article (wrong schema, empty
    body), when the value is a JSON object with a string id; None otherwise."""
    if not value or not value.lstrip().startswith(b"{"):
        return None
    try:
        doc = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    article_id = doc.get("id") if isinstance(doc, dict) else None
    return article_id if isinstance(article_id, str) and article_id.strip() else None


class Processor:
    """Holds the stage objects (models loaded once) and runs the two steps."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.preparer = Preparer(stage_configs(settings))
        self.dead_letter_counts: dict[str, int] = {}

    def _fail(self, msg: RawMessage, exc: StageError, article_id: str | None) -> dict[str, Any]:
        self.dead_letter_counts[exc.reason] = self.dead_letter_counts.get(exc.reason, 0) + 1
        log.warning("%s dead-lettered at %s: %s: %s", _where(msg), exc.stage, exc.reason, exc.detail[:200])
        return dead_letter(
            original=msg.value,
            key=msg.key,
            topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
            error=exc,
            article_id=article_id,
            max_record_bytes=self.settings.max_message_bytes,
        )

    def prepare_batch(
        self, messages: Sequence[RawMessage]
    ) -> tuple[list[tuple[RawMessage, PreparedArticle]], list[dict[str, Any]]]:
        """Decode, validate, clean, fingerprint and enrich; failures become dead letters."""
        dead: list[dict[str, Any]] = []
        cleaned: list[tuple[RawMessage, CleanedArticle]] = []
        for msg in messages:
            article_id: str | None = None
            try:
                raw = decode_raw(msg.value, max_bytes=self.settings.max_message_bytes)
                article_id = raw.id
                cleaned.append((msg, self.preparer.clean(raw)))
            except StageError as exc:
                if article_id is None and exc.reason != errors.OVERSIZE:
                    article_id = _readable_id(msg.value)
                dead.append(self._fail(msg, exc, article_id))
            except Exception as exc:  # a bug or a library failure: keep the message, keep going
                log.exception("%s unexpected error in clean", _where(msg))
                err = StageError(errors.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}", stage="clean")
                dead.append(self._fail(msg, err, article_id))
        try:
            prepared = self.preparer.finish([c for _, c in cleaned])
            return [(m, p) for (m, _), p in zip(cleaned, prepared, strict=True)], dead
        except Exception:
            log.exception("batch enrichment failed; retrying one by one")
        done: list[tuple[RawMessage, PreparedArticle]] = []
        for msg, art in cleaned:
            try:
                done.append((msg, self.preparer.finish([art])[0]))
            except Exception as exc:
                err = StageError(errors.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}", stage="enrich")
                dead.append(self._fail(msg, err, art.id))
        return done, dead


class StoryStage:
    """Step 2: the stateful story stage around :class:`StoryAssembler`, with output validation:
    every revision is checked against the story schema (by what changed since the story's last
    revision, :func:`~pipeline.contracts.story_revision_error`); one that fails raises
    AssertionError naming the story and the problem."""

    def __init__(
        self,
        settings: Settings,
        entries: MutableMapping[str, bytes],
        stories: MutableMapping[str, bytes],
    ) -> None:
        self.assembler = StoryAssembler(
            stage_configs(settings).dedup, entries, stories, check=story_revision_error
        )
        self._max_record = settings.max_message_bytes

    def assemble(self, prepared: PreparedArticle) -> dict[str, Any] | None:
        return self.assembler.add(prepared)

    def assemble_message(
        self, msg: RawMessage, prepared: PreparedArticle | None = None
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """(story revision or None, dead letter or None) for one article of the prepared stream.

        ``prepared`` is given in batch mode; otherwise ``msg`` holds one article's bytes (see
        :meth:`assemble_packed` for a message holding several). Any failure keeps the message: it
        becomes a dead letter and the stage goes on.
        """
        article_id = msg.key.decode("utf-8", "replace") if msg.key else None
        try:
            art = prepared if prepared is not None else PreparedArticle.from_bytes(msg.value or b"")
            article_id = art.article.id
            return self.assemble(art), None
        except Exception as exc:
            return None, self._failed(msg, msg.value, article_id, exc)

    def assemble_prepared(
        self, prepared: Sequence[tuple[RawMessage, PreparedArticle]]
    ) -> list[tuple[dict[str, Any] | None, dict[str, Any] | None]]:
        """:meth:`assemble_message` for each article of a batch prepared in this process (a worker's
        direct story stage, ``Settings.direct_story``), each with its enrichment as the prepared
        topic would carry it (so the story state may drop the decoded object once merged, and
        decode it again from its JSON when needed, as for an article read from the topic)."""
        return [self.assemble_message(m, replace(a, enrichment_doc=a.enrichment_dict())) for m, a in prepared]

    def assemble_packed(self, msg: RawMessage) -> list[tuple[dict[str, Any] | None, dict[str, Any] | None]]:
        """:meth:`assemble_message` for each article of a prepared-topic message, in order: a
        pack of articles (:func:`~pipeline.prepare.pack_prepared`) or a single one. An article
        that fails is dead-lettered alone, with its own JSON as the original and its id as the
        key; in a pack that is not valid JSON, each article whose start is found gets a dead letter
        with its part of the bytes (see :func:`split_unreadable_pack`), and a pack with none found
        is dead-lettered whole."""
        if not is_packed(msg.value):
            return [self.assemble_message(msg)]
        try:
            docs = orjson.loads(msg.value or b"")
            if not isinstance(docs, list):
                raise TypeError(f"a prepared pack is a JSON array, not {type(docs).__name__}")
        except Exception as exc:
            # One dead letter per article whose start can be found in the bytes (each with its
            # own part of them), so every article of the pack is named in the dead-letter topic.
            parts = split_unreadable_pack(msg.value or b"")
            if not parts:
                return [(None, self._failed(msg, msg.value, None, exc))]
            return [(None, self._failed(msg, part, article_id, exc)) for article_id, part in parts]
        out: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = []
        for doc in docs:
            article_id = _article_id_of(doc)
            try:
                art = PreparedArticle.from_doc(doc)
                out.append((self.assemble(art), None))
            except Exception as exc:
                out.append((None, self._failed(msg, orjson.dumps(doc), article_id, exc)))
        return out

    def _failed(
        self, msg: RawMessage, original: bytes | None, article_id: str | None, exc: Exception
    ) -> dict[str, Any]:
        log.exception("%s story stage failed (article %s)", _where(msg), article_id)
        err = StageError(errors.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}", stage="dedup")
        return dead_letter(
            original=original, key=msg.key if article_id is None else article_id.encode("utf-8", "replace"),
            topic=msg.topic, partition=msg.partition, offset=msg.offset, error=err,
            article_id=article_id, max_record_bytes=self._max_record,
        )  # fmt: skip


# How every prepared article's JSON starts (PreparedArticle.to_bytes writes "article" first, and
# its "id" first), with the id string.
_ITEM_START = re.compile(rb'\{"article":\{"id":"((?:[^"\\]|\\.)*)"')


def split_unreadable_pack(value: bytes) -> list[tuple[str | None, bytes]]:
    """(article id, its part of the bytes) for each article whose start is found in a pack that
    is not valid JSON (cut short, or corrupted), in order; [] when none is found."""
    starts = list(_ITEM_START.finditer(value))
    out: list[tuple[str | None, bytes]] = []
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(value)
        part = value[m.start() : end].rstrip().rstrip(b",]")
        try:
            article_id = orjson.loads(b'"' + m.group(1) + b'"')
        except orjson.JSONDecodeError:
            article_id = None
        out.append((article_id if isinstance(article_id, str) else None, part))
    return out


def _article_id_of(doc: Any) -> str | None:
    """The article id of a decoded prepared article, if it has a readable one."""
    art = doc.get("article") if isinstance(doc, dict) else None
    article_id = art.get("id") if isinstance(art, dict) else None
    return article_id if isinstance(article_id, str) else None
