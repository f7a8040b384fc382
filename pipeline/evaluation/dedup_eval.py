"""``pipeline eval dedup``: our dedup against three baselines on labelled articles, in one run.

Inputs: a JSONL of raw articles with a gold ``story_label`` (and optional ``version_kind``), or
``--generate OUT`` (write and evaluate the generated set of :mod:`pipeline.evaluation.versions`),
or ``--ecbplus`` (real ECB+ dev articles; pairs labelled by word 5-gram containment of the
shorter text: >= 0.5 same story, < 0.2 different, in between unscored).

Every method sees the same cleaned texts in publication order and assigns each article to the
story of its best earlier match (or a new story):

- ``ours``: :mod:`pipeline.dedup` (signature + DedupIndex, default config);
- ``ours-tables``: the same, with the index's block tables rebuilt every 64 inserts, so every
  candidate comes from the probed tables as it does at scale (on a set this small the default
  config scans all entries in its delta buffer, which finds every fingerprint within
  ``max_distance``: an optimistic number);
- ``simhash-k3``: the ``simhash`` package defaults (its tokeniser, 64 bits), ``SimhashIndex`` k=3;
- ``word-simhash-12``: 64-bit simhash of word unigrams, match within 12 bits (text-dedup's setting);
- ``minhash-lsh``: datasketch MinHash LSH, 256 permutations, word bigrams, threshold 0.45.

Printed: pairwise precision/recall/F1 and adjusted Rand index per method, and recall per version
kind (pairs of an article of that kind with the rest of its gold story).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import xxhash

from pipeline.dedup import DedupConfig, DedupIndex, signature_of_text, story_id_for
from pipeline.records import RawArticle

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ecbplus-dev"
HIGH_CONTAINMENT = 0.5
LOW_CONTAINMENT = 0.2
_WORD = re.compile(r"\w+")

Assign = Callable[[Sequence[dict[str, Any]]], list[str]]


def clean_texts(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Body text of each raw row after the clean stage (text as-is if the cleaner is missing)."""
    try:
        from pipeline.clean import CleanConfig, clean_article
    except ImportError:  # pragma: no cover - the cleaner is part of the package
        return [r["content"] for r in rows]
    config = CleanConfig()
    out = []
    for r in rows:
        raw = RawArticle.from_dict({k: v for k, v in r.items() if k not in ("story_label", "version_kind")})
        try:
            out.append(clean_article(raw, config).text)
        except Exception:  # an article the cleaner rejects is kept as-is for the comparison
            out.append(r["content"])
    return out


def _ts(row: dict[str, Any], i: int) -> float:
    value = row.get("published_at")
    if value:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    return 1.6e9 + i


def assign_ours(rows: Sequence[dict[str, Any]], texts: Sequence[str], config: DedupConfig) -> list[str]:
    index = DedupIndex(config)
    out = []
    for i, (row, text) in enumerate(zip(rows, texts, strict=True)):
        sig = signature_of_text(text, row.get("url"))
        ts = _ts(row, i)
        index.evict(ts)
        match = index.lookup(row["id"], sig)
        story = match.story_id if match else story_id_for(row["id"])
        index.insert(row["id"], story, sig, ts)
        out.append(story)
    return out


def assign_simhash_k3(texts: Sequence[str]) -> list[str]:
    from simhash import Simhash, SimhashIndex

    from pipeline.evaluation.index_bench import CountedLog

    index = SimhashIndex([], k=3, log=CountedLog("eval").logger)  # its bucket warnings: not printed
    story: dict[str, str] = {}
    out = []
    for i, text in enumerate(texts):
        h = Simhash(text)
        near = index.get_near_dups(h)
        key = str(i)
        story[key] = story[min(near, key=int)] if near else key
        index.add(key, h)
        out.append(story[key])
    return out


