"""Corpus tests on ../shared: the two seeds clean to their body alone; a Zyte sample scores well."""

from __future__ import annotations

import dataclasses
import gzip
import json
from pathlib import Path

import pytest

from pipeline.clean import CleanConfig, clean_html, clean_text, decode_bytes
from pipeline.evaluation._scoring import aggregate, shingle_match

pytestmark = pytest.mark.corpus


def _seed(shared: Path, name: str) -> str:
    return (shared / "seeds" / name).read_text(encoding="utf-8")


def test_seed_000_syndication_rewrite(shared: Path, config: CleanConfig) -> None:
    title, body = clean_text(_seed(shared, "000_3fdd697d1c7e9ee6.txt"), config)
    assert title.startswith("Russian-led troops begin to withdraw from Kazakhstan")
    assert not body.startswith("Russian-led troops begin")
    assert body.startswith("More than 2,000 Russian-led troops have begun to withdraw from Kazakhstan")
    assert body.endswith("amid deteriorating living standards and rampant corruption.")
    for junk in ("Post Disclaimer", "Disclaimer", "cookies", "Syndicate", "Accept Read More"):
        assert junk not in body


def test_seed_002_newspaper_print(shared: Path, config: CleanConfig) -> None:
    title, body = clean_text(_seed(shared, "002_bd708d90e5045a05.txt"), config)
    assert title == ""
    assert body.startswith("More than 2,000 Russia-led troops yesterday began withdrawing from Kazakhstan")
    assert body.endswith(
        "Tokayev said the phased withdrawal of the foreign troops would take no more than 10 days."
    )
    assert "Photo: AP" not in body
    for teaser in (
        "Saudi",
        "Hamdi Shukri",
        "100 percent tariff",
        "scam suspects",
        "PRECARIOUS",
        "SCAM CLAMPDOWN",
    ):
        assert teaser not in body
    assert "Shaimukhambetov said, referring to political protests" in body


@pytest.mark.parametrize("fallback", [True, False], ids=["fallback", "no-fallback"])
def test_zyte_sample_scores(shared: Path, config: CleanConfig, fallback: bool) -> None:
    """Also without trafilatura's readability cross-check (PIPELINE_HTML_FALLBACK=false)."""
    root = shared / "data" / "zyte-article-extraction"
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    config = dataclasses.replace(config, html_fallback=fallback)
    scores = []
    for key in sorted(truth)[:12]:
        page = decode_bytes(gzip.decompress((root / "html" / f"{key}.html.gz").read_bytes()))
        scores.append(shingle_match(truth[key]["articleBody"], clean_html(page, config).body))
    assert aggregate(scores)["f1"] >= 0.9
