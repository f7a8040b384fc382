"""The compiled kernels (pipeline/_native.c) give exactly what their pure-Python twins give.

The kernels run in production whenever the install built them; the twins run otherwise. Each
test feeds both the same inputs: generated texts (the sentences of the speed-equivalence test,
shuffled with fixed seeds), random strings and bytes, and the edge cases of each kernel.
"""

from __future__ import annotations

import os
import random
import unicodedata

import numpy as np
import pytest

from pipeline import native
from pipeline.dedup import _features as F
from pipeline.dedup import _fingerprint as P
from pipeline.enrich._language import LanguageDetector
from tests.dedup.test_speed_equivalence import _generated_texts

needs_kernels = pytest.mark.skipif(not native.available(), reason=native.status())


def test_kernels_are_built_in_ci() -> None:
    """CI installs with a compiler: the kernels must be there, or every speed number is wrong."""
    if os.environ.get("CI", "").lower() == "true":
        assert native.available(), native.status()
    assert native.status()  # says which path runs either way


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


def _texts() -> list[str]:
    texts = [text for text, _, _ in _generated_texts(120)]
    rng = random.Random(5)
    alphabet = "abcdefghij ÄÖüßéñ日本語русский,.!?\n\t0123456789"
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 700))) for _ in range(60)]
    texts += ["", "a", "THE ALL CAPS HEADLINE", "x" * 5000]
    return texts


@needs_kernels
def test_language_walk_matches_python(detector: LanguageDetector) -> None:
    rng = random.Random(9)
    inputs = [unicodedata.normalize("NFC", t).encode("utf8", errors="surrogatepass") for t in _texts()]
    inputs += [bytes(rng.randrange(256) for _ in range(rng.randint(0, 900))) for _ in range(40)]
    found_any = 0
    for data in inputs:
        idx_c, counts_c = detector._visits(data)
        idx_py, counts_py = detector._visits_python(data)
        assert idx_c.tolist() == idx_py.tolist()  # same features, same order of first appearance
        assert counts_c.tolist() == counts_py.tolist()
        found_any += bool(idx_c.size)
    assert found_any > len(inputs) // 2


@needs_kernels
def test_language_walk_rejects_a_broken_automaton() -> None:
    kernel = native.module()
    assert kernel is not None
    from array import array

    nextmove = array("I", [5] * 256)  # every move goes to state 5, which does not exist
    with pytest.raises(ValueError, match="out of range"):
        kernel.dfa_features(b"abc", nextmove, array("i", [0]), array("i", [-1]))
    with pytest.raises(ValueError, match="multiple"):
        kernel.dfa_features(b"abc", b"\0\0\0", array("i", [0]), array("i", [-1]))


def _same(a: P.Parts, b: P.Parts) -> bool:
    return all(
        np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y for x, y in zip(a, b, strict=True)
    )


@needs_kernels
def test_fingerprint_matches_numpy() -> None:
    feats = [F.features(t) for t in _texts()]
    feats.append(F.features(" ".join(t for t, _, _ in _generated_texts(60))))  # past the position table
    assert max(len(f) for f in feats) > P._POSITION_TABLE_MAX
    compared = 0
    for f in feats:
        assert _same(P.fingerprint_parts(f), P.fingerprint_parts_python(f))
        compared += len(f) >= 3
    assert compared > 100


@needs_kernels
def test_fingerprint_edge_cases() -> None:
    w, n = F.WORD_WEIGHT, F.NAME_WEIGHT
    cases = [
        [],
        [F.Feature("alpha", w, False)],
        [F.Feature("alpha", w, False), F.Feature("beta", w, False)],
        [F.Feature("alpha", w, False)] * 3,  # one key three times: one hash, count 3
        [F.Feature("#norvalia", n, True), F.Feature("=12", n, True), F.Feature("#norvalia", n, True)],
        [F.Feature(f"k{i % 7}", w * (1 + i % 3), i % 2 == 0) for i in range(300)],  # repeats, mixed weights
        [F.Feature(f"#n{i}", n, True) for i in range(400)],  # more names than the bottom-k keeps
    ]
    for f in cases:
        assert _same(P.fingerprint_parts(f), P.fingerprint_parts_python(f))


@needs_kernels
def test_fingerprint_hashes_keys_it_has_not_seen() -> None:
    f = [F.Feature(f"unseen-{random.random()}-{i}", F.WORD_WEIGHT, False) for i in range(50)]
    assert all(x.key not in P._key_hash_cache for x in f)
    assert _same(P.fingerprint_parts(f), P.fingerprint_parts_python(f))


