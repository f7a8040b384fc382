# ruff: noqa: E501
"""Unit tests of the dedup stage on literal texts written for these tests."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.dedup import (
    SIGNATURE_SIZE,
    DedupConfig,
    DedupIndex,
    Match,
    Signature,
    normalise_url,
    signature,
    signature_of_text,
    story_id_for,
)
from pipeline.records import CleanedArticle

QUAKE_A = """A magnitude 6.4 earthquake struck the coastal province of Valmora early on Tuesday, killing at least 17 people and injuring 230, the national disaster agency said.

The quake hit at 4:12 a.m. local time about 35 kilometres south of the port city of Brennick, at a depth of 10 kilometres, according to the Geological Institute.

Rescue teams pulled survivors from collapsed apartment blocks in Brennick and the nearby town of Ostravel, where the old harbour church was destroyed.

Governor Elira Maksimova said 1,200 families had been moved to temporary shelters and appealed for blankets, water and generators.

Aftershocks of magnitude 4 and above continued through the morning, and schools across Valmora were closed until further notice.

The province last suffered a deadly earthquake in 1998, when 42 people died."""

QUAKE_A_REWRITE = """A 6.4-magnitude quake hit the coastal province of Valmora early yesterday, leaving at least seventeen people dead and 230 injured, the national disaster agency stated.

The earthquake struck at 4:12 a.m. local time roughly 35 kilometres south of the port town of Brennick, at a depth of 10 kilometres, the Geological Institute reported.

Rescue crews pulled survivors out of collapsed apartment buildings in Brennick and the neighbouring town of Ostravel. The old harbour church there was destroyed.

Governor Elira Maksimova stated that 1200 families had been relocated to temporary shelters, and she appealed for blankets, water and generators.

Schools across Valmora were shut until further notice as aftershocks of magnitude 4 and above continued during the morning.

The province's last deadly quake was in 1998, when 42 people were killed."""

QUAKE_B = """A magnitude 5.9 earthquake shook the mountain region of Karsland on Sunday night, killing three people and damaging more than 400 homes, officials said.

The tremor was centred near the village of Dunmere, 60 kilometres north of the regional capital Haldsburg, at a depth of 22 kilometres, the seismology centre reported.

Emergency services said two of the victims were killed when a hillside road collapsed near Dunmere, and a third died in Haldsburg when a wall fell.

Mayor Tomas Velikov said 90 residents spent the night in a sports hall and that power had been restored to most districts by Monday afternoon.

The region is crossed by several active faults, and a magnitude 6.1 quake in 2011 damaged the Haldsburg cathedral."""

NAMES_A = "President Kassym Tokayev met Foreign Minister Mukhtar Tileuberdi in Astana"


def _sig(text: str, url: str | None = None) -> Signature:
    return signature_of_text(text, url)


def _index(**kw: float) -> DedupIndex:
    return DedupIndex(DedupConfig(**kw))  # type: ignore[arg-type]


def test_signature_roundtrip_and_size() -> None:
    sig = _sig(QUAKE_A, "https://www.example.com/a?utm_source=x")
    data = sig.to_bytes()
    assert len(data) == SIGNATURE_SIZE == 1051
    assert Signature.from_bytes(data) == sig
    assert _sig(QUAKE_A, "https://www.example.com/a?utm_source=x") == sig  # deterministic


def test_signature_of_cleaned_article_uses_canonical_url() -> None:
    art = CleanedArticle(
        id="x",
        url="https://m.example.com/a",
        source="s",
        title="t",
        text=QUAKE_A,
        canonical_url="https://example.com/a/",
    )
    assert signature(art, DedupConfig()).url_key == _sig(QUAKE_A, "https://example.com/a").url_key


def test_normalise_url() -> None:
    assert (
        normalise_url("https://WWW.Example.com/path/?utm_medium=x&b=2&a=1#frag") == "example.com/path?a=1&b=2"
    )
    assert normalise_url("") == ""


def test_story_id_for() -> None:
    sid = story_id_for("article-1")
    assert sid.startswith("s-") and len(sid) == 18 and sid == story_id_for("article-1")