def assign_word_simhash(texts: Sequence[str], threshold: int = 12) -> list[str]:
    from simhash import Simhash

    fps = np.zeros(len(texts), dtype=np.uint64)
    out: list[str] = []
    for i, text in enumerate(texts):
        fp = np.uint64(Simhash(_WORD.findall(text.lower())).value)
        if i:
            dist = np.bitwise_count(fps[:i] ^ fp)
            near = np.flatnonzero(dist <= threshold)
            out.append(out[int(near[np.argmin(dist[near])])] if near.size else str(i))
        else:
            out.append(str(i))
        fps[i] = fp
    return out


def assign_minhash(texts: Sequence[str]) -> list[str]:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=0.45, num_perm=256)
    out: list[str] = []
    for i, text in enumerate(texts):
        words = _WORD.findall(text.lower())
        m = MinHash(num_perm=256)
        m.update_batch([f"{a} {b}".encode() for a, b in itertools.pairwise(words)] or [b""])
        near = lsh.query(m)
        out.append(out[min(int(k) for k in near)] if near else str(i))
        lsh.insert(str(i), m)
    return out


def pair_scores(pred: Sequence[str], gold: Sequence[str]) -> dict[str, float]:
    """Pairwise precision/recall/F1 and adjusted Rand index of a clustering."""

    def comb(counts: Counter[Any]) -> float:
        return float(sum(c * (c - 1) / 2 for c in counts.values()))

    n = len(pred)
    both = comb(Counter(zip(pred, gold, strict=True)))
    pp, gp = comb(Counter(pred)), comb(Counter(gold))
    p = both / pp if pp else 1.0
    r = both / gp if gp else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    total = n * (n - 1) / 2
    expected = pp * gp / total if total else 0.0
    denom = (pp + gp) / 2 - expected
    ari = (both - expected) / denom if denom else 1.0
    return {"precision": p, "recall": r, "f1": f1, "ari": ari}


def kind_recall(pred: Sequence[str], gold: Sequence[str], kinds: Sequence[str]) -> dict[str, float]:
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    members: dict[str, list[int]] = {}
    for i, g in enumerate(gold):
        members.setdefault(g, []).append(i)
    for i, kind in enumerate(kinds):
        if not kind or kind == "original":
            continue
        originals = [j for j in members[gold[i]] if j != i and kinds[j] == "original"]
        for j in originals or [j for j in members[gold[i]] if j != i]:
            if True:
                totals[kind] += 1
                hits[kind] += pred[i] == pred[j]
    return {k: hits[k] / totals[k] for k in sorted(totals)}


def containment_labels(texts: Sequence[str]) -> dict[tuple[int, int], bool]:
    """Scored pairs of the ECB+ mode: True (copy), False (different); middle band left out."""
    grams = []
    for t in texts:
        w = _WORD.findall(t.lower())
        grams.append({hash(tuple(w[i : i + 5])) for i in range(len(w) - 4)})
    labels: dict[tuple[int, int], bool] = {}
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            a, b = grams[i], grams[j]
            c = len(a & b) / max(1, min(len(a), len(b)))
            if c >= HIGH_CONTAINMENT:
                labels[(i, j)] = True
            elif c < LOW_CONTAINMENT:
                labels[(i, j)] = False
    return labels


