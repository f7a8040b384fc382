"""The dedup index: durable entries plus in-memory numpy acceleration structures.

Durable state is ``entries: MutableMapping[str, bytes]`` (article id -> story id, published time,
signature), one key per indexed article, deleted on eviction: a dict in batch mode, a changelogged
Faust table in the worker. Everything else is rebuilt from it by :meth:`DedupIndex.rebuild`.

In memory, per indexed article (row): fingerprint (8 bytes), published time (4), its row in each
of the 4 block tables (16), its row in each of the 4 exact-key tables (URL, lead key, anchor,
names key or whole key) with the high 16 bits of its 32-bit key there (24: see
:class:`_KeyTable`), and a reference to the article id (8): 60 bytes, plus the fixed offsets
arrays (about 2.1 MB). Every candidate (near in fingerprint, or the same URL, lead key, anchor or
names key, or a text whose whole key is among the query's smallest triple hashes) is verified on
the sketches of its durable entry (see :class:`DedupConfig` for the rules).

The fourth exact-key table lists a text by its names key and, when it has none (fewer than 12
distinct names and numbers), by its whole key: the smallest 32-bit hash of all its key triples.
A text that holds a share of a shorter one holds that whole key among its own 32 smallest
triple hashes (the signature's probe list) with about that probability, whatever the distance
of the fingerprints: a brief or a condensed version published first, then the full story, or a
short story that later copies add chrome and teasers to. Those are short texts with few names,
the ones listed so (generated set: recall 0.9706 without the whole key, 0.9753 with it; ECB+
0.942 -> 0.981 with the paraphrase length bound).

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
from types import ModuleType
from typing import cast

import numpy as np
import numpy.typing as npt

from pipeline import native
from pipeline.dedup._fingerprint import (
    ALL_BINS,
    NAME_BINS,
    SKETCH_BINS,
    WORD_BINS,
)
from pipeline.dedup._signature import (
    NAMES_OFFSET,
    ORDER_COUNT_OFFSET,
    ORDER_OFFSET,
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
# Rows of one names key screened per lookup, at most (the most recently published ones). A common
# name or number that holds the smallest hash keys many articles: on the generated set one names
# key covers 73 of 1,745 articles, from 71 different stories.
_NAMES_KEY_ROWS = 4096
_NAMES_MIN_CONTAINMENT = 0.7
# Rows found by one probe list that are read per lookup, at most (the most recently published).
_WHOLE_KEY_ROWS = 256
# A candidate is "plainly another text" when at least this many sampled key triples of the
# shorter text are compared and fewer than this share are in the other, and the top sketches
# agree less than this.
_CONFLICT_SUPPORT = 20
_CONFLICT_CONTAINMENT = 0.1
_CONFLICT_SKETCH = 0.2
_CONFLICT_WORDS = 0.4
_PARAPHRASE_NAMES = 8  # names and numbers compared, at least, for the heavier-paraphrase rule
# A paraphrase has at most this many times the distinct key triples of the text it rewrites.
# Generated set: the rule's own joins reach 2.15 (rewrites with teasers left on), but a bound of
# 1.5 or more loses none of them (other rules or members catch those); 1.3 loses 2 pairs in 1,000.
# ECB+: a Herald obituary splicing the AP and Reuters versions is 1.94 times the AP brief.
_PARAPHRASE_LENGTH = 1.7
I64 = npt.NDArray[np.int64]
# _verify reads each entry's signature with the byte before it, as uint16: every sketch (and the
# count before it) starts at an odd offset of the signature, so it is 2-byte aligned there.
_PAD = 1
if any((off + _PAD) % 2 for off in (SKETCH_OFFSET, WORDS_OFFSET, NAMES_OFFSET, PAIRS_OFFSET, SIGNATURE_SIZE)):
    raise RuntimeError("signature layout: sketches are expected at odd offsets")
_ROW_U16 = (SIGNATURE_SIZE + _PAD) // 2
_C_SKETCH = (SKETCH_OFFSET + _PAD) // 2
_C_WORDS = (WORDS_OFFSET + _PAD) // 2
_C_NAMES = (NAMES_OFFSET + _PAD) // 2
_C_PAIRS = (PAIRS_OFFSET + _PAD) // 2
_U16_ONE = np.uint16(1)
_IOTA = np.arange(1 << 15, dtype=np.int32)  # 0, 1, 2, ... for _gather (read only)
_IOTA.flags.writeable = False
_SIM_SEGMENTS = np.array([0, SKETCH_BINS, _C_WORDS - _C_SKETCH], dtype=np.intp)  # sketch, count, words


_KERNELS = ("index_near", "index_key_rows", "index_any_rows", "index_rows", "index_common_order")


def _kernel() -> ModuleType | None:
    """The compiled module when it has the index kernels (a build from older sources has not)."""
    return native.module() if all(native.function(k) is not None for k in _KERNELS) else None


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


class _KeyTable:
    """Rows by a 32-bit exact key (URL, lead key, anchor, names key or whole key), at 6 bytes per
    row: its place in the row array (4) and the high half of its key (2).

    Rows ``[0, built)`` sit in a CSR table over the low 16 bits of their key; a bucket holds rows
    of one low half, so only the high half is kept (``hi``, in the table's order, so that a
    bucket's rows and their high halves are read as two contiguous runs) to tell them apart. The
    keys of the rows appended since the last build (the delta buffer) are kept whole and scanned.
    A build recovers every key from the table (a row's bucket is its low half) and the delta.
    """

    def __init__(self) -> None:
        self.hi: U16 = np.zeros(0, dtype=np.uint16)  # high half of the key of rows[i]
        self.offsets: npt.NDArray[np.int32] = np.zeros(_NBUCKETS + 1, dtype=np.int32)
        self.rows: U32 = np.zeros(0, dtype=np.uint32)
        self.delta: U32 = np.zeros(64, dtype=np.uint32)  # whole keys of rows built, built + 1, ...
        self.n_delta = 0

    def append(self, key32: int) -> None:
        """Add the key of the next row (rows built, built + 1, ... in order)."""
        if self.n_delta == self.delta.size:
            self.delta = np.concatenate([self.delta, np.zeros(self.delta.size, dtype=np.uint32)])
        self.delta[self.n_delta] = key32
        self.n_delta += 1

    def full_keys(self, n: int, built: int) -> U32:
        """The whole keys of rows ``[0, n)`` (the table holds ``[0, built)``)."""
        keys = np.zeros(n, dtype=np.uint32)
        if built:
            low = np.repeat(np.arange(_NBUCKETS, dtype=np.uint32), np.diff(self.offsets))
            keys[self.rows] = low | (self.hi.astype(np.uint32) << np.uint32(16))
        keys[built:n] = self.delta[: n - built]
        return keys

    def build(self, keys: U32) -> None:
        """Table the rows ``[0, len(keys))`` with these keys; empty the delta buffer."""
        self.offsets, self.rows = _csr((keys & np.uint32(0xFFFF)).astype(np.uint16))
        self.hi = (keys.take(self.rows) >> np.uint32(16)).astype(np.uint16)
        self.n_delta = 0

    def rows_for(self, key32: int, built: int) -> I64:
        """Rows (live or dead) whose key is ``key32``."""
        b = key32 & 0xFFFF
        start, end = self.offsets[b : b + 2].tolist()
        rows = self.rows[start:end][self.hi[start:end] == key32 >> 16].astype(np.int64)
        if self.n_delta:
            found = np.flatnonzero(self.delta[: self.n_delta] == key32)
            if found.size:
                rows = np.concatenate([rows, found + built])
        return rows

    def rows_for_any(self, keys: U32, built: int) -> I64:
        """Rows (live or dead, possibly repeated) whose key is one of ``keys``."""
        if not keys.size:
            return np.zeros(0, dtype=np.int64)
        buckets = (keys & np.uint32(0xFFFF)).astype(np.int64)
        ends = self.offsets[1:].take(buckets)
        lengths = ends - self.offsets.take(buckets)
        total = int(lengths.sum())
        found = np.zeros(0, dtype=np.int64)
        if total:
            pos: I64 = np.repeat(ends - np.cumsum(lengths), lengths).astype(np.int64)
            pos += np.arange(total, dtype=np.int64)
            want = np.repeat((keys >> np.uint32(16)).astype(np.uint16), lengths)
            found = self.rows.take(pos[self.hi.take(pos) == want]).astype(np.int64)
        nd = self.n_delta
        if nd:
            ordered = np.sort(keys)
            at = np.searchsorted(ordered, self.delta[:nd])
            at[at == ordered.size] = 0
            hit = np.flatnonzero(ordered.take(at) == self.delta[:nd])
            if hit.size:
                found = np.concatenate([found, hit + built])
        return found

    def arrays(self) -> list[npt.NDArray[np.generic]]:
        return [self.hi, self.offsets, self.rows, self.delta]


class DedupIndex:
    """Finds the indexed article (within the time window) that a new article duplicates."""

    def __init__(self, config: DedupConfig, entries: MutableMapping[str, bytes] | None = None) -> None:
        self.config = config
        self.entries: MutableMapping[str, bytes] = entries if entries is not None else {}
        self._masks = _probe_masks(config.probe_radius)
        self._member = np.zeros(0x10000, dtype=bool)  # scratch of _kmv_rows, all False between calls
        # the compiled candidate search and figures (pipeline/_native.c), None: the numpy twins
        self._kernel = _kernel()
        self._alloc(1024)
        self.rebuild()

    # -- storage ---------------------------------------------------------------------------------

    def _alloc(self, capacity: int) -> None:
        self._cap = capacity
        self._n = 0
        self._fp: U64 = np.zeros(capacity, dtype=np.uint64)
        self._ts: U32 = np.zeros(capacity, dtype=np.uint32)  # 0 = dead row
        # exact keys: the canonical URL, the lead key, the anchor and the names key (the whole key
        # of a text without one)
        self._url, self._lead, self._anchor, self._names = (_KeyTable() for _ in range(4))
        self._ids: list[str] = []
        self._alive = 0
        self._built = 0  # rows [0, _built) are in the tables; the rest is the delta buffer
        self._offsets: list[npt.NDArray[np.int32]] = []
        self._rows: list[U32] = []
        self._flat_offsets: npt.NDArray[np.int32] = np.zeros(_NBLOCKS * _NBUCKETS + 1, dtype=np.int32)
        self._flat_rows: U32 = np.zeros(0, dtype=np.uint32)

    @property
    def _key_tables(self) -> tuple[_KeyTable, ...]:
        return (self._url, self._lead, self._anchor, self._names)

    def reserve(self, capacity: int) -> None:
        """Grow the arrays to hold ``capacity`` rows without reallocating."""
        if capacity <= self._cap:
            return
        for name in ("_fp", "_ts"):
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
        self._url.append(sig.url_key & _MASK32)
        self._lead.append(sig.lead_key & _MASK32)
        self._anchor.append(sig.anchor & _MASK32)
        # no names key (too few names and numbers): the whole key takes its place
        self._names.append(sig.names_key & _MASK32 if sig.names_key else sig.whole_key)
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

    def _compact(self) -> npt.NDArray[np.intp] | None:
        """Drop dead rows; return the old row of each row kept (None when none was dead)."""
        keep = np.flatnonzero(self._ts[: self._n] > 0)
        if keep.size == self._n:
            return None
        n = int(keep.size)
        self._fp[:n] = self._fp[keep]
        self._ts[:n] = self._ts[keep]
        self._ids = [self._ids[i] for i in keep.tolist()]
        self._n = n
        return keep

    def _build_tables(self) -> None:
        exact_keys = [table.full_keys(self._n, self._built) for table in self._key_tables]
        keep = self._compact()
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
        for table, full in zip(self._key_tables, exact_keys, strict=True):
            table.build(full if keep is None else full[keep])
        self._built = n

    # -- queries ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._alive

    def story_of(self, article_id: str) -> str | None:
        value = self.entries.get(article_id)
        return None if value is None else value[_ENTRY_HEAD.size + SIGNATURE_SIZE :].decode()

    def _near_rows(self, q: int) -> list[int]:
        """:meth:`_near_rows_python`, compiled when the kernels are built."""
        kernel = self._kernel
        if kernel is None:
            return self._near_rows_python(q)
        cfg = self.config
        near: list[int] = kernel.index_near(
            q, self._flat_offsets, self._flat_rows, self._fp, self._ts, self._built, self._n,
            self._masks, cfg.max_distance, cfg.rewrite_distance, cfg.far_candidates,
        )  # fmt: skip
        return near

    def _near_rows_python(self, q: int) -> list[int]:
        """The live candidate rows near ``q`` found by the probes: every one within
        ``rewrite_distance`` bits and, of the farther ones (up to ``max_distance``), the nearest
        ``far_candidates`` (the lower row first among equally near ones).

        All 4 tables are probed in one gather: ``_masks`` XOR the query's blocks (tagged with
        their table) gives, per table, the flat offsets index of every probed block value. The
        rows within ``max_distance`` are sorted by (distance, row), which drops duplicates (a row
        found in two tables) and orders the far ones.
        """
        cfg = self.config
        qq = np.uint64(q)
        maxd = cfg.max_distance
        rows: list[npt.NDArray[np.integer]] = []
        dists: list[npt.NDArray[np.uint8]] = []
        if self._built:
            base = [((q >> (16 * t)) & 0xFFFF) | (t << _BLOCK_BITS) for t in range(_NBLOCKS)]
            keys = (np.array(base, dtype=np.int64)[:, None] ^ self._masks).ravel()
            found = _gather(self._flat_offsets, self._flat_rows, keys)
            if found.size:
                dist = np.bitwise_count(self._fp.take(found) ^ qq)
                near = np.flatnonzero(dist <= maxd)
                rows.append(found.take(near))
                dists.append(dist.take(near))
        if self._n > self._built:
            dist = np.bitwise_count(self._fp[self._built : self._n] ^ qq)
            near_delta = np.flatnonzero(dist <= maxd)
            rows.append(near_delta + self._built)
            dists.append(dist[near_delta])
        if not rows:
            return []
        dist_all = np.concatenate(dists) if len(dists) > 1 else dists[0]
        key = dist_all.astype(np.int64) << 32
        key |= np.concatenate(rows) if len(rows) > 1 else rows[0]
        close_key = (cfg.rewrite_distance + 1) << 32
        # the close rows and a few more than ``far_candidates`` of the nearest far ones are enough
        # unless duplicates or dead rows take their places (then all are sorted)
        head = int(np.count_nonzero(key < close_key)) + cfg.far_candidates + 8
        if head < key.size:
            near_rows = self._nearest(np.partition(key, head - 1)[:head], close_key)
            if near_rows is not None:
                return near_rows
        near_rows = self._nearest(key, close_key, everything=True)
        assert near_rows is not None
        return near_rows

    def _nearest(self, key: I64, close_key: int, everything: bool = False) -> list[int] | None:
        """Live rows of ``key`` (distance << 32 | row) below ``close_key``, and the first
        ``far_candidates`` of the others in key order; None when ``key`` holds fewer live far rows
        than that and is not ``everything``.
        """
        fc = self.config.far_candidates
        ts = self._ts
        close: list[int] = []
        far: list[int] = []
        for k in sorted(set(key.tolist())):
            row = k & _MASK32
            if k < close_key:
                if ts[row] > 0:
                    close.append(row)
            elif len(far) == fc:
                break
            elif ts[row] > 0:
                far.append(row)
        if len(far) < fc and not everything:
            return None
        return close + far

    def _newest(self, rows: I64, n: int) -> I64:
        """The ``n`` most recently published of ``rows`` (ties: the greater article id), in row
        order. Rows are numbered by arrival in a running worker but by article id after a
        restart, so ties are not broken by row: the same rows are kept either way."""
        if rows.size <= n:
            return rows
        ts = self._ts.take(rows)
        kth = rows.size - n
        cut = np.partition(ts, kth)[kth]  # the n-th newest published time
        newer = np.flatnonzero(ts > cut)
        tied = np.flatnonzero(ts == cut)
        need = n - newer.size
        if need < tied.size:  # some rows of that second only: the greatest article ids
            ids = self._ids
            tied_rows = rows[tied].tolist()
            by_id = sorted(range(tied.size), key=lambda k: ids[tied_rows[k]])
            tied = tied[np.array(by_id[tied.size - need :], dtype=np.intp)]
        return rows[np.sort(np.concatenate([newer, tied]))]

    def _key_rows_for(self, table: _KeyTable, key32: int) -> I64:
        """Live rows whose ``table`` key is ``key32``."""
        return self._live(table.rows_for(key32, self._built))

    def _exact_rows(self, table: _KeyTable, key32: int, q: int, screen_above: int, cap: int) -> list[int]:
        """Live rows whose ``table`` key is ``key32``: the ``cap`` most recently published when
        there are more, and only those within ``max_distance`` bits of ``q`` when there are more
        than ``screen_above`` (compiled when the kernels are built)."""
        maxd = self.config.max_distance
        if self._kernel is not None:
            found: list[int] | None = self._kernel.index_key_rows(
                table.hi, table.offsets, table.rows, table.delta, table.n_delta, self._built, key32,
                self._ts, self._fp, q, maxd, screen_above, cap,
            )  # fmt: skip
            if found is not None:
                return found
        rows = self._key_rows_for(table, key32)
        if rows.size > cap:
            rows = self._newest(rows, cap)
        if rows.size > screen_above:
            dist = np.bitwise_count(self._fp[rows] ^ np.uint64(q))
            rows = rows[dist <= maxd]
        found_rows: list[int] = rows.tolist()
        return found_rows

    def _whole_key_rows(self, probe: bytes) -> list[int]:
        """Live rows listed in the names table by one of the nonzero ``probe`` keys (uint32; their
        whole key), ascending: the ``_WHOLE_KEY_ROWS`` most recently published when there are
        more (compiled when the kernels are built)."""
        table = self._names
        if self._kernel is not None:
            found: list[int] = self._kernel.index_any_rows(
                table.hi, table.offsets, table.rows, table.delta, table.n_delta, self._built, probe, self._ts
            )  # fmt: skip
            if len(found) <= _WHOLE_KEY_ROWS:
                return found
            newest: list[int] = self._newest(np.array(found, dtype=np.int64), _WHOLE_KEY_ROWS).tolist()
            return newest
        keys = np.frombuffer(probe, dtype="<u4")
        by_whole = table.rows_for_any(keys[keys != 0], self._built)
        if not by_whole.size:
            return []
        by_whole = self._live(np.unique(by_whole))
        if by_whole.size > _WHOLE_KEY_ROWS:
            by_whole = self._newest(by_whole, _WHOLE_KEY_ROWS)
        rows: list[int] = by_whole.tolist()
        return rows

    def _live(self, rows: I64) -> I64:
        """``rows`` without the evicted ones."""
        return rows[self._ts.take(rows) > 0] if rows.size else rows

    def _verify(
        self,
        sig: Signature,
        rows: list[int],
        same_url: set[int],
        found: list[tuple[str, float, int, str]],
        conflicts: list[int],
    ) -> None:
        """Check each candidate row against ``sig`` on the sketches of its entry (see DedupConfig).

        The signatures of the rows whose entry exists are read as one (n, _ROW_U16) uint16 array
        (each entry's signature with one byte before it, so that every sketch is 2-byte aligned);
        the per-row figures are those of ``sketch_similarity`` and ``kmv_overlap_many``, computed
        in one compiled call (``index_rows``) when the kernels are built, else by the numpy twins
        ``_sketch_sims`` and ``_kmv_rows``.
        """
        cfg = self.config
        h = _ENTRY_HEAD.size
        get = self.entries.get
        ids = self._ids
        found_values = [get(ids[row]) for row in rows]
        kept: list[int] = rows
        values = cast("list[bytes]", found_values)  # no None in it (below)
        if None in found_values:  # rows whose entry is gone (entries and memory disagree)
            kept = [row for row, value in zip(rows, found_values, strict=True) if value is not None]
            values = [value for value in found_values if value is not None]
        parts = [value[h - _PAD : h + SIGNATURE_SIZE] for value in values]
        n = len(kept)
        if not n:
            return
        q = sig.simhash
        # key triples of the whole texts (pairs): the share of the shorter inside the longer (a
        # lead, an abridged copy, a copy with teasers glued on, a story quoted whole)
        kernel = self._kernel
        w: U16 | None = None
        names_all: list[tuple[float, float, int]] | None = None
        if kernel is not None:  # every figure of every row in one compiled pass
            dists, sims, pairs, names_all, pcounts = kernel.index_rows(
                b"".join(parts), _ROW_U16, self._fp, kept, q, _C_SKETCH, _C_WORDS, sig.sketch,
                sig.words, _C_PAIRS, ALL_BINS, sig.pairs, sig.pairs_count, _C_NAMES, NAME_BINS,
                sig.names, sig.names_count,
            )  # fmt: skip
        else:
            w = np.frombuffer(b"".join(parts), dtype="<u2").reshape(n, _ROW_U16)
            dists = [(f ^ q).bit_count() for f in self._fp.take(kept).tolist()]
            sims = _sketch_sims(sig.sketch, sig.words, w)
            pairs = _kmv_rows(self._member, sig.pairs, sig.pairs_count, w, _C_PAIRS, ALL_BINS)
            pcounts = w[:, _C_PAIRS - 1].tolist()
        body = sig.body_hash.to_bytes(8, "little")
        url = sig.url_key.to_bytes(8, "little")
        rest: list[int] = []  # neither the same text nor plainly another one
        maybe: list[int] = []  # plainly another text by its phrases: a rewrite only if names agree
        order_ok = sig.order_count >= min(cfg.order_min_common, cfg.order_short_common)
        for i in range(n):
            row, d, value = kept[i], dists[i], values[i]
            s, ws = sims[i]
            pj, pc, psupport = pairs[i]
            ex = d == 0 and value[h + 9 : h + 17] == body
            page = row in same_url and value[h + 17 : h + 25] == url
            if ex or (page and (d <= 3 or pc >= cfg.url_min_containment)):
                # same body, or an update of the same page (a live page's new post is not)
                found.append(("exact", 1.0, row, ids[row]))
            elif (psupport >= _CONFLICT_SUPPORT and pc < _CONFLICT_CONTAINMENT and s < _CONFLICT_SKETCH
                    and ws < _CONFLICT_WORDS):  # fmt: skip
                if order_ok and d <= cfg.max_distance:
                    maybe.append(i)
                else:
                    conflicts.append(row)  # plainly another text (no shared phrases at all)
            else:
                rest.append(i)
        if not rest and not maybe:
            return
        # Names and numbers: Jaccard and the share of the fewer found in the other article. A
        # template reused for another event (other names, places, numbers) shares word pairs
        # but not these.
        names: dict[int, tuple[float, float, int]] | list[tuple[float, float, int]]
        if names_all is not None:
            names = names_all
        else:
            assert w is not None
            need = sorted(rest + maybe)
            wr = w if len(need) == n else w[need]
            by_need = _kmv_rows(self._member, sig.names, sig.names_count, wr, _C_NAMES, NAME_BINS)
            names = dict(zip(need, by_need, strict=True))
        rewritten: set[int] = set()
        for i in maybe:
            if self._rewritten(sig, values[i], dists[i], names[i]):
                rewritten.add(i)  # the names and numbers of a sentence-by-sentence rewrite
                rest.append(i)
            else:
                conflicts.append(kept[i])
        for i in rest:
            row, d = kept[i], dists[i]
            s, ws = sims[i]
            pj, pc, psupport = pairs[i]
            ns, nc, nsupport = names[i]
            small = min(pcounts[i], sig.pairs_count)
            if nsupport >= _NAMES_MIN_COUNT and nc < _NAMES_MIN_CONTAINMENT:
                continue  # same wording, other names and numbers: another event of the same kind
            similarity = max(s, pj, pc * 0.9)
            near_copy = d <= cfg.copy_distance and s >= cfg.copy_min_sketch
            contained = small >= cfg.containment_min_count and (
                _wilson_low(pc, psupport) >= cfg.min_containment
            )
            # a paraphrase changes word pairs but keeps most content words, the fingerprint and
            # about the length (a text much longer than the other is a containment question)
            paraphrase = (d <= cfg.rewrite_distance and ws >= cfg.rewrite_min_words
                          and max(pcounts[i], sig.pairs_count) <= _PARAPHRASE_LENGTH * small) and (
                (ns >= cfg.rewrite_min_names and pc >= cfg.rewrite_min_containment)
                # a heavier paraphrase (few phrases kept) needs a closer fingerprint and nearly
                # all of its names and numbers in common
                or (d <= cfg.paraphrase_distance and ns >= cfg.paraphrase_min_names
                    and nsupport >= _PARAPHRASE_NAMES and pc >= cfg.paraphrase_min_containment)
            )  # fmt: skip
            if paraphrase and s < cfg.rewrite_min_sketch:
                similarity = max(similarity, ws)
            jaccard = s >= cfg.rewrite_min_sketch and pj >= cfg.rewrite_min_pairs
            # a sentence-by-sentence rewrite: the names and numbers in the same order
            ordered = i in rewritten or (
                not (near_copy or contained or paraphrase or jaccard)
                and self._rewritten(sig, values[i], d, names[i])
            )
            if ordered:
                similarity = max(similarity, ws)
            if near_copy or contained or paraphrase or jaccard or ordered:
                # relation: a copy keeps (almost) the fingerprint and the salient words
                copy = d <= 3 or (d <= _COPY_BITS and s >= _COPY_SKETCH)
                found.append(("copy" if copy else "rewrite", similarity, row, ids[row]))

    def _rewritten(self, sig: Signature, value: bytes, d: int, names: tuple[float, float, int]) -> bool:
        """Whether the entry ``value`` and ``sig`` look like an automatic rewrite of one another:
        fingerprints within ``max_distance`` bits, at least ``order_min_names`` of at least 8 names
        and numbers shared, and at least ``order_min_common`` names and numbers (and
        ``order_min_share`` of the shorter sequence) in the same order, or at least
        ``order_short_common`` that are ``order_short_share`` of the shorter sequence."""
        cfg = self.config
        if d > cfg.max_distance or names[2] < _PARAPHRASE_NAMES or names[1] < cfg.order_min_names:
            return False
        h = _ENTRY_HEAD.size
        (nb,) = _ORDER_COUNT.unpack_from(value, h + ORDER_COUNT_OFFSET)
        na = sig.order_count
        shorter = min(na, nb)
        if shorter < cfg.order_short_common:
            return False
        order = value[h + ORDER_OFFSET : h + ORDER_OFFSET + 2 * nb]
        common: int | None = None
        if self._kernel is not None:  # compiled (None: more items than it takes)
            common = self._kernel.index_common_order(sig.order, na, order, nb)
        if common is None:
            common = common_order(sig.order, na, order, nb)
        return (common >= cfg.order_min_common and common >= cfg.order_min_share * shorter) or (
            common >= cfg.order_short_common and common >= cfg.order_short_share * shorter
        )

    def lookup(self, article_id: str, sig: Signature) -> Match | None:
        """Best match among indexed articles (other than ``article_id`` itself), or None.

        Preference: exact (same canonical URL or same normalised body) over copy over rewrite,
        then higher similarity, then the earlier published, then the smaller article id.
        """
        found: list[tuple[str, float, int, str]] = []  # relation, similarity, row, id

        q = sig.simhash
        # every candidate within ``rewrite_distance`` bits; of the farther ones (up to
        # ``max_distance``), the nearest ``far_candidates`` (a lead or a long story quoting another
        # lands there; random fingerprints do too, ~400 of them at 1M entries)
        near = self._near_rows(q)
        # candidates: near in fingerprint, the same anchor (MinHash of the opening's key pairs),
        # the same lead key or the same canonical URL, the same names key, and shorter texts
        # whose whole key is in this text's probe list
        candidates = set(near)
        everything = 1 << 62
        if sig.anchor:
            # a common key pair (a title, a place) anchors many rows: beyond _SCREEN_ABOVE of
            # them, only the near ones
            anchor = sig.anchor & _MASK32
            candidates.update(self._exact_rows(self._anchor, anchor, q, _SCREEN_ABOVE, everything))
        same_url: list[int] = []
        if sig.url_key:
            same_url = self._exact_rows(self._url, sig.url_key & _MASK32, q, everything, everything)
            candidates.update(same_url)
        if sig.lead_key:
            candidates.update(self._exact_rows(self._lead, sig.lead_key & _MASK32, q, everything, everything))
        if sig.names_key:
            # a rewrite that changed most phrases: same names (the order rule needs the
            # fingerprints within max_distance, so farther rows need not be read); of a names key
            # shared by very many articles (one very common name or number holding the smallest
            # hash), only the most recently published rows
            candidates.update(self._exact_rows(self._names, sig.names_key & _MASK32, q, 0, _NAMES_KEY_ROWS))
        if sig.pairs_count:
            # a shorter text indexed earlier that this one holds most of (a brief, a condensed
            # version, a story that later copies add chrome or teasers to): its whole key is,
            # with probability about that share, among this text's smallest triple hashes
            candidates.update(self._whole_key_rows(sig.probe))
        rows = sorted(candidates)
        conflicts: list[int] = []
        if rows:
            self._verify(sig, rows, set(same_url), found, conflicts)
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
        arrays: list[npt.NDArray[np.generic]] = [self._fp, self._ts, self._flat_offsets, self._flat_rows]
        arrays.append(self._member)
        for table in self._key_tables:
            arrays += table.arrays()
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


_ORDER_COUNT = struct.Struct("<H")


def common_order(a: bytes, na: int, b: bytes, nb: int) -> int:
    """Length of the longest common subsequence of two sequences of 16-bit items (the first
    ``na`` of ``a``, the first ``nb`` of ``b``): bit-parallel, one pass over ``b`` with a bit per
    item of ``a`` (Allison and Dix 1986; Hyyrö 2004)."""
    if not na or not nb:
        return 0
    masks: dict[int, int] = {}
    bit = 1
    for x in struct.unpack_from(f"<{na}H", a):
        masks[x] = masks.get(x, 0) | bit
        bit <<= 1
    full = bit - 1
    v = full
    get = masks.get
    for y in struct.unpack_from(f"<{nb}H", b):
        u = v & get(y, 0)
        if u:
            v = ((v + u) | (v - u)) & full
    return na - v.bit_count()


def _gather(offsets: npt.NDArray[np.int32], rows: U32, keys: I64) -> U32:
    """Concatenated rows of the CSR buckets ``keys`` (bucket k holds rows[offsets[k]:offsets[k+1]])."""
    ends = offsets[1:].take(keys)
    lengths = ends - offsets.take(keys)
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, dtype=np.uint32)
    pos = np.repeat(ends - np.cumsum(lengths), lengths)
    pos += _IOTA[:total] if total <= _IOTA.size else np.arange(total, dtype=np.int32)
    return rows.take(pos)


def _sketch_sims(sketch: bytes, words: bytes, w: U16) -> list[tuple[float, float]]:
    """``sketch_similarity`` of ``sketch`` and of ``words`` with the pair and word sketches of the
    rows ``w`` (see ``_verify``), as (pairs, words) per row: the same values, in one pass over both
    sketches (and the word count between them, left out of both sums).
    """
    qa = np.frombuffer(sketch + b"\0\0" + words, dtype="<u2")
    qnz = qa != 0
    sk = w[:, _C_SKETCH : _C_WORDS + WORD_BINS]
    eq = np.add.reduceat((sk == qa) & qnz, _SIM_SEGMENTS, axis=1, dtype=np.intp).tolist()
    either = np.add.reduceat((sk != 0) | qnz, _SIM_SEGMENTS, axis=1, dtype=np.intp).tolist()
    return [(e[0] / max(o[0], 1), e[2] / max(o[2], 1)) for e, o in zip(eq, either, strict=True)]


def _kmv_rows(
    member: npt.NDArray[np.bool_], sketch: bytes, na: int, w: U16, col: int, nbins: int
) -> list[tuple[float, float, int]]:
    """``kmv_overlap_many`` of the bottom-k ``sketch`` (set size ``na``) and the sketches
    ``w[:, col:col + nbins]`` (set sizes ``w[:, col - 1]``), as (Jaccard, containment, support)
    per row: the same values, with fewer numpy calls. ``member`` is an all-False scratch table
    of 65,536 booleans (left all False).
    """
    a = np.frombuffer(sketch, dtype="<u2")
    k = a.size
    va = a[a != 0]
    n = w.shape[0]
    if not va.size or not n:
        return [(0.0, 0.0, 0)] * n
    b = w[:, col : col + nbins]
    a_limit = int(va[-1]) if va.size >= k else 0xFFFF
    # limit: where both sides' samples are complete; a full sketch of b covers up to its maximum
    if k == nbins:  # b is full when no bin is empty, and not empty when its maximum is not 0
        filled = b.max(axis=1).tolist()  # 0: empty
        minima = b.min(axis=1).tolist()  # 0: not full
        limits = [min(hi if lo else 0xFFFF, a_limit) for hi, lo in zip(filled, minima, strict=True)]
    else:
        counts = (b != 0).sum(axis=1)
        limits = np.minimum(np.where(counts >= k, b.max(axis=1), 0xFFFF), a_limit).tolist()
        filled = counts.tolist()
    limit = np.array(limits, dtype=np.uint16)
    in_b = (b - _U16_ONE) < limit[:, None]  # filled (0 wraps to 65535) and <= limit
    member[va] = True
    try:
        inter = (member.take(b) & in_b).sum(axis=1).tolist()
    finally:
        member[va] = False
    count_b = in_b.sum(axis=1).tolist()
    count_a = np.searchsorted(va, limit, side="right").tolist()
    out: list[tuple[float, float, int]] = []
    for nonempty, ca, cb, it, nb in zip(
        filled, count_a, count_b, inter, w[:, col - 1].tolist(), strict=True
    ):
        if not nonempty:
            out.append((0.0, 0.0, 0))
            continue
        support = ca if na <= nb else cb
        out.append((it / max(ca + cb - it, 1), it / max(support, 1) if support > 0 else 0.0, support))
    return out


def _csr(keys: npt.NDArray[np.uint16]) -> tuple[npt.NDArray[np.int32], U32]:
    """Rows grouped by 16-bit key: (offsets[65537], rows)."""
    order = np.argsort(keys, kind="stable").astype(np.uint32)
    counts = np.bincount(keys, minlength=_NBUCKETS)
    offsets = np.zeros(_NBUCKETS + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    return offsets, order
