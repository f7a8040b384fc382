"""Simhash fingerprint and verification sketches of an article, computed with numpy.

What goes in: the weighted features of :mod:`pipeline.dedup._features`. What comes out
(:func:`aggregate`, then :func:`simhash64`, :func:`sketch` and :func:`bottom_k`):

- a 64-bit simhash (Charikar) over the unique feature keys, each weighted by its type weight,
  its best position factor and ``1 + ln(count)``; keys are hashed with xxh64 (memoised), key
  pairs and triples are chained from those hashes (:func:`chain`).
- ``SKETCH_BINS`` 16-bit one-permutation MinHash minima of the key pairs of the first
  ``SKETCH_TOKENS`` content keys (Jaccard near the top), and ``WORD_BINS`` of the keys themselves
  (paraphrases keep words but not pairs);
- bottom-k values of the names and numbers (``NAME_BINS``) and of the key triples of the whole
  text (``ALL_BINS``): :func:`kmv_overlap_many` compares them below the range both samples
  cover completely, which gives the containment of a short text in a long one without bias;
- the anchor: the smallest pair hash of the opening (``ANCHOR_TOKENS`` keys), a MinHash value
  the index uses as an exact candidate key.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import xxhash

from pipeline.dedup._features import Feature, position_factor

SKETCH_BINS = 64
SKETCH_SIZE = 2 * SKETCH_BINS  # bytes: one 16-bit minimum per bin
WORD_BINS = 32  # second sketch: content words (unigrams), which survive a paraphrase better
WORD_SKETCH_SIZE = 2 * WORD_BINS
NAME_BINS = 16  # third sketch: names and numbers anywhere in the text (what a paraphrase keeps)
NAME_SKETCH_SIZE = 2 * NAME_BINS
ALL_BINS = 256  # fourth sketch: bottom-k of the key pairs of the whole text, for containment
ALL_SKETCH_SIZE = 2 * ALL_BINS
SKETCH_TOKENS = 120
ANCHOR_TOKENS = 40  # the anchor is the smallest hash of the key pairs of this many first keys
ORDER_ITEMS = 64  # names and numbers kept in reading order (the order sequence)
ORDER_SIZE = 2 * ORDER_ITEMS  # bytes: one 16-bit hash per item
ORDER_KEY_MIN = 12  # distinct names and numbers an article needs for a names key
PROBE_KEYS = 32  # the smallest 32-bit hashes of the key triples of the whole text (probe list)
PROBE_SIZE = 4 * PROBE_KEYS
_EMPTY_BIN = 0  # byte value of an empty bin (values are shifted into 1..255)
_HASH_SEED = 0x5EED

_key_hash_cache: dict[str, int] = {}
_CACHE_MAX = 200_000


def key_hash(key: str) -> int:
    """64-bit hash of a feature key (memoised; the vocabulary is small)."""
    h = _key_hash_cache.get(key)
    if h is None:
        h = xxhash.xxh64_intdigest(key.encode(), seed=_HASH_SEED)
        if len(_key_hash_cache) >= _CACHE_MAX:
            _key_hash_cache.clear()
        _key_hash_cache[key] = h
    return h


def _hashes(keys: list[str]) -> list[int]:
    """:func:`key_hash` of each key (one C-level pass when all are memoised)."""
    hs: list[int | None] = list(map(_key_hash_cache.get, keys))
    if None in hs:
        for i, h in enumerate(hs):
            if h is None:
                hs[i] = key_hash(keys[i])
    return hs  # type: ignore[return-value]


_POSITION_TABLE_MAX = 8192
_position: tuple[float, ...] = tuple(position_factor(i) for i in range(_POSITION_TABLE_MAX))


def _position_factors(n: int) -> Sequence[float]:
    """``position_factor(i)`` for ``i < n`` (at least: a prefix of a precomputed table)."""
    if n <= _POSITION_TABLE_MAX:
        return _position
    return [position_factor(i) for i in range(n)]


U64 = npt.NDArray[np.uint64]
F64 = npt.NDArray[np.float64]
_K1 = np.uint64(0x9E3779B97F4A7C15)
_K2 = np.uint64(0xBF58476D1CE4E5B9)
_S31 = np.uint64(31)
_S29 = np.uint64(29)
_POSITIONS = np.array(_position, dtype=np.float64)


def chain(a: U64, b: U64) -> U64:
    """Hash of the ordered pair (a, b) of 64-bit hashes, element-wise (a multiply-xorshift mix)."""
    x = a * _K1 + b  # wraps modulo 2**64
    x ^= x >> _S31
    x *= _K2
    x ^= x >> _S29
    return x


def aggregate(feats: list[Feature]) -> tuple[U64, F64, U64, U64, U64, U64, int]:
    """Unique key hashes with their weights; hashes of key pairs and of keys near the top; hashes
    of the names and numbers; hashes of the key triples of the whole text; the anchor (smallest
    hash of the key pairs of the first ``ANCHOR_TOKENS`` keys, 0 for fewer than 2 keys).

    Key hashes are xxh64 (memoised per key); pairs and triples are chained from them with
    :func:`chain`, so no string is built per pair.
    """
    empty = np.zeros(0, dtype=np.uint64)
    if not feats:
        return empty, np.zeros(0), empty, empty, empty, empty, 0
    n = len(feats)
    keys: list[str]
    keys, type_weights, _ = map(list, zip(*feats, strict=True))
    h = np.array(_hashes(keys), dtype=np.uint64)
    top = h[:SKETCH_TOKENS]
    if n == 1:
        top_pairs = everywhere = h
    else:
        top_pairs = chain(top[:-1], top[1:])
        everywhere = chain(chain(h[:-2], h[1:-1]), h[2:]) if n > 2 else top_pairs
    anchor = int(top_pairs[: ANCHOR_TOKENS - 1].min())
    names = h[np.fromiter([k[0] in "#=" for k in keys], dtype=bool, count=n)]
    # weight per unique key: its best (type weight x position factor) x (1 + ln count)
    w = np.array(type_weights, dtype=np.float64)
    w *= _POSITIONS[:n] if n <= _POSITIONS.size else np.array(_position_factors(n))
    order = np.argsort(h, kind="stable")
    sorted_h = h[order]
    starts = np.flatnonzero(np.concatenate(([True], sorted_h[1:] != sorted_h[:-1])))
    counts = np.diff(np.append(starts, n))
    weights = np.maximum.reduceat(w[order], starts) * (1.0 + np.log(counts))
    salient, words = _distinct(top_pairs), _distinct(top)
    return sorted_h[starts], weights, salient, words, _distinct(names), _distinct(everywhere), anchor


class Parts(NamedTuple):
    """What a signature keeps of the features, before the simhash and the name order."""

    hashes: U64  # distinct key hashes, ascending
    weights: F64  # their simhash weights
    sketch: bytes  # sketch(distinct pairs of the top keys)
    sketch_count: int
    words: bytes  # sketch(distinct top keys, WORD_BINS)
    words_count: int
    names: bytes  # bottom_k(distinct names and numbers, NAME_BINS)
    names_count: int
    pairs: bytes  # bottom_k(distinct key triples of the whole text, ALL_BINS)
    pairs_count: int
    probe: bytes  # smallest32(the same triples)
    anchor: int


_LOG1: F64 = 1.0 + np.log(np.arange(1, 4097, dtype=np.float64))  # [c - 1] = 1 + ln c, as numpy rounds


def _log1_table(n: int) -> F64:
    global _LOG1
    if _LOG1.size < n:
        _LOG1 = 1.0 + np.log(np.arange(1, 2 * n + 1, dtype=np.float64))
    return _LOG1


def kernel_tables(n: int) -> tuple[F64, F64]:
    """The position factors and ``1 + ln c`` tables the compiled kernels read for ``n`` features."""
    positions = _POSITIONS if n <= _POSITIONS.size else np.array(_position_factors(n))
    return positions, _log1_table(n)


def fingerprint_parts(feats: list[Feature]) -> Parts:
    """:func:`aggregate` and the sketches of its results, in numpy (the compiled
    ``signature_parts`` of :func:`pipeline.dedup._signature.feature_parts` gives the same bytes
    and numbers)."""
    hashes, weights, salient, words, names, pairs, anchor = aggregate(feats)
    return Parts(
        hashes,
        weights,
        sketch(salient),
        int(salient.size),
        sketch(words, WORD_BINS),
        int(words.size),
        bottom_k(names, NAME_BINS),
        int(names.size),
        bottom_k(pairs, ALL_BINS),
        int(pairs.size),
        smallest32(pairs),
        anchor,
    )


def name_order(feats: list[Feature]) -> tuple[bytes, int, int]:
    """The names and numbers of an article in reading order, and its names key.

    Returns the first ``ORDER_ITEMS`` name and number keys (a key repeating the one before it is
    left out) as 16-bit hashes (``ORDER_SIZE`` bytes, zero-padded), how many there are, and the
    names key: the smallest 32-bit hash of the distinct ones among those first ``ORDER_ITEMS``
    (a MinHash value: two articles share it with probability equal to the Jaccard similarity of
    those sets), 0 for fewer than ``ORDER_KEY_MIN`` distinct ones. An automatic rewrite goes
    sentence by sentence, so it keeps the names and numbers of the original in their order even
    where it changes every phrase.
    """
    seq: list[str] = []
    last = ""
    for f in feats:
        name = f[0]
        if name[0] in "#=" and name != last:
            seq.append(name)
            last = name
            if len(seq) == ORDER_ITEMS:
                break
    hs = _hashes(seq)
    items = [(h & 0xFFFF) or 1 for h in hs]
    order = struct.pack(f"<{len(items)}H", *items).ljust(ORDER_SIZE, b"\0")
    distinct = set(hs)
    names_key = (min(h >> 32 for h in distinct) or 1) if len(distinct) >= ORDER_KEY_MIN else 0
    return order, len(items), names_key


def _distinct(x: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """The distinct values of ``x``, sorted (``np.unique`` without its overhead on small arrays)."""
    if x.size < 2:
        return x
    s = np.sort(x)
    return s[np.concatenate(([True], s[1:] != s[:-1]))]


# Byte value -> its 8 bits (least significant first) as +1.0 (set) / -1.0 (clear).
_BYTE_SIGNS = np.array(
    [[1.0 if (v >> k) & 1 else -1.0 for k in range(8)] for v in range(256)], dtype=np.float64
)


def simhash64(hashes: U64 | list[int], weights: F64 | list[float]) -> int:
    """Charikar simhash of weighted 64-bit hashes (bit i set when the weighted vote is > 0)."""
    h = np.asarray(hashes, dtype="<u8")
    n = h.size
    if not n:
        return 0
    w = np.asarray(weights, dtype=np.float64)
    octets = np.ascontiguousarray(h).view(np.uint8)
    signs = _BYTE_SIGNS.take(octets, axis=0).reshape(n, 64)  # column i: +1 / -1 for bit i
    votes = w @ signs
    return int.from_bytes(np.packbits(votes > 0, bitorder="little").tobytes(), "little")


_MIX = np.uint64(0x9E3779B97F4A7C15)
_LOW_MASK = np.uint64(0x03FFFFFFFFFFFFFF)
_U58 = np.uint64(58)
_U42 = np.uint64(42)
_U65535 = np.uint64(65535)
_U1 = np.uint64(1)


def sketch(keys: U64 | set[int], nbins: int = SKETCH_BINS) -> bytes:
    """One-permutation MinHash of a set of 64-bit hashes: ``nbins`` 16-bit minima.

    The mixed hash picks the bin (top bits) and the value (low 16 bits, shifted into 1..65535);
    0 marks an empty bin.
    """
    h = _as_array(keys)
    if not h.size:
        return bytes(2 * nbins)
    mixed = h * _MIX  # wraps; spreads the hash before binning
    if nbins <= 0 or nbins > 64 or nbins & (nbins - 1):
        return _sketch_any(mixed, nbins)
    # nbins is a power of two <= 64: the bin is bits 58.. of the mixed hash with the bits above
    # the bin cleared, so in sorted order each bin's first value is its minimum.
    if nbins != 64:
        mixed &= np.uint64((nbins << 58) - 1)
    mixed.sort()
    bins = mixed >> _U58
    first = np.empty(bins.size, dtype=bool)
    first[0] = True
    np.not_equal(bins[1:], bins[:-1], out=first[1:])
    mins = mixed[first]
    out = np.zeros(nbins, dtype="<u2")
    out[(mins >> _U58).astype(np.intp)] = ((mins & _LOW_MASK) >> _U42) % _U65535 + _U1
    return out.tobytes()


def _as_array(keys: U64 | set[int]) -> U64:
    if isinstance(keys, np.ndarray):
        return keys.astype(np.uint64, copy=False)
    return np.fromiter(keys, dtype=np.uint64, count=len(keys))


def bottom_k(keys: U64 | set[int], k: int) -> bytes:
    """The ``k`` smallest distinct 16-bit values (1..65535) of the mixed hashes, ascending, 0-padded.

    For sets of at most ``k`` items this is the whole set (up to rare 16-bit collisions), so the
    overlap of two small sets is counted, not estimated; larger sets give a bottom-k estimate.
    """
    out = np.zeros(k, dtype="<u2")
    h = _as_array(keys)
    if h.size:
        h = h * _MIX
        values = _distinct(((h >> np.uint64(48)) % _U65535 + _U1).astype(np.uint16))[:k]
        out[: values.size] = values
    return out.tobytes()


def smallest32(keys: U64, k: int = PROBE_KEYS) -> bytes:
    """The ``k`` smallest distinct nonzero 32-bit values (the high half of the mixed hashes, the
    order :func:`bottom_k` samples in), ascending, 0-padded: the first is the text's *whole key*
    (a MinHash value of its key triples); a text holding most of a shorter one holds the shorter
    one's whole key among its own smallest values with high probability."""
    out = np.zeros(k, dtype="<u4")
    h = _as_array(keys)
    if h.size:
        values = _distinct(((h * _MIX) >> np.uint64(32)).astype(np.uint32))
        values = values[values != 0][:k]
        out[: values.size] = values
    return out.tobytes()


