"""Per-article work that needs no shared state: clean, fingerprint, enrich.

In: a :class:`RawArticle`. Out: a :class:`PreparedArticle` (clean text, dedup signature,
per-article enrichment). Runs in the partitioned stage of the worker, so it scales with
partitions and workers; the global dedup/story stage then only does cheap work.

Reason codes raised: ``empty_after_cleaning`` (from the clean stage).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

import orjson

from pipeline.clean import CleanConfig, clean_article
from pipeline.contracts import parse_rfc3339
from pipeline.dedup import DedupConfig, Signature, signature
from pipeline.enrich import ArticleEnrichment, EnrichConfig, Enricher
from pipeline.records import CleanedArticle, RawArticle

_ARTICLE_FIELDS = tuple(f.name for f in fields(CleanedArticle))
# A published time further ahead of the clock than this is a publisher's error (a wrong year or
# time zone): the dedup window runs on published times, so one such article would otherwise move
# the window forward and evict everything indexed before it. It counts as published now.
FUTURE_TOLERANCE_S = 86400.0


def _published_ts(dt: datetime | None, now: float) -> float:
    """The article's published time for the dedup window: ``now`` when absent or implausibly far
    in the future (see ``FUTURE_TOLERANCE_S``)."""
    if dt is None:
        return now
    ts = dt.timestamp()
    return ts if ts <= now + FUTURE_TOLERANCE_S else now


def word_count(text: str) -> int:
    """Words of a clean text, as the story stage compares them to pick the canonical version."""
    return len(text.split())


@dataclass(frozen=True, slots=True)
class PreparedArticle:
    """A cleaned article with everything the story stage needs about it.

    ``words`` (whitespace-separated words of the clean text) is counted here, in the partitioned
    stage, so the single story stage does not split every text again. ``enrichment_doc`` is the
    enrichment as it travelled in the message (``enrichment.to_dict()``), kept when decoding so
    the story stage can store it without converting it back.
    """

    article: CleanedArticle
    signature: Signature
    enrichment: ArticleEnrichment
    published_ts: float  # seconds since the epoch: published_at, else the time it was prepared
    words: int = -1  # -1: not counted (then counted on first use)
    enrichment_doc: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    def word_count(self) -> int:
        return self.words if self.words >= 0 else word_count(self.article.text)

    def enrichment_dict(self) -> dict[str, Any]:
        return self.enrichment_doc if self.enrichment_doc is not None else self.enrichment.to_dict()

    def to_bytes(self) -> bytes:
        art = self.article
        return orjson.dumps(
            {
                "article": {name: getattr(art, name) for name in _ARTICLE_FIELDS},
                "signature": base64.b64encode(self.signature.to_bytes()).decode("ascii"),
                "enrichment": self.enrichment_dict(),
                "published_ts": self.published_ts,
                "words": self.word_count(),
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> PreparedArticle:
        doc: dict[str, Any] = orjson.loads(data)
        art = doc["article"]
        art["authors"] = tuple(art.get("authors") or ())
        art["removed"] = tuple(art.get("removed") or ())
        enrichment = doc["enrichment"]
        article = CleanedArticle(**art)
        try:
            sig = Signature.from_bytes(base64.b64decode(doc["signature"]))
        except ValueError:
            # written by a release with another signature format (a deploy while messages were
            # in flight): the text is in the message, so fingerprint it again
            sig = signature(article, DedupConfig())
        return cls(
            article=article,
            signature=sig,
            enrichment=ArticleEnrichment.from_dict(enrichment),
            published_ts=float(doc["published_ts"]),
            words=int(doc.get("words", -1)),
            enrichment_doc=enrichment,
        )


@dataclass(frozen=True)
class StageConfigs:
    """The small frozen configs of the stages, derived from :class:`~pipeline.settings.Settings`."""

    clean: CleanConfig
    dedup: DedupConfig
    enrich: EnrichConfig


class Preparer:
    """Clean + fingerprint + enrich. Loads its models once; then call :meth:`prepare_many`."""

    def __init__(self, configs: StageConfigs) -> None:
        self.configs = configs
        self.enricher = Enricher(configs.enrich)

    def clean(self, raw: RawArticle) -> CleanedArticle:
        """Raises StageError(empty_after_cleaning)."""
        return clean_article(raw, self.configs.clean)

    def finish(self, cleaned: Sequence[CleanedArticle]) -> list[PreparedArticle]:
        """Fingerprint and enrich articles that cleaned successfully (enrichment is batched)."""
        enrichments = self.enricher.enrich_many(cleaned)
        now = datetime.now(UTC).timestamp()
        out = []
        for art, enr in zip(cleaned, enrichments, strict=True):
            dt = parse_rfc3339(art.published_at) if art.published_at else None
            out.append(
                PreparedArticle(
                    article=art,
                    signature=signature(art, self.configs.dedup),
                    enrichment=enr,
                    published_ts=_published_ts(dt, now),
                    words=word_count(art.text),
                )
            )
        return out

    def prepare(self, raw: RawArticle) -> PreparedArticle:
        return self.finish([self.clean(raw)])[0]
