# ruff: noqa: E501
"""The fast signature path gives the same bytes as before it was optimised.

- ``FIXED_TEXT``'s signatures were recorded with the straightforward implementation, before the
  tokeniser, token caches, aggregation and numpy steps were rewritten for speed.
- A compact copy of that implementation (``_ref_*`` below) is compared with the fast one on
  generated texts (literal sentences written for this test, shuffled and varied with a fixed
  seed), with cold and warm caches.
- Invariants of the feature keys (transliterated names, number formats, months) hold.
"""

from __future__ import annotations

import math
import random
import re
import struct

import numpy as np
import pytest
import xxhash

from pipeline.dedup import _features as F
from pipeline.dedup import _fingerprint as P
from pipeline.dedup import _signature as S
from pipeline.dedup import signature_of_text

FIXED_TEXT = """Markets | Europe
The finance minister of Norvalia, Ilse Brandtvik, said on Monday that the government would spend 2,000 million crowns on new railways over ten years, up from 1.8 billion in the last plan.

President Kassym Tokayev and Foreign Minister Mukhtar Tileuberdi met Zoë Müller-Łukasz in Kraków on Sept. 3; in May the council's statements were published, and prices may rise 12,5 percent.

“We are not going anywhere,” said the union leader, Dmitri Khrushchenko. Rescue workers were withdrawing from collapsed buildings as clashes continued near São Paulo, leaving twenty dead and 1,234,567 tonnes of exports stranded.

Hundreds of nationalisations followed. Running, runs and happily running runners crossed the hills of Reykjavík; the ﬁrst shipment arrived at 4:12 a.m., a dozen ten-year-old students sang, and fifty thousand people watched."""
FIXED_URL = "https://www.example.com/news/rail/?utm_source=x&id=7"
FIXED_TITLE = "Norvalia to spend on railways"
# Recorded before the speed-up (commit 61003a7).
# Recorded for signature v7 (v5 + lead key, anchor, bottom-k of the key triples of the whole text); the
# new parts are checked against the reference implementation below. The v4 values, recorded
# before the speed-up, matched the optimised code byte for byte (commit b16c6d2).
FIXED_HEX_WITH_URL_TITLE = "076feffb43d830aad30248865fceeb579e0396da561bee217cf32bd8088f3e296b37a859c2fe38da0b53030000510003200000e502e70bcb00b36ef17600005e5bcf23bc6688d824289dfc00000000000056df623f000012a472860000c70a8e0e8d90bbcffbad936b6a11e96c805c735500001050515121590000e73ed33716846d2d6a149e45df9554b10fce9f6500000000f8da0e332e2be01f871300009601a45ef7e24e0500002036d1f3c92e4f00510b46061a5005433c14e40eae23e03cc00a882e3129681a4d42b9405a8cb485c2027706c5f2ec09348d584500007b35b407eeb57e8ad9aa6f432f8b31d2864e1b003a054e0f7d0f5110e0140a31173ee34b3552e852d8665d671a840d8d8090bc9951003607680f4e10cc13f9132e168416b619ee1a9c1fa528f2286729e3292c2cfc2da4327833b136223b2b3cfb3e173f4e3f224515490d4b194cd356a558e758d95aaa5e505f0660d5650d6c1d6f1d72a77463757c75b1774c79257b747ccb81e282fa828c83f884a487d394e4960a99599c8ba19aa6c9a95caa0db61eb8fcb9dfc28dc344c600c719ce10cf47d3f3d480d5e9d90edbaee33de5b2ea44ec85ec46ef4fef00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
FIXED_HEX_TEXT_ONLY = "076feffb43d830aad30248865fceeb579e0000000000000000f32bd8088f3e296b37a859c2fe38da0b53030000510003200000e502e70bcb00b36ef17600005e5bcf23bc6688d824289dfc00000000000056df623f000012a472860000c70a8e0e8d90bbcffbad936b6a11e96c805c735500001050515121590000e73ed33716846d2d6a149e45df9554b10fce9f6500000000f8da0e332e2be01f871300009601a45ef7e24e0500002036d1f3c92e4f00510b46061a5005433c14e40eae23e03cc00a882e3129681a4d42b9405a8cb485c2027706c5f2ec09348d584500007b35b407eeb57e8ad9aa6f432f8b31d2864e1b003a054e0f7d0f5110e0140a31173ee34b3552e852d8665d671a840d8d8090bc9951003607680f4e10cc13f9132e168416b619ee1a9c1fa528f2286729e3292c2cfc2da4327833b136223b2b3cfb3e173f4e3f224515490d4b194cd356a558e758d95aaa5e505f0660d5650d6c1d6f1d72a77463757c75b1774c79257b747ccb81e282fa828c83f884a487d394e4960a99599c8ba19aa6c9a95caa0db61eb8fcb9dfc28dc344c600c719ce10cf47d3f3d480d5e9d90edbaee33de5b2ea44ec85ec46ef4fef00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"

