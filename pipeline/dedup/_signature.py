"""Configuration, the per-article :class:`Signature`, and :func:`signature`.

``signature(article, config)`` is pure and runs in the parallel stage: everything the global dedup
stage needs about one article, in 1,051 bytes (``Signature.to_bytes``). No text goes further.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, replace
from itertools import islice
from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit

import numpy as np
import xxhash

from pipeline import native
from pipeline.dedup._features import Feature, fold
from pipeline.dedup._features import features as extract_features
from pipeline.dedup._fingerprint import (
    ALL_SKETCH_SIZE,
    NAME_SKETCH_SIZE,
    ORDER_SIZE,
    PROBE_SIZE,
    SKETCH_SIZE,
    WORD_SKETCH_SIZE,
    Parts,
    fingerprint_parts,
    kernel_tables,
    name_order,
    simhash64,
)
from pipeline.records import CleanedArticle

_SIG_VERSION = 10
_SIG_HEAD = "<BQQQQQIH"
_SIG_STRUCT = struct.Struct(
    f"{_SIG_HEAD}{SKETCH_SIZE}sH{WORD_SKETCH_SIZE}sH{NAME_SKETCH_SIZE}sH{ALL_SKETCH_SIZE}s{ORDER_SIZE}sIH{PROBE_SIZE}s"
)
_WORDS_RE = re.compile(r"\w+")
_TRACKING_PARAMS = re.compile(r"^(utm_|fbclid$|gclid$|mc_|ref$|ref_src$|cmpid$|ocid$|smid$)")


@dataclass(frozen=True)
class DedupConfig:
    """Settings of the dedup stage (thresholds chosen on the generated dev set; see README).

    - ``window_days``: entries older than this (by published time) are evicted.
    - ``blocks``/``probe_radius``: the simhash index splits the 64-bit fingerprint into
      ``blocks`` blocks and probes every key within ``probe_radius`` bits of each query block, so
      every indexed fingerprint within ``blocks * (probe_radius + 1) - 1`` bits is a candidate
      (and most up to ``max_distance``).
    - ``max_distance``/``far_candidates``: candidates farther than this many bits are dropped;
      of those beyond ``rewrite_distance``, only the nearest ``far_candidates`` are verified.
    - ``copy_distance``/``copy_min_sketch``: a candidate this close, whose sketch agrees this
      much, is accepted (near-copy); its relation is "copy" when within 3 bits, or 12 bits with sketch >= 0.8.
    - ``rewrite_min_sketch``/``rewrite_min_pairs``: any other candidate (near in fingerprint,
      sharing a sketch bin held in memory, the same lead key or the same URL) is accepted when
      this estimated Jaccard of key pairs near the top agree and this Jaccard of the key triples
      of the whole texts (so two short reports that share a few names do not pass) ...
    - ``min_containment``/``containment_min_count``: ... or when the share of the shorter text's
      key triples found in the longer one is at least this (lower 90% Wilson bound over the
      sampled triples) and the shorter has at least ``containment_min_count`` triples (a lead, an
      abridged copy, a copy with teasers glued on, a press release quoted whole) ...
    - ``rewrite_distance``/``rewrite_min_words``: ... or when the fingerprints are within this many
      bits and this estimated Jaccard of the content words near the top agree (a paraphrase: word
      pairs change, words and names mostly stay), provided that this estimated Jaccard of their
      names and numbers (``rewrite_min_names``) agree and at least ``rewrite_min_containment`` of
      the key triples of the shorter are in the longer (an automatic rewrite keeps many phrases;
      a write-through by another reporter with the same names keeps few).
    - ``paraphrase_distance``/``paraphrase_min_names``/``paraphrase_min_containment``: a heavier
      paraphrase (few phrases kept, as a human rewrite) also passes when the fingerprints are this
      close, this share of at least 8 names and numbers agree and this share of triples is shared.
    - ``order_min_common``/``order_min_share``/``order_min_names``: a sentence-by-sentence rewrite
      (most phrases changed) passes when the fingerprints are within ``max_distance`` bits, at
      least this share of at least 8 names and numbers agree, and the longest run of names and
      numbers both texts give in the same order (not necessarily adjacent) is at least
      ``order_min_common`` items and ``order_min_share`` of the shorter sequence. Independent
      reports of one event share names and numbers but not their order (ECB+, 5,270 pairs of
      different articles of one topic: at most 33 items, and at most 0.67 of the shorter at 25
      items or more; hand-written rewrites: 35-56 items, 0.76-1.0). A shorter text passes with
      ``order_short_common`` items if they are ``order_short_share`` of the shorter sequence
      (ECB+: at most 0.77 at 20 items or more; the next edition of a recurring report cut to
      120-160 words: 0.70-0.71).
    - ``url_min_containment``: the same canonical URL is an exact match only when this share of
      key triples (or the fingerprint within 3 bits) agrees: a live page's new post is new.
    - ``delta_max``: inserts kept in a brute-force buffer before the block tables are rebuilt.
    """

    window_days: float = 7.0
    bits: int = 64
    blocks: int = 4
    probe_radius: int = 2
    max_distance: int = 20
    far_candidates: int = 4
    copy_distance: int = 6
    copy_min_sketch: float = 0.15
    rewrite_min_sketch: float = 0.3
    min_containment: float = 0.55
    containment_min_count: int = 8
    rewrite_min_pairs: float = 0.2
    rewrite_min_containment: float = 0.3
    url_min_containment: float = 0.3
    paraphrase_distance: int = 12
    paraphrase_min_names: float = 0.85
    paraphrase_min_containment: float = 0.1
    rewrite_distance: int = 14
    rewrite_min_words: float = 0.4
    rewrite_min_names: float = 0.65
    order_min_common: int = 30
    order_min_share: float = 0.7
    order_min_names: float = 0.8
    order_short_common: int = 20
    order_short_share: float = 0.85
    delta_max: int = 2048

    def __post_init__(self) -> None:
        if self.bits != 64:
            raise ValueError("only 64-bit fingerprints are supported")
        if self.blocks != 4:
            raise ValueError("the block index uses 4 blocks of 16 bits")
        if not 0 <= self.probe_radius <= 3:
            raise ValueError("probe_radius must be 0..3")
        if self.window_days <= 0:
            raise ValueError("window_days must be positive")

    @property
    def window_seconds(self) -> float:
        return self.window_days * 86400.0


@dataclass(frozen=True, slots=True)
class Signature:
    """What dedup keeps about one article (no text).

    ``simhash``: 64-bit weighted simhash; ``body_hash``: xxh64 of the normalised body (folded,
    lower-cased words); ``url_key``: xxh64 of the normalised canonical URL (0 when unknown);
    ``sketch``: ``SKETCH_SIZE``-byte MinHash of the key pairs near the top; ``sketch_count``: how
    many distinct pairs it summarises (capped at 65535); ``length``: characters of clean text (for
    the story's choice of canonical version).
    """

    simhash: int
    body_hash: int
    url_key: int
    sketch: bytes
    length: int
    sketch_count: int = 0
    words: bytes = bytes(WORD_SKETCH_SIZE)  # MinHash of the content words near the top
    words_count: int = 0
    names: bytes = bytes(NAME_SKETCH_SIZE)  # bottom-k values of the names and numbers
    names_count: int = 0
    pairs: bytes = bytes(ALL_SKETCH_SIZE)  # bottom-k of the key pairs of the whole text
    pairs_count: int = 0
    lead_key: int = 0  # xxh64 of the first content keys (0 when the text is too short)
    anchor: int = 0  # smallest hash of the key pairs of the opening (a MinHash value; 0: none)
    order: bytes = bytes(ORDER_SIZE)  # 16-bit hashes of the names and numbers in reading order
    order_count: int = 0  # how many of them
    names_key: int = 0  # smallest 32-bit hash of the distinct names and numbers (0: too few)
    probe: bytes = bytes(PROBE_SIZE)  # the smallest 32-bit hashes of the key triples, ascending

    @property
    def whole_key(self) -> int:
        """The smallest 32-bit hash of the key triples of the whole text (0: no triples)."""
        return int.from_bytes(self.probe[:4], "little")

    def to_bytes(self) -> bytes:
        return _SIG_STRUCT.pack(
            _SIG_VERSION, self.simhash, self.body_hash, self.url_key, self.lead_key, self.anchor,
            self.length,
            min(self.sketch_count, 0xFFFF), self.sketch, min(self.words_count, 0xFFFF), self.words,
            min(self.names_count, 0xFFFF), self.names, min(self.pairs_count, 0xFFFF), self.pairs,
            self.order, self.names_key, self.order_count, self.probe,
        )  # fmt: skip

    @classmethod
    def from_bytes(cls, b: bytes) -> Signature:
        if not b or b[0] != _SIG_VERSION:  # checked first: an older version is shorter
            raise ValueError(f"unknown signature version {b[0] if b else None}")
        if len(b) < _SIG_STRUCT.size:
            raise ValueError(f"signature of {len(b)} bytes, expected {_SIG_STRUCT.size}")
        (_version, simhash, body_hash, url_key, lead_key, anchor, length, count, sk, wcount, words,
         ncount, names, pcount, pairs, order, names_key, order_count, probe) = _SIG_STRUCT.unpack(
            b[: _SIG_STRUCT.size])  # fmt: skip
        return cls(simhash=simhash, body_hash=body_hash, url_key=url_key, sketch=sk, length=length,
                   sketch_count=count, words=words, words_count=wcount, names=names,
                   names_count=ncount, pairs=pairs, pairs_count=pcount, lead_key=lead_key,
                   anchor=anchor, order=order, order_count=order_count,
                   names_key=names_key, probe=probe)  # fmt: skip


SIGNATURE_SIZE = _SIG_STRUCT.size
SKETCH_OFFSET = struct.calcsize(_SIG_HEAD)  # where the pair sketch starts in ``to_bytes``
WORDS_OFFSET = SKETCH_OFFSET + SKETCH_SIZE + 2  # where the word sketch starts
NAMES_OFFSET = WORDS_OFFSET + WORD_SKETCH_SIZE + 2  # where the name sketch starts
PAIRS_OFFSET = NAMES_OFFSET + NAME_SKETCH_SIZE + 2  # where the whole-text pair sketch starts
ORDER_OFFSET = PAIRS_OFFSET + ALL_SKETCH_SIZE  # where the order sequence starts
ORDER_COUNT_OFFSET = ORDER_OFFSET + ORDER_SIZE + 4  # its item count (after the names key)


def normalise_url(url: str | None) -> str:
    """Canonical form of a URL for exact matching ("" when there is none)."""
    if not url or not url.strip():
        return ""
    parts = urlsplit(url.strip())
    host = parts.netloc.lower()
    if host.startswith("www."):
        host = host[4:]
    if host.endswith(":80") or host.endswith(":443"):
        host = host.rsplit(":", 1)[0]
    path = re.sub(r"/+$", "", parts.path) or "/"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query) if not _TRACKING_PARAMS.match(k)))
    if not host:
        return ""
    return f"{host}{path}" + (f"?{query}" if query else "")


def url_key(url: str | None) -> int:
    norm = normalise_url(url)
    return xxhash.xxh64_intdigest(norm.encode()) if norm else 0


_words_hash = native.function("words_hash")


def body_hash(text: str) -> int:
    """xxh64 of the words of the folded, lower-cased text joined by spaces (the compiled
    ``words_hash`` when built: one pass, no bytes made per word; 40 -> 18 µs per bench article,
    minimum of 5 rounds on a loaded machine)."""
    if _words_hash is None:
        return body_hash_python(text)
    return int(_words_hash(fold(text).lower()))


def body_hash_python(text: str) -> int:
    """The Python twin of :func:`body_hash`."""
    return xxhash.xxh64_intdigest(_joined_words(fold(text).lower()))


# ASCII bytes that ``_WORDS_RE`` does not match -> space; other bytes (UTF-8 of non-ASCII) kept.
_ASCII_NONWORD_TO_SPACE = bytes(c if _WORDS_RE.match(chr(c)) else 0x20 for c in range(128)) + bytes(
    range(128, 256)
)
_NONWORD_PUNCT = ("“", "”", "‘", "’", "—", "–", "«", "»", "„", "‚")  # common, never in a word


def _joined_words(s: str) -> bytes:
    """UTF-8 of ``" ".join(_WORDS_RE.findall(s))`` without running the regex over ASCII runs."""
    if not s.isascii():
        for ch in _NONWORD_PUNCT:  # separators either way; replaced so that more text is ASCII
            if ch in s:
                s = s.replace(ch, " ")
    raw = s.encode("utf-8", "surrogatepass")
    chunks = raw.translate(_ASCII_NONWORD_TO_SPACE).split()  # runs of ASCII word chars and non-ASCII
    if raw.isascii():
        return b" ".join(chunks)
    words: list[bytes] = []
    for chunk in chunks:
        if chunk.isascii():
            words.append(chunk)
        else:
            words.extend(w.encode() for w in _WORDS_RE.findall(chunk.decode("utf-8", "surrogatepass")))
    return b" ".join(words)


_HEADING_MAX_WORDS = 16
_HEADING_MAX_LINES = 3
_FINAL_PUNCT = tuple(".!?\"'”’:;)")


def _norm_words(line: str) -> list[str]:
    return _WORDS_RE.findall(fold(line).lower())


def _more_words_than(folded: str, n: int) -> bool:
    """Whether ``_WORDS_RE`` finds more than ``n`` words in ``folded`` (stops at the ``n+1``-th)."""
    return next(islice(_WORDS_RE.finditer(folded), n, None), None) is not None


def strip_heading(text: str, title: str | None = None) -> str:
    """``text`` without leading lines that repeat ``title`` or look like a headline or site chrome.

    A headline-like line is short (at most ``_HEADING_MAX_WORDS`` words) and has no final
    sentence punctuation. Sites keep or drop the headline on top of the body, so versions of one
    story only agree on their fingerprint once it is left out. At most ``_HEADING_MAX_LINES`` lines
    go, and never the whole text.
    """
    lines = text.lstrip().split("\n")
    title_words = _norm_words(title) if title else []
    limit = max(_HEADING_MAX_WORDS, len(title_words))
    dropped = 0
    i = 0
    while i < len(lines) and dropped < _HEADING_MAX_LINES:
        line = lines[i].strip()
        if not line:
            i += 1
            continue
        folded = fold(line).lower()
        if _more_words_than(folded, limit):  # neither the title nor a headline, and not empty
            break
        words = _WORDS_RE.findall(folded)
        same_as_title = bool(title_words) and words == title_words
        headline = 0 < len(words) <= _HEADING_MAX_WORDS and not line.endswith(_FINAL_PUNCT)
        if not (same_as_title or headline or not words):
            break
        dropped += 1
        i += 1
    rest = "\n".join(lines[i:])
    return rest if rest.strip() else text


LEAD_KEYS = 6  # content keys that make the lead key


def lead_key(keys: list[str]) -> int:
    """Key of an article's opening (its first ``LEAD_KEYS`` content keys): a lead, a brief or an
    abridged copy of a story usually keeps the story's first sentence. 0 for shorter texts."""
    if len(keys) < LEAD_KEYS:
        return 0
    return xxhash.xxh64_intdigest(" ".join(keys).encode()) or 1


class FeatureParts(NamedTuple):
    """What a signature keeps of the features: the fingerprint parts, the name order and the
    lead key."""

    parts: Parts
    order: bytes
    order_count: int
    names_key: int
    lead_key: int


_parts_kernel = native.function("signature_parts")


def feature_parts(feats: list[Feature]) -> FeatureParts:
    """:func:`fingerprint_parts`, :func:`name_order` and :func:`lead_key` of the features, in one
    compiled pass when the kernels are built (``signature_parts``: the key hashes computed there
    instead of looked up in the memo, whose misses in the CPU caches cost more than the hashing;
    on the bench corpus 142 -> 63 µs per article for the three, minimum of 5 rounds on a loaded
    machine); :func:`feature_parts_python` is the twin."""
    n = len(feats)
    if _parts_kernel is None or n < 3:
        return feature_parts_python(feats)
    out = _parts_kernel(feats, *kernel_tables(n))
    parts = Parts(np.frombuffer(out[0], dtype=np.uint64), np.frombuffer(out[1], dtype=np.float64), *out[2:12])
    return FeatureParts(parts, *out[12:])


def feature_parts_python(feats: list[Feature]) -> FeatureParts:
    """The twin of the compiled :func:`feature_parts`."""
    order, order_count, names_key = name_order(feats)
    lead = lead_key([f.key for f in feats[:LEAD_KEYS]])
    return FeatureParts(fingerprint_parts(feats), order, order_count, names_key, lead)


def signature_of_text(text: str, url: str | None = None, title: str | None = None) -> Signature:
    """Signature of a clean body text (and its canonical URL and title, if any)."""
    feats = extract_features(strip_heading(text, title))
    parts, order, order_count, names_key, lead = feature_parts(feats)
    return Signature(
        simhash=simhash64(parts.hashes, parts.weights),
        body_hash=body_hash(text),
        url_key=url_key(url),
        sketch=parts.sketch,
        length=min(len(text), 0xFFFFFFFF),
        sketch_count=parts.sketch_count,
        words=parts.words,
        words_count=parts.words_count,
        names=parts.names,
        names_count=parts.names_count,
        pairs=parts.pairs,
        pairs_count=parts.pairs_count,
        lead_key=lead,
        anchor=parts.anchor,
        order=order,
        order_count=order_count,
        names_key=names_key,
        probe=parts.probe,
    )


def signature(article: CleanedArticle, config: DedupConfig) -> Signature:
    """Signature of a cleaned article: fingerprint of its body text, key of its canonical URL."""
    del config  # the feature settings are fixed per signature version
    return signature_of_text(article.text, article.canonical_url or article.url, article.title)


def signature_of_copy(sig: Signature, article: CleanedArticle) -> Signature:
    """The signature of ``article`` when ``sig`` was made from an article with the same title and
    text: everything but the URL key depends on those alone."""
    key = url_key(article.canonical_url or article.url)
    return sig if key == sig.url_key else replace(sig, url_key=key)


def story_id_for(article_id: str) -> str:
    """Story id of a story founded by ``article_id``: "s-" + 16 hex digits of xxh64."""
    return "s-" + xxhash.xxh64_hexdigest(article_id.encode())