@needs_kernels
def test_fingerprint_rejects_bad_input() -> None:
    kernel = native.module()
    assert kernel is not None
    table = P._log1_table(10)
    with pytest.raises(ValueError):
        kernel.fingerprint([("a", 1.0, False)] * 2, {"a": 1}, P._POSITIONS, table)  # fewer than 3
    with pytest.raises(TypeError):
        kernel.fingerprint(["a", "b", "c"], {}, P._POSITIONS, table)  # not feature tuples
    with pytest.raises(ValueError):
        kernel.fingerprint([("a", 1.0, False)] * 3, {"a": 1}, P._POSITIONS[:2], table)  # short table
    assert kernel.fingerprint([("a", 1.0, False)] * 3, {}, P._POSITIONS, table) is None  # not memoised


@needs_kernels
def test_keyword_tokens_match_the_regex() -> None:
    from pipeline.enrich._keywords import _TOKEN

    kernel = native.module()
    assert kernel is not None
    rng = random.Random(13)
    # every code point once (Python's own alphanumeric / white-space tables decide), then random
    # mixes weighted towards the characters the pattern treats specially
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    special = list("_’'-.,;:!?()[]\"“”‘—– \n\t\u00a0\u2028") * 20 + list("aZ09éß日٣") * 20
    pool = [chr(rng.randrange(0x3000)) for _ in range(400)] + special
    texts = [every, " ' ".join(every[i : i + 40] for i in range(0, 40_000, 40)), *_texts()]
    texts += ["".join(rng.choice(pool) for _ in range(rng.randint(0, 120))) for _ in range(3000)]
    texts += ["can't-stop 'em ' now", "x'", "'x", " ' ", "'", "a__b--c’’d-'e'", "2022-23's 22nd"]
    for text in texts:
        assert kernel.keyword_tokens(text) == _TOKEN.findall(text), text[:80]
    with pytest.raises(TypeError):
        kernel.keyword_tokens(b"bytes")  # type: ignore[arg-type]


@needs_kernels
def test_split_tokens_match_the_regex() -> None:
    kernel = native.module()
    assert kernel is not None
    rng = random.Random(17)
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)  # all digits too
    pool = [chr(rng.randrange(0x3000)) for _ in range(400)] + list("'’.,aZ09٣߂ \n") * 40
    texts = [every, *(F.fold(t) for t in _texts())]
    texts += ["".join(rng.choice(pool) for _ in range(rng.randint(0, 120))) for _ in range(3000)]
    texts += ["", "a", "1", "a'", "'a", "1.", ".1", "1.2.3,4", "don't’s", "1,,2", "x1y", "rock'n'roll"]
    for text in texts:
        assert kernel.split_tokens(text) == F._SPLIT_RE.split(text), text[:80]
    with pytest.raises(TypeError):
        kernel.split_tokens(None)  # type: ignore[arg-type]


@needs_kernels
def test_fingerprint_survives_a_list_changed_under_it() -> None:
    """A weight whose __float__ empties the feature list: the kernel works on its own snapshot
    (it used to read freed memory here, found by a review under AddressSanitizer)."""
    kernel = native.module()
    assert kernel is not None
    feats: list[tuple[str, object, bool]] = []

    class Sneaky(float):
        def __float__(self) -> float:
            feats.clear()
            return 2.0

    feats += [("alpha", Sneaky(1.0), False), ("beta", 1.0, False), ("gamma", 1.0, False)]
    memo = {"alpha": 1, "beta": 2, "gamma": 3}
    out = kernel.fingerprint(feats, memo, P._POSITIONS, P._log1_table(3))
    assert out is not None and len(out) == 12


@needs_kernels
def test_fingerprint_nan_weight_as_numpy() -> None:
    nan = float("nan")
    f = [F.Feature("a", 1.0, False), F.Feature("a", nan, False), F.Feature("b", 1.0, False)]
    c, py = P.fingerprint_parts(f), P.fingerprint_parts_python(f)
    assert np.array_equal(c.weights, py.weights, equal_nan=True)


@needs_kernels
def test_language_walk_counts_past_float32_steps(detector: LanguageDetector) -> None:
    n = 17_000_000  # past 2**24, where adding 1.0 to a float32 stops changing it
    _, counts = detector._visits(b"x" * n)
    assert counts.max() == np.float32(n)


@needs_kernels
def test_kernels_reject_misaligned_buffers() -> None:
    kernel = native.module()
    assert kernel is not None
    from array import array

    misaligned = memoryview(bytearray(4 * 257))[1:1025]
    with pytest.raises(ValueError, match="aligned"):
        kernel.dfa_features(b"abc", misaligned, array("i", [0]), array("i", [-1]))