SENTENCES = [
    "The finance minister of Norvalia, Ilse Brandtvik, announced on Monday a budget of 2,000 million crowns.",
    "Officials said at least seventeen people were injured when a bus overturned near Kestrel Bay.",
    "President Kassym Tokayev met Foreign Minister Mukhtar Tileuberdi in Astana on Thursday.",
    "Prices rose 3.5 percent in Jan. compared with December, the statistics office reported.",
    "The company's shares fell 12,5 percent after it withdrew its forecast for the third quarter.",
    "In May, the council voted to close the harbour; Mayor Zoë Müller said the decision may be reviewed.",
    "Clashes broke out in São Paulo and Bogotá, leaving twenty dead and ten thousand displaced.",
    "“We are not going anywhere,” said the union leader, Dmitri Khrushchenko, outside the plant.",
    "The ﬁrst shipment arrived at 4:12 a.m. on Sept. 3, according to the health ministry.",
    "Mr. O’Brien’s lawyers argued that the evidence had been obtained illegally.",
    "Exports totalled 1,234,567 tonnes last year, up from 980,000 tonnes and 1.8 billion dollars.",
    "Fighting resumed overnight near Kharkiv and Zaporizhzhia, regional governors said.",
    "Ｆｕｌｌｗｉｄｔｈ letters, ½ fractions, ² superscripts and the Москва bureau appear in some feeds.",
    "Hundreds of nationalisations, modernisations and statements followed the government's reforms.",
    "A dozen ten-year-old students sang twenty songs for two hundred guests (Reuters) - Governor said.",
    "Numbers like 1.000.000 and 3,14 and 007 and 1,2,3 and 99,999,999 appear here: Tokaev agreed!",
]
VARIANTS = [
    "2,000",
    "2000",
    "1.8 million",
    "ten",
    "three thousand",
    "Tokayev",
    "Tokaev",
    "Müller",
    "Mueller",
    "May",
    "may",
]


def _generated_texts(n: int = 320) -> list[tuple[str, str | None, str | None]]:
    rng = random.Random(20261122)
    out: list[tuple[str, str | None, str | None]] = [
        ("", None, None), ("Hello", None, None), ("2,000", None, None), ("ten million", None, None),
        ("May", None, None), ("He met Tokayev.\n\nTokayev left.", None, None), ("Word " * 300, None, None),
    ]  # fmt: skip
    while len(out) < n:
        sents = [rng.choice(SENTENCES) for _ in range(rng.randint(1, 50))]
        for j, s in enumerate(sents):
            r = rng.random()
            if r < 0.2:
                s = s.replace(rng.choice(s.split()), rng.choice(VARIANTS), 1)
            elif r < 0.3:
                s = s.translate(str.maketrans("aeou", "áéöü"))
            elif r < 0.4:
                words = s.split()
                rng.shuffle(words)
                s = " ".join(words)
            elif r < 0.45:
                s = s.upper()
            sents[j] = s + rng.choice([" ", " ", "\n\n", "\n", "  "])
        text = "".join(sents)
        if rng.random() < 0.3:
            text = rng.choice(["Breaking News", "World | Europe", "Share this"]) + "\n" + text
        out.append(
            (
                text,
                rng.choice([None, "https://www.example.com/a/?utm_source=x&id=3"]),
                rng.choice([None, sents[0].strip()]),
            )
        )
    return out


# --- the implementation before the speed-up, kept compact as the reference -------------------

_REF_WORD_RE = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)?|\d+(?:[.,]\d+)*")


def _ref_fold(text: str) -> str:
    return (
        text if text.isascii() else F._COMBINING_RE.sub("", __import__("unicodedata").normalize("NFKD", text))
    )


