"""``pipeline bench dedup-index``: dedup index cost at 10k, 100k and 1M indexed articles.

The index is filled with synthetic signatures (random fingerprints and sketches; a fixed seed),
then timed on lookup+insert of new signatures, a quarter of which are near-duplicates (a few
flipped bits) of indexed ones. Fingerprint cost is measured on real ~600-word texts (ECB+ dev
articles concatenated to length when available, else a synthetic text). Printed per size: lookup+
insert latency median/p99/max, articles/second for fingerprint+lookup+insert, bytes per indexed
article of the index structures, and separately of the ``entries`` dict (ids + encoded values).
The ``simhash`` package's ``SimhashIndex`` (k=3) is timed the same way at 10k and 100k.
Numbers are printed, not asserted.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.dedup import DedupConfig, DedupIndex, Signature, signature_of_text, story_id_for
from pipeline.dedup._fingerprint import (
    ALL_BINS,
    NAME_BINS,
    ORDER_ITEMS,
    PROBE_KEYS,
    SKETCH_SIZE,
    WORD_BINS,
)
from pipeline.evaluation.dedup_eval import DEFAULT_DATA


def _texts(data: Path, n: int, words: int = 600) -> list[str]:
    path = data / "articles.jsonl"
    if path.exists():
        docs = [json.loads(line)["text"] for line in path.open(encoding="utf-8") if line.strip()]
    else:
        rng = random.Random(1)
        vocab = [f"word{i}" for i in range(5000)] + [f"Name{i}" for i in range(500)]
        docs = [" ".join(rng.choice(vocab) for _ in range(words)) + "." for _ in range(50)]
    out = []
    for i in range(n):
        parts: list[str] = []
        j = i
        while sum(len(p.split()) for p in parts) < words:
            parts.append(docs[j % len(docs)])
            j += 7
        out.append(" ".join(" ".join(parts).split()[:words]))
    return out


def _random_sigs(n: int, seed: int) -> list[Signature]:
    """Random signatures with every part filled like a ~600-word article's (sorted bottom-k), one
    in five like a short text with few names."""
    rng = np.random.default_rng(seed)
    fps = rng.integers(0, 2**63, size=n, dtype=np.int64).astype(np.uint64) << np.uint64(1)
    fps |= rng.integers(0, 2, size=n, dtype=np.int64).astype(np.uint64)
    sks = rng.integers(0, 256, size=(n, SKETCH_SIZE), dtype=np.uint8)
    words = rng.integers(1, 65536, size=(n, WORD_BINS), dtype=np.int64).astype("<u2")
    names = np.sort(rng.integers(1, 65536, size=(n, NAME_BINS), dtype=np.int64), axis=1).astype("<u2")
    pairs = np.sort(rng.integers(1, 20000, size=(n, ALL_BINS), dtype=np.int64), axis=1).astype("<u2")
    other = rng.integers(0, 2**63, size=(n, 3), dtype=np.int64)
    # names and numbers in reading order (a ~600-word article has 40-64) and the names key
    order = rng.integers(1, 65536, size=(n, ORDER_ITEMS), dtype=np.int64).astype("<u2")
    order_counts = rng.integers(40, ORDER_ITEMS + 1, size=n)
    names_keys = rng.integers(1, 2**32, size=n, dtype=np.int64)
    pairs_counts = rng.integers(200, 401, size=n)
    # one row in five is a short text with fewer than 12 distinct names and numbers (no names key:
    # listed by its whole key; 17% of the ECB+ articles)
    short = rng.random(n) < 0.2
    order_counts[short] = rng.integers(0, 12, size=int(short.sum()))
    names_keys[short] = 0
    pairs_counts[short] = rng.integers(30, 150, size=int(short.sum()))
    # the probe list: the 32 smallest 32-bit hashes of the key triples (every query probes the
    # names-key table with it; the near copies below keep it, so they find a short row's whole key)
    tops = (2**32 * np.minimum(1.0, 40.0 / pairs_counts)).astype(np.int64)
    probes = rng.integers(1, tops[:, None], size=(n, PROBE_KEYS), dtype=np.int64)
    probes = np.sort(probes, axis=1).astype("<u4")
    return [Signature(simhash=int(fps[i]), body_hash=int(other[i, 0]), url_key=int(other[i, 1]),
                      sketch=sks[i].tobytes(), length=3000, sketch_count=119, words=words[i].tobytes(),
                      words_count=110, names=names[i].tobytes(), names_count=40,
                      pairs=pairs[i].tobytes(), pairs_count=int(pairs_counts[i]),
                      lead_key=int(other[i, 2]), order=order[i].tobytes(),
                      order_count=int(order_counts[i]), names_key=int(names_keys[i]),
                      probe=probes[i].tobytes())
            for i in range(n)]  # fmt: skip


def _near(sig: Signature, rng: random.Random) -> Signature:
    fp = sig.simhash
    for b in rng.sample(range(64), rng.randint(1, 8)):
        fp ^= 1 << b
    return replace(sig, simhash=fp, body_hash=sig.body_hash ^ 1, url_key=0, lead_key=0)


def bench_ours(size: int, queries: int, seed: int = 7) -> dict[str, Any]:
    config = DedupConfig()
    entries: dict[str, bytes] = {}
    index = DedupIndex(config, entries)
    index.reserve(size + queries)
    sigs = _random_sigs(size + queries, seed)
    t0 = time.perf_counter()
    ts = 1.7e9
    for i in range(size):
        aid = f"a{i:08d}"
        index.insert(aid, story_id_for(aid), sigs[i], ts + i * 0.01)
    fill_s = time.perf_counter() - t0
    rng = random.Random(seed)
    lat = np.zeros(queries)
    matched = 0
    for q in range(queries):
        sig = sigs[size + q] if q % 4 else _near(sigs[rng.randrange(size)], rng)
        aid = f"q{q:08d}"
        t = time.perf_counter()
        m = index.lookup(aid, sig)
        index.insert(aid, m.story_id if m else story_id_for(aid), sig, ts + size * 0.01 + q)
        lat[q] = time.perf_counter() - t
        matched += m is not None
    n = len(index)
    entries_bytes = sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in entries.items())
    entries_bytes += sys.getsizeof(entries)
    return {
        "method": "ours", "size": size, "fill_seconds": fill_s,
        "median_us": float(np.median(lat) * 1e6), "p99_us": float(np.percentile(lat, 99) * 1e6),
        "max_us": float(lat.max() * 1e6), "matched": matched, "queries": queries,
        "index_bytes_per_article": index.memory_bytes() / n, "entries_bytes_per_article": entries_bytes / n,
    }  # fmt: skip


class CountedLog(logging.Handler):
    """Counts what the ``simhash`` package logs instead of printing it: its ``SimhashIndex`` warns
    "Big bucket found" on every insert into a bucket of over 200 entries, thousands of lines in
    a benchmark run. ``logger`` is the logger to give the index."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.count = 0
        self.logger = logging.getLogger(f"pipeline.evaluation.naive.{name}")
        self.logger.propagate = False
        self.logger.handlers = [self]
        self.logger.setLevel(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def bench_simhash_package(size: int, queries: int, seed: int = 7) -> dict[str, Any]:
    from simhash import Simhash, SimhashIndex

    sigs = _random_sigs(size + queries, seed)
    t0 = time.perf_counter()
    warned = CountedLog("index")
    index = SimhashIndex([(str(i), Simhash(sigs[i].simhash)) for i in range(size)], k=3, log=warned.logger)
    fill_s = time.perf_counter() - t0
    rng = random.Random(seed)
    lat = np.zeros(queries)
    for q in range(queries):
        sig = sigs[size + q] if q % 4 else _near(sigs[rng.randrange(size)], rng)
        h = Simhash(sig.simhash)
        t = time.perf_counter()
        index.get_near_dups(h)
        index.add(f"q{q}", h)
        lat[q] = time.perf_counter() - t
    return {"method": "simhash.SimhashIndex k=3", "size": size, "fill_seconds": fill_s,
            "median_us": float(np.median(lat) * 1e6), "p99_us": float(np.percentile(lat, 99) * 1e6),
            "max_us": float(lat.max() * 1e6)}  # fmt: skip


def bench_fingerprint(texts: Sequence[str]) -> dict[str, Any]:
    from simhash import Simhash

    for t in texts[:20]:  # warm the key-hash cache like a running worker
        signature_of_text(t)
    t0 = time.perf_counter()
    for t in texts:
        signature_of_text(t)
    ours = (time.perf_counter() - t0) / len(texts)
    t0 = time.perf_counter()
    for t in texts:
        Simhash(t)
    pkg = (time.perf_counter() - t0) / len(texts)
    return {"words": len(texts[0].split()), "ours_ms": ours * 1e3, "simhash_package_ms": pkg * 1e3}


def run(args: argparse.Namespace) -> int:
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    fp = bench_fingerprint(_texts(Path(args.data), args.texts))
    print(f"fingerprint ({fp['words']} words): ours {fp['ours_ms']:.3f} ms/article, "
          f"simhash package {fp['simhash_package_ms']:.3f} ms/article")  # fmt: skip
    rows = []
    for size in sizes:
        r = bench_ours(size, args.queries)
        r["articles_per_second"] = 1.0 / (fp["ours_ms"] / 1e3 + r["median_us"] / 1e6)
        rows.append(r)
        print(f"ours   {size:>9,}: lookup+insert median {r['median_us']:.0f} us, p99 {r['p99_us']:.0f} us, "
              f"max {r['max_us']:.0f} us; fingerprint+lookup+insert "
              f"{r['articles_per_second']:.0f} articles/s; "
              f"index {r['index_bytes_per_article']:.1f} B/article, entries dict "
              f"{r['entries_bytes_per_article']:.0f} B/article (fill {r['fill_seconds']:.1f} s)",
              flush=True)  # fmt: skip
        if size <= 100_000:
            s = bench_simhash_package(size, args.queries)
            rows.append(s)
            print(f"simhash {size:>8,}: get_near_dups+add median {s['median_us']:.0f} us, "
                  f"p99 {s['p99_us']:.0f} us, max {s['max_us']:.0f} us (fill {s['fill_seconds']:.1f} s)",
                  flush=True)  # fmt: skip
    if args.json:
        print(json.dumps({"fingerprint": fp, "index": rows}, indent=2))
    return 0


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("dedup-index", help="dedup index latency and memory at 10k/100k/1M entries")
    p.add_argument("--quick", action="store_true", help="10k and 100k only")
    p.add_argument("--queries", type=int, default=5000, help="timed lookup+insert calls per size")
    p.add_argument("--texts", type=int, default=300, help="~600-word texts fingerprinted")
    p.add_argument("--data", default=str(DEFAULT_DATA))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="index_bench")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["dedup-index", *(argv if argv is not None else sys.argv[1:])])
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