def _ranker_inputs() -> list[tuple[str, str, frozenset[str]]]:
    """(title, text, entity names): generated news texts with their capitalised phrases as entity
    names (so the entity boosts and once-seen entity phrases are exercised), and random strings
    heavy in the characters the tokeniser and the stop-word rules treat specially."""
    import re

    rng = random.Random(23)
    out: list[tuple[str, str, frozenset[str]]] = []
    for text in _texts():
        caps = re.findall(r"[A-Z][a-z]+(?: [A-Z][a-z]+){0,2}", text)
        names = frozenset(rng.sample(caps, min(len(caps), 6)))
        out.append((text.split("\n", 1)[0][:100], text, names))
        out.append(("", text, frozenset()))
    pool = [*"abcdefgh ÄÖüßéñ日本語русский,.!?\n\t0123456789'’-_\"²", "22nd", " Mr ", " the ", " said "]
    for _ in range(1500):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 300)))
        title = "".join(rng.choice(pool) for _ in range(rng.randint(0, 25)))
        out.append((title, text, frozenset(text.split()[:2])))
    out += [("Title only", "", frozenset()), ("x" * 7000, "words after a long title", frozenset())]
    out.append(("Alpha Beta", " ".join(["alpha beta gamma delta"] * 60), frozenset({"Gamma Delta"})))
    return out


@needs_kernels
def test_keyword_ranker_matches_python() -> None:
    """Tokens, runs, scores, the overlap rule, the two selection passes and the spellings: the
    compiled ranker gives the Python ranker's list exactly (scores compared unrounded)."""
    from pipeline.enrich import _keywords as K

    kernel = native.module()
    assert kernel is not None
    compared = 0
    for title, text, names in _ranker_inputs():
        limit = K.text_limit(title)
        whole = len(text) <= limit
        toks = K._tokens(text if whole else text[:limit])
        assert K.tokenize(text, limit) == K._tokenize_python(list(toks), whole)
        title_tokens = K.tokenize(title, len(title))
        tokens = K.tokenize(text, limit).after(title_tokens) if limit > 0 else K.tokenize(title)
        if not tokens.keys:
            continue
        title_words = set(title_tokens.keys)
        entity_keys = {" ".join(n.casefold().split()) for n in names}
        for top in (1, 3, 10, 40):
            args = (tokens.keys, tokens.surfaces, tokens.runs, tokens.n_runs, title_words, entity_keys)
            fast = kernel.keyword_rank(*args, top, K._surface)
            assert fast == K._rank_python(tokens, title_words, entity_keys, top), (title, text[:80])
            compared += 1
    assert compared > 4000


@needs_kernels
def test_keyword_ranker_rejects_bad_input() -> None:
    from pipeline.enrich._keywords import _surface

    kernel = native.module()
    assert kernel is not None
    ok = (["alpha", "beta"], ["Alpha", "beta"], [1, 1], 1, set(), set(), 5, _surface)
    # two words seen once in one run: equal scores, so in text order, each as first written
    assert kernel.keyword_rank(*ok) == [("Alpha", 1.0), ("beta", 1.0)]
    with pytest.raises(ValueError, match="length"):
        kernel.keyword_rank(["a"], [], [1], 1, set(), set(), 5, _surface)
    with pytest.raises(ValueError, match="out of range"):
        kernel.keyword_rank(["alpha"], ["alpha"], [2], 1, set(), set(), 5, _surface)
    with pytest.raises(TypeError):
        kernel.keyword_rank([1], ["alpha"], [1], 1, set(), set(), 5, _surface)
    with pytest.raises(TypeError):
        kernel.keyword_rank(["alpha"], ["alpha"], [1], 1, ["not a set"], set(), 5, _surface)
    with pytest.raises(ValueError):
        kernel.keyword_rank(["alpha"], ["alpha"], [1], 1, set(), set(), 0, _surface)
    with pytest.raises(TypeError, match="str"):  # a spelling that is no str
        kernel.keyword_rank(["nd"], ["22nd"], [1], 1, set(), set(), 5, lambda tok: 22)
    with pytest.raises(ValueError, match="space"):  # phrases are words joined by one space
        kernel.keyword_rank(["a b"], ["a b"], [1], 1, set(), set(), 5, _surface)
    with pytest.raises(TypeError):
        kernel.keyword_runs(["a", "b"], {"a": 1})  # a kind that is no str or None


def test_keyword_keys_never_hold_a_space() -> None:
    """The compiled ranker matches entity names to phrases by their words, which needs keys
    without a space: keys are casefolded runs of alphanumerics and joiners, and no alphanumeric
    character casefolds to anything holding a space."""
    every = (chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    assert not [c for c in every if c.isalnum() and " " in c.casefold()]
