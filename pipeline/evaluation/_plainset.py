"""Deterministic labelled plain-text set for the clean stage.

How it is built (``build_plain_set``):

* **Bodies**: the gold article bodies of the HTML corpora: fundus (required paragraphs only, the
  optional ``[bracketed]`` ones are left out) and the English Zyte bodies (stopword guess), each
  split into paragraphs on line breaks. Bodies with fewer than 3 paragraphs are skipped.
* **Boilerplate**: segments labelled ``boilerplate`` in
  ``boilerplate/trafilatura_eval_segments.tsv`` (whitespace-collapsed, non-empty, deduplicated),
  split in two halves by the parity of the first byte of their SHA-1: ``design`` (the half we
  looked at while writing patterns) and ``holdout`` (never looked at). The set is built once per
  half, with identical bodies, positions and teasers, so the two halves are directly comparable.
* **Insertions** (``random.Random(seed)`` per document, seed fixed): 1-3 segments at the top; after
  each paragraph, with probability 0.3, 1-2 segments; 1-3 segments at the end.
* **Teasers**: 0-4 leads of *other* gold articles (their first paragraph of 12+ words), appended
  after the body (the end boilerplate goes before or after them, at random). Each teaser is
  either complete, cut mid-sentence at a random word between 50% and 90% of its length, or
  prefixed with an upper-case kicker made of two or three words of that other article
  (``"TRADE DEAL: ..."``); kicker and cut can combine.
* **Layout**: paragraphs separated by ``"\\n"`` or ``"\\n\\n"`` (chosen per document).

Labels kept per document: the gold body, its paragraphs, its sentences (split after . ! ? before a
capital; only units ending with final punctuation count as sentences), and the inserted boilerplate
and teaser lines.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.clean._lang import guess_language
from pipeline.clean._patterns import SENTENCE_END, SENTENCE_SPLIT

SEED = 20240603
_WS = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class PlainCase:
    """One labelled document."""

    id: str
    text: str
    body: str
    paragraphs: tuple[str, ...]
    sentences: tuple[str, ...]
    boilerplate: tuple[str, ...]
    teasers: tuple[str, ...]


def load_bodies(data: Path) -> list[tuple[str, list[str]]]:
    """(id, paragraphs) of the gold bodies used as articles."""
    bodies: list[tuple[str, list[str]]] = []
    fundus = data / "fundus-evaluation" / "dataset" / "ground_truth.json"
    if fundus.exists():
        for key, item in sorted(json.loads(fundus.read_text(encoding="utf-8")).items()):
            paras = [p.strip() for p in item["body"] if p.strip() and not p.strip().startswith("[")]
            bodies.append((f"fundus:{key}", paras))
    zyte = data / "zyte-article-extraction" / "ground-truth.json"
    if zyte.exists():
        for key, item in sorted(json.loads(zyte.read_text(encoding="utf-8")).items()):
            text = item.get("articleBody") or ""
            if guess_language(text) != "en":
                continue
            bodies.append((f"zyte:{key[:12]}", [p.strip() for p in text.split("\n") if p.strip()]))
    return [(k, p) for k, p in bodies if len(p) >= 3]


def load_boilerplate(data: Path) -> dict[str, list[str]]:
    """Boilerplate segments split into ``design`` and ``holdout`` halves by hash."""
    path = data / "boilerplate" / "trafilatura_eval_segments.tsv"
    halves: dict[str, list[str]] = {"design": [], "holdout": []}
    seen: set[str] = set()
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row.get("label") != "boilerplate":
                continue
            text = _WS.sub(" ", row.get("text") or "").strip()
            if not text or text in seen:
                continue
            seen.add(text)
            half = "design" if hashlib.sha1(text.encode()).digest()[0] % 2 == 0 else "holdout"
            halves[half].append(text)
    return halves


def _sentences(paragraphs: list[str]) -> tuple[str, ...]:
    out = [s.strip() for p in paragraphs for s in SENTENCE_SPLIT.split(p)]
    return tuple(s for s in out if s and SENTENCE_END.search(s) and len(s.split()) >= 3)


def _teaser(rng: random.Random, lead: str) -> str:
    words = lead.split()
    style = rng.random()
    text = lead
    if style < 0.5:
        cut = rng.randint(len(words) // 2, max(len(words) // 2, int(len(words) * 0.9)))
        text = " ".join(words[:cut]).rstrip(".!?\"'”’")
    if style > 0.35:
        pool = [w.strip(".,;:!?\"'“”’‘()") for w in words if len(w) > 4]
        pool = [w for w in pool if w.isalpha()] or ["NEWS"]
        kicker = " ".join(rng.sample(pool, min(len(pool), rng.randint(2, 3)))).upper()
        text = f"{kicker}: {text}"
    return text


def build_plain_set(data: Path, half: str = "design", limit: int | None = None) -> list[PlainCase]:
    """The labelled set for one boilerplate half (deterministic)."""
    bodies = load_bodies(data)
    pool = load_boilerplate(data)[half]
    leads = [next((p for p in paras if len(p.split()) >= 12), "") for _, paras in bodies]
    cases: list[PlainCase] = []
    for index, (key, paras) in enumerate(bodies[:limit] if limit else bodies):
        rng = random.Random(f"{SEED}:{key}")
        pick = random.Random(f"{SEED}:{key}:{half}")
        boiler: list[str] = []

        def segs(k: int, boiler: list[str] = boiler, pick: random.Random = pick) -> list[str]:
            chosen = [pool[pick.randrange(len(pool))] for _ in range(k)]
            boiler.extend(chosen)
            return chosen

        lines: list[str] = segs(rng.randint(1, 3))
        for para in paras:
            lines.append(para)
            if rng.random() < 0.3:
                lines.extend(segs(rng.randint(1, 2)))
        others = [i for i in range(len(bodies)) if i != index and leads[i]]
        teasers = [_teaser(rng, leads[i]) for i in rng.sample(others, rng.randint(0, 4))]
        tail = segs(rng.randint(1, 3))
        lines.extend(tail + teasers if rng.random() < 0.5 else teasers + tail)
        sep = "\n\n" if rng.random() < 0.5 else "\n"
        cases.append(
            PlainCase(
                id=key,
                text=sep.join(lines),
                body="\n".join(paras),
                paragraphs=tuple(paras),
                sentences=_sentences(paras),
                boilerplate=tuple(boiler),
                teasers=tuple(teasers),
            )
        )
    return cases
