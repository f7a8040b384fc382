"""Story assembly: dedup decision + story state -> story revisions.

In: a :class:`~pipeline.prepare.PreparedArticle`. Out: the story revision to emit (a dict valid
against ``schemas/story.schema.json``), or None when nothing changed.

State lives in two key-value stores given by the caller (plain dicts in batch mode, Faust tables
with changelogs in the worker): the dedup index entries (one per article) and the story states
(one per story). Replays are idempotent: an article already in its story adds nothing; if it was
the article that made the latest revision, that revision is returned again unchanged (the worker
may have died after saving the state and before sending it), so consumers that keep the highest
revision per story see no change. This module raises no reason codes of its own.

Output check: given a :data:`StoryCheck` (the story stage passes
:func:`~pipeline.contracts.story_revision_error`), every revision is checked before it is
returned, and one that fails raises AssertionError naming the story and the problem. Each story
remembers what it has had checked (the members up to some point, any member changed since, the
merged enrichment object), so a revision costs the check of what is new in it, not of the whole
story; a state decoded from the table (a cache miss, a restart) starts with nothing checked.
"""

from __future__ import annotations

import heapq
import logging
from collections import OrderedDict
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from pipeline.contracts import now_rfc3339, parse_rfc3339
from pipeline.dedup import DedupConfig, DedupIndex, story_id_for
from pipeline.enrich import ArticleEnrichment, StoryMerge
from pipeline.prepare import PreparedArticle

log = logging.getLogger(__name__)

# Story-level enrichment merges the per-article enrichments of at most this many members (the
# canonical one always among them): later copies of a big story add no new spellings worth the
# cost of re-merging hundreds of members on every revision.
MAX_MERGED_ENRICHMENTS = 32
# A member related as "rewrite" competes for canonical with this share of its words: automatic
# rewriters pad sentences, so a rewrite with up to 25% more words than a copy is not more complete.
REWRITE_WORDS = 0.8
# Decoded story states kept in memory (least recently used first out; also dropped when the story
# leaves the time window). The table stays the source of truth: every change is written through
# to it, and a cached state is used only while the table still holds the very bytes it was written
# as (a restore from the changelog replaces them). About 50 KiB per story with entities on (the
# members' decoded enrichments and the merged one), so ~200 MiB at this bound; copies of a story
# mostly arrive while it is recent, and a miss costs one decode.
CACHE_MAX_STORIES = 4096
# A late article (published before the window) stays in the index and its story for this share of
# the window after it arrives, measured on the stream's clock (the newest published time seen).
LATE_KEEP = 0.5

# (revision, the members to check, whether to check its enrichment) -> None when the revision is
# valid, else the problem in words. The members not listed, and the enrichment when not to be
# checked, are the very objects that passed an earlier call for the same story, unchanged since.
StoryCheck = Callable[[dict[str, Any], list[dict[str, Any]], bool], str | None]


@dataclass
class _StoryState:
    """The persisted state of one story (``to_bytes`` is what the story-state table holds)."""

    story_id: str
    revision: int
    first_seen: str
    updated_at: str
    last_article_id: str
    canonical: dict[str, Any]
    canonical_words: int  # the canonical's words (counted at REWRITE_WORDS for a rewrite)
    canonical_ts: float
    members: list[dict[str, Any]] = field(default_factory=list)
    # article id -> per-article enrichment: its JSON object, or (added in this process) that
    # object's JSON as an orjson.Fragment, written verbatim by to_bytes (the same bytes). A story
    # keeps up to MAX_MERGED_ENRICHMENTS of them in memory; as Fragments they cost no work to
    # the garbage collector, which otherwise walks their thousands of small dicts and lists on
    # every full collection, nor to to_bytes on every revision (see StoryAssembler.add).
    enrichments: dict[str, Any] = field(default_factory=dict)
    last_ts: float = 0.0  # newest published_ts among members, for eviction

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.__dict__)

    @classmethod
    def from_bytes(cls, data: bytes) -> _StoryState:
        return cls(**orjson.loads(data))


