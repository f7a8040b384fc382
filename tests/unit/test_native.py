"""The compiled kernels (pipeline/_native.c) give exactly what their pure-Python twins give.

The kernels run in production whenever the install built them; the twins run otherwise. Each
test feeds both the same inputs: generated texts (the sentences of the speed-equivalence test,
shuffled with fixed seeds), random strings and bytes, and the edge cases of each kernel.
"""

from __future__ import annotations

import json
import os
import random
import re
import unicodedata
from collections import Counter
from typing import ClassVar

import numpy as np
import pytest
import xxhash

from pipeline import native
from pipeline.clean import _lang as L
from pipeline.dedup import _features as F
from pipeline.dedup import _fingerprint as P
from pipeline.dedup import _signature as S
from pipeline.enrich._language import LanguageDetector
from tests.dedup.test_speed_equivalence import _generated_texts

needs_kernels = pytest.mark.skipif(not native.available(), reason=native.status())
_RUN = re.compile(r"[^\W\d_]+")  # the letter runs of pipeline.clean._words.letter_runs


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
def test_keyword_scan_finds_the_regex_tokens() -> None:
    """keyword_scan finds the tokens of ``_TOKEN.findall``: with a memo giving each word itself
    as its kind, its keys and surfaces are the word tokens in order, a run ends at each
    punctuation mark, and n_words counts the words."""
    from pipeline.enrich._keywords import _TOKEN

    kernel = native.module()
    assert kernel is not None

    class Same(dict[str, "str | None"]):
        def __missing__(self, tok: str) -> str:
            self[tok] = tok
            return tok

    memo = Same()
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
        words: list[str] = []
        runs: list[int] = []
        run, after_word = 0, False
        for tok in _TOKEN.findall(text):
            if tok[0].isalnum():
                run += not after_word
                after_word = True
                words.append(tok)
                runs.append(run)
            else:
                after_word = False
        assert kernel.keyword_scan(text, memo) == (words, words, runs, run, len(words)), text[:80]


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
        toks = K._TOKEN.findall(text if whole else text[:limit])
        assert K.tokenize(text, limit) == K._tokenize_python(toks, whole)
        title_tokens = K.tokenize(title, len(title))
        tokens = K.tokenize(text, limit).after(title_tokens) if limit > 0 else K.tokenize(title)
        if not tokens.keys:
            continue
        title_words = set(title_tokens.keys)
        entity_keys = {" ".join(n.casefold().split()) for n in names}
        text_tokens = K.tokenize(text, limit)
        for top in (1, 3, 10, 40):
            args = (tokens.keys, tokens.surfaces, tokens.runs, tokens.n_runs, title_words, entity_keys)
            fast = kernel.keyword_rank(*args, top, K._surface)
            slow = K._rank_python(tokens, title_words, entity_keys, top)
            assert fast == slow, (title, text[:80])
            if limit > 0:  # the title's and the text's tokens as they are, not joined
                first, then = title_tokens, text_tokens
                after = kernel.keyword_rank_after(
                    first.keys, first.surfaces, first.runs, first.n_runs, then.keys, then.surfaces,
                    then.runs, then.n_runs, title_words, entity_keys, top, K._surface
                )  # fmt: skip
                assert after == slow, (title, text[:80])
            compared += 1
    assert compared > 4000


@needs_kernels
def test_keyword_ranker_asks_sets_with_other_members() -> None:
    """Title words and entity keys that are not all exact str are asked word by word (the
    kernel looks exact str members up among the words): the same answers either way."""
    from pipeline.enrich import _keywords as K

    kernel = native.module()
    assert kernel is not None

    class Loose(str):
        """Equal to the str of the same text, but no exact str."""

    tokens = K.tokenize("Alpha beta gamma. Alpha beta delta; alpha gamma beta, delta beta gamma")
    cases: list[tuple[set[object] | frozenset[object], set[object] | frozenset[object]]] = [
        ({1, Loose("alpha")}, set()),
        (set(), {Loose("beta"), 2.5, "alpha beta", Loose("beta gamma")}),
        ({"gamma"}, frozenset({"beta", "delta", "alpha beta"})),
        (frozenset({"gamma", "nowhere"}), {"ALPHA", "gamma beta"}),
    ]
    args = (tokens.keys, tokens.surfaces, tokens.runs, tokens.n_runs)
    for title_words, entity_keys in cases:
        for top in (1, 2, 3, 10):
            fast = kernel.keyword_rank(*args, title_words, entity_keys, top, K._surface)
            assert fast == K._rank_python(tokens, title_words, entity_keys, top)  # type: ignore[arg-type]


def _scan_texts() -> list[str]:
    """Texts for the fused scan: every code point, random mixes weighted towards what the
    tokeniser and the stop-word rules treat specially, the same words in a text of each str
    width (the token cache compares a token across widths), and more distinct words than the
    cache keeps (it is cleared in the middle of the text)."""
    rng = random.Random(29)
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    special = list("_’'-.,;:!?()[]\"“”‘—– \n\t\u00a0\u2028") * 20 + list("aZ09éß日٣") * 20
    words = ["the", "The", "THE", "said", "22nd", "2022", "x", "Mr", "it's", "don’t", "Reid", "reid"]
    pool = [chr(rng.randrange(0x3000)) for _ in range(400)] + special + [f" {w} " for w in words] * 8
    texts = [every, *_texts()]
    texts += ["".join(rng.choice(pool) for _ in range(rng.randint(0, 200))) for _ in range(3000)]
    texts += ["", "'", " ' ", "can't-stop 'em ' now", "a__b--c’’d-'e'", "2022-23's 22nd", "é" * 7000]
    base = "Alpha beta, the gamma: 22nd Reid REID reid’s x-ray 2022 ’tis"
    texts += [base + tail for tail in ("", " é", " —", " 𝔸")]  # one str width each
    many = [f"w{i}q{chr(0x430 + i % 32)}" for i in range(70_000)]  # past the cache's 64k tokens
    texts += [" ".join(many), " ".join(many[::-1])]
    return texts


@needs_kernels
def test_keyword_scan_matches_tokens_and_runs() -> None:
    """keyword_scan (the fused tokenize) gives what the regex and the Python loop give."""
    from pipeline.enrich import _keywords as K

    kernel = native.module()
    assert kernel is not None
    for text in _scan_texts():
        want = K._tokenize_python(K._TOKEN.findall(text), True)
        got = kernel.keyword_scan(text, K._KINDS)
        assert got == (want.keys, want.surfaces, want.runs, want.n_runs, want.words), text[:80]
        assert K.tokenize(text, len(text)) == want
        limit = len(text) // 2  # cut: words is -1 (unless the text is empty)
        cut = K._tokenize_python(K._TOKEN.findall(text[:limit]), len(text) <= limit)
        assert K.tokenize(text, limit) == cut


