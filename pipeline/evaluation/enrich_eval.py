"""``pipeline eval language`` and ``pipeline eval entities``.

``eval entities``: agreement of the fast rule-based entity extractor (``ner="fast"``) with spaCy's
(``ner="spacy"``, taken as the reference) on the first ``--articles`` articles of
``../shared/data/ecbplus-dev/articles.jsonl``. Both run through :class:`Enricher`, so both include
the title/possessive trimming, propagation and grouping. Prints precision/recall/F1 of the fast
mode for: exact mention spans (offsets), normalised names per article (the distinct names of the
mentions, untyped and typed), and per type (names of that type), plus the commonest misses and
false alarms, and the time per article of each mode.

``eval language``: language identification accuracy on real feeds.

Parses every feed under ``../shared/data/realworld-feeds`` with feedparser, keeps the items of feeds
that declare a language (RSS ``<language>``, Atom ``xml:lang``), detects the language of each item's
title + summary (HTML stripped) with :class:`pipeline.enrich.LanguageDetector` *without* the feed's
hint, and compares with the declared tag's ISO 639-1 primary subtag. Items with fewer than
``--min-chars`` letters of text are skipped (nothing to identify). Prints accuracy overall and per
declared language, counts, and confusion examples.
"""

from __future__ import annotations

import argparse
import html
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

from pipeline.enrich import EnrichConfig, Enricher, LanguageDetector, primary_subtag
from pipeline.enrich._variants import normalise
from pipeline.records import CleanedArticle

DEFAULT_ECB = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ecbplus-dev" / "articles.jsonl"
)
DEFAULT_FEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "realworld-feeds"
_TAG = re.compile(r"<[^>]+>")