def test_exact_copy_is_exact() -> None:
    index = _index()
    index.insert("a", "s-a", _sig(QUAKE_A, "https://one.example/a"), 1000.0)
    m = index.lookup("b", _sig(QUAKE_A, "https://two.example/b"))
    assert m == Match(story_id="s-a", article_id="a", relation="exact", similarity=1.0)


def test_same_url_with_an_updated_body_is_exact() -> None:
    index = _index()
    index.insert("a", "s-a", _sig(QUAKE_A, "https://one.example/a"), 1000.0)
    updated = QUAKE_A.replace("at least 17 people", "at least 23 people") + (
        "\n\nThe government declared three days of national mourning on Wednesday."
    )
    m = index.lookup("b", _sig(updated, "https://one.example/a?utm_source=feed"))
    assert m is not None and m.relation == "exact" and m.story_id == "s-a"


def test_same_url_with_unrelated_text_is_a_new_story() -> None:
    # a live page or a reused URL: a new post at the same address shares no text with the old one
    index = _index()
    index.insert("a", "s-a", _sig(QUAKE_A, "https://one.example/live"), 1000.0)
    assert index.lookup("b", _sig(QUAKE_B, "https://one.example/live?utm_source=feed")) is None


def test_reprint_with_chrome_is_copy() -> None:
    index = _index()
    index.insert("a", "s-a", _sig(QUAKE_A), 1000.0)
    reprint = "Home | World | Asia\n\n" + QUAKE_A + "\n\nShare this story. Copyright Daily Example."
    m = index.lookup("b", _sig(reprint))
    assert m is not None and m.relation in ("copy", "exact") and m.story_id == "s-a"
    assert 0.8 <= m.similarity <= 1.0


def test_rewrite_with_synonyms_is_found() -> None:
    index = _index()
    index.insert("a", "s-a", _sig(QUAKE_A), 1000.0)
    m = index.lookup("b", _sig(QUAKE_A_REWRITE))
    assert m is not None and m.story_id == "s-a" and m.relation in ("copy", "rewrite")


def test_transliteration_variants_share_features() -> None:
    a = _sig(NAMES_A + ". " + QUAKE_A)
    b = _sig(NAMES_A.replace("Tokayev", "Tokaev") + ". " + QUAKE_A)
    assert a.simhash == b.simhash and a.sketch == b.sketch


def test_different_earthquakes_stay_apart() -> None:
    index = _index()
    index.insert("a", "s-a", _sig(QUAKE_A), 1000.0)
    assert index.lookup("b", _sig(QUAKE_B)) is None


def test_replay_is_detected_and_not_reindexed() -> None:
    index = _index()
    sig = _sig(QUAKE_A)
    index.insert("a", "s-a", sig, 1000.0)
    assert index.story_of("a") == "s-a"
    assert index.lookup("a", sig) is None  # never matches itself
    index.insert("a", "s-other", sig, 2000.0)  # idempotent
    assert len(index) == 1 and index.story_of("a") == "s-a"


def test_eviction_by_published_time() -> None:
    entries: dict[str, bytes] = {}
    index = DedupIndex(DedupConfig(window_days=1.0), entries)
    index.insert("old", "s-old", _sig(QUAKE_A), 1_000_000.0)
    index.insert("new", "s-new", _sig(QUAKE_B), 1_000_000.0 + 80_000)
    assert index.evict(1_000_000.0 + 86_400 + 10) == ["old"]
    assert set(entries) == {"new"} and len(index) == 1
    assert index.lookup("c", _sig(QUAKE_A)) is None
    assert index.evict(1_000_000.0 + 86_400 + 20) == []


def test_rebuild_from_entries_gives_identical_lookups() -> None:
    entries: dict[str, bytes] = {}
    index = DedupIndex(DedupConfig(delta_max=3), entries)
    texts = [QUAKE_A, QUAKE_B, QUAKE_A_REWRITE, NAMES_A + " " + QUAKE_B]
    for i, t in enumerate(texts):
        m = index.lookup(f"a{i}", _sig(t))
        index.insert(f"a{i}", m.story_id if m else story_id_for(f"a{i}"), _sig(t), 1000.0 + i)
    restored = DedupIndex(DedupConfig(delta_max=3), dict(reversed(list(entries.items()))))
    for t in [*texts, "Unrelated text about a cooking contest in a small village bakery."]:
        assert restored.lookup("q", _sig(t)) == index.lookup("q", _sig(t))
    assert len(restored) == len(index) and restored.memory_bytes() > 0