def kmv_overlap_many(
    a: npt.NDArray[np.uint16], na: int, b: npt.NDArray[np.uint16], nb: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """(Jaccard, containment of the smaller set in the larger, support) of the set behind the
    bottom-k sketch ``a`` and each of the sets behind the rows of ``b`` (n, k); ``na``/``nb``
    are the set sizes.

    A sketch that is not full holds its whole set (up to rare 16-bit collisions); a full one
    holds every value of its set up to its largest. Both are compared below the smaller of the
    two covered ranges, where each side's sample is complete, so the estimate is unbiased for any
    size ratio (a 25-word lead inside a 700-word story). ``support`` is how many values of the
    smaller set the containment is estimated from (0: no information).
    """
    k = a.size
    va = a[a != 0]
    n = b.shape[0]
    if not va.size or not n:
        zero = np.zeros(n)
        return zero, zero, np.zeros(n, dtype=np.int64)
    filled_b = b != 0
    nonempty = filled_b.any(axis=1)
    b_full = filled_b.sum(axis=1) >= k
    a_limit = int(va[-1]) if va.size >= k else 0xFFFF
    limit = np.minimum(np.where(b_full, b.max(axis=1), 0xFFFF), a_limit).astype(np.uint16)  # (n,)
    member = np.zeros(0x10000, dtype=bool)
    member[va] = True
    in_b = filled_b & (b <= limit[:, None])
    count_b = in_b.sum(axis=1)
    count_a = np.searchsorted(va, limit, side="right")
    inter = (member.take(b) & in_b).sum(axis=1)
    union = count_a + count_b - inter
    support = np.where(na <= nb, count_a, count_b)
    jaccard = np.where(nonempty, inter / np.maximum(union, 1), 0.0)
    contained = np.where(nonempty & (support > 0), inter / np.maximum(support, 1), 0.0)
    return jaccard, contained, np.where(nonempty, support, 0).astype(np.int64)


def _sketch_any(mixed: npt.NDArray[np.uint64], nbins: int) -> bytes:
    bins = (mixed >> np.uint64(58)).astype(np.int64) % nbins
    low = mixed & np.uint64(0x03FFFFFFFFFFFFFF)
    mins = np.full(nbins, np.iinfo(np.uint64).max, dtype=np.uint64)
    np.minimum.at(mins, bins, low)
    out = np.zeros(nbins, dtype=np.uint16)
    filled = mins != np.iinfo(np.uint64).max
    out[filled] = ((mins[filled] >> np.uint64(42)) % np.uint64(65535) + np.uint64(1)).astype(np.uint16)
    return out.astype("<u2").tobytes()


def sketch_similarity(a: npt.NDArray[np.uint16], b: npt.NDArray[np.uint16]) -> npt.NDArray[np.float64]:
    """Estimated Jaccard of sketches; ``a`` is one sketch (B,), ``b`` is (n, B). Returns (n,)."""
    both = (a != _EMPTY_BIN) & (b != _EMPTY_BIN)
    either = (a != _EMPTY_BIN) | (b != _EMPTY_BIN)
    eq = (a == b) & both
    return (eq.sum(axis=-1) / np.maximum(either.sum(axis=-1), 1)).astype(np.float64)


def sketch_array(sk: bytes) -> npt.NDArray[np.uint16]:
    return np.frombuffer(sk, dtype="<u2")
