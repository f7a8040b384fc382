"""``pipeline eval language``: language identification accuracy on real feeds.

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
import re
from collections import Counter, defaultdict
from pathlib import Path

from pipeline.enrich import LanguageDetector, primary_subtag

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


def run(args: argparse.Namespace) -> int:
    return run_language(args)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("language", help="language ID accuracy on feed items with a declared language")
    p.add_argument("--feeds", default=str(DEFAULT_FEEDS))
    p.add_argument("--min-chars", type=int, default=20)
    p.add_argument("--examples", type=int, default=12)
    p.set_defaults(func=run_language)