@needs_kernels
def test_keyword_scan_follows_its_memo() -> None:
    """Kinds come from the memo passed: another memo starts a new cache, and a memo whose
    __missing__ scans with another one (which takes the cache) still gets its own kinds."""
    from pipeline.enrich import _keywords as K

    kernel = native.module()
    assert kernel is not None
    text = "Alpha beta, the gamma 2022"
    mine = kernel.keyword_scan(text, K._KINDS)
    assert mine == (["alpha", "beta", "gamma"], ["Alpha", "beta", "gamma"], [1, 1, 2], 2, 5)
    other = {"Alpha": None, "beta": "B", "the": "t", "gamma": " ", "2022": "n"}
    assert kernel.keyword_scan(text, other) == (["B", "t", "n"], ["beta", "the", "2022"], [1, 2, 2], 2, 5)
    assert kernel.keyword_scan(text, K._KINDS) == mine
    junk = {tok: "junk" for tok in K._TOKEN.findall(text)}

    class Reentrant(dict[str, "str | None"]):
        def __missing__(self, tok: str) -> str | None:
            assert kernel is not None
            kernel.keyword_scan(text, junk)  # fills the cache from another memo
            kind = self[tok] = K._KINDS[tok]
            return kind

    assert kernel.keyword_scan(text, Reentrant()) == mine
    with pytest.raises(TypeError):
        kernel.keyword_scan("a b", {"a": 1})  # a kind that is no str or None
    with pytest.raises(TypeError):
        kernel.keyword_scan(b"bytes", K._KINDS)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        kernel.keyword_scan("text", [])  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        kernel.keyword_scan("words", {})  # a plain dict: no __missing__


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
    empty = ([], [], [], 0)
    assert kernel.keyword_rank_after(*empty, *ok[:4], *ok[4:]) == kernel.keyword_rank(*ok)
    assert kernel.keyword_rank_after(*ok[:4], *empty, *ok[4:]) == kernel.keyword_rank(*ok)
    assert kernel.keyword_rank_after(*empty, *empty, set(), set(), 5, _surface) == []
    with pytest.raises(ValueError, match="out of range"):  # runs are numbered within their part
        kernel.keyword_rank_after(*ok[:3], 1, ["gamma"], ["gamma"], [2], 1, set(), set(), 5, _surface)
    with pytest.raises(ValueError, match="length"):
        kernel.keyword_rank_after(*ok[:4], ["gamma"], [], [1], 1, set(), set(), 5, _surface)


@needs_kernels
def test_keyword_ranker_matches_python_on_real_texts(monkeypatch: pytest.MonkeyPatch) -> None:
    """tokenize and rank_tokens as the enricher calls them, with the kernels and with the Python
    twins only: real articles of two shared corpora (texts past the window too), with and
    without entity names (capitalised phrases of the text, some in other cases and spacing)."""
    import csv

    from pipeline.enrich import _keywords as K
    from tests.conftest import shared_path

    with shared_path("data", "ecbplus-dev", "articles.jsonl").open() as f:
        items = [(d["title"] or "", d["text"] or "") for d in map(json.loads, f)]
    csv.field_size_limit(1 << 30)
    with shared_path("data", "allsides", "articles_flat_derived.tsv").open() as f:
        rows = list(csv.DictReader(f, delimiter="\t"))[:400]
    items += [(r["title"] or "", r["text"] or "") for r in rows]
    caps = re.compile(r"[A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+){0,2}")
    rng = random.Random(31)
    compared = 0
    for title, text in items:
        found = caps.findall(text)
        pick = rng.sample(found, min(len(found), 8))
        names = frozenset([*pick, *(p.upper() for p in pick[:2]), *(f" {p.lower()}  " for p in pick[2:4])])
        for entity_names in (frozenset(), names):
            fast = K.tokenize(text, K.text_limit(title))
            fast_ranked = K.rank_tokens(fast, title, entity_names, 10)
            with monkeypatch.context() as m:
                for kernel_name in ("_scan", "_rank_after", "_kernel"):
                    m.setattr(K, kernel_name, None)
                slow = K.tokenize(text, K.text_limit(title))
                assert K.rank_tokens(slow, title, entity_names, 10) == fast_ranked, title
            assert fast == slow, title
            compared += 1
    assert compared > 1500


