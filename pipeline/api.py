"""The small Python API for both sides of the service.

Publishing::

    async with Publisher(Settings.from_env()) as pub:
        await pub.publish({"id": "a1", "url": "...", "source": "example.org",
                           "content": "<html>...</html>", "content_type": "text/html"})

Consuming the deduplicated story stream (latest revision wins per story_id)::

    async for story in iter_stories(Settings.from_env(), from_beginning=True, follow=True):
        print(story["story_id"], story["revision"], story["canonical"]["title"])
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

import orjson

from pipeline import errors
from pipeline.contracts import dead_letter, raw_from_doc
from pipeline.errors import StageError
from pipeline.kafka import make_producer, read_topic, wait_for_broker
from pipeline.records import RawArticle
from pipeline.settings import Settings

log = logging.getLogger(__name__)


def encode_article(doc: dict[str, Any] | RawArticle, max_bytes: int) -> tuple[str, bytes]:
    """Validate one raw article and return (key, value bytes); StageError when it is rejected."""
    if isinstance(doc, RawArticle):
        doc = doc.to_dict()
    article = raw_from_doc(doc)
    value = orjson.dumps(doc)
    if len(value) > max_bytes:
        raise StageError(
            errors.OVERSIZE, f"article is {len(value)} bytes encoded, limit is {max_bytes}", stage="publish"
        )
    return article.id, value


class Publisher:
    """Validates and publishes raw articles to the raw topic; rejected ones go to the dead-letter topic.

    ``wait_s`` is how long to wait for an unreachable broker (default: the settings' value; 0 = fail
    at once with :class:`~pipeline.kafka.BrokerUnavailable`).
    """

    def __init__(self, settings: Settings, *, wait_s: float | None = None) -> None:
        self.settings = settings
        self.wait_s = settings.wait_for_broker_s if wait_s is None else wait_s
        self.producer = make_producer(settings)
        self.published = 0
        self.rejected = 0

    async def __aenter__(self) -> Publisher:
        await wait_for_broker(self.settings, self.wait_s, say=log.warning)
        await self.producer.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.producer.stop()

    async def publish(self, doc: dict[str, Any] | RawArticle) -> str:
        """Validate and send one article; returns its id. Raises StageError if rejected."""
        key, value = encode_article(doc, self.settings.max_message_bytes)
        await self.producer.send(self.settings.raw_topic, value=value, key=key.encode("utf-8"))
        self.published += 1
        return key

    async def reject(self, original: bytes, where: str, error: StageError, article_id: str | None) -> None:
        """Record an item the publisher refused in the dead-letter topic (stage ``publish``)."""
        err = StageError(error.reason, f"{where}: {error.detail}", stage="publish")
        record = dead_letter(
            original=original,
            key=None,
            topic=where.split(":")[0],
            partition=-1,
            offset=-1,
            error=err,
            article_id=article_id,
            max_record_bytes=self.settings.max_message_bytes,
        )
        await self.producer.send(self.settings.dead_letter_topic, value=orjson.dumps(record))
        self.rejected += 1

    async def flush(self) -> None:
        await self.producer.flush()


async def iter_stories(
    settings: Settings, *, from_beginning: bool = True, follow: bool = True
) -> AsyncIterator[dict[str, Any]]:
    """Yield story revisions from the stories topic as dicts (see schemas/story.schema.json)."""
    async for record in read_topic(
        settings, settings.stories_topic, from_beginning=from_beginning, follow=follow
    ):
        try:
            yield orjson.loads(record.value)
        except orjson.JSONDecodeError:
            log.warning(
                "skipping undecodable story at %s[%d]@%d", record.topic, record.partition, record.offset
            )
