"""``pipeline process``: the batch path gives the seeds as one story, and dead letters for bad lines."""

from __future__ import annotations

from pathlib import Path

import orjson

from pipeline.cli import main
from pipeline.contracts import contracts, schema_error
from tests.seeds import assert_clean_seed_story, seed_articles


def test_process_seeds_and_bad_lines(seeds_dir: Path, tmp_path: Path) -> None:
    seeds = seed_articles(seeds_dir)
    src = tmp_path / "in.jsonl"
    lines = [
        orjson.dumps(seeds[0]),
        b"{not json",
        orjson.dumps({"id": "x"}),
        orjson.dumps(seeds[1]),
        orjson.dumps(seeds[0]),
    ]
    src.write_bytes(b"\n".join(lines) + b"\n")
    out, dl = tmp_path / "stories.jsonl", tmp_path / "dl.jsonl"
    assert main(["process", str(src), "-o", str(out), "--dead-letters", str(dl)]) == 0
    stories = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert len(stories) == 1
    assert schema_error(contracts().story, stories[0]) is None
    assert_clean_seed_story(stories[0], {d["id"] for d in seeds})
    dead = [orjson.loads(line) for line in dl.read_bytes().splitlines()]
    assert sorted((d["offset"], d["reason"]) for d in dead) == [(1, "malformed_json"), (2, "schema_invalid")]
