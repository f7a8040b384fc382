"""Simhash fingerprint and verification sketch of an article, computed with numpy.

What goes in: the weighted features of :mod:`pipeline.dedup._features`. What comes out:

- a 64-bit simhash (Charikar) over the unique feature keys, each weighted by its type weight,
  its best position factor and ``1 + ln(count)``; keys are hashed with xxh64.
- a verification sketch: ``SKETCH_BINS`` 16-bit MinHash minima (one-permutation hashing) over
  the pairs of adjacent content keys (key bigrams) of the first ``SKETCH_TOKENS`` content tokens,
  and the number of distinct pairs. Two articles' sketches estimate the Jaccard index of those
  sets, and with the two sizes the containment of the smaller in the larger (a lead or an
  abridged copy in its full story). Key pairs keep some word order: they survive a paraphrase
  that keeps names, numbers and most words, while two reports of the same event by different
  writers share words but few pairs.
"""

from __future__ import annotations

import math

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
SKETCH_TOKENS = 120
_EMPTY_BIN = 0  # byte value of an empty bin (values are shifted into 1..255)
_HASH_SEED = 0x5EED

_BIT_SHIFTS = np.arange(64, dtype=np.uint64)
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


def aggregate(feats: list[Feature]) -> tuple[list[int], list[float], set[int], set[int], set[int]]:
    """Unique key hashes with their weights; hashes of key pairs and of keys near the top; hashes
    of the names and numbers."""
    best: dict[str, float] = {}
    count: dict[str, int] = {}
    salient: set[int] = set()
    words = {key_hash(f.key) for f in feats[:SKETCH_TOKENS]}
    names = {key_hash(f.key) for f in feats if f.key[:1] in "#="}
    for i, f in enumerate(feats):
        w = f.weight * position_factor(i)
        if w > best.get(f.key, 0.0):
            best[f.key] = w
        count[f.key] = count.get(f.key, 0) + 1
        if 0 < i < SKETCH_TOKENS:
            salient.add(key_hash(feats[i - 1].key + " " + f.key))
    if len(feats) == 1:
        salient.add(key_hash(feats[0].key))
    hashes = [key_hash(k) for k in best]
    weights = [w * (1.0 + math.log(count[k])) for k, w in best.items()]
    return hashes, weights, salient, words, names


def simhash64(hashes: list[int], weights: list[float]) -> int:
    """Charikar simhash of weighted 64-bit hashes (bit i set when the weighted vote is > 0)."""
    if not hashes:
        return 0
    h = np.array(hashes, dtype=np.uint64)
    w = np.array(weights, dtype=np.float64)
    bits = ((h[:, None] >> _BIT_SHIFTS) & np.uint64(1)).astype(np.float64)
    votes = w @ (2.0 * bits - 1.0)
    set_bits = _BIT_SHIFTS[votes > 0]
    return int(np.bitwise_or.reduce(np.uint64(1) << set_bits)) if set_bits.size else 0


def sketch(keys: set[int], nbins: int = SKETCH_BINS) -> bytes:
    """One-permutation MinHash of a set of 64-bit hashes: ``nbins`` 16-bit minima.

    The mixed hash picks the bin (top bits) and the value (low 16 bits, shifted into 1..65535);
    0 marks an empty bin.
    """
    if not keys:
        return bytes(2 * nbins)
    h = np.fromiter(keys, dtype=np.uint64, count=len(keys))
    mixed = h * np.uint64(0x9E3779B97F4A7C15)  # wraps; spreads the hash before binning
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


def containment(
    jaccard: npt.NDArray[np.float64], size_a: float, sizes_b: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Estimated share of the smaller set inside the larger, from their Jaccard and sizes."""
    smaller = np.maximum(np.minimum(sizes_b, size_a), 1.0)
    return np.minimum(1.0, jaccard * (sizes_b + size_a) / ((1.0 + jaccard) * smaller))


def sketch_array(sk: bytes) -> npt.NDArray[np.uint16]:
    return np.frombuffer(sk, dtype="<u2")
