"""Shared helpers of the fault-tolerance tests: generated articles and reconciliation on topics.

Articles are small plain-text stories built from seeded word pools, so thousands of them are
cheap to clean and enrich, distinct stories do not collide in the dedup index, and exact copies
(same body, another id, URL and source) always join the story of their original.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable
from typing import Any

from pipeline.reconcile import Report, reconcile_topics
from pipeline.settings import Settings
from pipeline.soak import pseudo_word
from tests.integration.harness import Collected, WorkerProcess, collect_until

_FIRST = (
    "Ada",
    "Bram",
    "Cleo",
    "Dara",
    "Emil",
    "Fenna",
    "Goran",
    "Hedda",
    "Ilse",
    "Jonas",
    "Kaia",
    "Lior",
    "Mara",
    "Nils",
    "Orla",
    "Piet",
    "Quinn",
    "Runa",
    "Sten",
    "Tove",
    "Ulla",
    "Vida",
)
_LAST = (
    "Varga",
    "Lind",
    "Okafor",
    "Brandt",
    "Haas",
    "Moreau",
    "Sato",
    "Novak",
    "Quist",
    "Rao",
    "Falk",
    "Dunmore",
    "Ekholm",
    "Petrov",
    "Castell",
    "Ibarra",
    "Nakata",
    "Holt",
    "Marsh",
)
_PLACES = (
    "Portwell",
    "Esker Hollow",
    "Brackmoor",
    "Tarnby",
    "Lowick",
    "Vennfield",
    "Marrowgate",
    "Dunhaven",
    "Kestrel Bay",
    "Ashcombe",
    "Fallowmere",
    "Glenrock",
    "Harrowden",
    "Islebridge",
)
_THINGS = (
    "ferry pier",
    "water plant",
    "library",
    "bridge",
    "school roof",
    "bus depot",
    "harbour wall",
    "rail crossing",
    "market hall",
    "flood barrier",
    "clinic",
    "wind farm",
    "tram line",
)
_VERBS = (
    "close for repairs",
    "reopen",
    "be rebuilt",
    "get new funding",
    "be inspected",
    "expand",
    "be sold",
    "switch to solar power",
    "hire forty staff",
    "cut its opening hours",
)
_WHEN = ("on Monday", "on Tuesday", "on Wednesday", "late on Thursday", "on Friday", "at the weekend")


def _word(rng: random.Random, capital: bool = False) -> str:
    return pseudo_word(rng, capital)


def story_text(rng: random.Random) -> tuple[str, str]:
    """(title, body) of a new small story. Invented names, places, words and numbers make each one
    distinct, so only copies of it can join its story (the shared template is kept short)."""
    person = f"{_word(rng, True)} {rng.choice(_LAST)}"
    place = f"{rng.choice(_PLACES)} {_word(rng, True)}"
    thing, verb = rng.choice(_THINGS), rng.choice(_VERBS)

    def sentence(n: int) -> str:
        words = [_word(rng, rng.random() < 0.2) for _ in range(n)]
        return " ".join(words).capitalize() + "."

    title = f"{place} {thing} to {verb}"
    body = (
        f"{place} said {rng.choice(_WHEN)} that the {thing} will {verb}. {sentence(12)}\n\n"
        f"{person} said {rng.randint(2, 900)} {_word(rng)} cost {rng.randint(1000, 99999)} euros. "
        f"{sentence(14)} {sentence(10)}\n\n{sentence(16)}"
    )
    return title, body


def article(aid: str, title: str, body: str, source: str, published_at: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": aid,
        "url": f"https://{source}/news/{aid}",
        "source": source,
        "content_type": "text/plain",
        "content": body,
        "title": title,
    }
    if published_at:
        doc["published_at"] = published_at
    return doc


def corpus(
    n_stories: int, copies: int, seed: int, prefix: str = "a"
) -> tuple[list[dict[str, Any]], list[set[str]]]:
    """``n_stories`` originals plus ``copies`` exact copies spread over them, interleaved.

    Returns the articles in publishing order and the expected grouping (sets of article ids).
    """
    rng = random.Random(seed)
    originals = []
    groups: dict[int, set[str]] = {}
    for i in range(n_stories):
        title, body = story_text(rng)
        aid = f"{prefix}{seed}-{i}"
        originals.append(article(aid, title, body, f"src{i % 7}.example"))
        groups[i] = {aid}
    keyed: list[tuple[float, dict[str, Any]]] = [(float(i), d) for i, d in enumerate(originals)]
    for j in range(copies):
        i = rng.randrange(n_stories)
        src = originals[i]
        aid = f"{prefix}{seed}-{i}-c{j}"
        # somewhere after its original, often much later
        keyed.append(
            (
                rng.uniform(i + 0.01, n_stories + 1),
                article(aid, src["title"], src["content"], f"mirror{j % 5}.example"),
            )
        )
        groups[i].add(aid)
    docs = [d for _, d in sorted(keyed, key=lambda kd: kd[0])]
    return docs, list(groups.values())


def grouping(stories: Iterable[dict[str, Any]]) -> set[frozenset[str]]:
    """The partition of article ids into stories (latest revisions given)."""
    return {frozenset(m["article_id"] for m in s["members"]) for s in stories}


def reconcile_now(settings: Settings) -> Report:
    return asyncio.run(reconcile_topics(settings))


def reconcile_when_accounted(settings: Settings, worker: WorkerProcess, timeout_s: float) -> Report:
    """Reconcile until no raw message is missing (fail with the worker's log on timeout)."""
    report: Report | None = None

    def accounted(_: Collected) -> bool:
        nonlocal report
        report = reconcile_now(settings)
        return not report.missing

    collect_until(settings, accounted, timeout_s=timeout_s, worker=worker)
    assert report is not None
    return report


def assert_reconciled(report: Report, raw_messages: int | None = None) -> None:
    assert report.ok, report.summary()
    if raw_messages is not None:
        assert report.raw_messages == raw_messages, report.summary()
    assert report.in_stories + report.dead_lettered == report.raw_messages, report.summary()


def grouping_diff(stories: Iterable[dict[str, Any]], groups: list[set[str]]) -> str:
    """Readable difference between the stories' grouping and the expected one ('' when equal)."""
    stories = list(stories)
    where = {
        m["article_id"]: (s["story_id"], m["relation"], m["matched"]) for s in stories for m in s["members"]
    }
    lines = []
    for g in groups:
        sids = {where.get(a, ("-",))[0] for a in g}
        if len(sids) > 1:
            lines.append("split " + ", ".join(f"{a}->{where.get(a)}" for a in sorted(g)))
    expected = {a: i for i, g in enumerate(groups) for a in g}
    for s in stories:
        owners = {expected.get(m["article_id"]) for m in s["members"]}
        if len(owners) > 1:
            lines.append(
                f"merged in {s['story_id']}: "
                + ", ".join(f"{m['article_id']}({m['relation']} of {m['matched']})" for m in s["members"])
            )
    return "\n".join(lines[:30])