def test_keyword_keys_never_hold_a_space() -> None:
    """The compiled ranker matches entity names to phrases by their words, which needs keys
    without a space: keys are casefolded runs of alphanumerics and joiners, and no alphanumeric
    character casefolds to anything holding a space."""
    every = (chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    assert not [c for c in every if c.isalnum() and " " in c.casefold()]


# --- article features (pipeline.dedup._features.features) ---------------------------------------


def _cold_feature_caches() -> None:
    F._token_cache.clear()
    F._fast_cache.clear()
    F._number_feature_cache.clear()
    F._fold_memo = ("", "")


def _feature_edge_texts() -> list[str]:
    """Hand-written cases of each rule the kernel re-implements (numbers and their multipliers,
    the sentence-start test, names, months, possessives, folding, long texts)."""
    return [
        "", " ", "\n\n", "...", "a", "of", "the of and to a in it is was",  # empty and stop words only
        "The. And! Of? In: To; “The” ”And“ \"it\"",
        "2,000", "1.8 million", "ten million", "It rose 3", "It rose 1.8 million", "rose by 2,000",
        "2,000 1.8 million 3 4 5 ten twenty thousand", "3 4", "costs 5 Million dollars", "5 Trillion",
        "2,000,000.5 1,23 12,34,567 1.2.3 007", "a 5 the 6 of", "ten", "dozen eggs", "hundred thousand",
        "5 million’s worth", "3 Apples fell. 3 apples", "5\nStart here", "five. Start", "2 May",
        "May 5 was busy. May I come? It may rain in May. He said May was late.", "May", "may",
        "In May. May", "said May", "Jan. 5 and Sept 1, Sept. Dec", "Mayday Mays MAY",
        "Tokayev’s visit. Tokayev's aides met Tokayev’s wife.", "He met Tokáyev’s envoy. Tokáyev left.",
        "Ärger in Zürich: Müller traf Tokáyev. Müller ging.", "Ça va. Éric met Ñoño, Éric said",
        "日本語 text Tokyo. Москва Putin, Putin said", "Straße ﬁnance ½ ² Ⅻ",
        "“Quoted.” Next starts. Name: Value; Another” Word", 'He said: "Hello" Then', "x: \t Yes",
        "word\u00a0Name. Next\u2003Word\u2028Line\u3000Ideo", "a Zz", "a ZZ b", ", Aa", "word  Name",
        "rock'n'roll O'Brien said Don’t and O’Neill’s", "Alpha’s Beta's alpha’s", "’s 's",
        "١٢٣ ٣ ٣.٥ million", "Smith Smith. smith Smith", "THE ALL CAPS HEADLINE. NAMES HERE",
        "x" * 5000, "Name " * 4000,
        " ".join(["Alpha beta 12 gamma. Delta said 1.8 million, May"] * 1500),  # > 8192 tokens
        " ".join(f"Word{i} w{i}x 7" for i in range(9000)),  # > 8192 tokens, mostly unseen ones
        "end 12", "end 1.8 million", "end ten", "end 3 4",  # a number pending at the end of the text
    ]  # fmt: skip


def _corpus_feature_texts() -> list[str]:
    """Article texts of the shared corpora: ecbplus-dev (texts and titles) and the fundus
    evaluation set (gold bodies and every extractor's output), paragraphs joined two ways."""
    import json

    from tests.conftest import shared_path

    texts: list[str] = []
    with (shared_path("data", "ecbplus-dev") / "articles.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            texts += [row.get("text") or "", row.get("title") or ""]
    root = shared_path("data", "fundus-evaluation", "dataset")
    for path in [root / "ground_truth.json", *sorted((root / "extractions").glob("*.json"))]:
        for _, item in sorted(json.loads(path.read_text(encoding="utf-8")).items()):
            paras = [p for p in item.get("body") or [] if isinstance(p, str)]
            texts.append("\n\n".join(paras))
            if path.name == "ground_truth.json":
                texts.append(" ".join(paras))  # sentences told apart by punctuation alone
    assert len(texts) > 1000
    return texts


def _rows(feats: list[F.Feature]) -> list[tuple[str, float, bool]]:
    return [(f.key, f.weight, f.salient) for f in feats]


def _compare_features(texts: list[str], *, cold_each: bool) -> None:
    """The kernel and the Python twin on ``texts``: each from cold caches (per text or per
    list), then both again on warm caches, where they must give the very same objects."""
    got: list[list[F.Feature]] = []
    for path in (F.features, F.features_python):
        _cold_feature_caches()
        found = []
        for text in texts:
            if cold_each:
                _cold_feature_caches()
            found.append(path(text))
        got.append(found)
    for text, fast, slow in zip(texts, *got, strict=True):
        assert _rows(fast) == _rows(slow), text[:120]
        assert all(type(f) is F.Feature for f in fast)
    for text in texts:  # warm: the caches hold every token now (unless the cap was reached)
        fast, slow = F.features(text), F.features_python(text)
        assert _rows(fast) == _rows(slow), text[:120]
        if F._TOKEN_CACHE_MAX >= 1000:  # (not when a tiny cap clears the caches all the time)
            assert all(a is b for a, b in zip(fast, slow, strict=True)), text[:120]


@needs_kernels
def test_features_kernel_token_kinds_are_the_python_ones() -> None:
    assert (F._K_FEAT, F._K_CAP, F._K_SKIP, F._K_NUMWORD, F._K_NUM) == (0, 1, 2, 3, 4)  # hard-coded in C


@needs_kernels
def test_features_kernel_matches_python_on_generated_and_edge_texts() -> None:
    texts = _texts() + _feature_edge_texts()
    _compare_features(texts, cold_each=True)
    _compare_features(texts, cold_each=False)
    assert max(len(F._split(F.fold(t))) // 2 for t in texts) > 8192


@needs_kernels
def test_features_kernel_edge_cases_by_value() -> None:
    def keys(text: str) -> list[str]:
        found = F.features(text)
        assert _rows(found) == _rows(F.features_python(text))
        return [f.key for f in found]

    _cold_feature_caches()
    assert keys("") == [] and keys("the of and to it") == []
    assert keys("It rose 1.8 million") == ["rose", "=1800000"]
    assert keys("rose by 2,000") == ["rose", "=2000"]
    assert keys("2,000 1.8 million 3 4") == ["=2000", "=1800000", "=3", "=4"]
    assert keys("May came. It may rain in May") == ["@may", "came", "rain", "@may"]
    assert keys("Tokayev’s visit. He met Tokayev") == ["#tkv", "visit", "met", "#tkv"]
    assert keys("Tokáyev left. Tokáyev") == ["tokayev", "left", "tokayev"]  # never inside a sentence
    assert keys("Alpha went. He met Alpha") == ["#alph", "went", "met", "#alph"]
    assert keys("x 5\nMarkets") == ["=5", "market"]  # a sentence start after a flushed number


@needs_kernels
def test_features_kernel_matches_python_on_the_corpora() -> None:
    texts = _corpus_feature_texts()
    _compare_features(texts, cold_each=False)
    _compare_features(texts[:150], cold_each=True)


@needs_kernels
def test_features_kernel_matches_python_when_the_caches_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tiny cache cap: _cache_token clears both token memos (and the number memo clears) while
    the kernel is half way through a text; it must hold no reference into them across that."""
    monkeypatch.setattr(F, "_TOKEN_CACHE_MAX", 7)
    texts = _texts()[:60] + _feature_edge_texts()
    _compare_features(texts, cold_each=False)
    assert len(F._token_cache) <= 7 and len(F._number_feature_cache) <= 7


@needs_kernels
def test_features_kernel_rejects_bad_input_and_passes_errors_on() -> None:
    kernel = native.module()
    assert kernel is not None
    memos = (F._fast_cache, F._token_cache, F._cache_token, F._number_feature_cache, F._number_feature)
    with pytest.raises(TypeError):
        kernel.features(b"bytes", *memos)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        kernel.features("text", [], *memos[1:])  # a memo that is no dict
    with pytest.raises(TypeError, match="tuple"):
        kernel.features("unseen words", {}, {}, lambda tok: None, {}, F._number_feature)

    def boom(tok: str) -> tuple[int, None, None]:
        raise KeyError(tok)

    with pytest.raises(KeyError):
        kernel.features("one two", {}, {}, boom, {}, F._number_feature)
    # a number past the float range: one "=inf" feature, in both (it used to raise OverflowError)
    huge = "x " + "9" * 400 + " troops and " + "9" * 400 + " billion dollars"
    assert F.features(huge) == F.features_python(huge)
    assert [f.key for f in F.features(huge)].count("=inf") == 2


@needs_kernels
def test_features_kernel_keeps_no_references(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many calls, on warm caches and with the caches clearing all the time (every path of the
    kernel, the error ones too), leave the traced memory flat."""
    import gc
    import tracemalloc

    texts = _texts()[:30] + [t for t in _feature_edge_texts() if len(t) < 3000]

    def run() -> None:
        for text in texts:
            F.features(text)
        F.features("x " + "9" * 400)

    monkeypatch.setattr(F, "_TOKEN_CACHE_MAX", 50)
    for _ in range(3):
        run()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(10):
            run()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 64_000, grown


@needs_kernels
def test_features_kernel_token_keys_at_every_length_kind_and_text_end() -> None:
    """The kernel's mirror of the memos keys short ASCII tokens by their characters (read 8 at a
    time in a 1-byte text when 24 are there, one by one otherwise): tokens of 1-30 characters,
    at the end of the text and just before it, in 1-, 2- and 4-byte texts, cold and warm, give
    the twin's features (the very same objects once warm)."""
    rng = random.Random(3)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(k))
             for k in range(1, 31) for _ in range(3)]  # fmt: skip
    texts = []
    for word in words:
        for tail in ("", " x", " xy.", " 12", " ab cd ef gh ij"):
            for wide in ("", " é", " ’", " 日本", " 𝔘"):  # 1-, 1-, 2-, 2- and 4-byte texts
                texts.append(f"Start{wide} said {word}{tail}")
                texts.append(f"{word}{tail}{wide}")
    texts += [f"It rose {n} million. {w} {w.lower()}s" for n, w in zip(range(1, 60), words[:59], strict=True)]
    texts += ["Don’t O’Neill’s rock’n’roll", "a’b " * 20, "x" * 24, "x" * 25, "y" * 23 + " " + "y" * 23]
    # digits past ASCII (not mirrored) whose low bytes spell ASCII words: U+0661.. -> "abc"
    texts += ["abc ١٢٣ jkl ४५६ abc ١٢٣ jkl ४५६", "١٢٣ thousand abc", "Abc ١٢٣. Jkl ४५६"]
    _compare_features(texts, cold_each=True)
    _compare_features(texts, cold_each=False)


@needs_kernels
def test_features_kernel_sees_the_memos_change_between_calls() -> None:
    """The mirror the kernel keeps of the memos between calls is used only while they are the
    same, unchanged dicts: a value replaced, an entry replaced or a copy of the memos passed
    gives the memos' own objects at once."""
    _cold_feature_caches()
    text = "Officials said Tokayev rose early. Tokayev met Alpha."
    first = F.features(text)
    assert [f.key for f in first] == ["official", "#tkv", "rose", "ear", "#tkv", "met", "#alph"]
    assert F.features(text) == first  # warm: from the mirror

    rose = F.Feature("ROSE", 1.0, False)
    F._fast_cache["rose"] = rose  # a value replaced: the dict keeps its size
    name = F.Feature("#NAME", 3.0, True)
    old = F._token_cache["Tokayev"]
    F._token_cache["Tokayev"] = (old[0], name, *old[2:])  # an entry replaced
    again = F.features(text)
    assert again[2] is rose and again[1] is name and again[4] is name

    fast, memo = dict(F._fast_cache), dict(F._token_cache)  # other dicts, equal contents
    other = F.Feature("OTHER", 1.0, False)
    fast["early"] = other
    kernel = native.module()
    assert kernel is not None
    found = kernel.features(text, fast, memo, F._cache_token, F._number_feature_cache, F._number_feature)
    assert found[3] is other and found[2] is rose
    assert F.features(text)[3] is F._fast_cache["early"] is not other  # back to the module's memos
    del F._fast_cache["early"]  # a token gone from the fast memo: looked up in the entries
    assert F.features(text)[3] is F._token_cache["early"][1]
    _cold_feature_caches()


@needs_kernels
def test_features_kernel_keeps_only_the_memos_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the memos clearing now and then (the cap), a call during which they did not clear
    returns only objects the memos hold then: the kernel's mirror follows the tokens the call
    back adds and drops everything when the memos clear, keeping no stale feature."""
    monkeypatch.setattr(F, "_TOKEN_CACHE_MAX", 300)
    rng = random.Random(11)
    sentences = [text for text, _, _ in _generated_texts(40)]
    texts = [" ".join(rng.sample(sentences, 2))[:400] for _ in range(400)]
    _cold_feature_caches()
    checked = 0
    for text in texts:
        before = len(F._token_cache)
        found = F.features(text)
        if len(F._token_cache) < before:  # cleared during the call: earlier features may predate it
            continue
        held = {id(v) for v in F._fast_cache.values()} | {id(v) for v in F._number_feature_cache.values()}
        held |= {id(e[k]) for e in F._token_cache.values() for k in (1, 2) if len(e) > k}
        assert all(id(f) in held for f in found), text[:120]
        assert _rows(found) == _rows(F.features_python(text))
        checked += 1
    assert checked > 100 and len(F._token_cache) <= 300
    _cold_feature_caches()


# ------------------------------------------------------------------------- stopword votes


def _votes_both(text: str) -> Counter[str]:
    """The stopword votes of the kernel and of the twin: equal, keys in the same order."""
    fast, slow = L.stopword_votes(text), L.stopword_votes_python(text)
    assert fast == slow, text[:120]
    assert list(fast.items()) == list(slow.items()), text[:120]  # most_common breaks ties by it
    assert type(fast) is Counter
    return fast


def _runs_by_kernel(text: str) -> list[tuple[str, int]]:
    """The kernel's letter runs with their counts, each run owning itself."""
    kernel = native.module()
    assert kernel is not None
    owners = {w: w for w in _RUN.findall(text)}
    return list(kernel.stopword_votes(text, owners).items())


def _runs_by_regex(text: str) -> list[tuple[str, int]]:
    return list(Counter(_RUN.findall(text)).items())


@needs_kernels
def test_stopword_votes_letter_runs_match_the_regex_on_all_of_unicode() -> None:
    """Every code point (lone surrogates too), in chunks: alone, between letters, between
    digits and glued to "_"; the runs the kernel counts are the regex's, in the same order."""
    every = "".join(chr(c) for c in range(0x110000))
    for start in range(0, len(every), 2048):
        chunk = every[start : start + 2048]
        for text in (chunk, "a".join(chunk), "1".join(chunk), "_".join(chunk), " ".join(chunk)):
            assert _runs_by_kernel(text) == _runs_by_regex(text), hex(start)
    rng = random.Random(23)
    pool = [chr(rng.randrange(0x110000)) for _ in range(300)] + list("aZé_1٣²½ \n'-ǅİ\u0301\ud800") * 20
    for _ in range(3000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 80)))
        assert _runs_by_kernel(text) == _runs_by_regex(text), text


