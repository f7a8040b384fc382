"""Corpus tests: the seed pair through the real cleaner, and a quick generated subset."""

from __future__ import annotations

import pytest

from pipeline.dedup import DedupConfig, DedupIndex, signature, story_id_for
from pipeline.records import RawArticle
from tests.conftest import shared_path


@pytest.mark.corpus
def test_seeds_form_one_story() -> None:
    from pipeline.clean import CleanConfig, clean_article

    seeds = sorted(shared_path("seeds").glob("*.txt"))
    assert len(seeds) == 2
    config = DedupConfig()
    index = DedupIndex(config)
    stories = []
    for i, path in enumerate(seeds):
        raw = RawArticle(id=path.stem, url=f"https://seed{i}.example/{path.stem}", source=f"seed{i}",
                         content=path.read_text("utf-8"), content_type="text/plain")  # fmt: skip
        sig = signature(clean_article(raw, CleanConfig()), config)
        match = index.lookup(raw.id, sig)
        story = match.story_id if match else story_id_for(raw.id)
        index.insert(raw.id, story, sig, 1_700_000_000.0 + i)
        stories.append(story)
    assert stories[0] == stories[1]


@pytest.mark.corpus
def test_generated_subset_floors() -> None:
    from pipeline.evaluation.dedup_eval import assign_ours, clean_texts, pair_scores
    from pipeline.evaluation.versions import generate, load_ecbplus

    rows = list(generate(load_ecbplus(shared_path("data", "ecbplus-dev"))))
    keep = set(sorted({r["base_id"] for r in rows})[:120])
    rows = [r for r in rows if r["base_id"] in keep]
    pred = assign_ours(rows, clean_texts(rows), DedupConfig())
    scores = pair_scores(pred, [r["story_label"] for r in rows])
    assert scores["precision"] >= 0.99
    assert scores["recall"] >= 0.93


@pytest.mark.corpus
def test_real_wire_copies_in_ecbplus() -> None:
    """Issue 4's bar on real news: pairs of ECB+ articles labelled by word 5-gram containment
    (copies >= 0.5, different < 0.2), precision >= 0.99 and recall >= 0.97.

    0.97 needs 51 of the 52 copy pairs, the most the labels allow (see README). One of them,
    13_12ecb inside 13_3ecb (61-68% of its triples), is found only through its whole key, which
    a text holding that share of it holds with about that probability: a change to the features
    or hashes can lose it by chance, and this test then says so by naming the missed pair."""
    from pipeline.evaluation.dedup_eval import run_ecbplus

    scores = run_ecbplus(shared_path("data", "ecbplus-dev"), methods=("ours",))["methods"]["ours"]
    assert scores["positives"] >= 50 and scores["negatives"] > 100_000
    assert scores["precision"] >= 0.99
    assert scores["recall"] >= 0.97, scores["missed"]
