"""The compiled dedup index kernels (pipeline/_native.c: index_rows, index_near, index_key_rows,
index_any_rows) give exactly what their numpy twins in ``pipeline.dedup._index`` give.

Random signatures (empty bins, full and partial bottom-k sketches, query sketches of another size,
identical rows, empty queries), random indexes (clustered fingerprints, shared keys, dead rows,
rows in the tables and in the delta buffer), and every lookup of a run over the benchmark corpus.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
import orjson
import pytest

from pipeline import native
from pipeline.clean import CleanConfig
from pipeline.contracts import decode_raw
from pipeline.dedup import DedupConfig
from pipeline.dedup import _index as ix
from pipeline.dedup._fingerprint import ALL_BINS, NAME_BINS, SKETCH_BINS, WORD_BINS
from pipeline.dedup._index import DedupIndex, Match
from pipeline.dedup._signature import PROBE_SIZE, Signature, signature
from pipeline.enrich import EnrichConfig
from pipeline.evaluation import bench_corpus
from pipeline.prepare import Preparer, StageConfigs

kernel = ix._kernel()  # None when not built (or built from sources without these kernels)
pytestmark = pytest.mark.skipif(kernel is None, reason=f"no index kernels: {native.status()}")

_DATA = Path("/work/shared/data")


def _bottom_k(rng: np.random.Generator, k: int, full: bool | None = None) -> np.ndarray:
    """A bottom-k sketch: distinct values ascending, 0-padded (full: no 0)."""
    size = k if full else int(rng.choice([0, 1, 2, k // 2, k - 1, k, 3 * k]))
    hi = int(rng.choice([40, 300, 2000, 65536]))
    if full:
        hi = max(hi, 4 * k)
    values = np.unique(rng.integers(1, hi, size=max(size, 0) * (3 if full else 1)))[:k]
    out = np.zeros(k, dtype="<u2")
    out[: values.size] = values
    return out


def _minhash(rng: np.random.Generator, nbins: int) -> bytes:
    """A one-permutation sketch: values in any order, some bins empty (0)."""
    out = rng.integers(0, int(rng.choice([4, 50, 65536])), size=nbins).astype("<u2")
    out[rng.random(nbins) < rng.random()] = 0
    return out.tobytes()


def _sig(rng: np.random.Generator, full: bool | None = None) -> Signature:
    names, pairs = _bottom_k(rng, NAME_BINS, full), _bottom_k(rng, ALL_BINS, full)
    return Signature(
        simhash=int(rng.integers(0, 2**63)) * int(rng.integers(1, 3)), body_hash=1, url_key=2,
        sketch=_minhash(rng, SKETCH_BINS), length=100, sketch_count=5, words=_minhash(rng, WORD_BINS),
        words_count=7, names=names.tobytes(),
        names_count=int(np.count_nonzero(names)) + int(rng.integers(0, 3)) * int(rng.integers(0, 40)),
        pairs=pairs.tobytes(),
        pairs_count=int(np.count_nonzero(pairs)) + int(rng.choice([0, 1, 300, 70000])),
    )  # fmt: skip


def _empty(sig: Signature) -> Signature:
    z = bytes
    return Signature(simhash=sig.simhash, body_hash=1, url_key=2, sketch=z(2 * SKETCH_BINS), length=1,
                     words=z(2 * WORD_BINS), names=z(2 * NAME_BINS), pairs=z(2 * ALL_BINS))  # fmt: skip


def _rows_bytes(sigs: list[Signature]) -> bytes:
    return b"".join(b"\0" * ix._PAD + s.to_bytes() for s in sigs)


def _compare(query: Signature, others: list[Signature], pairs_q: bytes, names_q: bytes) -> None:
    data = _rows_bytes(others)
    n = len(others)
    w = np.frombuffer(data, dtype="<u2").reshape(n, ix._ROW_U16)
    fp = np.array([o.simhash for o in others] + [0], dtype=np.uint64)
    kept = list(range(n))
    q = query.simhash
    got = kernel.index_rows(  # type: ignore[union-attr]
        data, ix._ROW_U16, fp, kept, q, ix._C_SKETCH, ix._C_WORDS, query.sketch, query.words,
        ix._C_PAIRS, ALL_BINS, pairs_q, query.pairs_count, ix._C_NAMES, NAME_BINS, names_q, query.names_count,
    )  # fmt: skip
    member = np.zeros(0x10000, dtype=bool)
    want = (
        [(int(f) ^ q).bit_count() for f in fp[:n].tolist()],
        ix._sketch_sims(query.sketch, query.words, w),
        ix._kmv_rows(member, pairs_q, query.pairs_count, w, ix._C_PAIRS, ALL_BINS),
        ix._kmv_rows(member, names_q, query.names_count, w, ix._C_NAMES, NAME_BINS),
        w[:, ix._C_PAIRS - 1].tolist(),
    )
    assert not member.any()
    assert list(got) == list(want)
    assert repr(got) == repr(tuple(want))  # bit-identical floats, same types


def test_index_rows_equal_twin_random() -> None:
    rng = np.random.default_rng(21)
    for case in range(600):
        full = [None, True][case % 2]
        query = _sig(rng, full)
        n = int(rng.choice([0, 1, 2, 5, 12, 40]))
        others = [_sig(rng, full if rng.random() < 0.7 else None) for _ in range(n)]
        if others and case % 3 == 0:  # rows identical to the query, and to each other
            others[0] = query
            others.append(others[-1])
        if case % 11 == 0:
            query = _empty(query)  # a query with empty sketches
        if others and case % 13 == 0:
            others[-1] = _empty(others[-1])  # a row with empty sketches
        _compare(query, others, query.pairs, query.names)
        # query sketches of another size than the rows' (k != nbins: the counting branch)
        kp = int(rng.integers(1, ALL_BINS + 40))
        kn = int(rng.integers(1, NAME_BINS + 8))
        short_p = query.pairs[: 2 * min(kp, ALL_BINS)]  # a prefix of the query's own, or another
        short_n = query.names[: 2 * min(kn, NAME_BINS)]
        if rng.random() < 0.5:
            short_p, short_n = _bottom_k(rng, kp, full).tobytes(), _bottom_k(rng, kn, full).tobytes()
        _compare(query, others, short_p, short_n)


def test_index_rows_overlapping_sketches() -> None:
    """Rows drawn from the query's own values: intersections of every size, both set-size sides."""
    rng = np.random.default_rng(22)
    for _ in range(300):
        query = _sig(rng, bool(rng.random() < 0.5))
        others = []
        for _ in range(int(rng.integers(1, 10))):
            pool = np.concatenate([np.frombuffer(query.pairs, dtype="<u2"), rng.integers(1, 65535, 200)])
            pool = pool[pool != 0]
            keep = pool[rng.random(pool.size) < rng.random()]
            size = ALL_BINS if rng.random() < 0.6 else int(rng.integers(0, 80))
            vals = np.unique(keep.astype(np.uint16))[:size]
            pairs = np.zeros(ALL_BINS, dtype="<u2")
            pairs[: vals.size] = vals
            qn = np.frombuffer(query.names, dtype="<u2")
            shared = qn[qn != 0][rng.random(int(np.count_nonzero(qn))) < 0.7]
            extra = rng.integers(1, 65535, int(rng.integers(0, 8)))
            nv = np.unique(np.concatenate([shared, extra]).astype(np.uint16))
            names = np.zeros(NAME_BINS, dtype="<u2")
            names[: min(nv.size, NAME_BINS)] = nv[:NAME_BINS]
            base = _sig(rng)
            others.append(Signature(
                simhash=query.simhash ^ (1 << int(rng.integers(0, 64))), body_hash=1, url_key=2,
                sketch=query.sketch if rng.random() < 0.3 else base.sketch, length=1,
                words=query.words if rng.random() < 0.3 else base.words,
                names=names.tobytes(), names_count=int(np.count_nonzero(names)) + int(rng.integers(0, 30)),
                pairs=pairs.tobytes(), pairs_count=int(np.count_nonzero(pairs)) + int(rng.integers(0, 900)),
            ))  # fmt: skip
        _compare(query, others, query.pairs, query.names)


