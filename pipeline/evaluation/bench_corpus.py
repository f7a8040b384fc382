"""A reproducible benchmark corpus of ~600-word news articles, plain text and HTML.

Bases: articles of ``ecbplus-dev`` (from ``../shared/data``), each extended with following
articles of the same topic until it reaches ~600 words, cut at a sentence end. Without the shared
data, bases are synthetic sentences from a fixed vocabulary (same sizes, same seed). Versions:
exact copies and reprints with site chrome (15% each) and paraphrased rewrites (10%), drawn with a
fixed seed, so every run benchmarks the same messages. HTML pages wrap the same texts in a page
template with navigation, a cookie banner, share links and related-story teasers.
"""

from __future__ import annotations

import html
import random
import re
from pathlib import Path
from typing import Any

import orjson

WORDS = 600
_SENT = re.compile(r"(?<=[.!?”\"])\s+")

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} | {site}</title>
<link rel="canonical" href="{url}"><meta property="og:title" content="{title}">
<meta name="author" content="Staff reporter"><meta property="article:published_time" content="{published}">
</head><body><header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/business">Business</a>
<a href="/sport">Sport</a> <a href="/opinion">Opinion</a></nav></header>
<div class="cookie">We use cookies to personalise content. <button>Accept all</button></div>
<main><article><h1>{title}</h1><p class="byline">By Staff reporter</p>{paragraphs}
<div class="share">Share on Facebook · Share on X · Email this story</div></article>
<aside><h2>Most read</h2><ul>{related}</ul></aside></main>
<footer><p>© {site}. All rights reserved.</p><a href="/privacy">Privacy</a>
<a href="/terms">Terms</a></footer>
</body></html>"""


_SYLLABLES = ("ba", "ko", "ri", "tan", "mel", "dor", "vi", "sa", "len", "gru", "pe", "ost", "ka", "nir",
              "lo", "fen", "tra", "bel", "mu", "zor", "chi", "an", "ves", "ul", "dra", "mo", "sel", "ti")


def _pseudo_words(rng: random.Random, n: int, capital: bool) -> list[str]:
    words: set[str] = set()
    while len(words) < n:
        w = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
        words.add(w.capitalize() if capital else w)
    return sorted(words)


def _synthetic_bases(n: int, rng: random.Random) -> list[dict[str, Any]]:
    """Articles of pseudo-words: a 6,000-word vocabulary drawn Zipf-like, 3,000 names, numbers.

    Distinct bases share words the way news does (a few very common, most rare), so fingerprints
    and sketches spread as they do on real text; without the shared data only.
    """
    vocab = _pseudo_words(rng, 6000, capital=False)
    names = _pseudo_words(rng, 3000, capital=True)
    weights = [1.0 / (rank + 10) for rank in range(len(vocab))]
    out: list[dict[str, Any]] = []
    for i in range(n):
        cast = rng.sample(names, 6)
        sents: list[str] = []
        while sum(len(s.split()) for s in sents) < WORDS:
            words = rng.choices(vocab, weights=weights, k=rng.randint(8, 18))
            words.insert(rng.randrange(len(words)), rng.choice(cast))
            if rng.random() < 0.4:
                words.insert(rng.randrange(len(words)), str(rng.randint(2, 9000)))
            sents.append(" ".join(words).capitalize() + ".")
        paras = [" ".join(sents[j : j + 3]) for j in range(0, len(sents), 3)]
        out.append({"id": f"syn{i}", "title": " ".join(rng.choices(vocab, k=6)).capitalize(),
                    "text": "\n\n".join(paras)})  # fmt: skip
    return out


def _ecb_bases(path: Path, n: int) -> list[dict[str, Any]]:
    docs = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    by_topic: dict[Any, list[dict[str, Any]]] = {}
    for d in docs:
        by_topic.setdefault(d["topic"], []).append(d)
    out: list[dict[str, Any]] = []
    for i, d in enumerate(docs):
        if len(out) >= n:
            break
        pool = by_topic[d["topic"]]
        start = pool.index(d)
        sents: list[str] = []
        for other in pool[start:] + pool[:start]:
            for para in other["text"].split("\n"):
                sents += [s for s in _SENT.split(para.strip()) if s]
            if sum(len(s.split()) for s in sents) >= WORDS:
                break
        kept, count = [], 0
        for s in sents:
            if count >= WORDS:
                break
            kept.append(s)
            count += len(s.split())
        paras = [" ".join(kept[j : j + 3]) for j in range(0, len(kept), 3)]
        out.append({"id": f"ecb{i}", "title": d["title"][:120], "text": "\n\n".join(paras)})
    return out


def build(n: int, data_dir: Path | None, *, html_pages: bool = False, seed: int = 11) -> list[dict[str, Any]]:
    """``n`` raw-article dicts (about 60% originals, 30% copies/reprints, 10% rewrites)."""
    rng = random.Random(seed)
    n_bases = max(1, int(n * 0.6))
    path = data_dir / "ecbplus-dev" / "articles.jsonl" if data_dir else None
    bases = _ecb_bases(path, n_bases) if path and path.is_file() else []
    if len(bases) < n_bases:
        bases += _synthetic_bases(n_bases - len(bases), rng)
    try:
        from pipeline.evaluation.versions import make_version
    except ImportError:  # pragma: no cover
        make_version = None  # type: ignore[assignment]
    out: list[dict[str, Any]] = []
    while len(out) < n:
        k = len(out)
        base = bases[k % len(bases)] if k < len(bases) else rng.choice(bases)
        if k < len(bases):
            kind, title, text = "original", base["title"], base["text"]
        else:
            kind = rng.choices(["exact", "reprint", "rewrite"], weights=[15, 15, 10])[0]
            if make_version is not None:
                title, text = make_version(kind, base["title"], base["text"], rng)
            else:
                title, text = base["title"], base["text"]
        site = f"outlet{k % 37}.example"
        url = f"https://{site}/news/{base['id']}-{k}"
        published = f"2026-11-{1 + (k // 5000) % 20:02d}T{(k // 60) % 24:02d}:{k % 60:02d}:00Z"
        doc: dict[str, Any] = {
            "id": f"bench-{k}",
            "url": url,
            "source": site,
            "published_at": published,
            "bench_base": base["id"],
            "bench_kind": kind,
        }
        if html_pages:
            paras = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n"))
            related = "".join(
                f"<li><a href='/n/{j}'>{html.escape(b['title'][:80])}</a></li>"
                for j, b in enumerate(rng.sample(bases, min(4, len(bases))))
            )
            doc.update(
                content=_PAGE.format(
                    title=html.escape(title),
                    site=site,
                    url=url,
                    published=published,
                    paragraphs=paras,
                    related=related,
                ),
                content_type="text/html",
            )
        else:
            doc.update(content=f"{title}\n\n{text}", content_type="text/plain")
        out.append(doc)
    return out