class _Live:
    """A decoded story state plus what is derived from it, kept between revisions in memory.

    ``raw`` is the table value the state was read from or written as. ``merged`` is the
    story-level enrichment of the current canonical and enrichment set; the set only grows (a
    newly canonical member's enrichment is always added), so (canonical id, number of
    enrichments) identifies it. ``merge`` has read the first ``merge_fed`` enrichments of that
    set: a new member's is added to it, and only a new canonical merges all anew.

    ``decoded`` holds the enrichments decoded so far. Those in ``redecodable`` (decoded from the
    very JSON the state holds: a prepared message) are dropped once the merge has read them, and
    decoded again from the state if a new canonical needs them (equal objects): most never are,
    and the garbage collector no longer walks them (bench corpus with entities on, story stage
    373 -> 352 µs per article, median of 5 alternating rounds). One prepared in this process (batch
    mode) is kept: its scores are not rounded as in its JSON.

    What a :data:`StoryCheck` has passed: ``checked_members`` (the first that many of
    ``state.members``, which only grows at its end), ``changed`` (those of them changed in place
    since: see :meth:`changed_member`) and ``checked_merged`` (the merged enrichment object that
    passed; a changed one is a new object).
    """

    __slots__ = (
        "changed",
        "checked_members",
        "checked_merged",
        "decoded",
        "member_ids",
        "merge",
        "merge_fed",
        "merged",
        "merged_key",
        "raw",
        "redecodable",
        "state",
    )

    def __init__(self, state: _StoryState, raw: bytes | None) -> None:
        self.state = state
        self.raw = raw
        self.member_ids = {m["article_id"] for m in state.members}
        self.decoded: dict[str, ArticleEnrichment] = {}
        self.redecodable: set[str] = set()
        self.merged: dict[str, Any] | None = None
        self.merged_key: tuple[str, int] = ("", -1)
        self.merge: StoryMerge | None = None
        self.merge_fed = 0
        self.checked_members = 0
        self.changed: list[dict[str, Any]] = []
        self.checked_merged: dict[str, Any] | None = None

    def changed_member(self, member: dict[str, Any]) -> None:
        """Note that a member of ``state.members`` was changed in place: check it again."""
        if all(m is not member for m in self.changed):
            self.changed.append(member)

    def enrichment(self, article_id: str) -> ArticleEnrichment:
        enr = self.decoded.get(article_id)
        if enr is None:
            doc = self.state.enrichments[article_id]
            if isinstance(doc, orjson.Fragment):  # added in this process (see add)
                doc = orjson.loads(orjson.dumps(doc))
            enr = self.decoded[article_id] = ArticleEnrichment.from_dict(doc)
        return enr

    def story(self, check: StoryCheck | None = None) -> dict[str, Any]:
        """The current revision, checked with ``check`` (AssertionError when it fails)."""
        st = self.state
        canonical_id = st.canonical["article_id"]
        key = (canonical_id, len(st.enrichments))
        if self.merged is None or self.merged_key != key:
            merge = self.merge
            if merge is None or merge.canonical.article_id != canonical_id:
                merge = self.merge = StoryMerge(self.enrichment(canonical_id))
                self.merge_fed = 0
            ids = list(st.enrichments)
            for aid in ids[self.merge_fed :]:
                if aid != canonical_id:
                    merge.add(self.enrichment(aid))
                    if aid in self.redecodable:
                        del self.decoded[aid]
            self.merge_fed = len(ids)
            self.merged = merge.result()
            self.merged_key = key
        story = {
            "story_id": st.story_id,
            "revision": st.revision,
            "canonical": st.canonical,
            "members": list(st.members),  # the state's list keeps growing; a revision must not
            "enrichment": self.merged,
            "first_seen": st.first_seen,
            "updated_at": st.updated_at,
        }
        if check is not None:
            unchecked = self.changed + st.members[self.checked_members :]
            problem = check(story, unchecked, self.merged is not self.checked_merged)
            if problem is not None:
                raise AssertionError(f"story {st.story_id} violates its schema: {problem}")
            self.checked_members = len(st.members)
            self.changed.clear()
            self.checked_merged = self.merged
        return story


