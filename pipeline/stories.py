"""Story assembly: dedup decision + story state -> story revisions.

In: a :class:`~pipeline.prepare.PreparedArticle`. Out: the story revision to emit (a dict valid
against ``schemas/story.schema.json``), or None when nothing changed.

State lives in two key-value stores given by the caller (plain dicts in batch mode, Faust tables
with changelogs in the worker): the dedup index entries (one per article) and the story states
(one per story). Replays are idempotent: an article already in its story adds nothing; if it was
the article that made the latest revision, that revision is returned again unchanged (the worker
may have died after saving the state and before sending it), so consumers that keep the highest
revision per story see no change. This module raises no reason codes of its own.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from pipeline.contracts import now_rfc3339
from pipeline.dedup import DedupConfig, DedupIndex, story_id_for
from pipeline.enrich import ArticleEnrichment, merge_enrichment
from pipeline.prepare import PreparedArticle

log = logging.getLogger(__name__)

# Story-level enrichment merges the per-article enrichments of at most this many members (the
# canonical one always among them): later copies of a big story add no new spellings worth the
# cost of re-merging hundreds of members on every revision.
MAX_MERGED_ENRICHMENTS = 32


@dataclass
class _StoryState:
    story_id: str
    revision: int
    first_seen: str
    updated_at: str
    last_article_id: str
    canonical: dict[str, Any]
    canonical_words: int
    canonical_ts: float
    members: list[dict[str, Any]] = field(default_factory=list)
    enrichments: dict[str, dict[str, Any]] = field(default_factory=dict)  # article id -> per-article
    last_ts: float = 0.0  # newest published_ts among members, for eviction

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.__dict__)

    @classmethod
    def from_bytes(cls, data: bytes) -> _StoryState:
        return cls(**orjson.loads(data))

    def story(self) -> dict[str, Any]:
        canonical_enr = ArticleEnrichment.from_dict(self.enrichments[self.canonical["article_id"]])
        others = [
            ArticleEnrichment.from_dict(e)
            for aid, e in self.enrichments.items()
            if aid != self.canonical["article_id"]
        ]
        return {
            "story_id": self.story_id,
            "revision": self.revision,
            "canonical": self.canonical,
            "members": self.members,
            "enrichment": merge_enrichment(canonical_enr, others),
            "first_seen": self.first_seen,
            "updated_at": self.updated_at,
        }


def _words(text: str) -> int:
    return len(text.split())


class StoryAssembler:
    """Assigns each prepared article to a story and keeps story state.

    ``entries`` backs the dedup index; ``stories`` holds one serialised state per story id.
    Call :meth:`add` for each article in order; it returns the revision to emit or None.
    """

    def __init__(
        self,
        config: DedupConfig,
        entries: MutableMapping[str, bytes],
        stories: MutableMapping[str, bytes],
    ) -> None:
        self.config = config
        self.index = DedupIndex(config, entries)
        self.entries = entries
        self.stories = stories
        self.max_ts = 0.0
        self._expiry: list[tuple[float, str]] = []  # (last_ts, story id) min-heap, lazily pruned
        self._expiry_loaded = False

    def ensure_loaded(self) -> None:
        """Rebuild in-memory structures after a restart (cheap no-op when already in sync)."""
        if len(self.index) != len(self.entries):
            log.info("rebuilding dedup index from %d stored entries", len(self.entries))
            self.index.rebuild()
        if not self._expiry_loaded:
            self._expiry_loaded = True
            for sid, raw in self.stories.items():
                state = _StoryState.from_bytes(raw)
                heapq.heappush(self._expiry, (state.last_ts, sid))
                self.max_ts = max(self.max_ts, state.last_ts)

    def add(self, prepared: PreparedArticle) -> dict[str, Any] | None:
        self.ensure_loaded()
        art = prepared.article
        self.max_ts = max(self.max_ts, prepared.published_ts)

        known_story = self.index.story_of(art.id)
        match = None
        if known_story is None:
            match = self.index.lookup(art.id, prepared.signature)
        story_id = known_story or (match.story_id if match else story_id_for(art.id))
        raw_state = self.stories.get(story_id)
        state = _StoryState.from_bytes(raw_state) if raw_state is not None else None

        if state is not None and any(m["article_id"] == art.id for m in state.members):
            # Replay of an article already in its story.
            if known_story is None:
                self.index.insert(art.id, story_id, prepared.signature, prepared.published_ts)
            return state.story() if state.last_article_id == art.id else None

        now = now_rfc3339()
        words = _words(art.text)
        version = {
            "article_id": art.id,
            "title": art.title,
            "text": art.text,
            "url": art.canonical_url or art.url,
            "source": art.source,
            "published_at": art.published_at,
            "language": prepared.enrichment.language or art.language,
        }
        if state is None:
            state = _StoryState(
                story_id=story_id,
                revision=0,
                first_seen=now,
                updated_at=now,
                last_article_id=art.id,
                canonical=version,
                canonical_words=words,
                canonical_ts=prepared.published_ts,
            )
            relation, similarity, matched = "original", 1.0, None
        elif match is not None:
            relation, similarity, matched = match.relation, round(match.similarity, 4), match.article_id
        else:  # index knew the article but the story state did not have it (crash between writes)
            relation, similarity, matched = "copy", 0.0, None

        state.members.append(
            {
                "article_id": art.id,
                "url": art.url,
                "source": art.source,
                "published_at": art.published_at,
                "relation": relation,
                "similarity": similarity,
                "matched": matched,
            }
        )
        more_complete = words > state.canonical_words or (
            words == state.canonical_words and prepared.published_ts < state.canonical_ts
        )
        if len(state.enrichments) < MAX_MERGED_ENRICHMENTS or more_complete:
            state.enrichments[art.id] = prepared.enrichment.to_dict()
        if more_complete:
            state.canonical, state.canonical_words, state.canonical_ts = version, words, prepared.published_ts
        state.revision += 1
        state.updated_at = now
        state.last_article_id = art.id
        state.last_ts = max(state.last_ts, prepared.published_ts)
        self.stories[story_id] = state.to_bytes()
        heapq.heappush(self._expiry, (state.last_ts, story_id))
        if known_story is None:
            self.index.insert(art.id, story_id, prepared.signature, prepared.published_ts)
        self._evict()
        return state.story()

    def _evict(self) -> None:
        """Drop index entries and stories whose newest member left the time window."""
        horizon = self.max_ts - self.config.window_days * 86400.0
        if not self._expiry or self._expiry[0][0] >= horizon:
            return
        evicted = self.index.evict(self.max_ts)
        dropped = 0
        while self._expiry and self._expiry[0][0] < horizon:
            _, sid = heapq.heappop(self._expiry)
            raw = self.stories.get(sid)
            if raw is not None and _StoryState.from_bytes(raw).last_ts < horizon:
                del self.stories[sid]
                dropped += 1
        if evicted or dropped:
            log.info(
                "window %.1f days: evicted %d index entries and %d stories",
                self.config.window_days,
                len(evicted),
                dropped,
            )