def _partitions(items: list[int]) -> Iterator[list[list[int]]]:
    """Every partition of ``items`` into non-empty blocks (Bell(n) of them; n is small here)."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in _partitions(rest):
        yield [[first], *part]
        for k in range(len(part)):
            yield [*part[:k], [first, *part[k]], *part[k + 1 :]]


def label_ceiling(labels: dict[tuple[int, int], bool], max_component: int = 9) -> dict[str, int]:
    """The most copy pairs any clustering can join with no different pair joined.

    Containment labels are pairwise and need not be transitive: a short text may copy two parts
    of a longer one that share nothing (A~B, A~C, B and C "different"), so no clustering joins
    every copy pair. Per connected component of the copy pairs, every partition is tried (only
    pairs inside a component can matter); a component larger than ``max_component`` is counted
    as fully joinable (an upper bound).
    """
    adjacent: dict[int, set[int]] = {}
    for (i, j), same in labels.items():
        if same:
            adjacent.setdefault(i, set()).add(j)
            adjacent.setdefault(j, set()).add(i)
    seen: set[int] = set()
    best_total = positives = 0
    for start in adjacent:
        if start in seen:
            continue
        component, stack = set(), [start]
        while stack:
            node = stack.pop()
            if node not in component:
                component.add(node)
                stack.extend(adjacent[node])
        seen |= component
        pairs = {p: y for p, y in labels.items() if p[0] in component and p[1] in component}
        n_pos = sum(pairs.values())
        positives += n_pos
        if len(component) > max_component:
            best_total += n_pos
            continue
        best = 0
        for part in _partitions(sorted(component)):
            block = {node: k for k, nodes in enumerate(part) for node in nodes}
            joined = [y for (i, j), y in pairs.items() if block[i] == block[j]]
            if all(joined):
                best = max(best, len(joined))
        best_total += best
    return {"positives": positives, "joinable": best_total}


def scored_pair_scores(pred: Sequence[str], labels: dict[tuple[int, int], bool]) -> dict[str, float]:
    tp = sum(1 for (i, j), y in labels.items() if y and pred[i] == pred[j])
    fp = sum(1 for (i, j), y in labels.items() if not y and pred[i] == pred[j])
    fn = sum(1 for (i, j), y in labels.items() if y and pred[i] != pred[j])
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "positives": tp + fn, "negatives": len(labels) - tp - fn}  # fmt: skip


def evaluate(rows: Sequence[dict[str, Any]], *, ecbplus: bool = False,
             config: DedupConfig | None = None,
             methods_run: Sequence[str] | None = None) -> dict[str, Any]:  # fmt: skip
    """Run all methods (or those named in ``methods_run``) on ``rows`` (publication order) and
    score them."""
    texts = clean_texts(rows)
    methods: dict[str, Callable[[], list[str]]] = {
        "ours": lambda: assign_ours(rows, texts, config or DedupConfig()),
        # the same with the block tables rebuilt every 64 inserts, so candidates come from the
        # probed tables as they do past the first few thousand articles of a running worker
        # (a small set otherwise sits in the brute-force delta buffer)
        "ours-tables": lambda: assign_ours(rows, texts, replace(config or DedupConfig(), delta_max=64)),
        "simhash-k3": lambda: assign_simhash_k3(texts),
        "word-simhash-12": lambda: assign_word_simhash(texts),
        "minhash-lsh": lambda: assign_minhash(texts),
    }
    if methods_run is not None:
        methods = {name: fn for name, fn in methods.items() if name in methods_run}
    result: dict[str, Any] = {"articles": len(rows), "methods": {}}
    labels = containment_labels(texts) if ecbplus else None
    if labels is not None:
        result["ceiling"] = label_ceiling(labels)
    gold = [str(r.get("story_label", "")) for r in rows]
    kinds = [str(r.get("version_kind") or "") for r in rows]
    for name, fn in methods.items():
        t0 = time.perf_counter()
        pred = fn()
        seconds = time.perf_counter() - t0
        scores: dict[str, Any]
        if labels is not None:
            scores = dict(scored_pair_scores(pred, labels))
            scores["missed"] = [
                [str(rows[i]["id"]), str(rows[j]["id"])]
                for (i, j), same in sorted(labels.items())
                if same and pred[i] != pred[j]
            ]
        else:
            scores = dict(pair_scores(pred, gold))
            scores["kind_recall"] = kind_recall(pred, gold, kinds)
            for half in ("dev", "test"):
                idx = [i for i, r in enumerate(rows) if _half(r) == half]
                scores[half] = pair_scores([pred[i] for i in idx], [gold[i] for i in idx])
        scores["seconds"] = seconds
        result["methods"][name] = scores
    return result


def _half(row: dict[str, Any]) -> str:
    """Deterministic dev/test half of a generated row, by the hash of its base story."""
    base = str(row.get("base_id") or row.get("story_label") or row.get("id"))
    return "dev" if xxhash.xxh64_intdigest(base.encode()) % 2 == 0 else "test"


def _print(result: dict[str, Any]) -> None:
    methods = result["methods"]
    print(f"{result['articles']} articles")
    print(f"{'method':<18}{'P':>8}{'R':>8}{'F1':>8}{'ARI':>8}{'sec':>8}")
    for name, s in methods.items():
        ari = f"{s['ari']:.4f}" if "ari" in s else "-"
        print(
            f"{name:<18}{s['precision']:>8.4f}{s['recall']:>8.4f}{s['f1']:>8.4f}{ari:>8}{s['seconds']:>8.1f}"
        )
    for half in ("dev", "test"):
        if all(half in s for s in methods.values()):
            print(f"\n{half} half (base stories by hash)")
            for name, s in methods.items():
                h = s[half]
                print(f"{name:<18}{h['precision']:>8.4f}{h['recall']:>8.4f}{h['f1']:>8.4f}{h['ari']:>8.4f}")
    kinds = sorted({k for s in methods.values() for k in s.get("kind_recall", {})})
    if kinds:
        print("\nrecall per version kind")
        print(f"{'kind':<20}" + "".join(f"{n:>17}" for n in methods))
        for k in kinds:
            print(f"{k:<20}" + "".join(f"{s['kind_recall'].get(k, 0.0):>17.4f}" for s in methods.values()))
    first = next(iter(methods.values()))
    if "positives" in first:
        print(f"\nscored pairs: {first['positives']} copies, {first['negatives']} different")
        ceiling = result.get("ceiling")
        if ceiling:
            share = ceiling["joinable"] / max(1, ceiling["positives"])
            print(
                f"best any clustering can do on these labels: {ceiling['joinable']} of "
                f"{ceiling['positives']} copy pairs with no different pair joined (R {share:.4f} at P 1)"
            )
        for name, s in methods.items():
            if name.startswith("ours") and s.get("missed"):
                print(f"{name} missed: " + ", ".join("/".join(p) for p in s["missed"]))


def run_ecbplus(data: Path, methods: Sequence[str] | None = None) -> dict[str, Any]:
    """The ECB+ mode: every article in file order, one second apart, scored on containment labels."""
    from pipeline.evaluation.versions import load_ecbplus

    rows = load_ecbplus(data)
    for i, r in enumerate(rows):
        r.setdefault("content", r["text"])
        stamp = f"2013-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z"
        url = r.get("url") or f"https://ecbplus.example/{r['id']}"
        r.update(url=url, source="ecbplus", content_type="text/plain", published_at=stamp)
    return evaluate(rows, ecbplus=True, methods_run=methods)


def run(args: argparse.Namespace) -> int:
    from pipeline.evaluation.versions import generate, load_ecbplus

    data = Path(args.data)
    if not (data / "articles.jsonl").exists() and (args.ecbplus or args.generate or not args.labelled):
        msg = f"ECB+ dev data not found at {data}"
        print(msg, file=sys.stderr)
        return 2
    if args.ecbplus:
        result = run_ecbplus(data)
    else:
        if args.labelled:
            with Path(args.labelled).open(encoding="utf-8") as f:
                rows = [json.loads(line) for line in f if line.strip()]
        else:
            rows = list(generate(load_ecbplus(data), seed=args.seed))
            if args.limit:
                keep = sorted({r["base_id"] for r in rows})[: args.limit]
                rows = [r for r in rows if r["base_id"] in set(keep)]
        if args.generate:
            with Path(args.generate).open("w", encoding="utf-8") as f:
                for r in rows:
                    f.write(json.dumps(r, ensure_ascii=False) + "\n")
        result = evaluate(rows)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print(result)
    return 0


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("dedup", help="dedup quality: ours vs simhash/minhash baselines")
    p.add_argument(
        "labelled", nargs="?", help="JSONL of raw articles with story_label (default: generated set)"
    )
    p.add_argument("--generate", metavar="OUT.jsonl", help="write the generated labelled set here")
    p.add_argument("--ecbplus", action="store_true", help="score real wire copies in ECB+ dev")
    p.add_argument("--data", default=os.environ.get("PIPELINE_ECBPLUS", str(DEFAULT_DATA)))
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--limit", type=int, default=0, help="only the first N base stories")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(func=run)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dedup_eval")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["dedup", *(argv if argv is not None else sys.argv[1:])])
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
