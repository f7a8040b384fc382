"""The dedup index: durable entries plus in-memory numpy acceleration structures.

Durable state is ``entries: MutableMapping[str, bytes]`` (article id -> story id, published time,
signature), one key per indexed article, deleted on eviction: a dict in batch mode, a changelogged
Faust table in the worker. Everything else is rebuilt from it by :meth:`DedupIndex.rebuild`.

In memory, per indexed article (row): fingerprint (8 bytes), published time (4), its row in each
of the 4 block tables (16), 32 bits of the URL key, the lead key and the anchor with the row in
their tables (24), and a reference to the article id (8): 60 bytes, plus the fixed offsets
arrays (about 1.8 MB). Every candidate (near in fingerprint, or the same URL, lead key or anchor)
is verified on the sketches of its durable entry (see :class:`DedupConfig` for the rules).

Block tables (Manku et al. 2007, multi-probe): the fingerprint is cut into 4 blocks of 16 bits.
Table ``t`` lists rows grouped by block ``t`` (CSR: a 65,537-entry offsets array and a row array),
so looking up a block value costs one slice. A query probes, in each table, every block value within
``probe_radius`` bits of its own; a fingerprint within ``4 * (probe_radius + 1) - 1`` bits agrees
with the query to within ``probe_radius`` bits in at least one block (pigeonhole), so it is always
found. Rows inserted since the last table build sit in a delta buffer that is scanned directly;
the tables are rebuilt (counting sort, a few ms per table at 1M rows) when it is full, and dead
(evicted) rows are compacted away at that time.
"""

from __future__ import annotations

import itertools
import logging
import math
import struct
from collections.abc import MutableMapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pipeline.dedup._fingerprint import (
    ALL_BINS,
    NAME_BINS,
    SKETCH_BINS,
    WORD_BINS,
    kmv_overlap_many,
    sketch_array,
    sketch_similarity,
)
from pipeline.dedup._signature import (
    NAMES_OFFSET,
    PAIRS_OFFSET,
    SIGNATURE_SIZE,
    SKETCH_OFFSET,
    WORDS_OFFSET,
    DedupConfig,
    Signature,
)

log = logging.getLogger(__name__)

_ENTRY_VERSION = 1
_ENTRY_HEAD = struct.Struct("<Bd")
_NBLOCKS = 4
_BLOCK_BITS = 16
_NBUCKETS = 1 << _BLOCK_BITS
_MASK32 = 0xFFFFFFFF
_COPY_BITS = 12  # relation "copy" (vs "rewrite") for an accepted match this close ...
_COPY_SKETCH = 0.8  # ... with this much salient-word agreement (or within 3 bits)
_RELATION_RANK = {"exact": 2, "copy": 1, "rewrite": 0}

U64 = npt.NDArray[np.uint64]
U32 = npt.NDArray[np.uint32]
U16 = npt.NDArray[np.uint16]
# A candidate is never accepted (short of an exact match) when both articles carry at least this
# many distinct names/numbers and less than this share of the fewer is in the other.
_NAMES_MIN_COUNT = 3
# Anchor candidates beyond this many are screened on their fingerprints before entries are read.
_SCREEN_ABOVE = 16
_NAMES_MIN_CONTAINMENT = 0.7
# A candidate is "plainly another text" when at least this many sampled key triples of the
# shorter text are compared and fewer than this share are in the other, and the top sketches
# agree less than this.
_CONFLICT_SUPPORT = 20
_CONFLICT_CONTAINMENT = 0.1
_CONFLICT_SKETCH = 0.2
_CONFLICT_WORDS = 0.4
_PARAPHRASE_NAMES = 8  # names and numbers compared, at least, for the heavier-paraphrase rule
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Match:
    """The indexed article a new article duplicates, and how."""

    story_id: str
    article_id: str
    relation: str  # "exact", "copy" or "rewrite"
    similarity: float  # in [0, 1]


def encode_entry(story_id: str, published_ts: float, sig: Signature) -> bytes:
    return _ENTRY_HEAD.pack(_ENTRY_VERSION, published_ts) + sig.to_bytes() + story_id.encode()


