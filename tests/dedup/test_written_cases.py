"""Held-out, hand-written cases for the product's core promise: one story per story, every source listed.

``tests/data/written_cases.jsonl`` holds 21 raw articles in six story families, written by hand
for this test (entirely fictional events, people, places and outlets on ``.example`` domains; no
text copied from anywhere). They were written from the product's promise only, without reading
the cleaning or deduplication code, and neither the detector nor its thresholds were tuned on
them. Gold labels are in each line (``case_family``, ``case_role``: extra fields the raw-article
schema allows) and in ``tests/data/written_cases.labels.json`` (members, negative, the exact
boilerplate strings glued on, and the first and last body paragraph of the original).

Each family has:

- ``A``: a wire story (11-12 paragraphs, 463-478 words) with 2-3 teasers of unrelated stories
  glued at the end (headline line plus blurb) and, on some, a photo credit, a "Share this article"
  line or a "Trending now" header;
- ``B``: the same story put through an automatic rewriter on a syndication site: sentences
  reworded, the weekday turned into "yesterday", one number written differently, one
  transliterated name spelled differently, a new headline, a sentence or two dropped, plus a
  cookie notice and an "automatically generated" disclaimer;
- ``C`` (families 1, 3, 5): a reprint of A cut to its first 60% of paragraphs, with a "Read
  more:" line and a newsletter sign-up line;
- ``N``: a hard negative by another outlet: for families 4-6 an independent report of the same
  event (own structure, own quotes), for families 1-3 a different event of the same kind
  (another earthquake, another strike, another celebrity entering treatment) in a similar style.

Expected: A, B (and C) form one story listing all their sources and nothing else; every N is a
story of its own; the canonical text (the most complete clean version, which is A's body) keeps
A's first and last body paragraph and none of the boilerplate strings. The articles go through
``pipeline process`` (the same entry point as ``tests/integration/test_process.py``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from pipeline.cli import main

DATA = Path(__file__).resolve().parent.parent / "data"
CASES = DATA / "written_cases.jsonl"
LABELS: dict[str, Any] = orjson.loads((DATA / "written_cases.labels.json").read_bytes())
FAMILIES: dict[str, dict[str, Any]] = LABELS["families"]

Story = dict[str, Any]


PLAIN: dict[str, str | int | None] = {
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u2011": "-",
    "\u00a0": " ",
}  # fmt: skip
TYPOGRAPHY = str.maketrans(PLAIN)


def norm(text: str) -> str:
    """Whitespace collapsed, typographic quotes and dashes made plain: compare words, not typography."""
    text = text.translate(TYPOGRAPHY)
    return re.sub(r"\s+", " ", text).strip()


class Run:
    def __init__(self, stories: list[Story], dead: list[dict[str, Any]], articles: list[dict[str, Any]]):
        self.stories = stories
        self.dead = dead
        self.articles = {a["id"]: a for a in articles}
        self.story_of: dict[str, Story] = {}
        for story in stories:
            for member in story["members"]:
                self.story_of[member["article_id"]] = story

    def where(self, article_id: str) -> str:
        story = self.story_of.get(article_id)
        if story is None:
            return f"{article_id}: in no story"
        ids = [m["article_id"] for m in story["members"]]
        return f"{article_id}: story {story['story_id']} members {ids}"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("written_cases")
    out, dl = tmp / "stories.jsonl", tmp / "dl.jsonl"
    assert main(["process", str(CASES), "-o", str(out), "--dead-letters", str(dl), "--no-entities"]) == 0
    stories = [orjson.loads(line) for line in out.read_bytes().splitlines() if line.strip()]
    dead = [orjson.loads(line) for line in dl.read_bytes().splitlines() if line.strip()]
    articles = [orjson.loads(line) for line in CASES.read_bytes().splitlines() if line.strip()]
    return Run(stories, dead, articles)


def test_every_case_is_accepted_and_in_exactly_one_story(run: Run) -> None:
    reasons = [(d.get("offset"), d.get("reason")) for d in run.dead]
    assert run.dead == [], f"dead letters for hand-written cases: {reasons}"
    seen: dict[str, int] = {}
    for story in run.stories:
        for member in story["members"]:
            seen[member["article_id"]] = seen.get(member["article_id"], 0) + 1
    missing = sorted(set(run.articles) - set(seen))
    twice = sorted(a for a, n in seen.items() if n > 1)
    assert not missing, f"articles in no story: {missing}"
    assert not twice, f"articles in more than one story: {twice}"


def _original_story(run: Run, family: str) -> dict[str, Any]:
    """The story holding the family's original (A); fails the test when there is none."""
    original = FAMILIES[family]["members"]["A"]
    story = run.story_of.get(original)
    assert story is not None, f"{family}: the original {original} is in no story"
    return story