def test_config_validation() -> None:
    with pytest.raises(ValueError):
        DedupConfig(bits=128)
    with pytest.raises(ValueError):
        DedupConfig(window_days=0)


LONG_TAIL = """

Engineers from the Geological Institute said the fault that moved runs along the coast for about 80 kilometres and had been quiet for more than twenty years.

The national railway suspended trains between Brennick and the capital while bridges were inspected, and the main coastal road was closed near Ostravel after a landslide.

Hospitals in Brennick asked for blood donors, and a field hospital run by the army opened in the port's football stadium by midday.

The finance ministry released an emergency fund of 40 million for reconstruction and said families who lost their homes would receive monthly rent support.

Neighbouring countries offered search teams with dogs, and the first of them landed at Brennick airport on Tuesday evening."""


@pytest.mark.parametrize("lead_paragraphs", [1, 2])
def test_lead_or_brief_joins_its_long_story(lead_paragraphs: int) -> None:
    # a brief (the first paragraph or two) is far from the full story in fingerprint, but all of
    # its key triples are in it
    full = QUAKE_A + LONG_TAIL
    lead = "\n\n".join(QUAKE_A.split("\n\n")[:lead_paragraphs])
    index = _index()
    index.insert("full", "s-full", _sig(full), 1000.0)
    m = index.lookup("lead", _sig(lead))
    assert m is not None and m.story_id == "s-full"
    # and the other way round: the brief first, the full story later
    index = _index()
    index.insert("lead", "s-lead", _sig(lead), 1000.0)
    m = index.lookup("full", _sig(full))
    assert m is not None and m.story_id == "s-lead"


def test_one_shared_sentence_is_not_containment() -> None:
    # another report that quotes one sentence of the story is not a version of it
    other = QUAKE_B + "\n\n" + QUAKE_A.split("\n\n")[3]
    index = _index()
    index.insert("a", "s-a", _sig(QUAKE_A), 1000.0)
    assert index.lookup("b", _sig(other)) is None


def _ref_kmv_overlap(a: Any, na: int, b: Any, nb: int) -> tuple[float, float, int]:
    """The bottom-k overlap of two sketches, computed plainly with sets."""
    k = a.size
    va, vb = a[a != 0], b[b != 0]
    if not va.size or not vb.size:
        return 0.0, 0.0, 0
    limit = min(int(va[-1]) if va.size >= k else 0xFFFF, int(vb[-1]) if vb.size >= k else 0xFFFF)
    sa, sb = set(va[va <= limit].tolist()), set(vb[vb <= limit].tolist())
    jaccard = len(sa & sb) / max(1, len(sa | sb))
    small, large = (sa, sb) if na <= nb else (sb, sa)
    if not small:
        return jaccard, 0.0, 0
    return jaccard, len(small & large) / len(small), len(small)


def test_vectorised_bottom_k_overlap_matches_the_scalar_one() -> None:
    import random

    import numpy as np

    from pipeline.dedup._fingerprint import bottom_k, kmv_overlap_many, sketch_array

    rng = random.Random(1)
    for _ in range(200):
        k = rng.choice([16, 128])
        base = [rng.getrandbits(64) for _ in range(rng.randint(0, 600))]
        query = set(rng.sample(base, rng.randint(0, len(base))))
        others = [
            set(rng.sample(base, rng.randint(0, len(base))))
            | {rng.getrandbits(64) for _ in range(rng.randint(0, 300))}
            for _ in range(5)
        ]
        a = sketch_array(bottom_k(query, k))
        b = np.stack([sketch_array(bottom_k(o, k)) for o in others])
        j, c, s = kmv_overlap_many(a, len(query), b, np.array([len(o) for o in others]))
        for i, o in enumerate(others):
            assert _ref_kmv_overlap(a, len(query), b[i], len(o)) == pytest.approx((j[i], c[i], s[i]))


