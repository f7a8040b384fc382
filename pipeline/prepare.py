"""Per-article work that needs no shared state: clean, fingerprint, enrich.

In: a :class:`RawArticle`. Out: a :class:`PreparedArticle` (clean text, dedup signature,
per-article enrichment). Runs in the partitioned stage of the worker, so it scales with
partitions and workers; the global dedup/story stage then only does cheap work.

Reason codes raised: ``empty_after_cleaning`` (from the clean stage).
"""

from __future__ import annotations

import base64
import binascii
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar, cast

import orjson
import xxhash

from pipeline.clean import CleanConfig, CleanContent, clean_content, cleaned_article, content_kind
from pipeline.contracts import parse_rfc3339
from pipeline.dedup import DedupConfig, Signature, signature, signature_of_copy
from pipeline.enrich import ArticleEnrichment, EnrichConfig, Enricher
from pipeline.records import CleanedArticle, RawArticle

V = TypeVar("V")
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
        return self._encode(self.signature.to_bytes(), self.enrichment_dict())

    def _encode(self, sig: bytes, enrichment: dict[str, Any]) -> bytes:
        art = self.article
        return orjson.dumps(
            {
                "article": {name: getattr(art, name) for name in _ARTICLE_FIELDS},
                "signature": base64.b64encode(sig).decode("ascii"),
                "enrichment": enrichment,
                "published_ts": self.published_ts,
                "words": self.word_count(),
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> PreparedArticle:
        return cls.from_doc(orjson.loads(data))

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> PreparedArticle:
        """From the decoded JSON of :meth:`to_bytes` (one item of a packed message)."""
        art = dict(doc["article"])
        art["authors"] = tuple(art.get("authors") or ())
        art["removed"] = tuple(art.get("removed") or ())
        enrichment = doc["enrichment"]
        article = CleanedArticle(**art)
        encoded = doc["signature"]
        try:
            # a str straight to binascii (what b64decode does with it, less its checks in Python;
            # anything else through b64decode, for its very errors)
            raw_sig = binascii.a2b_base64(encoded) if type(encoded) is str else base64.b64decode(encoded)
            sig = Signature.from_bytes(raw_sig)
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


# A prepared-topic message holds the prepared articles of one batch of raw messages, up to this
# many bytes (an article larger than that alone): the story stage then receives one message per
# batch instead of one per article, which saves a send, a fetched record and Faust's per-event
# work per article.
PACKED_MESSAGE_BYTES = 512 * 1024


def pack_prepared(
    items: Sequence[tuple[str, bytes]], max_bytes: int = PACKED_MESSAGE_BYTES
) -> list[tuple[str, bytes]]:
    """Prepared articles ``(article id, PreparedArticle.to_bytes())``, in order, as prepared-topic
    messages ``(key, value)``: each value a JSON array of consecutive articles of at most
    ``max_bytes`` (or one larger article alone), keyed by the id of its first article."""
    return [(items[i][0], pack_value(items[i:j])) for i, j in pack_spans(items, max_bytes)]


def pack_spans(
    items: Sequence[tuple[str, bytes]], max_bytes: int = PACKED_MESSAGE_BYTES
) -> list[tuple[int, int]]:
    """The ``[start, end)`` ranges of ``items`` that :func:`pack_prepared` puts in one pack each."""
    spans: list[tuple[int, int]] = []
    start = 0
    size = 2
    for i, (_, value) in enumerate(items):
        if i > start and size + len(value) + 1 > max_bytes:
            spans.append((start, i))
            start, size = i, 2
        size += len(value) + 1
    if start < len(items):
        spans.append((start, len(items)))
    return spans


def pack_value(items: Sequence[tuple[str, bytes]]) -> bytes:
    """The pack of these items: their JSON values as one JSON array."""
    return b"[" + b",".join([value for _, value in items]) + b"]"


def is_packed(value: bytes | None) -> bool:
    """Is a prepared-topic message a pack (a JSON array) rather than one article (an object,
    as written by releases before packing)?"""
    return value is not None and value.startswith(b"[")


@dataclass(frozen=True)
class StageConfigs:
    """The small frozen configs of the stages, derived from :class:`~pipeline.settings.Settings`.

    ``memo``: how many recent distinct (title, text, language) results the preparer keeps (0: none).
    """

    clean: CleanConfig
    dedup: DedupConfig
    enrich: EnrichConfig
    memo: int = 4096


def memo_key(article: CleanedArticle) -> int:
    """128-bit key of what the signature and the enrichment are computed from (besides the URL
    and the publish date, which :class:`Preparer` applies to each copy itself)."""
    joined = f"{article.language or ''}\x1f{article.title}\x1f{article.text}"
    return xxhash.xxh3_128_intdigest(joined.encode("utf-8", "surrogatepass"))


# The memo's bound in bytes (per process), beside its bound in articles: an entry's size grows
# with the dates and entity mentions of its text (measured, deep size: a 600-word article 4-7 KB;
# 0.9 MB of "On Tuesday it rained." 8.3 MB), so a run of long texts must not fill memory.
MEMO_MAX_BYTES = 64 << 20


def _estimated_bytes(sig: Signature, enrichment: ArticleEnrichment) -> int:
    """A generous estimate of an entry's memory: fixed parts plus ~240 bytes per date, entity
    offset or spelling and keyword."""
    items = len(enrichment.dates) + len(enrichment.keywords)
    items += sum(len(e.offsets) + len(e.variants) for e in enrichment.entities)
    return 4096 + 2 * len(enrichment.summary) + 240 * items


class _BoundedMemo(Generic[V]):
    """Values by 128-bit key: the last ``size`` distinct ones, at most ``max_bytes`` of them by
    the weight each is put with, least recently used first out. A value weighing more than 1/64
    of ``max_bytes`` is not kept; ``size`` 0 keeps nothing."""

    def __init__(self, size: int, max_bytes: int) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[int, tuple[V, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()
        self.bytes = self.hits = self.misses = 0

    def get(self, key: int) -> V | None:
        item = self._items.get(key)
        if item is None:
            self.misses += 1
            return None
        self.hits += 1
        self._items.move_to_end(key)
        return item[0]

    def _put(self, key: int, value: V, weight: int) -> None:
        if self.size <= 0 or weight > self.max_bytes // 64:
            return
        old = self._items.pop(key, None)
        if old is not None:
            self.bytes -= old[1]
        self._items[key] = (value, weight)
        self.bytes += weight
        while len(self._items) > self.size or self.bytes > self.max_bytes:
            self.bytes -= self._items.popitem(last=False)[1][1]


class Memo(_BoundedMemo[tuple[str | None, Signature, ArticleEnrichment]]):
    """The signatures and enrichments of the last ``size`` distinct cleaned articles (at most
    ``max_bytes`` of them, estimated), least recently used first out. Copies of a story (wire
    reprints, a feed item polled again) clean to the same title and text; their fingerprint and
    enrichment are then taken from here. An entry larger than 1/64 of ``max_bytes`` is not kept."""

    def __init__(self, size: int, max_bytes: int = MEMO_MAX_BYTES) -> None:
        super().__init__(size, max_bytes)

    def put(self, key: int, published_at: str | None, sig: Signature, enrichment: ArticleEnrichment) -> None:
        if self.size > 0:
            self._put(key, (published_at, sig, enrichment), _estimated_bytes(sig, enrichment))


def content_key(raw: RawArticle, kind: str) -> int:
    """128-bit key of what :func:`~pipeline.clean.clean_content` reads of ``raw`` (cleaned as
    ``kind``): the content, the raw title, and the URL for a page."""
    h = xxhash.xxh3_128()
    for part in (kind, raw.title or "", raw.url if kind == "text/html" else "", raw.content):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.intdigest()


class CleanMemo(_BoundedMemo[CleanContent]):
    """The clean results of the last ``size`` distinct contents (at most ``max_bytes`` of text,
    estimated), least recently used first out. A feed item polled again, or a wire copy
    delivered word for word, is the same content under another id: it is cleaned once. An
    article that cleans to nothing is not kept (cleaning it again raises the same error)."""

    def __init__(self, size: int, max_bytes: int = MEMO_MAX_BYTES // 2) -> None:
        super().__init__(size, max_bytes)

    def put(self, key: int, content: CleanContent) -> None:
        # str payloads take 1-4 bytes per character; the removed kinds and metadata are small
        self._put(key, content, 512 + 2 * (len(content.title) + len(content.body)))


class Preparer:
    """Clean + fingerprint + enrich. Loads its models once; then call :meth:`prepare_many`."""

    def __init__(self, configs: StageConfigs) -> None:
        self.configs = configs
        self.enricher = Enricher(configs.enrich)
        self.memo = Memo(configs.memo)
        self.clean_memo = CleanMemo(configs.memo)

    def clean(self, raw: RawArticle) -> CleanedArticle:
        """Raises StageError(empty_after_cleaning). A content seen recently (see
        :class:`CleanMemo`) takes the result of cleaning it then: the same as cleaning it again
        (``tests/unit/test_prepare_memo.py``)."""
        memo = self.clean_memo
        if memo.size <= 0:
            return cleaned_article(raw, clean_content(raw, self.configs.clean))
        kind = content_kind(raw)
        key = content_key(raw, kind)
        content = memo.get(key)
        if content is None:
            content = clean_content(raw, self.configs.clean, kind)
            memo.put(key, content)
        return cleaned_article(raw, content)

    def finish(self, cleaned: Sequence[CleanedArticle]) -> list[PreparedArticle]:
        """Fingerprint and enrich articles that cleaned successfully (enrichment is batched).

        An article whose title, text and language were seen recently (see :class:`Memo`) takes the
        signature and enrichment computed then, with its own URL key, id and dates: the same
        result as computing them again (``tests/unit/test_prepare_memo.py``)."""
        memo = self.memo
        use_memo = memo.size > 0
        keys = [memo_key(a) for a in cleaned] if use_memo else []
        results: list[tuple[Signature, ArticleEnrichment] | None] = [None] * len(cleaned)
        first_of: dict[int, int] = {}  # key -> index of the batch's article computed for it
        compute: list[int] = []
        for i, art in enumerate(cleaned):
            if use_memo:
                key = keys[i]
                if key in first_of:
                    continue  # a copy of an article earlier in this batch: filled in below
                hit = memo.get(key)
                if hit is not None:
                    published_at, sig, enr = hit
                    results[i] = (signature_of_copy(sig, art), self.enricher.of_copy(enr, published_at, art))
                    continue
                first_of[key] = i
            compute.append(i)
        enrichments = self.enricher.enrich_many([cleaned[i] for i in compute])
        for i, enr in zip(compute, enrichments, strict=True):
            art = cleaned[i]
            sig = signature(art, self.configs.dedup)
            results[i] = (sig, enr)
            if use_memo:
                memo.put(keys[i], art.published_at, sig, enr)
        now = datetime.now(UTC).timestamp()
        out = []
        for i, art in enumerate(cleaned):
            result = results[i]
            if result is None:  # a copy within the batch
                source = cleaned[first_of[keys[i]]]
                sig, enr = cast(tuple[Signature, ArticleEnrichment], results[first_of[keys[i]]])
                memo.hits += 1
                result = (signature_of_copy(sig, art), self.enricher.of_copy(enr, source.published_at, art))
            dt = parse_rfc3339(art.published_at) if art.published_at else None
            out.append(
                PreparedArticle(
                    article=art,
                    signature=result[0],
                    enrichment=result[1],
                    published_ts=_published_ts(dt, now),
                    words=word_count(art.text),
                )
            )
        return out

    def prepare(self, raw: RawArticle) -> PreparedArticle:
        return self.finish([self.clean(raw)])[0]
