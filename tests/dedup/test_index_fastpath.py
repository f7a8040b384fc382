"""The lookup's numpy shortcuts give the same values as the reference functions."""

from __future__ import annotations

import numpy as np

from pipeline.dedup import _index as ix
from pipeline.dedup._fingerprint import (
    ALL_BINS,
    NAME_BINS,
    SKETCH_BINS,
    WORD_BINS,
    kmv_overlap_many,
    sketch_array,
    sketch_similarity,
)
from pipeline.dedup._signature import SIGNATURE_SIZE, Signature


def _bottom_k(rng: np.random.Generator, k: int) -> np.ndarray:
    size = int(rng.choice([0, 1, k // 2, k - 1, k, 3 * k]))
    hi = int(rng.choice([40, 2000, 65536]))
    values = np.unique(rng.integers(1, hi, size=size))[:k]
    out = np.zeros(k, dtype="<u2")
    out[: values.size] = values
    return out


def _sig(rng: np.random.Generator) -> Signature:
    def sk(nbins: int) -> bytes:
        out = rng.integers(0, 50, size=nbins).astype("<u2")
        out[rng.random(nbins) < rng.random()] = 0
        return out.tobytes()

    names, pairs = _bottom_k(rng, NAME_BINS), _bottom_k(rng, ALL_BINS)
    return Signature(
        simhash=int(rng.integers(0, 2**63)), body_hash=1, url_key=2, sketch=sk(SKETCH_BINS), length=100,
        sketch_count=5, words=sk(WORD_BINS), words_count=7, names=names.tobytes(),
        names_count=int(np.count_nonzero(names)) + int(rng.integers(0, 3)), pairs=pairs.tobytes(),
        pairs_count=int(np.count_nonzero(pairs)) + int(rng.integers(0, 300)),
    )


def _rows(sigs: list[Signature]) -> np.ndarray:
    data = b"".join(b"\0" * ix._PAD + s.to_bytes() for s in sigs)
    return np.frombuffer(data, dtype="<u2").reshape(len(sigs), ix._ROW_U16)


def test_verify_figures_equal_reference() -> None:
    rng = np.random.default_rng(5)
    member = np.zeros(0x10000, dtype=bool)
    for _ in range(300):
        query = _sig(rng)
        others = [_sig(rng) for _ in range(int(rng.integers(1, 12)))]
        w = _rows(others)
        assert w.shape[1] * 2 == SIGNATURE_SIZE + ix._PAD
        sims = ix._sketch_sims(query.sketch, query.words, w)
        ref_s = sketch_similarity(
            sketch_array(query.sketch), np.array([sketch_array(o.sketch) for o in others])
        )
        ref_w = sketch_similarity(
            sketch_array(query.words), np.array([sketch_array(o.words) for o in others])
        )
        assert sims == list(zip(ref_s.tolist(), ref_w.tolist(), strict=True))
        for attr, col, nbins in (("names", ix._C_NAMES, NAME_BINS), ("pairs", ix._C_PAIRS, ALL_BINS)):
            got = ix._kmv_rows(member, getattr(query, attr), getattr(query, attr + "_count"), w, col, nbins)
            b = np.array([sketch_array(getattr(o, attr)) for o in others])
            nb = np.array([min(getattr(o, attr + "_count"), 0xFFFF) for o in others], dtype=np.int64)
            na = getattr(query, attr + "_count")
            j, c, s = kmv_overlap_many(sketch_array(getattr(query, attr)), na, b, nb)
            assert got == list(zip(j.tolist(), c.tolist(), s.tolist(), strict=True))
            assert not member.any()
        # a query sketch of another size than the indexed ones (the counting path)
        short = sketch_array(query.names)[: NAME_BINS // 2].copy()
        got = ix._kmv_rows(member, short.tobytes(), query.names_count, w, ix._C_NAMES, NAME_BINS)
        b = np.array([sketch_array(o.names) for o in others])
        nb = np.array([o.names_count for o in others], dtype=np.int64)
        j, c, s = kmv_overlap_many(short, query.names_count, b, nb)
        assert got == list(zip(j.tolist(), c.tolist(), s.tolist(), strict=True))


def test_gather() -> None:
    rng = np.random.default_rng(6)
    for _ in range(50):
        keys16 = rng.integers(0, 50, size=int(rng.integers(0, 400))).astype(np.uint16)
        offsets, rows = ix._csr(keys16)
        probe = rng.integers(0, 65536, size=30).astype(np.int64)
        probe[:10] = rng.integers(0, 50, size=10)
        ref = np.concatenate([rows[offsets[k] : offsets[k + 1]] for k in probe])
        assert np.array_equal(ix._gather(offsets, rows, probe), ref)