def test_an_article_mixing_two_reports_does_not_chain_them() -> None:
    # M = the lead of report A + all of report B. M joins A's story (A is contained in M); B is
    # contained in M too, but A, a member of that story, is plainly another text than B, so B
    # must not be pulled into A's story through M. (Every row is a candidate in this config.)
    a = "\n\n".join(QUAKE_A.split("\n\n")[:2])
    mixed = a + "\n\n" + QUAKE_B
    index = _index(max_distance=64, far_candidates=64)
    index.insert("a", "s-a", _sig(a), 1000.0)
    m = index.lookup("m", _sig(mixed))
    assert m is not None and m.story_id == "s-a"
    index.insert("m", "s-a", _sig(mixed), 1001.0)
    assert index.lookup("b", _sig(QUAKE_B)) is None
    # without the conflicting member, B would have joined through M
    alone = _index(max_distance=64, far_candidates=64)
    alone.insert("m", "s-a", _sig(mixed), 1001.0)
    joined = alone.lookup("b", _sig(QUAKE_B))
    assert joined is not None and joined.story_id == "s-a"


def _lcs_reference(a: list[int], b: list[int]) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def test_common_order_is_the_longest_common_subsequence() -> None:
    import random
    import struct

    from pipeline.dedup._index import common_order

    rng = random.Random(7)
    for _ in range(500):
        na, nb = rng.randint(0, 64), rng.randint(0, 64)
        alphabet = rng.choice([2, 5, 30, 60000])
        a = [rng.randint(1, alphabet) for _ in range(na)]
        b = [rng.randint(1, alphabet) for _ in range(nb)]
        packed_a = struct.pack(f"<{na}H", *a).ljust(128, b"\0")
        assert common_order(packed_a, na, struct.pack(f"<{nb}H", *b), nb) == _lcs_reference(a, b)


@pytest.mark.parametrize(
    ("n_pairs", "config"),
    [
        (36, DedupConfig()),  # 72 items: the general rule (30 in order, 0.7 of the shorter)
        (12, DedupConfig()),  # 24 items: a short text (20 in order, 0.85 of the shorter)
        (12, DedupConfig(order_short_common=64)),  # ... which the short rule alone lets through
    ],
)
def test_names_in_order_join_a_heavy_rewrite_but_not_the_same_names_shuffled(
    n_pairs: int, config: DedupConfig
) -> None:
    """Same names and numbers in the same order (a sentence-by-sentence rewrite) join; the same
    names and numbers in another order, with other words around them, do not."""
    from pipeline.dedup._signature import signature_of_text

    names = [f"Name{chr(65 + i)}{chr(97 + j)}" for i in range(6) for j in range(6)][:n_pairs]
    numbers = [str(1000 + 37 * i) for i in range(n_pairs)]
    items = [x for pair in zip(names, numbers, strict=True) for x in pair]

    def text(words: list[str], order: list[str]) -> str:
        out = []
        for i in range(0, len(order), 2):
            out.append(
                f"The {words[i % len(words)]} said {order[i]} had {order[i + 1]} {words[(i + 1) % len(words)]}."
            )
        return " ".join(out)

    original = text(["council", "ministry", "harbour", "budget", "agency"], items)
    rewrite = text(["authority", "department", "dockside", "spending", "office"], items)
    shuffled = items[:]
    random_order = __import__("random").Random(3)
    pairs = [shuffled[i : i + 2] for i in range(0, len(shuffled), 2)]
    random_order.shuffle(pairs)
    other = text(["authority", "department", "dockside", "spending", "office"], [x for p in pairs for x in p])
    index = DedupIndex(config)
    index.insert("a", "s-a", signature_of_text(original), 1.7e9)
    joins = config.order_short_common <= 2 * n_pairs
    assert (index.lookup("b", signature_of_text(rewrite)) is not None) == joins
    assert index.lookup("c", signature_of_text(other)) is None


