"""The two seed articles as raw articles, and what must not survive cleaning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Distinctive bits of the boilerplate and of the four unrelated teasers glued to the seeds.
FORBIDDEN = (
    "Post Disclaimer",
    "auto-generated",
    "uses cookies",
    "opt-out",
    "Photo: AP",
    "Saudi",
    "Hamdi Shukri",
    "100 percent tariff",
    "Cambodia",
)


def seed_articles(seeds_dir: Path) -> list[dict[str, Any]]:
    out = []
    for i, path in enumerate(sorted(seeds_dir.glob("*.txt"))):
        out.append(
            {
                "id": f"seed-{path.stem}",
                "url": f"https://seed{i}.example/{path.stem}",
                "source": f"seed{i}.example",
                "content": path.read_text("utf-8"),
                "content_type": "text/plain",
                "published_at": f"2022-01-13T0{i}:00:00Z",
            }
        )
    assert len(out) == 2, f"expected two seed files in {seeds_dir}"
    return out


def assert_clean_seed_story(story: dict[str, Any], seed_ids: set[str]) -> None:
    assert {m["article_id"] for m in story["members"]} == seed_ids
    assert len(story["members"]) == 2
    text = story["canonical"]["text"]
    for bad in FORBIDDEN:
        assert bad not in text, f"{bad!r} survived cleaning"
    assert "Tokay" in text or "Tokae" in text
    assert "withdraw" in text