def _ref_features(text: str) -> list[F.Feature]:
    folded = _ref_fold(text)
    names = frozenset(m.group(0).lower() for m in re.finditer(r"(?<=[a-z,] )[A-Z][A-Za-z]+", folded))
    out: list[F.Feature] = []
    last_end = 0
    pending: float | None = None
    for m in _REF_WORD_RE.finditer(folded):
        tok = m.group(0)
        between = folded[last_end : m.start()]
        last_end = m.end()
        sentence_start = not out or bool(F._SENT_END_RE.search(between)) or "\n" in between
        first = tok[0]
        if first.isdigit():
            if pending is not None:
                out.append(F.Feature("=" + F._fmt_number(pending), F.NUMBER_WEIGHT, True))
            _, pending = F._number_key(tok)
            continue
        low = tok.lower().replace("’", "'")
        if low.endswith("'s"):
            low = low[:-2]
        if pending is not None:
            mult = F._MULTIPLIERS.get(low)
            if mult is not None:
                out.append(F.Feature("=" + F._fmt_number(pending * mult), F.NUMBER_WEIGHT, True))
                pending = None
                continue
            out.append(F.Feature("=" + F._fmt_number(pending), F.NUMBER_WEIGHT, True))
            pending = None
        if low in F._NUMBER_WORDS:
            pending = float(F._NUMBER_WORDS[low])
            continue
        month = F._MONTHS.get(low)
        if month is not None and (low != "may" or first.isupper()):
            out.append(F.Feature("@" + month, F.NUMBER_WEIGHT, True))
            continue
        if low in F._STOPWORDS or len(low) < 3:
            continue
        if first.isupper() and (not sentence_start or low in names):
            out.append(F.Feature("#" + F.skeleton(low), F.NAME_WEIGHT, True))
        elif len(low) >= F.LONG_WORD_LEN:
            out.append(F.Feature(F.stem(low), F.LONG_WORD_WEIGHT, True))
        else:
            out.append(F.Feature(F.stem(low), F.WORD_WEIGHT, False))
    if pending is not None:
        out.append(F.Feature("=" + F._fmt_number(pending), F.NUMBER_WEIGHT, True))
    return out


def _h(key: str) -> int:
    return xxhash.xxh64_intdigest(key.encode(), seed=P._HASH_SEED)


def _ref_aggregate(
    feats: list[F.Feature],
) -> tuple[list[int], list[float], set[int], set[int], set[int], set[int], int]:
    best: dict[str, float] = {}
    count: dict[str, int] = {}
    salient: set[int] = set()
    words = {_h(f.key) for f in feats[: P.SKETCH_TOKENS]}
    names = {_h(f.key) for f in feats if f.key[:1] in "#="}
    for i, f in enumerate(feats):
        w = f.weight * F.position_factor(i)
        if w > best.get(f.key, 0.0):
            best[f.key] = w
        count[f.key] = count.get(f.key, 0) + 1
        if 0 < i < P.SKETCH_TOKENS:
            salient.add(_h(feats[i - 1].key + " " + f.key))
    triples = {_h(" ".join(f.key for f in feats[i : i + 3])) for i in range(len(feats) - 2)}
    opening = [_h(feats[i - 1].key + " " + feats[i].key) for i in range(1, min(len(feats), P.ANCHOR_TOKENS))]
    if len(feats) == 1:
        salient.add(_h(feats[0].key))
        triples.add(_h(feats[0].key))
    return (
        [_h(k) for k in best],
        [w * (1.0 + math.log(count[k])) for k, w in best.items()],
        salient,
        words,
        names,
        triples,
        min(opening, default=0),
    )


def _ref_bottom_k(keys: set[int], k: int) -> bytes:
    values = sorted({((h * 0x9E3779B97F4A7C15) % 2**64 >> 48) % 65535 + 1 for h in keys})[:k]
    return b"".join(v.to_bytes(2, "little") for v in values) + bytes(2 * (k - len(values)))


def _ref_simhash(hashes: list[int], weights: list[float]) -> int:
    if not hashes:
        return 0
    shifts = np.arange(64, dtype=np.uint64)
    bits = ((np.array(hashes, dtype=np.uint64)[:, None] >> shifts) & np.uint64(1)).astype(np.float64)
    votes = np.array(weights, dtype=np.float64) @ (2.0 * bits - 1.0)
    set_bits = shifts[votes > 0]
    return int(np.bitwise_or.reduce(np.uint64(1) << set_bits)) if set_bits.size else 0


def _ref_sketch(keys: set[int], nbins: int) -> bytes:
    if not keys:
        return bytes(2 * nbins)
    mixed = np.fromiter(keys, dtype=np.uint64, count=len(keys)) * np.uint64(0x9E3779B97F4A7C15)
    bins = (mixed >> np.uint64(58)).astype(np.int64) % nbins
    mins = np.full(nbins, np.iinfo(np.uint64).max, dtype=np.uint64)
    np.minimum.at(mins, bins, mixed & np.uint64(0x03FFFFFFFFFFFFFF))
    out = np.zeros(nbins, dtype=np.uint16)
    filled = mins != np.iinfo(np.uint64).max
    out[filled] = ((mins[filled] >> np.uint64(42)) % np.uint64(65535) + np.uint64(1)).astype(np.uint16)
    return out.astype("<u2").tobytes()


def _ref_body_hash(text: str) -> int:
    return xxhash.xxh64_intdigest(" ".join(re.findall(r"\w+", _ref_fold(text).lower())).encode())