def test_key_table_finds_every_row_of_a_key_through_builds_and_compaction() -> None:
    """The exact-key tables keep 2 bytes per row (the high half; the bucket is the low half):
    every row of a key (or of any of several keys) is found in the table and in the delta buffer,
    across builds that drop rows, as a plain scan of the whole keys finds them."""
    import random

    import numpy as np

    from pipeline.dedup._index import _KeyTable

    rng = random.Random(5)
    pool = [rng.getrandbits(32) for _ in range(40)] + [0x0001_0005, 0x0002_0005, 0x0005]  # same low half
    table = _KeyTable()
    keys: list[int] = []  # whole key of each row, in row order
    built = 0
    for _ in range(6):
        for _ in range(rng.randint(50, 400)):
            key = rng.choice(pool)
            table.append(key)
            keys.append(key)
        for key in pool:
            expect = [i for i, k in enumerate(keys) if k == key]
            assert sorted(table.rows_for(key, built).tolist()) == expect
        for _ in range(20):  # several keys at once (the probe list of the whole keys)
            asked = [*rng.sample(pool, k=rng.randint(1, 6)), rng.getrandbits(32)]
            expect = [i for i, k in enumerate(keys) if k in asked]
            assert sorted(table.rows_for_any(np.array(asked, dtype=np.uint32), built).tolist()) == expect
        assert table.rows_for_any(np.zeros(0, dtype=np.uint32), built).size == 0
        full = table.full_keys(len(keys), built)
        assert full.tolist() == keys
        keep = np.array(sorted(rng.sample(range(len(keys)), k=len(keys) * 3 // 4)), dtype=np.intp)
        table.build(full[keep])
        keys = [keys[i] for i in keep.tolist()]
        built = len(keys)


def test_a_signature_of_an_older_version_is_a_value_error() -> None:
    """A prepared message written before a deploy (version 8, 789 bytes) is refused with the
    error the prepare path handles (it re-fingerprints), not a struct error."""
    from pipeline.dedup import Signature

    with pytest.raises(ValueError, match="version 8"):
        Signature.from_bytes(bytes([8]) + bytes(788))
    with pytest.raises(ValueError):
        Signature.from_bytes(b"")


PORT_BRIEF = """Harbour officials in Port Elwood closed the northern container terminal after a crane collapsed onto a cargo ship late on Sunday.
Two dock workers were taken to Saint Brigid hospital with minor injuries, a spokeswoman for the Elwood Port Authority said.
The Maren Star, a feeder vessel registered in Malta, was loading refrigerated containers when the boom of the crane gave way.
Engineers from the company that built the crane will inspect the other four cranes at the terminal before it reopens."""

PORT_STORY = """Port Elwood faces days of disruption at its busiest berth.
Shipping agents spent Monday rerouting vessels to the southern quays, where berths were already booked for most of the week, and hauliers queued outside the gates from dawn.
The closure comes at the start of the citrus season, when importers rely on the refrigerated plugs at the northern terminal.
Harbour officials in Port Elwood closed the northern container terminal after a crane collapsed onto a cargo ship late on Sunday.
The terminal handles about a third of the port's container traffic, and shipping lines were told to expect delays of up to a week.
Two dock workers were taken to Saint Brigid hospital with minor injuries, a spokeswoman for the Elwood Port Authority said.
A third worker was treated at the scene.
Video posted by a crew member showed the boom folding slowly onto the stacked deck cargo as workers ran along the quay.
The Maren Star, a feeder vessel registered in Malta, was loading refrigerated containers when the boom of the crane gave way.
Its owner, Skjold Feeder Lines, said the ship's hull was not breached and that the crew of 14 were unhurt.
The port authority said it could not yet say what caused the failure, and that the police had been informed as a matter of routine.
Union representatives said they had raised concerns about the age of the northern cranes at a safety meeting in March, a claim the authority did not dispute.
The cranes were installed in 1998 and last inspected in January, according to records published by the authority.
Engineers from the company that built the crane will inspect the other four cranes at the terminal before it reopens.
Traffic at the southern terminal, which uses newer equipment, was not affected, and the ferry service to Larne Island ran to its usual timetable.
The port's chief executive, Alun Pryce, said safety came before any commercial consideration and that the terminal would stay closed for as long as the engineers needed.
Local businesses that import fresh produce through the northern terminal said they were arranging road deliveries from other ports in the meantime."""


def test_a_shorter_text_indexed_first_is_found_through_its_whole_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """A brief (or condensed version) indexed first, then the full story that holds most of its
    sentences: the brief's whole key (smallest hash of its key triples) is among the story's
    smallest triple hashes, so the brief is a candidate even when the fingerprints are far apart
    and no other key is shared (here the fingerprint candidates are switched off to show it).
    The story holds 40 of the brief's 46 triples, so the brief's whole key is in its probe list
    with probability about 0.9 for any hash: this pair is pinned (checked below), not promised."""
    from dataclasses import replace

    brief, story = signature_of_text(PORT_BRIEF), signature_of_text(PORT_STORY)
    assert brief.pairs_count < story.pairs_count
    assert (brief.lead_key, brief.anchor) != (story.lead_key, story.anchor)
    probe = [int.from_bytes(story.probe[i : i + 4], "little") for i in range(0, len(story.probe), 4)]
    assert brief.whole_key in probe and probe == sorted(p for p in probe if p) + [0] * probe.count(0)
    monkeypatch.setattr(DedupIndex, "_near_rows", lambda self, q: [])  # as if > max_distance bits apart
    for delta_max in (2048, 1):  # from the delta buffer, then from the built table
        index = _index(delta_max=delta_max)
        index.insert("brief", "s-brief", brief, 1.7e9)
        index.insert("other", "s-other", signature_of_text(QUAKE_B), 1.7e9)
        match = index.lookup("story", story)
        assert match is not None and match.story_id == "s-brief"
    assert brief.names_key == 0  # under 12 distinct names and numbers: listed by its whole key
    index = _index()
    index.insert("brief", "s-brief", replace(brief, probe=bytes(len(brief.probe))), 1.7e9)  # no whole key
    assert index.lookup("story", story) is None


def test_capped_key_rows_are_the_same_after_a_restart(monkeypatch: pytest.MonkeyPatch) -> None:
    """More rows under one whole key than a lookup reads, all published in the same second: the
    rows kept (the newest, ties by article id) do not depend on row numbers, which follow arrival
    in a running worker and article ids after a restart."""
    from dataclasses import replace

    brief, story = signature_of_text(PORT_BRIEF), signature_of_text(PORT_STORY)
    # other short texts with the same whole key, arriving after the brief but sorting before it
    junk = replace(signature_of_text(QUAKE_B), probe=brief.probe, names_key=0)
    monkeypatch.setattr(DedupIndex, "_near_rows", lambda self, q: [])
    config = DedupConfig(delta_max=64)
    live = DedupIndex(config)
    live.insert("zz-brief", "s-brief", brief, 1.7e9)
    for i in range(300):
        live.insert(f"j{i:03d}", f"s-j{i}", junk, 1.7e9)
    restarted = DedupIndex(config, dict(live.entries))
    found_live, found_restarted = live.lookup("story", story), restarted.lookup("story", story)
    assert found_live == found_restarted
    assert found_live is not None and found_live.story_id == "s-brief"  # "zz-brief" is the greatest id


def test_newest_rows_match_a_plain_sort() -> None:
    """The cap keeps the rows a plain sort by (published time, article id) keeps last."""
    import random

    import numpy as np

    rng = random.Random(3)
    index = DedupIndex(DedupConfig())
    n_rows = 3000
    for spread in (5, 100, 100_000):  # many ties in the cut second, some, almost none
        index._ts = np.array([rng.randint(1, spread) for _ in range(n_rows)], dtype=np.uint32)
        index._ids = [f"a{rng.getrandbits(30):09d}" for _ in range(n_rows)]
        rows = np.array(sorted(rng.sample(range(n_rows), 2000)), dtype=np.int64)
        for cap in (1, 256, 1999, 2000, 5000):
            ts, ids = index._ts, index._ids
            expect = sorted(sorted(rows.tolist(), key=lambda r: (int(ts[r]), ids[r]))[-cap:])
            assert index._newest(rows, cap).tolist() == expect
