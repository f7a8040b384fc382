"""Language identification: py3langid restricted to ISO 639-1 languages, plus a hint for short texts.

The langid.py model covers 97 languages; we keep those with a two-letter ISO 639-1 code (dropping
Latin, Esperanto, Volapük and "zxx"), which removes the odd answers it gives on very short strings.
On short texts (fewer than ``SHORT_TEXT_CHARS`` letters) a declared language hint that the model
ranks close to the top wins, because the hint is then more reliable than the model.
"""

from __future__ import annotations

import math
import re
import unicodedata
from array import array
from collections import Counter
from typing import Any

import numpy as np
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from pipeline import native

_Ints = np.ndarray[Any, np.dtype[np.intp]]
_Floats = np.ndarray[Any, np.dtype[np.float32]]
_EXCLUDED = frozenset({"la", "eo", "vo", "zxx"})
SHORT_TEXT_CHARS = 60
PRIOR_TEXT_CHARS = 200
# Prior for short texts (fewer than PRIOR_TEXT_CHARS letters), where langid.py's character n-grams
# are weak evidence: widely published news languages are more likely a priori. English weighs most
# because it dominates the feeds we ingest; everything not listed weighs 1.
_PRIOR: dict[str, float] = {"en": 8.0} | {
    c: 2.0
    for c in [
        "de",
        "fr",
        "es",
        "pt",
        "it",
        "nl",
        "ru",
        "pl",
        "tr",
        "ar",
        "zh",
        "ja",
        "ko",
        "sv",
        "da",
        "no",
        "fi",
        "cs",
        "hu",
        "ro",
        "el",
        "uk",
        "id",
        "vi",
        "hi",
        "he",
        "fa",
    ]
}
# Everything that is not a letter: the letter count is the length of what is left.
_NON_LETTERS = re.compile(r"[\W\d_]+", re.UNICODE)
# Characters of the text given to the model (the caller usually passes a shorter prefix already).
MODEL_CHARS = 5000


def primary_subtag(tag: str | None) -> str | None:
    """``"pt-PT"`` -> ``"pt"``; ``None`` or empty -> ``None``."""
    if not tag:
        return None
    sub = re.split(r"[-_]", tag.strip(), maxsplit=1)[0].lower()
    return sub or None


