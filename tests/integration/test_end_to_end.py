"""The whole path against the real broker: seeds -> one story; bad input -> dead letters."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import orjson
import pytest

from tests.integration.harness import (
    article_value,
    collect_until,
    fresh_settings,
    publish_values,
    start_worker,
)
from tests.seeds import assert_clean_seed_story, seed_articles

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("prepare_processes", [0, 2], ids=["in-worker", "prepare-pool"])
def test_seeds_become_one_story_with_two_sources(
    broker: str, seeds_dir: Path, tmp_path: Path, prepare_processes: int
) -> None:
    settings = fresh_settings(broker, tmp_path, raw_partitions=1, prepare_processes=prepare_processes)
    allowed = os.sched_getaffinity(0)
    # with the pool, the worker process pinned to one CPU (--cpus): its children still get them all
    pin = ("--cpus", str(min(allowed))) if prepare_processes else ()
    worker = start_worker(settings, tmp_path / "worker.log", *pin)
    seeds = seed_articles(seeds_dir)
    sentinel = dict(SENTINEL)
    try:
        asyncio.run(publish_values(settings, [article_value(d) for d in seeds]))
        c = collect_until(
            settings,
            lambda c: sum(len(s["members"]) for s in c.stories.values()) >= 2,
            timeout_s=120,
            worker=worker,
        )
        assert len(c.stories) == 1, [s["canonical"]["title"] for s in c.stories.values()]
        if pin:
            assert os.sched_getaffinity(worker.proc.pid) == {min(allowed)}
            children = _pool_children(worker.proc.pid)
            assert len(children) >= prepare_processes
            assert all(os.sched_getaffinity(child) == allowed for child in children)
        # Replay both (as at-least-once redelivery would), then an unrelated article in the same
        # partition: once its story is out, the replays have been processed.
        asyncio.run(publish_values(settings, [article_value(d) for d in [*seeds, sentinel]]))
        c = collect_until(
            settings,
            lambda c: any(
                m["article_id"] == sentinel["id"] for s in c.stories.values() for m in s["members"]
            ),
            timeout_s=60,
            worker=worker,
        )
    finally:
        worker.stop()
    seed_story = [s for s in c.stories.values() if s["members"][0]["article_id"] != sentinel["id"]]
    assert len(c.stories) == 2 and len(seed_story) == 1
    assert_clean_seed_story(seed_story[0], {d["id"] for d in seeds})
    assert max(r["revision"] for r in c.revisions if r["story_id"] == seed_story[0]["story_id"]) == 2
    assert c.dead == []


def _pool_children(pid: int) -> list[int]:
    """Process ids of ``pid``'s multiprocessing pool children (from /proc; not its resource
    tracker, which multiprocessing also starts)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"spawn_main" in cmdline:
                out.append(int(entry.name))
    return out


SENTINEL = {
    "id": "sentinel-1",
    "url": "https://news.example/sentinel-1",
    "source": "news.example",
    "content_type": "text/plain",
    "content": "Volunteers in the village of Esker Hollow planted 3,000 oak saplings on Saturday along "
    "the banks of the river Tarn, the local conservation trust said.\n\nThe trust's chair, Ilse Varga, "
    "said the trees would help hold the soil during the spring floods that damaged twelve farms last year.",
}


def test_bad_input_goes_to_dead_letters_and_worker_keeps_going(broker: str, tmp_path: Path) -> None:
    settings = fresh_settings(broker, tmp_path, raw_partitions=1)
    worker = start_worker(settings, tmp_path / "worker.log")
    good = {
        "id": "good-1",
        "url": "https://news.example/good-1",
        "source": "news.example",
        "content_type": "text/plain",
        "content": "The harbour authority of Portwell said on Monday that the old ferry pier will close "
        "for repairs after inspectors found cracks in two of its supports.\n\nRepairs are expected "
        "to take six weeks and cost about 2.4 million euros, the authority's director Mara Lind said.",
    }
    schema_bad = {
        "id": 42,
        "url": "https://news.example/x",
        "source": "news.example",
        "content": "x",
        "content_type": "text/plain",
    }
    try:
        asyncio.run(
            publish_values(
                settings,
                [
                    (b"bad-json", b'{"id": "a", "url": '),
                    (b"bad-schema", orjson.dumps(schema_bad)),
                    (b"bad-utf8", b'{"id": "b", "content": "caf\xe9"}'),
                    article_value(good),
                ],
            )
        )
        c = collect_until(
            settings, lambda c: len(c.dead) >= 3 and len(c.stories) >= 1, timeout_s=120, worker=worker
        )
        assert worker.proc.poll() is None, "worker died"
    finally:
        worker.stop()
    reasons = {d["original_key"]: d["reason"] for d in c.dead}
    import base64

    by_key = {base64.b64decode(k).decode(): r for k, r in reasons.items()}
    assert by_key == {
        "bad-json": "malformed_json",
        "bad-schema": "schema_invalid",
        "bad-utf8": "invalid_encoding",
    }
    for d in c.dead:
        assert d["topic"] == settings.raw_topic and d["offset"] >= 0 and d["error"]
        assert base64.b64decode(d["original"])  # original bytes kept
    [story] = c.stories.values()
    assert [m["article_id"] for m in story["members"]] == ["good-1"]
