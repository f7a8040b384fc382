"""Different events of the same kind, written from one template, stay apart; their copies join."""

from __future__ import annotations

import random

from pipeline.dedup import DedupConfig, DedupIndex, signature, story_id_for
from pipeline.records import CleanedArticle

PLACES = ["Arlan", "Merrow", "Tessaly", "Corrin", "Vashti", "Oldmere", "Brisk", "Halvard", "Quenby", "Lusk"]
PEOPLE = ["Ana Vell", "Boris Kade", "Cora Linn", "Dmitri Osk", "Elia Brant", "Fenn Ward", "Gita Rao"]


def quake(rng: random.Random) -> str:
    here, there = rng.sample(PLACES, 2)
    return (
        f"A magnitude {rng.uniform(4, 7):.1f} earthquake struck near {here} on Tuesday, killing at least "
        f"{rng.randint(2, 90)} people and injuring {rng.randint(10, 400)}, officials said.\n\n"
        f"The quake was felt as far away as {there}, where buildings swayed for several seconds.\n\n"
        f"Rescue teams searched collapsed homes in {here} overnight, said regional governor "
        f"{rng.choice(PEOPLE)}, who asked the army for help.\n\n"
        f"The seismic institute said the epicentre was {rng.randint(5, 60)} kilometres deep."
    )


def test_templated_events_stay_apart_and_copies_join() -> None:
    rng = random.Random(7)
    cfg = DedupConfig()
    index = DedupIndex(cfg, {})
    texts = [quake(rng) for _ in range(150)]
    merged = 0
    for i, text in enumerate(texts):
        art = CleanedArticle(id=f"q{i}", url=f"https://a.example/{i}", source="a", title="", text=text)
        sig = signature(art, cfg)
        match = index.lookup(art.id, sig)
        merged += match is not None
        index.insert(art.id, match.story_id if match else story_id_for(art.id), sig, 1.7e9 + i)
    # Two draws can share both places, the governor and a number by chance; allow that rarely.
    assert merged <= 2, f"{merged} of 150 distinct templated events merged"
    for i in (3, 77, 149):  # a reprint of an event joins that event's story
        copy = CleanedArticle(id=f"c{i}", url=f"https://b.example/{i}", source="b", title="",
                              text="Advertisement\n\n" + texts[i])
        match = index.lookup(copy.id, signature(copy, cfg))
        assert match is not None and match.story_id == index.story_of(f"q{i}")
