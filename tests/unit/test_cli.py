"""The command line: help on every command, clear failures, the batch path on our sample feed."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from pipeline.broker import free_port
from pipeline.cli import main

COMMANDS = ["demo", "broker", "worker", "publish", "tail", "process", "reconcile", "eval", "bench"]
SAMPLE = Path(__file__).resolve().parents[2] / "pipeline" / "samples" / "sample_feed.jsonl"


@pytest.mark.parametrize("command", COMMANDS)
def test_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert "usage: pipeline" in capsys.readouterr().out


def test_publish_to_unreachable_broker_fails_fast(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("A short article.", "utf-8")
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "publish",
            "--wait",
            "0",
            "--bootstrap",
            f"127.0.0.1:{free_port()}",
            str(f),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "unreachable" in proc.stderr
    assert time.monotonic() - started < 20


def test_process_missing_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["process", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "o.jsonl")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_sample_feed_groups_as_labelled(tmp_path: Path) -> None:
    """Our bundled sample: every version joins its story; distinct same-topic stories stay apart."""
    out = tmp_path / "stories.jsonl"
    assert main(["process", str(SAMPLE), "-o", str(out), "--no-entities"]) == 0
    gold = {d["id"]: d["sample_story"] for d in map(orjson.loads, SAMPLE.read_bytes().splitlines())}
    stories = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    pred = {m["article_id"]: s["story_id"] for s in stories for m in s["members"]}
    assert set(pred) == set(gold)  # every article is in exactly one story
    pairs = list(itertools.combinations(sorted(gold), 2))
    false_merges = [(a, b) for a, b in pairs if pred[a] == pred[b] and gold[a] != gold[b]]
    missed = [(a, b) for a, b in pairs if pred[a] != pred[b] and gold[a] == gold[b]]
    assert false_merges == []
    assert len(missed) <= MAX_MISSED_PAIRS, missed
    for s in stories:
        text = s["canonical"]["text"]
        assert "<" not in text and "cookie" not in text.lower()


MAX_MISSED_PAIRS = 5  # of 51 same-story pairs; measured 5 (one hand-written rewrite not joined)


def test_bench_stops_when_a_worker_dies(broker: str) -> None:
    """A worker that cannot start makes the end-to-end benchmark stop with its log (without the
    check, the drain would wait out its timeout and return without an error)."""
    from pipeline.evaluation.bench import WorkerDied, end_to_end

    doc = {"id": "bench-dies-1", "url": "https://a.example/1", "source": "a.example", "content": "Text."}
    with pytest.raises(WorkerDied, match="PIPELINE_WORKER_ROLE"):
        end_to_end(broker, [doc], "dies", entities=False, roles=["no-such-role"])