def decode_entry(value: bytes) -> tuple[str, float, Signature]:
    version, ts = _ENTRY_HEAD.unpack_from(value)
    if version != _ENTRY_VERSION:
        raise ValueError(f"unknown index entry version {version}")
    start = _ENTRY_HEAD.size
    sig = Signature.from_bytes(value[start : start + SIGNATURE_SIZE])
    return value[start + SIGNATURE_SIZE :].decode(), ts, sig


def _probe_masks(radius: int) -> npt.NDArray[np.int64]:
    masks = [0]
    for r in range(1, radius + 1):
        for bits in itertools.combinations(range(_BLOCK_BITS), r):
            masks.append(sum(1 << b for b in bits))
    return np.array(masks, dtype=np.int64)


def _ts32(ts: float) -> int:
    return min(max(int(ts), 1), _MASK32)


class DedupIndex:
    """Finds the indexed article (within the time window) that a new article duplicates."""

    def __init__(self, config: DedupConfig, entries: MutableMapping[str, bytes] | None = None) -> None:
        self.config = config
        self.entries: MutableMapping[str, bytes] = entries if entries is not None else {}
        self._masks = _probe_masks(config.probe_radius)
        self._table_base = np.arange(_NBLOCKS, dtype=np.int64) * _NBUCKETS
        self._alloc(1024)
        self.rebuild()

    # -- storage ---------------------------------------------------------------------------------

    def _alloc(self, capacity: int) -> None:
        self._cap = capacity
        self._n = 0
        self._fp: U64 = np.zeros(capacity, dtype=np.uint64)
        self._ts: U32 = np.zeros(capacity, dtype=np.uint32)  # 0 = dead row
        self._uh: U32 = np.zeros(capacity, dtype=np.uint32)
        self._lh: U32 = np.zeros(capacity, dtype=np.uint32)
        self._ah: U32 = np.zeros(capacity, dtype=np.uint32)
        self._ids: list[str] = []
        self._alive = 0
        self._built = 0  # rows [0, _built) are in the tables; the rest is the delta buffer
        self._offsets: list[npt.NDArray[np.int32]] = []
        self._rows: list[U32] = []
        self._flat_offsets: npt.NDArray[np.int32] = np.zeros(_NBLOCKS * _NBUCKETS + 1, dtype=np.int32)
        self._flat_rows: U32 = np.zeros(0, dtype=np.uint32)
        self._url_offsets: npt.NDArray[np.int32] = np.zeros(_NBUCKETS + 1, dtype=np.int32)
        self._url_rows: U32 = np.zeros(0, dtype=np.uint32)
        self._lead_offsets: npt.NDArray[np.int32] = np.zeros(_NBUCKETS + 1, dtype=np.int32)
        self._lead_rows: U32 = np.zeros(0, dtype=np.uint32)
        self._anchor_offsets: npt.NDArray[np.int32] = np.zeros(_NBUCKETS + 1, dtype=np.int32)
        self._anchor_rows: U32 = np.zeros(0, dtype=np.uint32)

    def reserve(self, capacity: int) -> None:
        """Grow the arrays to hold ``capacity`` rows without reallocating."""
        if capacity <= self._cap:
            return
        for name in ("_fp", "_ts", "_uh", "_lh", "_ah"):
            old = getattr(self, name)
            new = np.zeros(capacity, dtype=old.dtype)
            new[: self._n] = old[: self._n]
            setattr(self, name, new)
        self._cap = capacity

    def _append(self, article_id: str, sig: Signature, published_ts: float) -> None:
        if self._n == self._cap:
            self.reserve(max(1024, self._cap + self._cap // 4))
        i = self._n
        self._fp[i] = sig.simhash
        self._ts[i] = _ts32(published_ts)
        self._uh[i] = sig.url_key & _MASK32
        self._lh[i] = sig.lead_key & _MASK32
        self._ah[i] = sig.anchor & _MASK32
        self._ids.append(article_id)
        self._n += 1
        self._alive += 1

    def rebuild(self) -> None:
        """Rebuild the in-memory structures from ``entries`` (after a restart)."""
        self._alloc(max(1024, len(self.entries)))
        stale: list[str] = []
        for article_id in sorted(self.entries):
            try:
                _, ts, sig = decode_entry(self.entries[article_id])
            except (ValueError, struct.error):
                stale.append(article_id)  # written by a release with another signature format
                continue
            self._append(article_id, sig, ts)
        for article_id in stale:
            # an article indexed in an older format can no longer be matched; its story stays
            del self.entries[article_id]
        if stale:
            log.warning("dropped %d dedup entries in an older signature format", len(stale))
        self._build_tables()

    def _compact(self) -> None:
        keep = np.flatnonzero(self._ts[: self._n] > 0)
        if keep.size == self._n:
            return
        n = int(keep.size)
        self._fp[:n] = self._fp[keep]
        self._ts[:n] = self._ts[keep]
        self._uh[:n] = self._uh[keep]
        self._lh[:n] = self._lh[keep]
        self._ah[:n] = self._ah[keep]
        self._ids = [self._ids[i] for i in keep.tolist()]
        self._n = n

    def _build_tables(self) -> None:
        self._compact()
        n = self._n
        fp = self._fp[:n]
        self._offsets, self._rows = [], []
        for t in range(_NBLOCKS):
            keys = ((fp >> np.uint64(t * _BLOCK_BITS)) & np.uint64(0xFFFF)).astype(np.uint16)
            off, rows = _csr(keys)
            self._offsets.append(off)
            self._rows.append(rows)
        # the 4 tables as one: offsets of table t shifted by t * n, rows concatenated
        self._flat_offsets = np.concatenate(
            [off[:-1] + np.int32(t * n) for t, off in enumerate(self._offsets)]
            + [np.array([_NBLOCKS * n], dtype=np.int32)]
        )
        self._flat_rows = np.concatenate(self._rows) if n else np.zeros(0, dtype=np.uint32)
        self._offsets, self._rows = [], []
        self._url_offsets, self._url_rows = _csr((self._uh[:n] & np.uint32(0xFFFF)).astype(np.uint16))
        self._lead_offsets, self._lead_rows = _csr((self._lh[:n] & np.uint32(0xFFFF)).astype(np.uint16))
        self._anchor_offsets, self._anchor_rows = _csr((self._ah[:n] & np.uint32(0xFFFF)).astype(np.uint16))
        self._built = n

    # -- queries ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._alive

    def story_of(self, article_id: str) -> str | None:
        value = self.entries.get(article_id)
        return None if value is None else value[_ENTRY_HEAD.size + SIGNATURE_SIZE :].decode()

    def _near_rows(self, q: int) -> tuple[I64, I64]:
        """Live rows within ``max_distance`` bits of ``q`` found by the probes, and their distances.

        All 4 tables are probed in one gather: ``_probe_keys`` holds, per table, the flat offsets
        index of every probed block value; duplicates (a row found in two tables) are dropped
        after the distance filter, when few rows are left.
        """
        parts: list[I64] = []
        qq = np.uint64(q)
        maxd = self.config.max_distance
        if self._built:
            blocks = np.array([(q >> (16 * t)) & 0xFFFF for t in range(_NBLOCKS)], dtype=np.int64)
            keys = (blocks[:, None] ^ self._masks[None, :]) + self._table_base[:, None]
            keys = keys.ravel()
            found = _gather(self._flat_offsets, self._flat_rows, keys)
            if found.size:
                dist = np.bitwise_count(self._fp.take(found) ^ qq)
                parts.append(found[dist <= maxd].astype(np.int64))
        if self._n > self._built:
            dist = np.bitwise_count(self._fp[self._built : self._n] ^ qq)
            parts.append(np.flatnonzero(dist <= maxd) + self._built)
        if not parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        rows = np.unique(np.concatenate(parts)) if len(parts) > 1 else np.unique(parts[0])
        rows = rows[self._ts[rows] > 0]
        return rows, np.bitwise_count(self._fp[rows] ^ qq).astype(np.int64)

    def _key_rows_for(self, keys: U32, offsets: npt.NDArray[np.int32], table: U32, key32: int) -> I64:
        """Live rows whose 32-bit ``keys`` value is ``key32`` (table bucketed by the low 16 bits)."""
        b = key32 & 0xFFFF
        rows = table[int(offsets[b]) : int(offsets[b + 1])].astype(np.int64)
        rows = rows[keys[rows] == key32]
        if self._n > self._built:  # the delta buffer, scanned
            delta = np.flatnonzero(keys[self._built : self._n] == key32) + self._built
            rows = np.concatenate([rows, delta]) if rows.size else delta
        return rows[self._ts[rows] > 0]

    def _read(self, rows: I64) -> tuple[I64, npt.NDArray[np.uint8]]:
        """The rows whose durable entry exists, and their signatures as one (n, size) byte array."""
        h = _ENTRY_HEAD.size
        kept: list[int] = []
        parts: list[bytes] = []
        get = self.entries.get
        for row in rows.tolist():
            value = get(self._ids[row])
            if value is not None:
                kept.append(row)
                parts.append(value[h : h + SIGNATURE_SIZE])
        block = np.frombuffer(b"".join(parts), dtype=np.uint8).reshape(len(kept), SIGNATURE_SIZE)
        return np.array(kept, dtype=np.int64), block

    def _verify(
        self,
        sig: Signature,
        rows: I64,
        same_url: set[int],
        found: list[tuple[str, float, int, str]],
        conflicts: list[int],
    ) -> None:
        """Check each candidate row against ``sig`` on the sketches of its entry (see DedupConfig)."""
        cfg = self.config
        rows, block = self._read(rows)
        if not rows.size:
            return

        def u16(offset: int, nbins: int) -> npt.NDArray[np.uint16]:
            return np.ascontiguousarray(block[:, offset : offset + 2 * nbins]).view("<u2")

        def count(offset: int) -> I64:
            return u16(offset - 2, 1)[:, 0].astype(np.int64)

        hashes = np.ascontiguousarray(block[:, 9:25]).view("<u8")  # body hash, URL key
        dist = np.bitwise_count(self._fp[rows] ^ np.uint64(sig.simhash)).astype(np.int64)
        sims = sketch_similarity(sketch_array(sig.sketch), u16(SKETCH_OFFSET, SKETCH_BINS))
        wsims = sketch_similarity(sketch_array(sig.words), u16(WORDS_OFFSET, WORD_BINS))
        # Names and numbers: Jaccard and the share of the fewer found in the other article. A
        # template reused for another event (other names, places, numbers) shares word pairs
        # but not these.
        nsim, ncont, nsup = kmv_overlap_many(
            sketch_array(sig.names), sig.names_count, u16(NAMES_OFFSET, NAME_BINS), count(NAMES_OFFSET)
        )
        # key triples of the whole texts: the share of the shorter inside the longer (a lead, an
        # abridged copy, a copy with teasers glued on, a story quoted whole)
        pcounts = count(PAIRS_OFFSET)
        psim, pcont, psup = kmv_overlap_many(
            sketch_array(sig.pairs), sig.pairs_count, u16(PAIRS_OFFSET, ALL_BINS), pcounts
        )
        smaller = np.minimum(pcounts, sig.pairs_count)
        exact = (dist == 0) & (hashes[:, 0] == np.uint64(sig.body_hash))
        same_page = np.isin(rows, list(same_url)) & (hashes[:, 1] == np.uint64(sig.url_key))
        for row, d, s, ws, ex, page, ns, nc, nsupport, pj, pc, psupport, small in zip(
            rows.tolist(), dist.tolist(), sims.tolist(), wsims.tolist(), exact.tolist(),
            same_page.tolist(), nsim.tolist(), ncont.tolist(), nsup.tolist(), psim.tolist(),
            pcont.tolist(), psup.tolist(), smaller.tolist(), strict=True,
        ):  # fmt: skip
            if ex or (page and (d <= 3 or pc >= cfg.url_min_containment)):
                # same body, or an update of the same page (a live page's new post is not)
                found.append(("exact", 1.0, row, self._ids[row]))
                continue
            if (psupport >= _CONFLICT_SUPPORT and pc < _CONFLICT_CONTAINMENT and s < _CONFLICT_SKETCH
                    and ws < _CONFLICT_WORDS):  # fmt: skip
                conflicts.append(row)  # plainly another text (no shared phrases at all)
                continue
            if nsupport >= _NAMES_MIN_COUNT and nc < _NAMES_MIN_CONTAINMENT:
                continue  # same wording, other names and numbers: another event of the same kind
            similarity = max(s, pj, pc * 0.9)
            near_copy = d <= cfg.copy_distance and s >= cfg.copy_min_sketch
            contained = small >= cfg.containment_min_count and (
                _wilson_low(pc, psupport) >= cfg.min_containment
            )
            # a paraphrase changes word pairs but keeps most content words and the fingerprint
            paraphrase = d <= cfg.rewrite_distance and ws >= cfg.rewrite_min_words and (
                (ns >= cfg.rewrite_min_names and pc >= cfg.rewrite_min_containment)
                # a heavier paraphrase (few phrases kept) needs a closer fingerprint and nearly
                # all of its names and numbers in common
                or (d <= cfg.paraphrase_distance and ns >= cfg.paraphrase_min_names
                    and nsupport >= _PARAPHRASE_NAMES and pc >= cfg.paraphrase_min_containment)
            )  # fmt: skip
            if paraphrase and s < cfg.rewrite_min_sketch:
                similarity = max(similarity, ws)
            jaccard = s >= cfg.rewrite_min_sketch and pj >= cfg.rewrite_min_pairs
            if near_copy or contained or paraphrase or jaccard:
                # relation: a copy keeps (almost) the fingerprint and the salient words
                copy = d <= 3 or (d <= _COPY_BITS and s >= _COPY_SKETCH)
                found.append(("copy" if copy else "rewrite", similarity, row, self._ids[row]))

    def lookup(self, article_id: str, sig: Signature) -> Match | None:
        """Best match among indexed articles (other than ``article_id`` itself), or None.

        Preference: exact (same canonical URL or same normalised body) over copy over rewrite,
        then higher similarity, then the earlier published, then the smaller article id.
        """
        cfg = self.config
        found: list[tuple[str, float, int, str]] = []  # relation, similarity, row, id

        q = sig.simhash
        near, near_dist = self._near_rows(q)
        # candidates: near in fingerprint, the same anchor (MinHash of the opening's key pairs),
        # the same lead key or the same canonical URL
        by_anchor = rows0 = np.zeros(0, dtype=np.int64)
        if sig.anchor:
            anchor = sig.anchor & _MASK32
            by_anchor = self._key_rows_for(self._ah, self._anchor_offsets, self._anchor_rows, anchor)
            if by_anchor.size > _SCREEN_ABOVE:
                # a common key pair (a title, a place) anchors many rows: keep the near ones
                dist = np.bitwise_count(self._fp[by_anchor] ^ np.uint64(q))
                by_anchor = by_anchor[dist <= cfg.max_distance]
        # every candidate within ``rewrite_distance`` bits; of the farther ones (up to
        # ``max_distance``), the nearest ``far_candidates`` (a lead or a long story quoting another
        # lands there; random fingerprints do too, ~400 of them at 1M entries)
        close = near_dist <= cfg.rewrite_distance
        far = np.flatnonzero(~close)
        if far.size > cfg.far_candidates:
            far = far[np.argsort(near_dist[far], kind="stable")[: cfg.far_candidates]]
        parts = [near[close], near[far], by_anchor]
        same_url = rows0
        if sig.url_key:
            same_url = self._key_rows_for(self._uh, self._url_offsets, self._url_rows, sig.url_key & _MASK32)
            parts.append(same_url)
        if sig.lead_key:
            lead = sig.lead_key & _MASK32
            parts.append(self._key_rows_for(self._lh, self._lead_offsets, self._lead_rows, lead))
        rows = np.unique(np.concatenate(parts))
        conflicts: list[int] = []
        if rows.size:
            self._verify(sig, rows, set(same_url.tolist()), found, conflicts)
        # Candidates in order of preference; a story is skipped when one of its members was a
        # candidate too and is plainly another text (single-link chaining guard: an article that
        # mixes two reports must not pull the second report into the first one's story).
        ranked = sorted(
            (c for c in found if c[3] != article_id),
            key=lambda c: (-_RELATION_RANK[c[0]], -round(c[1], 9), float(self._ts[c[2]]), c[3]),
        )
        if not ranked:
            return None
        conflicting = {self.story_of(self._ids[row]) for row in conflicts if self._ids[row] != article_id}
        for relation, similarity, _row, other_id in ranked:
            story = self.story_of(other_id)
            if story is None:  # entries and memory disagree: treat as not indexed
                continue
            if relation != "exact" and story in conflicting:
                continue
            return Match(story_id=story, article_id=other_id, relation=relation,
                         similarity=round(min(1.0, max(0.0, similarity)), 4))  # fmt: skip
        return None

    # -- updates ---------------------------------------------------------------------------------

    def insert(self, article_id: str, story_id: str, sig: Signature, published_ts: float) -> None:
        """Index an article (no-op if ``article_id`` is already indexed)."""
        if article_id in self.entries:
            return
        self.entries[article_id] = encode_entry(story_id, published_ts, sig)
        self._append(article_id, sig, published_ts)
        if self._n - self._built >= self.config.delta_max:
            self._build_tables()

    def evict(self, now_ts: float) -> list[str]:
        """Drop entries published before ``now_ts - window``; return their article ids."""
        cutoff = now_ts - self.config.window_seconds
        if cutoff <= 1:
            return []
        ts = self._ts[: self._n]
        old = np.flatnonzero((ts > 0) & (ts < cutoff))
        if old.size == 0:
            return []
        evicted = [self._ids[i] for i in old.tolist()]
        ts[old] = 0
        self._alive -= len(evicted)
        for article_id in evicted:
            self.entries.pop(article_id, None)
        if self._n - self._alive > max(self._n // 4, self.config.delta_max):
            self._build_tables()
        return evicted

    def memory_bytes(self) -> int:
        """Bytes held by the in-memory structures (arrays at capacity, id list pointers)."""
        arrays: list[npt.NDArray[np.generic]] = [self._fp, self._ts, self._uh, self._ah]
        arrays += [self._url_offsets, self._url_rows, self._flat_offsets, self._flat_rows, self._lh]
        arrays += [self._lead_offsets, self._lead_rows]
        arrays += [self._anchor_offsets, self._anchor_rows]
        return sum(int(a.nbytes) for a in arrays) + 8 * len(self._ids) + 56


_Z = 1.28  # one-sided 90% bound


def _wilson_low(share: float, n: int) -> float:
    """Lower Wilson bound of a proportion ``share`` observed on ``n`` samples (0 when n is 0).

    Containment is estimated from the few sampled key triples of the shorter text; the bound
    asks for more agreement when there are fewer samples (5 of 5 passes 0.6, 5 of 7 does not).
    """
    if n <= 0:
        return 0.0
    z2 = _Z * _Z
    centre = share + z2 / (2 * n)
    margin = _Z * math.sqrt(share * (1.0 - share) / n + z2 / (4 * n * n))
    return (centre - margin) / (1.0 + z2 / n)


def _better(a: tuple[int, float, float, str], b: tuple[int, float, float, str]) -> bool:
    """Is candidate key ``a`` preferred to ``b``? (rank, similarity, -ts higher; id lower)."""
    if a[:3] != b[:3]:
        return a[:3] > b[:3]
    return a[3] < b[3]


def _gather(offsets: npt.NDArray[np.int32], rows: U32, keys: I64) -> U32:
    """Concatenated rows of the CSR buckets ``keys`` (bucket k holds rows[offsets[k]:offsets[k+1]])."""
    starts = offsets[keys].astype(np.int64)
    lengths = offsets[keys + 1].astype(np.int64) - starts
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, dtype=np.uint32)
    ends = np.cumsum(lengths)
    pos = np.arange(total, dtype=np.int64) + np.repeat(starts - (ends - lengths), lengths)
    return rows[pos]


def _csr(keys: npt.NDArray[np.uint16]) -> tuple[npt.NDArray[np.int32], U32]:
    """Rows grouped by 16-bit key: (offsets[65537], rows)."""
    order = np.argsort(keys, kind="stable").astype(np.uint32)
    counts = np.bincount(keys, minlength=_NBUCKETS)
    offsets = np.zeros(_NBUCKETS + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    return offsets, order