@needs_kernels
def test_stopword_votes_kernel_matches_python_on_generated_and_edge_texts() -> None:
    texts = _texts() + _feature_edge_texts()
    texts += [
        "", " ", "_", "a", "der", "DER", "the_der_la", "der_", "_der", "der1und2la", "abc123def",
        "２０２６年", "２０２６年der und", "und٣der", "und²", "é́der", "der\u0301 und", "de\u0301r",
        "\ud800", "der\ud800und\udfff la", "\udc00\ud800", "İstanbul und ıla", "DİE DER",
        "日本語 der русский und 中文 la", "ΚΑΙ και der", "der und\u00a0la\u2028les",
    ]  # fmt: skip
    for text in texts:
        _votes_both(text)


@needs_kernels
def test_stopword_votes_kernel_keeps_the_order_of_first_appearance() -> None:
    """Ties between languages: ``guess_language`` takes the first-seen language of the tied ones,
    so the kernel must give the codes in the twin's order."""
    owners = L._word_langs()
    samples: dict[str, list[str]] = {}
    # sorted: the table is built from sets, whose order changes with the hash seed; and only words
    # that survive upper-casing (not "ß" -> "SS"), since some are written upper-case below
    for word, code in sorted(owners.items()):
        if word.isalpha() and word.upper().lower() == word and len(samples.setdefault(code, [])) < 6:
            samples[code].append(word)
    assert set(samples) == {code for code, _ in L._LANGS}
    rng = random.Random(29)
    for _ in range(400):
        codes = rng.sample(sorted(samples), rng.randint(1, len(samples)))
        words = [w for code in codes for w in rng.sample(samples[code], 3)]  # three each: a tie
        rng.shuffle(words)
        text = " ".join(w.upper() if rng.random() < 0.2 else w for w in words)
        votes = _votes_both(text + " 123 the_x")
        assert set(votes.values()) == {3}
        assert L.guess_language(text) == next(iter(votes))
    mixed = [
        "Der Hund ist nicht hier, pero muy también, avec très être où, più perché della sono",
        "Het huis niet zijn maar, dla mnie nie już się, não também uma então, which would their",
        "während über für où être più perché não também się już niet zijn",
        "nicht nicht pero pero avec avec",  # de, es, fr: a three-way tie in this order
        "AVEC avec PERO pero Nicht nicht",  # the same tie, the other way round
        "nicht_pero avec1nicht２pero aveć nicht\ud800pero",
    ]
    for text in mixed:
        _votes_both(text)
    assert list(_votes_both(mixed[3]).items()) == [("de", 2), ("es", 2), ("fr", 2)]
    assert list(_votes_both(mixed[4]).items()) == [("fr", 2), ("es", 2), ("de", 2)]
    assert L.guess_language(mixed[3] + " auch muy où") == "de"
    assert L.guess_language(mixed[4] + " auch muy où") == "fr"