def _clear_caches() -> None:
    F._token_cache.clear()
    F._fast_cache.clear()
    F._number_feature_cache.clear()
    F._fold_memo = ("", "")
    P._key_hash_cache.clear()


# --- tests ---------------------------------------------------------------------------------------


def test_fixed_text_signature_is_unchanged() -> None:
    for _ in range(2):  # cold, then warm caches
        assert (
            signature_of_text(FIXED_TEXT, FIXED_URL, FIXED_TITLE).to_bytes().hex() == FIXED_HEX_WITH_URL_TITLE
        )
        assert signature_of_text(FIXED_TEXT).to_bytes().hex() == FIXED_HEX_TEXT_ONLY
    _clear_caches()
    assert signature_of_text(FIXED_TEXT).to_bytes().hex() == FIXED_HEX_TEXT_ONLY


@pytest.mark.parametrize("cold", [True, False])
def test_fast_path_matches_reference_on_generated_texts(cold: bool) -> None:
    texts = _generated_texts()
    assert len(texts) >= 300
    for text, url, title in texts:
        if cold:
            _clear_caches()
        stripped = S.strip_heading(text, title)
        feats = F.features(stripped)
        assert feats == _ref_features(stripped)
        agg = P.aggregate(feats)
        ref = _ref_aggregate(feats)
        assert agg == ref
        sig = signature_of_text(text, url, title)
        assert sig.simhash == _ref_simhash(ref[0], ref[1])
        assert (sig.sketch, sig.words, sig.names) == (
            _ref_sketch(ref[2], P.SKETCH_BINS), _ref_sketch(ref[3], P.WORD_BINS), _ref_bottom_k(ref[4], P.NAME_BINS)
        )  # fmt: skip
        assert (sig.pairs, sig.pairs_count) == (_ref_bottom_k(ref[5], P.ALL_BINS), len(ref[5]))
        keys = [f.key for f in feats[: S.LEAD_KEYS]]
        lead = xxhash.xxh64_intdigest(" ".join(keys).encode()) if len(keys) == S.LEAD_KEYS else 0
        assert sig.lead_key == lead
        assert sig.anchor == ref[6]
        assert sig.body_hash == _ref_body_hash(text)
        assert signature_of_text(text, url, title).to_bytes() == sig.to_bytes()  # deterministic


def test_sketch_and_simhash_match_reference_on_random_sets() -> None:
    rng = random.Random(7)
    for n in [0, 1, 2, 3, 15, 16, 17, 64, 65, 119, 500]:
        for _ in range(20):
            keys = {rng.getrandbits(64) for _ in range(n)} | ({0, 2**64 - 1} if n else set())
            for nbins in (64, 32, 16, 48):
                assert P.sketch(keys, nbins) == _ref_sketch(keys, nbins)
            hashes = list(keys)
            weights = [rng.choice([1.0, 1.6, 3.0, rng.random() * 5]) for _ in hashes]
            assert P.simhash64(hashes, weights) == _ref_simhash(hashes, weights)


def test_joined_words_matches_regex() -> None:
    rng = random.Random(3)
    alphabet = "ab Z_09 .,;\n\t\x0b\x1c\x85\xa0\u2003“”’—éøßЖж٣²\U0001f600\u0301\u200b-"
    for _ in range(3000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert S._joined_words(s) == " ".join(re.findall(r"\w+", s)).encode()


def _keys(text: str) -> list[str]:
    return [f.key for f in F.features(text)]


def test_key_invariants() -> None:
    assert _keys("He met Tokayev in Astana.") == _keys("He met Tokaev in Astana.")
    assert (
        _keys("They paid 2,000 dollars.") == _keys("They paid 2000 dollars.") == ["paid", "=2000", "dollar"]
    )
    assert _keys("About 1.8 million people") == _keys("About 1800000 people")
    assert _keys("Ten thousand people") == _keys("10000 people")
    assert _keys("It ended in Jan. after the vote") == _keys("It ended in January after the vote")
    assert "@may" in _keys("It ended in May.") and "@may" not in _keys("It may end.")
    assert _keys("Rescue teams withdrawing") == _keys("Rescue teams withdraw")


def test_long_texts_and_position_decay_match_reference() -> None:
    rng = random.Random(11)
    words = [s.split() for s in SENTENCES]
    for n in (119, 120, 121, 2000, 9000):
        text = " ".join(rng.choice(rng.choice(words)) for _ in range(n))
        feats = F.features(text)
        assert feats == _ref_features(text)
        assert P.aggregate(feats) == _ref_aggregate(feats)


def test_struct_layout_is_little_endian_bits() -> None:
    # simhash64 reads hash bytes little-endian: bit i of the hash is column i.
    assert struct.pack("<Q", 1)[0] == 1
    assert P.simhash64([1 << 63], [1.0]) == 1 << 63
