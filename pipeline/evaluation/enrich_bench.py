"""``pipeline bench enrich``: cost of the enrich stage per ~600-word article, next to clean and dedup.

Articles are built from ``../shared/data/ecbplus-dev/articles.jsonl`` (texts concatenated and cut
into ~600-word articles) or, when that file is absent, from a deterministic generator. Prints
median and p99 milliseconds per article and articles/second on one core (the process is pinned to
one CPU where the OS allows it) for: clean, dedup (signature + index lookup/insert), and enrich with
``ner`` off / fast / spacy, single (``enrich``) and batched (``enrich_many``), then the cost of each
component (language, fast NER, entity grouping, keywords, dates, summary; spaCy tokenizer and NER).
Numbers, no assertions. Timings are noisy on shared machines: run it a few times, compare medians.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pipeline.enrich import EnrichConfig, Enricher
from pipeline.records import CleanedArticle, RawArticle

DEFAULT_CORPUS = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ecbplus-dev" / "articles.jsonl"
)


def build_articles(n: int, words: int, corpus: Path) -> list[CleanedArticle]:
    if corpus.is_file():
        paragraphs = [
            p
            for line in corpus.read_text(encoding="utf-8").splitlines()
            if line.strip()
            for p in json.loads(line)["text"].split("\n")
            if p.strip()
        ]
    else:
        rng = random.Random(7)
        vocab = "the minister said on Tuesday that troops from Russia and Kazakhstan left Almaty".split()
        paragraphs = [" ".join(rng.choice(vocab) for _ in range(40)) + "." for _ in range(2000)]
    out: list[CleanedArticle] = []
    i = 0
    for k in range(n):
        chunk: list[str] = []
        count = 0
        while count < words:
            para = paragraphs[i % len(paragraphs)]
            i += 1
            chunk.append(para)
            count += len(para.split())
        text = "\n\n".join(chunk)
        out.append(
            CleanedArticle(
                id=f"bench-{k}",
                url=f"https://example.test/{k}",
                source="bench",
                title=chunk[0][:80],
                text=text,
                published_at="2022-01-13T12:00:00Z",
            )
        )
    return out


Timings = tuple[list[float], list[float]]  # (wall ms, CPU ms) per item


def _timed(fn: Callable[[Any], object], items: Sequence[Any]) -> Timings:
    wall: list[float] = []
    cpu: list[float] = []
    for item in items:
        t0, c0 = time.perf_counter(), time.process_time()
        fn(item)
        cpu.append((time.process_time() - c0) * 1000.0)
        wall.append((time.perf_counter() - t0) * 1000.0)
    return wall, cpu


def _report(name: str, timings: Timings) -> None:
    """Wall-clock median/p99 and rate, and the same from process CPU time (the process is pinned to
    one core, so CPU time is what the work costs when other processes share that core)."""
    cols = []
    for times_ms in timings:
        ordered = sorted(times_ms)
        p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        total_s = sum(ordered) / 1000.0
        rate = len(ordered) / total_s if total_s else float("inf")
        cols.append(f"{statistics.median(ordered):7.2f} ms p99 {p99:7.2f} ms {rate:7.1f} art/s")
    print(f"{name:<40} wall {cols[0]} | cpu {cols[1]}")


def _batched(enricher: Enricher, articles: Sequence[CleanedArticle], batch: int) -> Timings:
    wall: list[float] = []
    cpu: list[float] = []
    for start in range(0, len(articles), batch):
        part = articles[start : start + batch]
        t0, c0 = time.perf_counter(), time.process_time()
        enricher.enrich_many(part)
        cpu.extend([(time.process_time() - c0) * 1000.0 / len(part)] * len(part))
        wall.extend([(time.perf_counter() - t0) * 1000.0 / len(part)] * len(part))
    return wall, cpu


def run(args: argparse.Namespace) -> int:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    articles = build_articles(args.articles, args.words, Path(args.corpus))
    mean_words = statistics.mean(len(a.text.split()) for a in articles)
    print(f"{len(articles)} articles, {mean_words:.0f} words on average, one core")
    try:
        from pipeline.clean import CleanConfig, clean_article

        cfg = CleanConfig()
        raws = [
            RawArticle(
                id=a.id, url=a.url, source=a.source, content=a.text, content_type="text/plain", title=a.title
            )
            for a in articles
        ]
        _report("clean (text/plain)", _timed(lambda r: clean_article(r, cfg), raws))
    except Exception as exc:  # the bench reports what it can
        print(f"clean: not measured ({exc!r})")
    try:
        from pipeline.dedup import DedupConfig, DedupIndex, signature

        dcfg = DedupConfig()
        index = DedupIndex(dcfg)

        def dedup(a: CleanedArticle) -> None:
            sig = signature(a, dcfg)
            index.lookup(a.id, sig)
            index.insert(a.id, a.id, sig, time.time())

        _report("dedup (signature+lookup+insert)", _timed(dedup, articles))
    except Exception as exc:
        print(f"dedup: not measured ({exc!r})")
    for mode in args.modes:
        limits = args.ner_max_chars if mode == "spacy" else [args.ner_max_chars[0]]
        for limit in limits:
            enricher = Enricher(EnrichConfig(ner=mode, ner_max_chars=limit, keywords=10))
            enricher.enrich(articles[0])  # load models outside the timing
            label = f"ner={mode}" + (f" ner_max_chars={limit}" if mode == "spacy" else "")
            _report(f"enrich {label} single", _timed(enricher.enrich, articles))
            _report(f"enrich {label} batch{args.batch}", _batched(enricher, articles, args.batch))
    _breakdown(articles, with_spacy=args.profile or "spacy" in args.modes)
    return 0


def _breakdown(articles: Sequence[CleanedArticle], with_spacy: bool) -> None:
    """Split the cost of enrichment into its parts (time per article, ms)."""
    from pipeline.enrich._dates import find_dates, parse_publish_date
    from pipeline.enrich._enricher import LANGUAGE_CHARS
    from pipeline.enrich._entities import build_entities
    from pipeline.enrich._fastner import FastNer
    from pipeline.enrich._keywords import rank_keywords
    from pipeline.enrich._language import LanguageDetector
    from pipeline.enrich._places import PlaceResolver
    from pipeline.enrich._summary import lead_summary, word_count

    print("breakdown (per article):")
    lang = LanguageDetector()
    places = PlaceResolver()
    fast = FastNer(places)
    mentions = {a.id: fast.mentions(a.text) for a in articles}
    parts: dict[str, Callable[[CleanedArticle], object]] = {
        f"  language (title + {LANGUAGE_CHARS} chars)": lambda a: lang.detect(
            f"{a.title}\n{a.text[:LANGUAGE_CHARS]}"
        ),
        "  fast NER mentions": lambda a: fast.mentions(a.text),
        "  entity grouping (fast mentions)": lambda a: build_entities(mentions[a.id], places),
        "  keywords": lambda a: rank_keywords(a.text, a.title),
        "  dates": lambda a: find_dates(a.text, parse_publish_date(a.published_at)),
        "  summary + word count": lambda a: (lead_summary(a.text, 300), word_count(a.text)),
    }
    if with_spacy:
        from pipeline.enrich._enricher import load_spacy

        nlp = load_spacy()
        parts["  spaCy tokenizer"] = lambda a: nlp.make_doc(a.text)
        parts["  spaCy ner (incl. tokenizer)"] = lambda a: nlp(a.text)
    for name, fn in parts.items():
        _report(name, _timed(fn, articles))


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("enrich", help="enrichment cost per ~600-word article, next to clean and dedup")
    p.add_argument("--articles", type=int, default=200)
    p.add_argument("--words", type=int, default=600)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    p.add_argument(
        "--ner-max-chars",
        type=int,
        nargs="+",
        default=[20_000, 1_500],
        help="NER text limits to measure in spaCy mode (the first one also applies to the other modes)",
    )
    p.add_argument(
        "--modes",
        nargs="+",
        choices=["off", "fast", "spacy"],
        default=["off", "fast", "spacy"],
        help="entity extractor modes to measure",
    )
    p.add_argument("--profile", action="store_true", help="time spaCy parts even without spacy mode")
    p.set_defaults(func=run)