class StoryAssembler:
    """Assigns each prepared article to a story and keeps story state.

    ``entries`` backs the dedup index; ``stories`` holds one serialised state per story id.
    Call :meth:`add` for each article in order; it returns the revision to emit or None, checked
    with ``check`` when one is given. The revisions share their members and enrichment with the
    state: they must not be changed.
    """

    def __init__(
        self,
        config: DedupConfig,
        entries: MutableMapping[str, bytes],
        stories: MutableMapping[str, bytes],
        check: StoryCheck | None = None,
    ) -> None:
        self.config = config
        self.check = check
        self.index = DedupIndex(config, entries)
        self.entries = entries
        self.stories = stories
        self.max_ts = 0.0
        self._expiry: list[tuple[float, str]] = []  # (last_ts, story id) min-heap, lazily pruned
        self._expiry_loaded = False
        self._cache: OrderedDict[str, _Live] = OrderedDict()

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

    def _live(self, story_id: str) -> _Live | None:
        """The story's state, from the cache while the table still holds what was cached."""
        raw = self.stories.get(story_id)
        live = self._cache.get(story_id)
        if live is not None and raw is not None and live.raw is raw:
            self._cache.move_to_end(story_id)
            return live
        if raw is None:
            self._cache.pop(story_id, None)
            return None
        live = _Live(_StoryState.from_bytes(raw), raw)
        self._remember(story_id, live)
        return live

    def _last_ts(self, story_id: str) -> float:
        """Newest published time of a stored story (+inf when it is gone), without caching it."""
        raw = self.stories.get(story_id)
        if raw is None:
            return float("inf")
        live = self._cache.get(story_id)
        return (live.state if live is not None and live.raw is raw else _StoryState.from_bytes(raw)).last_ts

    def _remember(self, story_id: str, live: _Live) -> None:
        self._cache[story_id] = live
        self._cache.move_to_end(story_id)
        while len(self._cache) > CACHE_MAX_STORIES:
            self._cache.popitem(last=False)

    def add(self, prepared: PreparedArticle) -> dict[str, Any] | None:
        self.ensure_loaded()
        art = prepared.article
        self.max_ts = max(self.max_ts, prepared.published_ts)
        # An article published more than half a window behind the newest one (a late arrival, a
        # backfill, a reprint of an old story) is kept as if published half a window behind it:
        # one older than the window would otherwise leave the index at once, and a copy arriving
        # right after it could not find it.
        keep_ts = max(prepared.published_ts, self.max_ts - self.config.window_seconds * LATE_KEEP)

        known_story = self.index.story_of(art.id)
        match = None
        if known_story is None:
            match = self.index.lookup(art.id, prepared.signature)
        story_id = known_story or (match.story_id if match else story_id_for(art.id))
        live = self._live(story_id)

        if live is not None and art.id in live.member_ids:
            # Replay of an article already in its story.
            if known_story is None:
                self.index.insert(art.id, story_id, prepared.signature, keep_ts)
            return live.story(self.check) if live.state.last_article_id == art.id else None

        now = now_rfc3339()
        words = prepared.word_count()
        version = {
            "article_id": art.id,
            "title": art.title,
            "text": art.text,
            "url": art.canonical_url or art.url,
            "source": art.source,
            "published_at": art.published_at,
            "language": prepared.enrichment.language or art.language,
        }
        if live is None:
            live = _Live(
                _StoryState(
                    story_id=story_id,
                    revision=0,
                    first_seen=now,
                    updated_at=now,
                    last_article_id=art.id,
                    canonical=version,
                    canonical_words=words,
                    canonical_ts=prepared.published_ts,
                ),
                None,
            )
            relation, similarity, matched = "original", 1.0, None
        elif match is not None:
            relation, similarity, matched = match.relation, round(match.similarity, 4), match.article_id
            first = next((m for m in live.state.members if m["relation"] == "original"), None)
            published = art.published_at
            if first and first["article_id"] == matched and published and _earlier(published, first):
                # It arrived later but was published before the member it matched, the one marked
                # original: that one is then its copy (the relation is symmetric), not its source.
                first["relation"], first["similarity"], first["matched"] = relation, similarity, art.id
                live.changed_member(first)
                if relation == "rewrite" and live.state.canonical["article_id"] == first["article_id"]:
                    # the canonical version is now a rewrite: it competes at REWRITE_WORDS
                    live.state.canonical_words = int(live.state.canonical_words * REWRITE_WORDS)
                relation, similarity, matched = "original", 1.0, None
        else:  # index knew the article but the story state did not have it (crash between writes)
            relation, similarity, matched = "copy", 0.0, None

        state = live.state
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
        live.member_ids.add(art.id)
        # A rewrite says the same in other (often more) words: it takes over as the canonical
        # version only when it is clearly more complete (its words count at REWRITE_WORDS).
        score = int(words * REWRITE_WORDS) if relation == "rewrite" else words
        more_complete = score > state.canonical_words or (
            score == state.canonical_words and prepared.published_ts < state.canonical_ts
        )
        if len(state.enrichments) < MAX_MERGED_ENRICHMENTS or more_complete:
            # serialised once here rather than in every later to_bytes of the state, and no
            # decoded JSON kept alive for the garbage collector to walk (it takes about a sixth
            # of the stage's time: bench corpus, 200 -> 166 µs per article without it)
            state.enrichments[art.id] = orjson.Fragment(orjson.dumps(prepared.enrichment_dict()))
            live.decoded[art.id] = prepared.enrichment
            if prepared.enrichment_doc is not None:
                live.redecodable.add(art.id)
        if more_complete:
            state.canonical, state.canonical_words, state.canonical_ts = version, score, prepared.published_ts
        state.revision += 1
        state.updated_at = now
        state.last_article_id = art.id
        state.last_ts = max(state.last_ts, keep_ts)
        live.raw = state.to_bytes()
        self.stories[story_id] = live.raw
        self._remember(story_id, live)
        heapq.heappush(self._expiry, (state.last_ts, story_id))
        if known_story is None:
            self.index.insert(art.id, story_id, prepared.signature, keep_ts)
        self._evict()
        return live.story(self.check)

    def _evict(self) -> None:
        """Drop index entries and stories whose newest member left the time window."""
        horizon = self.max_ts - self.config.window_seconds
        if not self._expiry or self._expiry[0][0] >= horizon:
            return
        evicted = self.index.evict(self.max_ts)
        dropped = 0
        while self._expiry and self._expiry[0][0] < horizon:
            _, sid = heapq.heappop(self._expiry)
            if self._last_ts(sid) < horizon:
                del self.stories[sid]
                self._cache.pop(sid, None)
                dropped += 1
        if evicted or dropped:
            log.info(
                "window %.1f days: evicted %d index entries and %d stories",
                self.config.window_days,
                len(evicted),
                dropped,
            )


def _earlier(published_at: str, member: dict[str, Any]) -> bool:
    """Whether ``published_at`` is before the member's published time (False when either is
    unknown or unreadable)."""
    other = member.get("published_at")
    if not other:
        return False
    mine, theirs = parse_rfc3339(published_at), parse_rfc3339(other)
    return mine is not None and theirs is not None and mine < theirs