def _plain(value: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", value or "")).split())


def collect(root: Path, min_chars: int) -> list[tuple[str, str, str]]:
    """``(declared ISO 639-1, text, feed path)`` for items of feeds declaring a language."""
    import feedparser

    out: list[tuple[str, str, str]] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.suffix.lower() in (".txt", ".md", ".rb", ".js", ".json", ".gz") or "LICENSE" in path.name:
            continue
        try:
            parsed = feedparser.parse(path.read_bytes())
        except Exception:
            continue
        feed = parsed.get("feed", {})
        declared = primary_subtag(feed.get("language") or (feed.get("title_detail") or {}).get("language"))
        if not declared:
            continue
        for entry in parsed.get("entries", []):
            text = f"{_plain(entry.get('title', ''))}. {_plain(entry.get('summary', ''))}".strip(" .")
            if sum(ch.isalpha() for ch in text) >= min_chars:
                out.append((declared, text, str(path.relative_to(root))))
    return out


def run_language(args: argparse.Namespace) -> int:
    root = Path(args.feeds)
    if not root.is_dir():
        print(f"feeds not found: {root}")
        return 2
    items = collect(root, args.min_chars)
    detector = LanguageDetector()
    per_lang: dict[str, Counter[str]] = defaultdict(Counter)
    confusions: list[tuple[str, str, float, str]] = []
    for declared, text, path in items:
        code, conf = detector.detect(text)
        ok = code == declared
        per_lang[declared]["ok" if ok else "bad"] += 1
        if not ok:
            confusions.append((declared, code or "-", conf, f"{path}: {text[:70]!r}"))
    total = sum(c["ok"] + c["bad"] for c in per_lang.values())
    correct = sum(c["ok"] for c in per_lang.values())
    print(f"language ID on {total} feed items (title + summary, >= {args.min_chars} letters), no hint")
    print(f"overall accuracy {correct / max(total, 1):.3f} ({correct}/{total})")
    for lang, c in sorted(per_lang.items(), key=lambda kv: -(kv[1]["ok"] + kv[1]["bad"])):
        n = c["ok"] + c["bad"]
        print(f"  {lang}: {c['ok'] / n:.3f} ({c['ok']}/{n})")
    pairs = Counter((d, g) for d, g, _, _ in confusions)
    print(
        "confusions (declared -> detected):",
        ", ".join(f"{d}->{g} x{k}" for (d, g), k in pairs.most_common(10)),
    )
    for declared, got, conf, where in confusions[: args.examples]:
        print(f"  {declared} -> {got} ({conf:.2f}) {where}")
    return 0


Mentions = set[tuple[int, int, str]]


def _mentions(enricher: Enricher, article: CleanedArticle) -> Mentions:
    return {(s, e, ent.type) for ent in enricher.enrich(article).entities for s, e in ent.offsets}


def _prf(tp: int, n_pred: int, n_ref: int) -> str:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_ref if n_ref else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return f"P {p:.3f}  R {r:.3f}  F1 {f:.3f}  (fast {n_pred}, spaCy {n_ref}, both {tp})"


def run_entities(args: argparse.Namespace) -> int:
    import time

    path = Path(args.corpus)
    if not path.is_file():
        print(f"corpus not found: {path}")
        return 2
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    articles = [
        CleanedArticle(
            id=r["id"], url=r.get("url") or "", source="ecb", title=r.get("title") or "", text=r["text"]
        )
        for r in rows[: args.articles]
    ]
    fast = Enricher(EnrichConfig(ner="fast"))
    ref = Enricher(EnrichConfig(ner="spacy"))
    ref.enrich(articles[0])
    cost = {"fast": 0.0, "spacy": 0.0}
    span_tp = span_typed_tp = n_fast_spans = n_ref_spans = 0
    name_tp = name_typed_tp = n_fast_names = n_ref_names = 0
    per_type: dict[str, Counter[str]] = defaultdict(Counter)
    misses: Counter[str] = Counter()
    alarms: Counter[str] = Counter()
    confusion: Counter[tuple[str, str]] = Counter()
    for a in articles:
        t0 = time.perf_counter()
        got = _mentions(fast, a)
        t1 = time.perf_counter()
        want = _mentions(ref, a)
        cost["fast"] += t1 - t0
        cost["spacy"] += time.perf_counter() - t1
        n_fast_spans += len(got)
        n_ref_spans += len(want)
        span_typed_tp += len(got & want)
        span_tp += len({(s, e) for s, e, _ in got} & {(s, e) for s, e, _ in want})
        got_names = {(normalise(a.text[s:e]), t) for s, e, t in got}
        want_names = {(normalise(a.text[s:e]), t) for s, e, t in want}
        n_fast_names += len({n for n, _ in got_names})
        n_ref_names += len({n for n, _ in want_names})
        name_tp += len({n for n, _ in got_names} & {n for n, _ in want_names})
        name_typed_tp += len(got_names & want_names)
        for etype in ("person", "organization", "place", "other"):
            g = {n for n, t in got_names if t == etype}
            w = {n for n, t in want_names if t == etype}
            per_type[etype].update({"tp": len(g & w), "pred": len(g), "ref": len(w)})
        want_type = dict(want_names)
        confusion.update((t, want_type[n]) for n, t in got_names if n in want_type and want_type[n] != t)
        surf = {normalise(a.text[s:e]): a.text[s:e] for s, e, _ in got | want}
        misses.update(surf[n] for n in {n for n, _ in want_names} - {n for n, _ in got_names})
        alarms.update(surf[n] for n in {n for n, _ in got_names} - {n for n, _ in want_names})
    n = len(articles)
    print(f"fast vs spaCy (reference) entities on {n} ecbplus-dev articles")
    print(f"time per article: fast {1000 * cost['fast'] / n:.2f} ms, spaCy {1000 * cost['spacy'] / n:.2f} ms")
    print(f"mention spans (exact offsets)   {_prf(span_tp, n_fast_spans, n_ref_spans)}")
    print(f"  spans with the same type      {_prf(span_typed_tp, n_fast_spans, n_ref_spans)}")
    print(f"names per article (normalised)  {_prf(name_tp, n_fast_names, n_ref_names)}")
    print(f"  names with the same type      {_prf(name_typed_tp, n_fast_names, n_ref_names)}")
    for etype, c in per_type.items():
        print(f"  {etype:<12} names            {_prf(c['tp'], c['pred'], c['ref'])}")
    print(
        "type confusions (fast -> spaCy):",
        ", ".join(f"{g}->{w} x{k}" for (g, w), k in confusion.most_common(8)),
    )
    print("commonest misses:", ", ".join(f"{k} x{v}" for k, v in misses.most_common(args.examples)))
    print("commonest false alarms:", ", ".join(f"{k} x{v}" for k, v in alarms.most_common(args.examples)))
    return 0


def run(args: argparse.Namespace) -> int:
    return run_language(args)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("language", help="language ID accuracy on feed items with a declared language")
    p.add_argument("--feeds", default=str(DEFAULT_FEEDS))
    p.add_argument("--min-chars", type=int, default=20)
    p.add_argument("--examples", type=int, default=12)
    p.set_defaults(func=run_language)
    e = subparsers.add_parser(
        "entities", help="fast entity extractor vs spaCy NER (reference) on ecbplus-dev"
    )
    e.add_argument("--corpus", default=str(DEFAULT_ECB))
    e.add_argument("--articles", type=int, default=150)
    e.add_argument("--examples", type=int, default=20)
    e.set_defaults(func=run_entities)
