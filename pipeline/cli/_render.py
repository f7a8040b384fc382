"""Human-readable rendering of story revisions."""

from __future__ import annotations

import textwrap
from typing import Any

from rich.table import Table
from rich.text import Text


def story_text(story: dict[str, Any], width: int = 100) -> Text:
    c = story["canonical"]
    members = story["members"]
    enr = story.get("enrichment") or {}
    t = Text()
    t.append(f"{story['story_id']}  rev {story['revision']}  ", style="dim")
    t.append(f"{len(members)} source(s)\n", style="bold cyan")
    t.append((c.get("title") or "(untitled)") + "\n", style="bold")
    lead = " ".join(c["text"].split())[:280]
    t.append(textwrap.fill(lead + ("..." if len(c["text"]) > 280 else ""), width) + "\n")
    for m in members:
        star = "*" if m["article_id"] == c["article_id"] else " "
        t.append(f"  {star} {m['source']:<28} {m['relation']:<8} {m['similarity']:.2f}  {m['url']}\n")
    ents = [e.get("name", "") for e in (enr.get("entities") or [])[:8]]
    if ents:
        t.append("  entities: " + ", ".join(ents) + "\n", style="green")
    return t


def story_table(stories: dict[str, dict[str, Any]]) -> Table:
    table = Table(title="canonical stories (latest revision)", expand=True)
    table.add_column("story", style="dim", no_wrap=True)
    table.add_column("rev", justify="right")
    table.add_column("title", ratio=3)
    table.add_column("sources", ratio=2)
    table.add_column("lang")
    table.add_column("entities", ratio=2)
    for s in sorted(stories.values(), key=lambda s: s["first_seen"]):
        enr = s.get("enrichment") or {}
        lang = (enr.get("language") or {}).get("code") or s["canonical"].get("language") or ""
        sources = ", ".join(f"{m['source']} ({m['relation']})" for m in s["members"])
        ents = ", ".join(e.get("name", "") for e in (enr.get("entities") or [])[:5])
        table.add_row(
            s["story_id"],
            str(s["revision"]),
            s["canonical"].get("title") or "(untitled)",
            sources,
            lang,
            ents,
        )
    return table
