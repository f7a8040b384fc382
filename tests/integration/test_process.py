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
    assert {d["offset"]: d["article_id"] for d in dead} == {1: None, 2: "x"}  # the id, when readable


def test_process_content_type_headers_and_other_types(seeds_dir: Path, tmp_path: Path) -> None:
    """A content type as an HTTP header gives it ('Text/HTML; charset=UTF-8') is read as its media
    type; a type the cleaner cannot read is dead-lettered as unsupported_content_type, named."""
    seeds = seed_articles(seeds_dir)
    page = dict(seeds[0], id="hdr", content_type="Text/Plain; charset=UTF-8")
    pdf = dict(seeds[1], id="pdf", content_type="application/pdf")
    empty = dict(seeds[1], id="blank", content="   ")
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(orjson.dumps(d) for d in (page, pdf, empty)) + b"\n")
    out, dl = tmp_path / "stories.jsonl", tmp_path / "dl.jsonl"
    assert main(["process", str(src), "-o", str(out), "--dead-letters", str(dl)]) == 0
    stories = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert [m["article_id"] for s in stories for m in s["members"]] == ["hdr"]
    dead = {d["article_id"]: d for d in map(orjson.loads, dl.read_bytes().splitlines())}
    assert dead.keys() == {"pdf", "blank"}
    assert dead["pdf"]["reason"] == "unsupported_content_type" and "application/pdf" in dead["pdf"]["error"]
    assert dead["blank"]["reason"] == "empty_body"