def _random_index(rng: random.Random, n: int, config: DedupConfig) -> tuple[DedupIndex, list[Signature]]:
    """An index of ``n`` signatures with clustered fingerprints and keys drawn from small pools."""
    bases = [rng.getrandbits(64) for _ in range(8)]
    pool = [rng.getrandbits(64) or 1 for _ in range(12)]

    def sig() -> Signature:
        simhash = rng.choice(bases)
        for _ in range(rng.choice([0, 1, 3, 8, 14, 20, 30])):
            simhash ^= 1 << rng.randrange(64)
        probe = sorted({rng.choice(pool) & 0xFFFFFFFF for _ in range(rng.randrange(0, 6))} - {0})
        probe_bytes = b"".join(p.to_bytes(4, "little") for p in probe).ljust(PROBE_SIZE, b"\0")
        return Signature(
            simhash=simhash, body_hash=1, url_key=rng.choice([0, *pool]), sketch=bytes(2 * SKETCH_BINS),
            length=1, pairs_count=rng.choice([0, 5]), lead_key=rng.choice([0, *pool]),
            anchor=rng.choice([0, *pool]), names_key=rng.choice([0, *pool]) & 0xFFFFFFFF, probe=probe_bytes,
        )  # fmt: skip

    index = DedupIndex(config)
    sigs = []
    for i in range(n):
        s = sig()
        sigs.append(s)
        index.insert(f"a{i:05d}", f"s{i % 50}", s, 1_000_000 + rng.randrange(0, 3 * 86400))
        if i % 97 == 0:
            index.evict(1_000_000 + rng.randrange(0, 3 * 86400) + config.window_seconds)
    return index, sigs