@needs_kernels
def test_stopword_votes_kernel_matches_python_on_the_corpora() -> None:
    from tests.conftest import shared_path

    texts = _corpus_feature_texts()
    zyte = shared_path("data", "zyte-article-extraction") / "ground-truth.json"
    texts += [item.get("articleBody") or "" for item in json.loads(zyte.read_text(encoding="utf-8")).values()]
    voted = 0
    for text in texts:
        voted += bool(_votes_both(text))
        _votes_both(text[: L._SAMPLE])
    assert voted > len(texts) // 2


@needs_kernels
def test_stopword_votes_kernel_edge_cases() -> None:
    kernel = native.module()
    assert kernel is not None
    owners = {"ab": "x", "abc": "y", "b": "z"}
    assert kernel.stopword_votes("", owners) == {}
    assert kernel.stopword_votes("ab abc b ab", owners) == {"x": 2, "y": 1, "z": 1}
    assert list(kernel.stopword_votes("b abc ab", owners)) == ["z", "y", "x"]
    assert kernel.stopword_votes("ab abc b ab", owners, 2, 2) == {"x": 2}  # length bounds
    assert kernel.stopword_votes("ab abc b ab", owners, 3) == {"y": 1}
    assert kernel.stopword_votes("ab_abc1b", owners) == {"x": 1, "y": 1, "z": 1}
    # codes that are equal but not the same object count as one code, as in a Counter
    one, other = "".join(["c", "d"]), "".join(["c", "d"])
    assert one is not other
    got = kernel.stopword_votes("ab abc ab", {"ab": one, "abc": other})
    assert got == {"cd": 3} and next(iter(got)) is one
    assert kernel.stopword_votes("ab abc", {"ab": 1, "abc": 1.0}) == {1: 2}
    with pytest.raises(TypeError):
        kernel.stopword_votes("ab", {"ab": []})  # unhashable code, as Counter says
    with pytest.raises(TypeError):
        kernel.stopword_votes(b"ab", owners)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        kernel.stopword_votes("ab", list(owners))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        kernel.stopword_votes("ab", type("D", (dict,), {})(owners))  # type: ignore[arg-type]


def test_stopword_votes_twin_runs_without_the_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    twin = L.stopword_votes_python

    def spy(text: str) -> Counter[str]:
        calls.append(text)
        return twin(text)

    monkeypatch.setattr(L, "_votes_kernel", None)
    monkeypatch.setattr(L, "_votes_table_kernel", None)
    monkeypatch.setattr(L, "stopword_votes_python", spy)
    text = "Der Hund ist nicht hier, pero muy también, aber nicht"
    assert list(L.stopword_votes(text).items()) == [("de", 4), ("es", 3)]
    assert calls == [text]


# ---- the date scan (prefixed_word_starts) ------------------------------------------------------


def _match_rows(matches: list[re.Match[str]]) -> list[tuple[int, int, str | None, tuple[str | None, ...]]]:
    return [(m.start(), m.end(), m.lastgroup, m.groups()) for m in matches]


