"""Shingle scoring of extracted article bodies.

Re-implements the metric of the Zyte article-extraction benchmark (``evaluate.py`` there):
tokens are ``\\w+`` runs (case kept), shingles are 4-token windows counted as a multiset (a text
shorter than 4 tokens is one shingle). Per document, TP/FP/FN are the multiset intersection and
differences, normalised by their sum. Corpus precision is the mean of per-document precision over
documents with TP+FP > 0, recall likewise over TP+FN > 0 (a document where FP = FN = 0 scores 1),
and F1 is the harmonic mean of those two means.

Checked against the benchmark's own ``evaluate.py`` (run unchanged from a scratch folder on the
same 181 predictions of our cleaner and of ``trafilatura.extract``): precision, recall and F1
agree to the last printed digit (differences below 1e-15).

For fundus, optional ground-truth paragraphs (in ``[brackets]``) are neutral: predicted shingles
that occur in optional paragraphs are neither false positives (when present) nor false negatives
(when missing).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence

_TOKEN = re.compile(r"\w+")

TpFpFn = tuple[float, float, float]


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i : i + n])


def shingle_match(true: str, pred: str, optional: Iterable[str] = ()) -> TpFpFn:
    """Normalised (tp, fp, fn) of one document."""
    gold, got = shingles(true), shingles(pred)
    extra: Counter[tuple[str, ...]] = Counter()
    for text in optional:
        extra.update(shingles(text))
    if extra:
        got = got - (extra - gold)  # predicted optional shingles do not count against precision
    tp = float(sum((gold & got).values()))
    fp = float(sum((got - gold).values()))
    fn = float(sum((gold - got).values()))
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fp == 0 else tp / (tp + fp)


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fn == 0 else tp / (tp + fn)


def aggregate(scores: Sequence[TpFpFn]) -> dict[str, float]:
    """Corpus precision, recall and F1 from per-document (tp, fp, fn)."""
    precisions = [_precision(*s) for s in scores if s[0] + s[1] > 0]
    recalls = [_recall(*s) for s in scores if s[0] + s[2] > 0]
    p = statistics.mean(precisions) if precisions else 0.0
    r = statistics.mean(recalls) if recalls else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f1}
