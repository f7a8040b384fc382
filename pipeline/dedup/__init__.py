"""Dedup stage: find which earlier article (within a time window) a new article is a version of.

What goes in: a :class:`~pipeline.records.CleanedArticle`. ``signature(article, config)`` (pure,
parallel stage) turns it into a 1,051-byte :class:`Signature`; :class:`DedupIndex` (global stage)
answers ``lookup(article_id, sig) -> Match | None`` and is updated with ``insert``/``evict``.
What comes out: a :class:`Match` naming the matched article, its story, the relation
("exact", "copy", "rewrite") and a similarity in [0, 1]. This stage raises no reason codes.

Design (see README, "Dedup"):

- Exact first: same normalised canonical URL, or same normalised-body hash.
- Fingerprint: 64-bit simhash over content-word unigrams (function words, weekday and relative-day
  words dropped; numbers, months and transliterated names normalised), weighted toward names and
  numbers and toward the top of the story.
- Index: 4 tables keyed on 16-bit blocks of the fingerprint, multi-probed to radius 2, so every
  indexed fingerprint within 11 bits is a candidate (every one within ``rewrite_distance`` that
  the probes find, and the nearest ``far_candidates`` up to ``max_distance``); plus four exact
  keys: the canonical URL, the lead key (the first 6 content keys: briefs keep the first
  sentence), the anchor (the smallest hash of the key pairs of the first 40 content keys, a
  MinHash value: two openings that share most pairs usually share it) and the names key (the
  smallest hash of the first 64 names and numbers: a rewrite that changed every phrase keeps
  them). A text with no names key (fewer than 12 distinct names and numbers) is listed by its
  whole key (the smallest hash of all its key triples) in the names key's place, and every query
  probes with its 32 smallest triple hashes: a text holding a share of a shorter one (a brief
  published first, a short story that copies add chrome or teasers to, a condensed version)
  finds it with about that probability, whatever the fingerprint distance (the newest 256 rows
  found so per lookup). 60 bytes per article.
- Verification, on sketches kept in the durable entry and read only for candidates: MinHash of
  the key pairs near the top (Jaccard), of the content words (paraphrase), bottom-k of the names
  and numbers (so different events of the same kind stay apart), bottom-k of the key triples
  of the whole text (containment of a lead, an abridged copy or a quoted release in a longer one)
  and the names and numbers in reading order (a sentence-by-sentence rewrite keeps their order).

Partitioning: a story can only be found on the worker that holds its candidates, so the dedup
stage is keyed by one global partition key (the index is not sharded by article id): the parallel
stage (decode, clean, signature) scales out over the raw topic's partitions and sends signatures to
a single-partition topic consumed by one dedup task, whose index lives in a changelogged table.
With two workers one of them owns that partition; the other runs the parallel stage. Decisions only
depend on the order of that topic, so two workers give the same stories as one.
"""

from pipeline.dedup._index import DedupIndex, Match, decode_entry, encode_entry
from pipeline.dedup._signature import (
    SIGNATURE_SIZE,
    DedupConfig,
    Signature,
    normalise_url,
    signature,
    signature_of_copy,
    signature_of_text,
    story_id_for,
)

__all__ = [
    "SIGNATURE_SIZE",
    "DedupConfig",
    "DedupIndex",
    "Match",
    "Signature",
    "decode_entry",
    "encode_entry",
    "normalise_url",
    "signature",
    "signature_of_copy",
    "signature_of_text",
    "story_id_for",
]