def _dates_all_ways(text: str) -> None:
    """The compiled scan, the regex twin and plain ``finditer`` find the same date matches."""
    from pipeline.enrich import _dates as D

    fast = _match_rows(D.date_matches(text))
    assert fast == _match_rows(D.date_matches_python(text)), text[:120]
    assert fast == _match_rows(list(D._PATTERN.finditer(text))), text[:120]


def _word_starts_by_regex(text: str, prefixes: tuple[str, ...]) -> list[int]:
    """Where ``\\b`` holds before a word character and one of ``prefixes`` begins."""
    alts = "|".join(re.escape(p) for p in prefixes)
    return [m.start() for m in re.finditer(rf"(?<!\w)(?=(?:{alts}))", text)]


@needs_kernels
def test_word_starts_match_the_regex_on_all_of_unicode() -> None:
    """Every code point as the character before a prefix, and random mixes: a start counts only
    after a character that is not Python's ``\\w`` (its own Unicode tables, "_" included)."""
    kernel = native.module()
    assert kernel is not None
    prefixes = ("Jan", "J", "1", "this", "th", "x")
    for start in range(0, 0x110000, 4096):
        chunk = [chr(c) for c in range(start, min(start + 4096, 0x110000))]
        text = "".join(c + "Jan1" + c + "this" for c in chunk)
        found = kernel.prefixed_word_starts(text, prefixes)
        assert found == _word_starts_by_regex(text, prefixes), hex(start)
    rng = random.Random(31)
    pool = list("Jan1thisx _-.,’é٣²Ⅻǅ\u0301\n") + [chr(rng.randrange(0x110000)) for _ in range(40)]
    for _ in range(3000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 60)))
        assert kernel.prefixed_word_starts(text, prefixes) == _word_starts_by_regex(text, prefixes), text


@needs_kernels
def test_word_starts_edge_cases() -> None:
    kernel = native.module()
    assert kernel is not None
    starts = kernel.prefixed_word_starts
    assert starts("", ("a",)) == []
    assert starts("a", ("a",)) == [0]
    assert starts("ab", ("abc",)) == []  # a prefix longer than what is left
    assert starts("abc abd", ("abd", "abc")) == [0, 4]
    assert starts("_abc 1abc éabc ٣abc -abc", ("abc",)) == [21]  # "_", digits, letters are \w
    assert starts("日本 Jan", ("Jan",)) == [3]
    assert starts("\U0001f600Jan", ("Jan",)) == [1]  # a 4-byte string, a symbol before
    assert starts("x", ()) == []
    with pytest.raises(ValueError):
        starts("x", ("",))
    with pytest.raises(ValueError):
        starts("x", ("é",))
    with pytest.raises(ValueError):
        starts("x", tuple("abc") * 100)  # more than the kernel's table holds
    with pytest.raises(TypeError):
        starts("x", ["a"])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        starts(b"x", ("a",))  # type: ignore[arg-type]


def test_date_matches_are_the_pattern_s_on_edge_texts() -> None:
    edge = [
        "", "5", "Jan 5", "Jan. 5, 2022", "5 January 2022", "2022-01-06", "on Monday", "last Friday",
        "next week", "Last week", "this morning", "Tonight", "yesterday", "tomorrow's", "last night",
        "xJan 5", "_Jan 5", "éJan 5", "٣Jan 5", "COVID19 May 3", "2022-01-062022-01-06", "2022-13-01",
        "May 32", "Sept. 31", "thisweek this week", "lastly Monday", "Mondays Monday", "Janus 5",
        "May May 5 May", "1st of May 2020, 2nd of June", "12 12 12 Dec 12", "the 5th Dec",
        "“Jan 5”", "(2022-01-06)", "Jan\u00a05", "Jan\n5", "Monday\u0301", "Tuesday’s vote",
        " ".join(["On Jan. 5, 2022 and last Friday, yesterday"] * 800),
    ]  # fmt: skip
    for text in edge:
        _dates_all_ways(text)


def test_date_matches_are_the_pattern_s_on_the_corpora() -> None:
    for text in _corpus_feature_texts():
        _dates_all_ways(text)


def test_date_matches_twin_runs_without_the_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.enrich import _dates as D

    calls: list[str] = []
    twin = D.date_matches_python

    def spy(text: str) -> list[re.Match[str]]:
        calls.append(text)
        return twin(text)

    monkeypatch.setattr(D, "_word_starts", None)
    monkeypatch.setattr(D, "date_matches_python", spy)
    text = "On Jan. 5, 2022 and last Friday"
    assert [m.group(0) for m in D.date_matches(text)] == ["Jan. 5, 2022", "last Friday"]
    assert calls == [text]


# --- signature kernels (pipeline.dedup._signature: feature_parts, body_hash) -----------------------


def _same_feature_parts(a: S.FeatureParts, b: S.FeatureParts) -> bool:
    return _same(a.parts, b.parts) and a[1:] == b[1:]


@needs_kernels
def test_xxh64_kernel_matches_xxhash() -> None:
    kernel = native.module()
    assert kernel is not None
    rng = random.Random(21)
    for length in [*range(80), 127, 128, 129, 1000, 4096 + 7]:  # every tail and stripe case
        for seed in (0, 0x5EED, rng.getrandbits(64), 2**64 - 1):
            data = bytes(rng.randrange(256) for _ in range(length))
            assert kernel.xxh64(data, seed) == xxhash.xxh64_intdigest(data, seed=seed), (length, seed)
    assert kernel.xxh64(b"") == xxhash.xxh64_intdigest(b"")


def _signature_feature_lists() -> list[list[F.Feature]]:
    w, n = F.WORD_WEIGHT, F.NAME_WEIGHT
    feats = [F.features(t) for t in _texts() + _feature_edge_texts()]
    feats += [
        [],
        [F.Feature("alpha", w, False)],
        [F.Feature("alpha", w, False), F.Feature("beta", w, False)],
        [F.Feature(k, w, False) for k in "abc"],
        [F.Feature(k, w, False) for k in "abcde"],  # one key short of a lead key
        [F.Feature(k, w, False) for k in "abcdef"],  # just a lead key
        [F.Feature("alpha", w, False)] * 3,
        [F.Feature("#norvalia", n, True), F.Feature("=12", n, True), F.Feature("#norvalia", n, True)],
        [F.Feature("#a", n, True)] * 5 + [F.Feature("#b", n, True), F.Feature("#a", n, True)],  # repeats
        [F.Feature(f"#n{i % 11}", n, True) for i in range(40)],  # 11 distinct names: no names key
        [F.Feature(f"#n{i % 12}", n, True) for i in range(40)],  # 12: a names key
        [F.Feature(f"=n{i}", n, True) for i in range(400)],  # past the order's 64 items
        [F.Feature(f"#n{i}", n, True) for i in range(400)],  # more names than the bottom-k keeps
        [F.Feature(f"k{i % 7}", w * (1 + i % 3), i % 2 == 0) for i in range(300)],
        [F.Feature(k, w, False) for k in ("zürich", "日本語", "ﬁ", "#ærø", "=½", "a b", "x" * 300)],
        [F.Feature("#" + "é" * i, n, True) for i in range(1, 90)],  # non-ASCII keys, every tail length
        [F.Feature(f"unseen-{random.random()}-{i}", w, False) for i in range(50)],
    ]
    feats.append(F.features(" ".join(t for t, _, _ in _generated_texts(60))))  # past the position table
    assert max(len(f) for f in feats) > P._POSITION_TABLE_MAX
    return feats


