"""Deterministic generator of versions of news articles, for the dedup evaluation.

What goes in: ECB+ dev articles (``../shared/data/ecbplus-dev/articles.jsonl``: id, topic,
event_cluster, title, text). What comes out: raw-article dicts (``content_type`` "text/plain")
with a gold ``story_label``, a ``version_kind`` and a ``published_at``, in publication order.

Bases: articles of at least ``MIN_WORDS`` words, chosen greedily in id order so that no two bases
share more than 20% of their word 5-grams (real wire copies inside ECB+ would otherwise be
labelled as different stories). Each base is one story and appears as ``original``; a seeded
``random.Random`` (seed + base id) then draws versions of it, each a separate article:

- ``exact``: the same text (new id, new URL).
- ``reprint``: the same text in another site's chrome (menu line, byline, share/copyright lines).
- ``abridged``: the first 45-80% of the sentences (papers cut from the bottom).
- ``edited``: a light edit: weekday names -> "yesterday"/"today", transliteration variants of
  names (Tokayev/Tokaev style vowel and consonant changes), number formats (2,000/2000,
  10/ten, January 6/Jan. 6, percent), a new headline line on top.
- ``rewrite``: a paraphrase in the manner of automatic rewriters: words replaced from our own
  small synonym table (with high probability when listed), "X said" / "said X" swaps, sentences
  split at ", and" and short ones merged, a few adjacent sentences swapped, plus the light edits.
  On the dev set this changes about a third of the content words, like the seed pair.
- ``<kind>+teasers``: any of the above with 2-4 leads of unrelated articles (other topics) glued
  after it and sometimes a boilerplate line before it.

Hard negatives, each its own story: every other base of the same ECB+ topic (same kind of
event, often a different instance: two earthquakes, two rehab check-ins) and a ``followup`` per
some bases: the base's first sentence (edited) followed by the body of another report of the same
event (new facts), labelled as a new story.

Published times: bases spread over ``SPAN_DAYS`` days; versions follow their original within two
days, so the 7-day window of the dedup stage is exercised.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

MIN_WORDS = 80
SPAN_DAYS = 60
KINDS = ("exact", "reprint", "abridged", "edited", "rewrite")

# Our own small table of interchangeable news words (both directions are used).
_SYNONYM_GROUPS = """
begin start commence|began started|said stated noted|says states|told informed|killed slain
|killing slaying|dead deceased|died perished|injured wounded hurt|attack assault|attacked assaulted
|police officers|officials authorities|government administration|president leader|announced declared
|arrested detained|charged indicted|fire blaze|home house residence|city town|area region|nearly almost
|about roughly approximately|large big|small little|major significant|important crucial
|decision move|help assist|helped assisted|show display|showed displayed|believe think|believed thought
|people individuals|group organization|company firm|car vehicle|boat vessel|plane aircraft
|report account|reported stated|news reports|expected anticipated|continue proceed|continued proceeded
|caused triggered|after following|before prior_to|during amid|because since|however but
|including among_them|also additionally|later subsequently|quickly rapidly|again once_more
|earlier previously|recent latest|seized captured|withdraw pull_out|violence unrest|clashes fighting
|dozens scores|protest demonstration|protests demonstrations|troops soldiers|forces troops
|country nation|capital seat|funeral burial|victims casualties|suspect accused|trial hearing
|court tribunal|judge magistrate|sentence penalty|prison jail|hospital clinic|treatment care
|actress star|actor performer|singer vocalist|fans supporters|match game|win victory|won claimed
|team side|coach manager|season campaign|record tally|title crown|fight bout|round stage
|earthquake quake|magnitude strength|struck hit|damage destruction|buildings structures|residents locals
|rescue relief|workers employees|spokesman spokesperson|statement release|interview conversation
|magazine publication|website site|phone telephone|deal agreement|plan proposal|meeting talks
|launch introduce|launched introduced|product device|market sector|price cost|prices costs|rise increase
|fell dropped|hike increase|week period|month stretch|warned cautioned|asked requested|wanted sought
|tried attempted|found discovered|left departed|arrived reached|returned came_back|sent dispatched
|chief head|member participant|members participants|place location|event incident|situation circumstances
"""


def _synonyms() -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for group in _SYNONYM_GROUPS.replace("\n", "").split("|"):
        words = group.split()  # "_" joins a multi-word alternative
        for w in words:
            if "_" not in w:
                table.setdefault(w, [x.replace("_", " ") for x in words if x != w])
    return table


SYNONYMS = _synonyms()
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_ABBR = {
    "January": "Jan.", "February": "Feb.", "March": "March", "April": "April", "May": "May",
    "June": "June", "July": "July", "August": "Aug.", "September": "Sept.", "October": "Oct.",
    "November": "Nov.", "December": "Dec.",
}  # fmt: skip
_SMALL = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_TRANSLIT = (("ay", "a"), ("ei", "ey"), ("ov", "off"), ("ck", "k"), ("ph", "f"), ("y", "i"), ("sh", "ch"))
_CHROME_TOP = ("Home | News | World | Politics | Sports", "By Staff Writer", "Updated 2 hours ago")
_CHROME_BOTTOM = ("Share this article: Facebook Twitter Email",
                  "Copyright 2013 Daily Courier. All rights reserved.",
                  "Follow us for the latest news")  # fmt: skip
_SENT_RE = re.compile(r"(?<=[.!?\"”])\s+(?=[A-Z“\"])")


def sentences(text: str) -> list[str]:
    out: list[str] = []
    for line in text.split("\n"):
        out.extend(s.strip() for s in _SENT_RE.split(line) if s.strip())
    return out


def _translit(word: str, rng: random.Random) -> str:
    rules = [(a, b) for a, b in _TRANSLIT if a in word[1:]]
    if not rules:
        return word
    a, b = rng.choice(rules)
    return word[0] + word[1:].replace(a, b, 1)


def light_edit(text: str, rng: random.Random) -> str:
    """Weekdays -> relative days, name transliterations, number and date formats."""
    for day in _WEEKDAYS:
        text = re.sub(rf"\b(on )?{day}\b", lambda _m: rng.choice(("yesterday", "today")), text)
    names = sorted(set(re.findall(r"(?<=[a-z,] )[A-Z][a-z]{4,}", text)))
    for name in names:
        if rng.random() < 0.5:
            text = re.sub(rf"\b{name}\b", _translit(name, rng), text)
    text = re.sub(r"\b(\d{1,3}),(\d{3})\b", r"\1\2", text)
    text = re.sub(
        r"\b([1-9]|10)\b(?![,.]\d)",
        lambda m: _SMALL[int(m.group(1))] if rng.random() < 0.5 else m.group(1),
        text,
    )
    for month, abbr in _MONTH_ABBR.items():
        text = re.sub(rf"\b{month} (\d{{1,2}})\b", rf"{abbr} \1", text)
    return re.sub(r"(\d) ?%", r"\1 percent", text)


def _swap_said(sentence: str) -> str:
    m = re.match(r"^(.*), (\w+(?: \w+)?) said\.$", sentence)
    if m and len(m.group(2).split()) <= 2:
        return f"{m.group(2)} said that {m.group(1)[0].lower()}{m.group(1)[1:]}."
    return sentence


def rewrite(text: str, rng: random.Random, p_syn: float = 0.9) -> str:
    """Paraphrase: synonyms, said-swaps, split/merge, adjacent swaps, light edits."""
    out: list[str] = []
    for s in sentences(text):
        words = s.split(" ")
        for i, w in enumerate(words):
            core = w.strip(".,;:\"“”'’()")
            alts = SYNONYMS.get(core.lower())
            if alts and rng.random() < p_syn:
                rep = rng.choice(alts)
                if core[:1].isupper():
                    rep = rep[:1].upper() + rep[1:]
                words[i] = w.replace(core, rep, 1)
        s = _swap_said(" ".join(words))
        if ", and " in s and rng.random() < 0.5:
            a, b = s.split(", and ", 1)
            out.extend([a + ".", b[:1].upper() + b[1:]])
        else:
            out.append(s)
    merged: list[str] = []
    for s in out:
        if merged and len(s.split()) < 12 and len(merged[-1].split()) < 14 and rng.random() < 0.4:
            merged[-1] = merged[-1].rstrip(".") + "; " + s[:1].lower() + s[1:]
        else:
            merged.append(s)
    for i in range(2, len(merged) - 1):
        if rng.random() < 0.15:
            merged[i], merged[i + 1] = merged[i + 1], merged[i]
    return light_edit("\n\n".join(merged), rng)


def make_version(kind: str, title: str, text: str, rng: random.Random) -> tuple[str, str]:
    """Title and text of one version of kind ``kind`` (without teasers)."""
    sents = sentences(text)
    if kind == "exact":
        return title, text
    if kind == "reprint":
        top = rng.sample(_CHROME_TOP, 2)
        bottom = rng.sample(_CHROME_BOTTOM, 2)
        return title, "\n\n".join([*top, text, *bottom])
    if kind == "abridged":
        keep = max(2, round(len(sents) * rng.uniform(0.45, 0.8)))
        return title, "\n\n".join(sents[:keep])
    if kind == "edited":
        new_title = rewrite(title, rng, p_syn=1.0)
        return new_title, new_title + "\n\n" + light_edit("\n\n".join(sents), rng)
    if kind == "rewrite":
        return rewrite(title, rng, p_syn=1.0), rewrite(text, rng)
    raise ValueError(f"unknown version kind {kind}")


def _grams(text: str) -> set[tuple[str, ...]]:
    w = re.findall(r"\w+", text.lower())
    return {tuple(w[i : i + 5]) for i in range(len(w) - 4)}


def _copies_a_base(article: dict[str, Any], base_grams: list[set[tuple[str, ...]]]) -> bool:
    g = _grams(article["text"])
    return any(len(g & h) > 0.2 * max(1, min(len(g), len(h))) for h in base_grams)


def load_ecbplus(data: Path) -> list[dict[str, Any]]:
    with (data / "articles.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def choose_bases(articles: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    bases: list[dict[str, Any]] = []
    grams: list[set[tuple[str, ...]]] = []
    for a in sorted(articles, key=lambda r: r["id"]):
        if len(a["text"].split()) < MIN_WORDS:
            continue
        g = _grams(a["text"])
        if any(len(g & h) > 0.2 * min(len(g), len(h)) for h in grams):
            continue
        bases.append(a)
        grams.append(g)
    return bases


def generate(
    articles: Sequence[dict[str, Any]], seed: int = 13, per_base: int = 4
) -> Iterator[dict[str, Any]]:
    """The labelled set (see module docstring), in publication order."""
    bases = choose_bases(articles)
    base_grams = [_grams(b["text"]) for b in bases]
    used_grams: list[set[tuple[str, ...]]] = []  # each follow-up body is used once
    start = datetime(2013, 1, 1, tzinfo=UTC)
    out: list[dict[str, Any]] = []
    by_topic: dict[int, list[dict[str, Any]]] = {}
    for a in articles:
        by_topic.setdefault(a["topic"], []).append(a)
    for n, base in enumerate(bases):
        rng = random.Random(f"{seed}:{base['id']}")
        label = f"story-{base['id']}"
        t0 = start + timedelta(days=SPAN_DAYS * n / max(1, len(bases)))
        title = base["title"] or sentences(base["text"])[0]

        def emit(kind: str, t: str, body: str, when: datetime, story: str = label,
                 base: dict[str, Any] = base, rng: random.Random = rng) -> None:  # fmt: skip
            vid = f"{base['id']}~{kind}~{len(out)}"
            out.append({
                "id": vid, "url": f"https://site{rng.randrange(1000)}.example/{vid}", "source": "generated",
                "content": body, "content_type": "text/plain", "title": t,
                "published_at": when.isoformat().replace("+00:00", "Z"),
                "story_label": story, "version_kind": kind, "base_id": base["id"],
            })  # fmt: skip

        emit("original", title, base["text"], t0)
        for kind in rng.sample(KINDS, per_base):
            t, body = make_version(kind, title, base["text"], rng)
            if rng.random() < 0.35:
                others = [a for a in articles if a["topic"] != base["topic"]]
                teasers = [sentences(o["text"])[0] for o in rng.sample(others, rng.randint(2, 4))]
                body = body + "\n\n" + "\n\n".join(teasers)
                if rng.random() < 0.5:
                    body = "Advertisement\n\n" + body
                kind += "+teasers"
            emit(kind, t, body, t0 + timedelta(minutes=rng.randint(5, 2880)))
        same_event = [a for a in by_topic[base["topic"]]
                      if a["event_cluster"] == base["event_cluster"] and a["id"] != base["id"]]  # fmt: skip
        same_event = [a for a in same_event if not _copies_a_base(a, base_grams + used_grams)]
        if same_event and rng.random() < 0.5:
            other = rng.choice(same_event)
            used_grams.append(_grams(other["text"]))
            lead = light_edit(sentences(base["text"])[0], rng)
            body = lead + "\n\n" + other["text"]
            emit("followup", title, body, t0 + timedelta(hours=rng.randint(6, 96)), f"followup-{base['id']}")
    out.sort(key=lambda r: (r["published_at"], r["id"]))
    yield from out
