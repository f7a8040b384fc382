"""Language identification: py3langid restricted to ISO 639-1 languages, plus a hint for short texts.

The langid.py model covers 97 languages; we keep those with a two-letter ISO 639-1 code (dropping
Latin, Esperanto, Volapük and "zxx"), which removes the odd answers it gives on very short strings.
On short texts (fewer than ``SHORT_TEXT_CHARS`` letters) a declared language hint that the model
ranks close to the top wins, because the hint is then more reliable than the model.
"""

from __future__ import annotations

import re

from py3langid.langid import MODEL_FILE, LanguageIdentifier

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
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)


def primary_subtag(tag: str | None) -> str | None:
    """``"pt-PT"`` -> ``"pt"``; ``None`` or empty -> ``None``."""
    if not tag:
        return None
    sub = re.split(r"[-_]", tag.strip(), maxsplit=1)[0].lower()
    return sub or None


class LanguageDetector:
    """Loads the py3langid model once; ``detect`` is thread-compatible and pure."""

    def __init__(self) -> None:
        ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        langs = sorted({c for c in ident.nb_classes if len(c) == 2 and c not in _EXCLUDED})
        ident.set_languages(langs)
        self._ident = ident
        self.languages: tuple[str, ...] = tuple(langs)

    def detect(self, text: str, hint: str | None = None) -> tuple[str | None, float]:
        """Return ``(ISO 639-1 code, confidence in [0, 1])``; ``(None, 0.0)`` for text without letters."""
        hint_code = primary_subtag(hint)
        letters = len(_LETTERS.findall(text[:2000]))
        if letters == 0:
            return (hint_code, 0.0) if hint_code in self.languages else (None, 0.0)
        ranked: list[tuple[str, float]] = [(str(c), float(p)) for c, p in self._ident.rank(text[:5000])]
        if letters < PRIOR_TEXT_CHARS:
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