@needs_kernels
def test_signature_parts_kernel_matches_python() -> None:
    compared = 0
    for f in _signature_feature_lists():
        fast, slow = S.feature_parts(f), S.feature_parts_python(f)
        assert _same_feature_parts(fast, slow), [x.key for x in f[:12]]
        compared += len(f) >= 3
    assert compared > 100


@needs_kernels
def test_signature_parts_kernel_rejects_bad_input() -> None:
    kernel = native.module()
    assert kernel is not None
    positions, table = P.kernel_tables(10)
    with pytest.raises(ValueError):
        kernel.signature_parts([("a", 1.0, False)] * 2, positions, table)  # fewer than 3
    with pytest.raises(TypeError):
        kernel.signature_parts(["a", "b", "c"], positions, table)  # not feature tuples
    with pytest.raises(TypeError):
        kernel.signature_parts([("", 1.0, False)] * 3, positions, table)  # an empty key
    with pytest.raises(ValueError):
        kernel.signature_parts([("a", 1.0, False)] * 3, positions[:2], table)  # short table
    with pytest.raises(UnicodeEncodeError):
        kernel.signature_parts([("a\ud800", 1.0, False)] * 3, positions, table)  # as str.encode()


class _EmptiesOnFloat:
    """A weight whose ``__float__`` empties the feature list it is in."""

    def __init__(self, feats: list[F.Feature]) -> None:
        self.feats = feats

    def __float__(self) -> float:
        self.feats.clear()
        return 2.0


class _EmptiesOnHash(str):
    """A key whose ``__hash__`` and ``__eq__`` empty the feature list it is in."""

    feats: ClassVar[list[F.Feature]] = []

    def __hash__(self) -> int:
        self.feats.clear()
        return str.__hash__(self)

    def __eq__(self, other: object) -> bool:
        self.feats.clear()
        return str.__eq__(self, other)


@needs_kernels
@pytest.mark.parametrize("culprit", ["weight", "key"])
def test_signature_parts_survives_a_list_changed_under_it(culprit: str) -> None:
    """Python code run for a feature (a weight's ``__float__``, a key's ``__hash__``/``__eq__``)
    empties the list: the kernel works on its own snapshot, and gives what the twin gives for
    the list as it was (reading the list itself read freed memory, found under AddressSanitizer)."""
    w = F.WORD_WEIGHT
    plain = [F.Feature(k, 2.0 if i == 0 else w, False) for i, k in enumerate("abcdefgh")]
    feats: ClassVar[list[F.Feature]] = []
    if culprit == "weight":
        feats += [F.Feature("a", _EmptiesOnFloat(feats), False), *plain[1:]]  # type: ignore[arg-type]
    else:
        _EmptiesOnHash.feats = feats
        feats += [F.Feature(_EmptiesOnHash(k), wt, s) for k, wt, s in plain]
    got = S.feature_parts(feats)
    if culprit == "weight":
        assert feats == []  # the callback ran, in the middle of the kernel's pass
    assert _same_feature_parts(got, S.feature_parts_python(plain))


@needs_kernels
def test_signature_parts_nan_weight_as_numpy() -> None:
    """A NaN weight wins the best weight of its key whatever its place, as in np.maximum."""
    nan, w = float("nan"), F.WORD_WEIGHT
    for f in (
        [F.Feature("a", w, False), F.Feature("a", nan, False), F.Feature("b", w, False)],
        [F.Feature("a", nan, False), F.Feature("a", w, False), F.Feature("b", w, False)],
    ):
        fast, slow = S.feature_parts(f), S.feature_parts_python(f)
        assert np.array_equal(fast.parts.weights, slow.parts.weights, equal_nan=True)
        assert np.isnan(fast.parts.weights).sum() == 1
        assert _same(fast.parts._replace(weights=None), slow.parts._replace(weights=None))  # the rest
        assert fast[1:] == slow[1:]


def _body_texts() -> list[str]:
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    rng = random.Random(23)
    pool = list(every[:0x3000:7]) + list("_’'-.,;:!?()“”—– \n\t\u00a0aZ09éß日٣\u0301\ud800") * 20
    texts = [every, " ".join(every[i : i + 9] for i in range(0, 30_000, 9))]
    texts += _texts() + _feature_edge_texts()
    texts += ["".join(rng.choice(pool) for _ in range(rng.randint(0, 200))) for _ in range(2000)]
    texts += ["", "_", "a_b", "\ud800", "x\udfffy", "İstanbul ǅ ẞ Σίσυφος ΣΑΣ", "a\u0301b", "٣.٥ ²³½ Ⅻ"]
    return texts


@needs_kernels
def test_body_hash_kernel_matches_python() -> None:
    for text in _body_texts():
        assert S.body_hash(text) == S.body_hash_python(text), text[:80]
    kernel = native.module()
    assert kernel is not None
    with pytest.raises(TypeError):
        kernel.words_hash(b"bytes")


@needs_kernels
def test_signature_kernels_match_python_on_the_corpora() -> None:
    texts = _corpus_feature_texts()
    for text in texts:
        assert S.body_hash(text) == S.body_hash_python(text), text[:80]
        f = F.features(text)
        assert _same_feature_parts(S.feature_parts(f), S.feature_parts_python(f)), text[:80]


def test_signature_twins_run_without_the_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(S, "_parts_kernel", None)
    monkeypatch.setattr(S, "_words_hash", None)
    text = "Alpha met Beta in Gamma. Delta said 1.8 million, May 3. Alpha left Gamma."
    f = F.features(text)
    assert _same_feature_parts(S.feature_parts(f), S.feature_parts_python(f))
    assert S.body_hash(text) == S.body_hash_python(text)