@pytest.mark.parametrize("n", [0, 1, 30, 700, 2500])
def test_candidate_search_equal_twin(n: int) -> None:
    rng = random.Random(n)
    index, sigs = _random_index(rng, n, DedupConfig(delta_max=256, window_days=1.0))
    queries = sigs[: min(n, 150)] + [s for s in _random_index(rng, 60, DedupConfig())[1]]
    big = 1 << 62

    def same(method: Callable[..., object], *args: object) -> None:
        """The method gives the same with the kernels and with the twins."""
        index._kernel = kernel
        fast = method(*args)
        index._kernel = None
        twin = method(*args)
        index._kernel = kernel
        assert fast == twin

    for s in queries:
        q = s.simhash
        same(index._near_rows, q)
        for table in index._key_tables:
            for key in {s.url_key, s.lead_key, s.anchor, s.names_key, s.whole_key}:
                for screen_above, cap in ((big, big), (ix._SCREEN_ABOVE, big), (0, 4096), (0, 3), (2, 5)):
                    same(index._exact_rows, table, key & 0xFFFFFFFF, q, screen_above, cap)
        same(index._whole_key_rows, s.probe)
        same(index.lookup, "x", s)


@pytest.fixture(scope="module")
def bench_signatures() -> list[tuple[str, float, Signature]]:
    docs = bench_corpus.build(1500, _DATA if _DATA.is_dir() else None)
    preparer = Preparer(StageConfigs(CleanConfig(), DedupConfig(), EnrichConfig(entities=False)))
    out = []
    for doc in docs:
        art = preparer.clean(decode_raw(orjson.dumps(doc), max_bytes=1 << 24))
        ts = 1.0
        if art.published_at:
            ts = datetime.fromisoformat(art.published_at.replace("Z", "+00:00")).timestamp()
        out.append((art.id, ts, signature(art, DedupConfig())))
    return out


@pytest.mark.parametrize(
    "config", [DedupConfig(), DedupConfig(delta_max=100, window_days=0.25)], ids=["default", "tables-evict"]
)
def test_lookup_equal_twin_on_bench_corpus(
    bench_signatures: list[tuple[str, float, Signature]], config: DedupConfig
) -> None:
    fast, twin = DedupIndex(config), DedupIndex(config)
    twin._kernel = None
    matched = 0
    for article_id, ts, sig in bench_signatures:
        got: Match | None = fast.lookup(article_id, sig)
        assert got == twin.lookup(article_id, sig), article_id
        story = got.story_id if got else f"story-{article_id}"
        matched += got is not None
        fast.insert(article_id, story, sig, ts)
        twin.insert(article_id, story, sig, ts)
        assert fast.evict(ts) == twin.evict(ts)
        # a second look, now that the article itself is indexed (found, skipped as itself)
        assert fast.lookup(article_id, sig) == twin.lookup(article_id, sig)
        assert fast.lookup("other", sig) == twin.lookup("other", sig)
    assert matched > len(bench_signatures) // 5  # copies, reprints and rewrites were found


def test_common_order_equal_twin() -> None:
    import struct

    rng = random.Random(8)
    for case in range(3000):
        na, nb = rng.randint(0, 64), rng.randint(0, 64)
        if case % 50 == 0:
            na = 64  # every bit of the word, carries out of bit 63
        alphabet = rng.choice([1, 2, 5, 30, 200, 65535])
        a = [rng.randint(0, alphabet) for _ in range(na)]
        b = [rng.choice(a) if a and rng.random() < 0.5 else rng.randint(0, alphabet) for _ in range(nb)]
        packed_a = struct.pack(f"<{na}H", *a).ljust(128, b"\0")
        packed_b = struct.pack(f"<{nb}H", *b)
        want = ix.common_order(packed_a, na, packed_b, nb)
        assert kernel.index_common_order(packed_a, na, packed_b, nb) == want  # type: ignore[union-attr]
    # more items than one word: the caller runs the twin
    assert kernel.index_common_order(bytes(200), 65, bytes(200), 3) is None  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        kernel.index_common_order(bytes(10), 6, bytes(10), 3)  # type: ignore[union-attr]


def test_huge_counts_rejected_without_overflow() -> None:
    """Counts near PY_SSIZE_T_MAX are refused: the size checks must not overflow (2 * nb,
    built + n_delta wrapped past the maximum and let the kernels read far outside the buffers)."""
    import sys

    with pytest.raises(ValueError):
        kernel.index_common_order(b"\x01\x00", 1, b"\x01\x00", 2**62)  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        kernel.index_common_order(b"\x01\x00", 2**62 + 2**61, b"\x01\x00", 1)  # type: ignore[union-attr]
    m = 64
    hi, rows = np.zeros(0, dtype=np.uint16), np.zeros(0, dtype=np.uint32)
    offsets = np.zeros(65537, dtype=np.int32)
    delta = np.full(m, 7, dtype=np.uint32)
    ts, fp = np.ones(4, dtype=np.uint32), np.zeros(4, dtype=np.uint64)
    built = sys.maxsize - m + 2  # built + n_delta is past PY_SSIZE_T_MAX
    with pytest.raises(ValueError):
        kernel.index_key_rows(hi, offsets, rows, delta, m, built, 7, ts, fp, 0, 64, 1 << 62, 1 << 62)  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        kernel.index_any_rows(hi, offsets, rows, delta, m, built, np.full(1, 7, dtype=np.uint32), ts)  # type: ignore[union-attr]
