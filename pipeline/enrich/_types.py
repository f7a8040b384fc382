"""Configuration and result records of the enrich stage.

:class:`ArticleEnrichment` is what the per-article stage produces and what travels (as
``to_dict()``) in the Kafka message and in the story-member table; the story-level object built by
:func:`pipeline.enrich.merge_enrichment` follows ``schemas/enrichment.schema.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

NerMode = Literal["fast", "spacy", "off"]
NER_MODES: tuple[NerMode, ...] = ("fast", "spacy", "off")
EntityType = Literal["person", "organization", "place", "other"]
PlaceKind = Literal["country", "city", "region"]

FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class EnrichConfig:
    """Settings of the enrich stage.

    ``ner`` picks the entity extractor: ``"fast"`` (default, rule-based, ~1 ms per 600-word
    article, no model), ``"spacy"`` (en_core_web_sm NER, more accurate, ~100 ms per article) or
    ``"off"``. ``entities=False`` is kept as an alias of ``ner="off"`` (and ``ner="off"`` sets
    ``entities`` to False). ``ner_max_chars`` bounds the text given to the extractor (spaCy's cost
    dominates): the text is cut at the last paragraph or sentence end before it, and entity names
    found there are then also counted, by exact match, in the rest of the text. ``batch_size`` is
    used by ``enrich_many`` in spaCy mode.
    """

    entities: bool = True
    ner: NerMode = "fast"
    keywords: int = 10
    ner_max_chars: int = 20_000
    summary_max_chars: int = 300
    words_per_minute: int = 238
    batch_size: int = 32
    language_min_confidence: float = 0.5

    def __post_init__(self) -> None:
        if self.ner not in NER_MODES:
            raise ValueError(f"ner must be one of {NER_MODES}, not {self.ner!r}")
        if not self.entities:
            object.__setattr__(self, "ner", "off")
        elif self.ner == "off":
            object.__setattr__(self, "entities", False)
        if self.keywords < 0 or self.ner_max_chars < 0 or self.batch_size < 1:
            raise ValueError("keywords, ner_max_chars must be >= 0 and batch_size >= 1")
        if self.words_per_minute < 1 or self.summary_max_chars < 1:
            raise ValueError("words_per_minute and summary_max_chars must be >= 1")


@dataclass(frozen=True, slots=True)
class Entity:
    """One entity of one text: preferred name, spelling variants, mentions as [start, end)."""

    name: str
    type: EntityType
    variants: tuple[str, ...]
    offsets: tuple[tuple[int, int], ...]
    count: int
    country: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "count": self.count,
            "variants": list(self.variants),
            "offsets": [list(o) for o in self.offsets],
            "country": self.country,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Entity:
        return cls(
            name=d["name"],
            type=d["type"],
            count=int(d["count"]),
            variants=tuple(d.get("variants") or ()),
            offsets=tuple([(int(s), int(e)) for s, e in d.get("offsets") or ()]),
            country=d.get("country"),
        )


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    country_code: str | None
    kind: PlaceKind

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "country_code": self.country_code, "kind": self.kind}


@dataclass(frozen=True, slots=True)
class Keyword:
    text: str
    score: float


@dataclass(frozen=True, slots=True)
class DateMention:
    """A date expression found in the text, resolved to a calendar day (ISO ``YYYY-MM-DD``)."""

    text: str
    date: str
    offset: int | None


@dataclass(frozen=True, slots=True)
class ArticleEnrichment:
    """Per-article enrichment. Offsets are character offsets into ``CleanedArticle.text``."""

    article_id: str
    language: str | None
    language_confidence: float
    entities: tuple[Entity, ...] = ()
    places: tuple[Place, ...] = ()
    countries: tuple[str, ...] = ()
    keywords: tuple[Keyword, ...] = ()
    dates: tuple[DateMention, ...] = ()
    summary: str = ""
    word_count: int = 0
    reading_time_minutes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (plain lists, str, int, float, None)."""
        out: dict[str, Any] = {
            "v": FORMAT_VERSION,
            "article_id": self.article_id,
            "language": {"code": self.language, "confidence": round(self.language_confidence, 4)},
            "entities": [e.to_dict() for e in self.entities],
            "places": [p.to_dict() for p in self.places],
            "countries": list(self.countries),
            "keywords": [{"text": k.text, "score": round(k.score, 4)} for k in self.keywords],
            "dates": [{"text": d.text, "date": d.date, "offset": d.offset} for d in self.dates],
            "summary": self.summary,
            "word_count": self.word_count,
            "reading_time_minutes": self.reading_time_minutes,
        }
        if self.extra:
            out["extra"] = dict(self.extra)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ArticleEnrichment:
        lang = d.get("language") or {}
        return cls(
            article_id=d["article_id"],
            language=lang.get("code"),
            language_confidence=float(lang.get("confidence") or 0.0),
            # list comprehensions, not generators: the same items, built faster
            entities=tuple([Entity.from_dict(e) for e in d.get("entities") or ()]),
            places=tuple([Place(p["name"], p.get("country_code"), p["kind"]) for p in d.get("places") or ()]),
            countries=tuple(d.get("countries") or ()),
            keywords=tuple([Keyword(k["text"], float(k["score"])) for k in d.get("keywords") or ()]),
            dates=tuple([DateMention(x["text"], x["date"], x.get("offset")) for x in d.get("dates") or ()]),
            summary=d.get("summary") or "",
            word_count=int(d.get("word_count") or 0),
            reading_time_minutes=int(d.get("reading_time_minutes") or 0),
            extra=dict(d.get("extra") or {}),
        )