@needs_kernels
def test_stopword_votes_dict_kernel_runs_without_the_table_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """A module built before the table kernel: the dict kernel counts, with the same votes."""
    text = "Der Hund ist nicht hier, pero muy también, aber nicht"
    with_table = list(L.stopword_votes(text).items())
    monkeypatch.setattr(L, "_votes_table_kernel", None)
    monkeypatch.setattr(L, "stopword_votes_python", None)  # not called
    assert list(L.stopword_votes(text).items()) == with_table == [("de", 4), ("es", 3)]


# ------------------------------------------------------------------------- clean stage scans


def _clean_edge_texts() -> list[str]:
    """Texts at the edges of the clean kernels: empty, one character, every kind of str (1, 2 and
    4 bytes a character), combining marks, lone surrogates, every white space of str.split, the
    needles themselves and their prefixes, glued, at the very start and end, and long texts."""
    from pipeline.clean import _patterns as CP

    needles = sorted({n for group in CP._NEEDLE_GROUPS for n in group})
    texts = [
        "", " ", "x", "(", "©", "a", "ad", "ap", "(c", "(c)", "cooki", "cookie", "COOKIE", "cookie\u0301",
        "co\u0301okie", "ｃｏｏｋｉｅ", "cookie\ud800", "\ud800cookie", "é cookie",
        "\U0001f600cookie\U0001f600",
        "xx" * 3000, "cookie" + " " * 10_000 + "all rights reserved", "a\u00a0b\u2003c\u2028d\x1c e\x1f\x85f",
        "\t\n\r\x0b\x0c", "  lead and trail  ", "١٢٣ ٣ ²½ Ⅻ", "日本語の記事です。クッキー", "ΚΑΙ και",
        "İstanbul ıla DİE", "Straße ﬁnance", "e-mail e-m e-", ", broadcast, rewritten", ", b",
    ]  # fmt: skip
    texts += needles + ["".join(needles)] + [n[:-1] for n in needles] + [f"é{n}\U0001f600" for n in needles]
    texts += [" ".join(needles[i::7]) for i in range(7)]
    return texts


@needs_kernels
def test_needle_hits_kernel_matches_python_on_edge_and_random_texts() -> None:
    from pipeline.clean import _patterns as CP

    texts = _clean_edge_texts() + _texts() + _feature_edge_texts()
    rng = random.Random(31)
    pool = sorted({n for group in CP._NEEDLE_GROUPS for n in group}) + list("é ä\U0001f600x(©\u0301\ud800")
    texts += [
        "".join(rng.choice(pool)[: rng.randint(1, 6)] for _ in range(rng.randint(0, 9)))
        for _ in range(20_000)
    ]
    for text in texts:
        for variant in (text, text.lower()):
            assert CP.needle_hits(variant) == CP.needle_hits_python(variant), variant[:120]


@needs_kernels
def test_needle_hits_kernel_matches_python_on_the_corpora() -> None:
    from pipeline.clean import _patterns as CP

    hit = 0
    for text in _corpus_feature_texts():
        for line in text.split("\n"):
            low = line.lower()
            bits = CP.needle_hits_python(low)
            assert CP.needle_hits(low) == bits, low[:120]
            hit += bool(bits & ~CP._STRONG_BIT)
    assert hit > 1000  # the pre-filter strings do occur


@needs_kernels
def test_needle_table_edge_cases() -> None:
    kernel = native.module()
    assert kernel is not None
    table = kernel.needle_table([("cookie", "ok"), ("x",), ("",), ("été", "ab"), ()])
    assert kernel.needle_hits("", table) == 0b100  # the empty string is in every text
    assert kernel.needle_hits("cookies", table) == 0b101
    assert kernel.needle_hits("l'été x", table) == 0b1110
    assert kernel.needle_hits("o k", table) == 0b100
    assert kernel.needle_hits("ok", kernel.needle_table([])) == 0
    assert kernel.needle_hits("z" * 70, kernel.needle_table([("z",)] * 64)) == (1 << 64) - 1
    with pytest.raises(ValueError):
        kernel.needle_table([("a",)] * 65)
    with pytest.raises(TypeError):
        kernel.needle_table([("a", 1)])
    with pytest.raises(TypeError):
        kernel.needle_table(["ab"])  # a group must be a tuple or list, not a str
    with pytest.raises(TypeError):
        kernel.needle_hits(b"ab", table)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        kernel.needle_hits("ab", kernel.stopword_table({}))  # another table


@needs_kernels
def test_count_words_kernel_matches_python() -> None:
    from pipeline.clean import _text as T

    texts = _clean_edge_texts() + _texts() + _feature_edge_texts()
    every_space = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
    texts += [every_space, f"a{every_space}b", every_space.join("abcdef"), "\u200b a \u200b"]
    for text in texts:
        for cap in (-1, 0, 1, 2, 5, 20, 36, 10_000):
            assert T.count_words(text, cap) == T.count_words_python(text, cap), (text[:80], cap)


@needs_kernels
def test_stopword_votes_table_matches_the_dict_kernel() -> None:
    """The table kernel gives the dict kernel's votes, codes in the same order (the votes tests
    above compare it with the twin through ``L.stopword_votes``)."""
    kernel = native.module()
    assert kernel is not None
    owners = {"ab": "x", "abc": "y", "b": "z", "été": "x", "日本": "j", "\U0001f600a": "y"}
    table = kernel.stopword_table(owners)
    for text in [*_clean_edge_texts(), "ab abc b ab", "b abc ab", "ab_abc1b", "été日本 ÉTÉ abé b\u0301"]:
        assert list(kernel.stopword_votes_table(text, table).items()) == list(
            kernel.stopword_votes(text, owners).items()
        ), text[:80]
    assert kernel.stopword_votes_table("ab", kernel.stopword_table({})) == {}
    one, other = "".join(["c", "d"]), "".join(["c", "d"])
    got = kernel.stopword_votes_table("abc ab", kernel.stopword_table({"ab": one, "abc": other}))
    assert got == {"cd": 2} and next(iter(got)) is one  # equal codes: the first of owners
    with pytest.raises(TypeError):
        kernel.stopword_table({"ab": []})  # unhashable code
    with pytest.raises(TypeError):
        kernel.stopword_table({1: "x"})
    with pytest.raises(TypeError):
        kernel.stopword_table(type("D", (dict,), {})(owners))
    with pytest.raises(ValueError):
        kernel.stopword_votes_table("ab", kernel.needle_table([]))  # another table