class LanguageDetector:
    """Loads the py3langid model once; ``detect`` is thread-compatible and pure.

    Scores are py3langid's (``LanguageIdentifier.rank`` with ``norm_probs=True``, same numbers),
    computed with less overhead: the feature-by-class table is kept as row-major float32 (py3langid
    multiplies by float16 rows of a column-major copy, converting ~50k values per call), and on
    texts long enough to skip the prior only the best class is looked up instead of ranking all.
    """

    def __init__(self) -> None:
        ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        langs = sorted({c for c in ident.nb_classes if len(c) == 2 and c not in _EXCLUDED})
        ident.set_languages(langs)
        self.languages: tuple[str, ...] = tuple(langs)
        self._classes: list[str] = [str(c) for c in ident.nb_classes]
        # float32 (what the product computes in anyway: converting float16 rows per call cost more
        # than the product itself), row-major, only our languages' columns.
        self._table: np.ndarray[Any, np.dtype[np.float32]] = np.ascontiguousarray(ident.nb_ptc, np.float32)
        self._prior_class: np.ndarray[Any, np.dtype[Any]] = np.asarray(ident.nb_pc)
        # Columns of one label seen twice (script variants): the second folds into the first.
        first: dict[str, int] = {}
        self._aliases: list[tuple[int, int]] = []
        for i, c in enumerate(self._classes):
            if c in first:
                self._aliases.append((first[c], i))
            else:
                first.setdefault(c, i)
        # The automaton as flat arrays of 32-bit ints, read by the compiled walk
        # (pipeline/_native.c) and by its Python twin; the model's own 39 MB transition table is
        # used as it is when it already has that layout (no second copy).
        self._kernel = native.module()
        moves = ident.tk_nextmove
        flat = getattr(moves, "typecode", "") == "I" and moves.itemsize == 4
        self._nextmove = moves if flat else array("I", moves)
        self._rowbase = array("i", ident._rowbase)
        self._output = array("i", ident.tk_output)

    def _visits(self, data: bytes) -> tuple[_Ints, _Floats]:
        """The model's features found in ``data`` (distinct, in order of first appearance) and
        how often each was seen. Compiled when built; :meth:`_visits_python` otherwise."""
        if self._kernel is None:
            return self._visits_python(data)
        idx, counts = self._kernel.dfa_features(data, self._nextmove, self._rowbase, self._output)
        return np.frombuffer(idx, dtype=np.int64).astype(np.intp, copy=False), np.frombuffer(
            counts, dtype=np.float32
        )

    def _visits_python(self, data: bytes) -> tuple[_Ints, _Floats]:
        """The pure-Python twin of the compiled walk (same result, ~0.3 µs per byte)."""
        nextmove, rowbase, output = self._nextmove, self._rowbase, self._output
        state = 0
        found: list[int] = []
        append = found.append
        for byte in data:
            state = nextmove[rowbase[state] + byte]
            feature = output[state]
            if feature >= 0:
                append(feature)
        visits = Counter(found)
        idx = np.fromiter(visits.keys(), dtype=np.intp, count=len(visits))
        counts = np.fromiter(visits.values(), dtype=np.float32, count=len(visits))
        return idx, counts

    def _scores(self, text: str) -> np.ndarray[Any, np.dtype[np.float32]]:
        """Normalised class probabilities of ``text``: the same numbers as py3langid's ``_decide``."""
        if text.isupper():
            text = text.lower()
        data = unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")
        idx, counts = self._visits(data)
        if idx.size:
            scores: np.ndarray[Any, np.dtype[np.float32]] = (
                np.log1p(counts) @ self._table[idx] + self._prior_class
            )
        else:
            scores = np.zeros(len(self._classes), dtype=np.float32)
        scores *= 1.0 / math.sqrt(len(data) or 1)
        np.exp(scores - scores.max(), out=scores)
        scores /= scores.sum()
        for i, j in self._aliases:
            scores[i] += scores[j]
            scores[j] = 0.0
        return scores

    def _ranked(self, scores: np.ndarray[Any, np.dtype[np.float32]]) -> list[tuple[str, float]]:
        merged: dict[str, float] = {}
        for lang, score in zip(self._classes, scores.tolist(), strict=True):
            merged.setdefault(lang, score)
        return sorted(merged.items(), key=lambda cp: cp[1], reverse=True)

    def detect(self, text: str, hint: str | None = None) -> tuple[str | None, float]:
        """Return ``(ISO 639-1 code, confidence in [0, 1])``; ``(None, 0.0)`` for text without letters."""
        hint_code = primary_subtag(hint)
        letters = len(_NON_LETTERS.sub("", text[: 2 * PRIOR_TEXT_CHARS]))
        if letters < PRIOR_TEXT_CHARS:  # the exact count matters only below PRIOR_TEXT_CHARS
            letters = len(_NON_LETTERS.sub("", text[:2000]))
        if letters == 0:
            return (hint_code, 0.0) if hint_code in self.languages else (None, 0.0)
        scores = self._scores(text[:MODEL_CHARS])
        if letters >= PRIOR_TEXT_CHARS:  # neither the prior nor the hint applies: the best class
            best = int(scores.argmax())
            return self._classes[best], float(scores[best])
        ranked = self._ranked(scores)
        weighted = [(c, p * _PRIOR.get(c, 1.0)) for c, p in ranked]
        total = sum(p for _, p in weighted) or 1.0
        ranked = sorted(((c, p / total) for c, p in weighted), key=lambda cp: -cp[1])
        code, prob = ranked[0]
        if hint_code and hint_code != code and letters < SHORT_TEXT_CHARS:
            probs = dict(ranked)
            hint_prob = probs.get(hint_code, 0.0)
            if hint_prob > 0.05 or prob < 0.5:
                return hint_code, max(hint_prob, 0.5)
        return code, prob