# wc-1's rewrite keeps 29% of the original's word triples and 38% of its words 13 bits away (names
# and numbers: 92% found in the original). An ECB+ pair of independent reports of one shooting
# (18_3/18_13, labelled different) has the same profile (26%, 41%, 13 bits, 100%), so a rule that
# joins wc-1 also joins that pair (measured: ECB+ precision 1.000 -> 0.961). A known miss until the
# index can tell a sentence-by-sentence rewrite from a report of the same facts; strict, so a
# change that joins it shows up here.
_HEAVY_REWRITE = pytest.mark.xfail(
    strict=True, reason="heavy spinner rewrite, indistinguishable from an independent report on our sketches"
)
_FAMILY_PARAMS = [pytest.param(f, marks=_HEAVY_REWRITE) if f == "wc-1" else f for f in sorted(FAMILIES)]


@pytest.mark.parametrize("family", _FAMILY_PARAMS)
def test_family_versions_form_one_story(run: Run, family: str) -> None:
    fam = FAMILIES[family]
    ids = list(fam["members"].values())
    story_ids = {run.story_of[i]["story_id"] if i in run.story_of else None for i in ids}
    assert len(story_ids) == 1, (
        f"{family} ({fam['slug']}): versions {ids} are split over {len(story_ids)} stories: "
        + "; ".join(run.where(i) for i in ids)
    )


@pytest.mark.parametrize("family", _FAMILY_PARAMS)
def test_family_story_lists_every_source(run: Run, family: str) -> None:
    fam = FAMILIES[family]
    story = _original_story(run, family)
    listed = {m["source"] for m in story["members"]}
    for role, article_id in fam["members"].items():
        source = run.articles[article_id]["source"]
        assert source in listed, (
            f"{family} ({fam['slug']}): story of {fam['members']['A']} does not list the source of "
            f"{role} {article_id} ({source}); it lists {sorted(listed)}"
        )


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_story_has_no_other_members(run: Run, family: str) -> None:
    fam = FAMILIES[family]
    story = _original_story(run, family)
    extra = sorted({m["article_id"] for m in story["members"]} - set(fam["members"].values()))
    assert not extra, f"{family} ({fam['slug']}): story of {fam['members']['A']} also holds {extra}"


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_negative_is_a_story_of_its_own(run: Run, family: str) -> None:
    fam = FAMILIES[family]
    negative = fam["negative"]
    story = run.story_of.get(negative)
    assert story is not None, f"{family}: negative {negative} is in no story"
    others = [m["article_id"] for m in story["members"] if m["article_id"] != negative]
    assert not others, (
        f"{family} ({fam['slug']}, {fam['negative_kind']}): negative {negative} "
        f"({run.articles[negative]['source']}) was merged with {others}"
    )


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_canonical_text_has_no_boilerplate(run: Run, family: str) -> None:
    fam = FAMILIES[family]
    story = _original_story(run, family)
    text = norm(story["canonical"]["text"])
    survived = [
        f"{kind}: {snippet!r}"
        for kind, snippets in fam["boilerplate"].items()
        for snippet in snippets
        if norm(snippet) in text
    ]
    assert not survived, (
        f"{family} ({fam['slug']}): canonical text (article {story['canonical']['article_id']}) keeps "
        + "; ".join(survived)
    )


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("which", ["first_paragraph", "last_paragraph"])
def test_canonical_text_keeps_the_body(run: Run, family: str, which: str) -> None:
    fam = FAMILIES[family]
    story = _original_story(run, family)
    text = story["canonical"]["text"]
    paragraph = fam[which]
    assert norm(paragraph) in norm(text), (
        f"{family} ({fam['slug']}): canonical text (article {story['canonical']['article_id']}, expected "
        f"the most complete version {fam['canonical']}) lacks A's {which.replace('_', ' ')} "
        f"{paragraph[:90]!r}...; "
        f"canonical text ends {text[-300:]!r}"
    )
