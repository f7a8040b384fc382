"""Enrich stage: language, entities, places, keywords, dates and a lead summary per article,
merged per story.

In: :class:`~pipeline.records.CleanedArticle`. Out: :class:`ArticleEnrichment` (per article, in the
parallel stage) and, in the dedup stage, the story-level object of :func:`merge_enrichment`
(``schemas/enrichment.schema.json``). Raises no reason codes of its own.
"""

from pipeline.enrich._dates import find_dates, parse_publish_date
from pipeline.enrich._enricher import Enricher
from pipeline.enrich._language import LanguageDetector, primary_subtag
from pipeline.enrich._merge import SCHEMA_ID, StoryMerge, merge_enrichment
from pipeline.enrich._places import PlaceResolver
from pipeline.enrich._types import (
    ArticleEnrichment,
    DateMention,
    EnrichConfig,
    Entity,
    Keyword,
    Place,
)
from pipeline.enrich._variants import is_variant

__all__ = [
    "SCHEMA_ID",
    "ArticleEnrichment",
    "DateMention",
    "EnrichConfig",
    "Enricher",
    "Entity",
    "Keyword",
    "LanguageDetector",
    "Place",
    "PlaceResolver",
    "StoryMerge",
    "find_dates",
    "is_variant",
    "merge_enrichment",
    "parse_publish_date",
    "primary_subtag",
]
