"""``pipeline bench run``: the whole benchmark in one run, numbers side by side (table + JSON).

What it measures on this machine, in this order:

1. per-stage cost on one core (clean text, clean HTML, fingerprint, index lookup+insert, enrich
   with and without entities): median and p99 microseconds per article, articles/second;
2. the dedup index at 10k / 100k / 1M entries (lookup+insert median/p99, bytes per article),
   next to the naive path (the ``simhash`` package's defaults with ``SimhashIndex`` k=3);
3. in-process throughput of the full pipeline (the ``pipeline process`` path);
4. end-to-end throughput and publish-to-story latency (p50, p99) through the real embedded broker
   and a worker process, plain text (entities off and on) and HTML; the floor beside it: a plain
   aiokafka consume->produce loop over the same messages; and the ratio end-to-end / in-process;
5. paired rounds: the in-process run (in a new interpreter, one core) and the one-worker run
   right after it, repeated; the ratio of each pair and their median (a single pair moves with
   the machine's noise, which reached 15-25% between runs minutes apart on the 2-core VM).

Nothing here asserts on time: it prints numbers. The corpus is :mod:`bench_corpus` (fixed seed).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline.evaluation import bench_corpus

console = Console(stderr=True, highlight=False)


def _stats(name: str, seconds: Sequence[float], **extra: Any) -> dict[str, Any]:
    arr = np.asarray(seconds, dtype=float)
    return {
        "name": name,
        "n": int(arr.size),
        "median_us": float(np.median(arr) * 1e6),
        "p99_us": float(np.percentile(arr, 99) * 1e6),
        "per_second": float(arr.size / arr.sum()) if arr.sum() > 0 else 0.0,
        **extra,
    }


def _time_each(fn: Callable[[Any], Any], items: Sequence[Any]) -> tuple[list[float], list[Any]]:
    times, outs = [], []
    for item in items:
        t = time.perf_counter()
        outs.append(fn(item))
        times.append(time.perf_counter() - t)
    return times, outs


def stage_costs(plain: list[dict[str, Any]], pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from pipeline.clean import CleanConfig, clean_article
    from pipeline.dedup import DedupConfig, DedupIndex, signature, story_id_for
    from pipeline.enrich import EnrichConfig, Enricher
    from pipeline.records import RawArticle

    rows = []
    cc, dc = CleanConfig(), DedupConfig()
    raws = [RawArticle.from_dict(d) for d in plain]
    t, cleaned = _time_each(lambda r: clean_article(r, cc), raws)
    rows.append(_stats("clean text/plain", t))
    html_raws = [RawArticle.from_dict(d) for d in pages]
    t, _ = _time_each(lambda r: clean_article(r, cc), html_raws)
    rows.append(_stats("clean text/html", t))
    fast = CleanConfig(html_fallback=False)
    t, _ = _time_each(lambda r: clean_article(r, fast), html_raws)
    rows.append(_stats("clean text/html, no fallback (PIPELINE_HTML_FALLBACK=false)", t))
    t, sigs = _time_each(lambda a: signature(a, dc), cleaned)
    rows.append(_stats("fingerprint (signature)", t))
    index = DedupIndex(dc, {})
    times = []
    for art, sig in zip(cleaned, sigs, strict=True):
        t0 = time.perf_counter()
        m = index.lookup(art.id, sig)
        index.insert(art.id, m.story_id if m else story_id_for(art.id), sig, 1.79e9)
        times.append(time.perf_counter() - t0)
    rows.append(_stats(f"index lookup+insert (to {len(index)})", times))
    for label, cfg in (
        ("enrich, entities off", EnrichConfig(entities=False)),
        ("enrich, entities on", EnrichConfig(entities=True)),
    ):
        enricher = Enricher(cfg)
        enricher.enrich(cleaned[0])  # load models outside the timing
        t, _ = _time_each(enricher.enrich, cleaned)
        rows.append(_stats(label, t))
    rows.extend(story_costs(plain))
    return rows


def story_costs(plain: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The story stage alone, per article as the story agent runs it for each article of a pack
    (the decode here is of a single-article message, the same work per article): decode, dedup
    lookup+insert, story state, merged enrichment, output validation."""
    from pipeline.processor import Processor, RawMessage, StoryStage
    from pipeline.settings import Settings

    rows = []
    docs = plain[:1000]  # preparing them is the slow part
    for entities in (False, True):
        settings = Settings(entities=entities)
        proc = Processor(settings)
        msgs = [RawMessage(orjson.dumps(d), None, "bench", 0, i) for i, d in enumerate(docs)]
        prepared = [
            RawMessage(p.to_bytes(), p.article.id.encode(), "prepared", 0, i)
            for i, (_, p) in enumerate(proc.prepare_batch(msgs)[0])
        ]
        stage = StoryStage(settings, entries={}, stories={})
        t, _ = _time_each(stage.assemble_message, prepared)
        rows.append(_stats(f"story stage, entities {'on' if entities else 'off'}", t))
    return rows


def naive_path(plain: list[dict[str, Any]]) -> dict[str, Any]:
    from simhash import Simhash, SimhashIndex

    from pipeline.evaluation.index_bench import CountedLog

    warned = CountedLog("path")
    index = SimhashIndex([], k=3, log=warned.logger)
    times = []
    for i, d in enumerate(plain):
        t0 = time.perf_counter()
        fp = Simhash(d["content"])
        index.get_near_dups(fp)
        index.add(str(i), fp)
        times.append(time.perf_counter() - t0)
    if warned.count:
        console.print(f"  naive path: SimhashIndex warned {warned.count:,} times of a bucket over 200 rows")
    return _stats("naive: simhash pkg + SimhashIndex k=3 (fingerprint+lookup+insert)", times)


def index_sizes(sizes: Sequence[int], queries: int) -> list[dict[str, Any]]:
    from pipeline.evaluation.index_bench import bench_ours, bench_simhash_package

    rows = []
    for size in sizes:
        console.print(f"  index at {size:,} entries...")
        rows.append(bench_ours(size, queries))
        if size <= 100_000:
            rows.append(bench_simhash_package(size, min(queries, 1000)))
    return rows


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU seconds of these processes and all their descendants, so far (Linux
    /proc; 0 elsewhere). Used to split end-to-end cost between the stages and the layer."""
    total = 0
    seen: set[int] = set()
    stack = list(pids)
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            after = stat[stat.rindex(")") + 2 :].split()  # fields from the 3rd (state) on
            total += int(after[11]) + int(after[12])  # utime, stime (fields 14, 15)
            for task in Path(f"/proc/{pid}/task").iterdir():
                stack.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError, IndexError):
            continue  # gone, or no /proc
    return total / os.sysconf("SC_CLK_TCK")


def in_process(plain: list[dict[str, Any]], entities: bool, memo: bool = True) -> dict[str, Any]:
    from pipeline.gctune import freeze_loaded, stage_gc
    from pipeline.processor import Processor, RawMessage
    from pipeline.runner import run_batch
    from pipeline.settings import Settings

    msgs = [RawMessage(orjson.dumps(d), None, "bench", 0, i) for i, d in enumerate(plain)]
    settings = Settings(entities=entities, prepare_memo=Settings().prepare_memo if memo else 0)
    # The collector runs as in a worker (pipeline.gctune): thresholds, models frozen once loaded.
    with stage_gc():
        # Built once outside the timed part, as a worker builds it once at start (loading the
        # language model and the place tables takes about a second, which is not per-article work).
        processor = Processor(settings)
        freeze_loaded()
        run_batch(msgs[:20], settings, processor=processor)  # warm up: caches
        remembered = processor.preparer.memo
        remembered.clear()  # but no article of the timed run is remembered from the warm-up
        t0, cpu0 = time.perf_counter(), time.process_time()
        result = run_batch(msgs, settings, processor=processor)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {
        "name": f"in-process pipeline, entities {'on' if entities else 'off'}{'' if memo else ', memo off'}",
        "entities": entities,
        "memo": memo,
        "n": len(msgs),
        "seconds": elapsed,
        "per_second": len(msgs) / elapsed,
        "cpu_ms_per_article": 1000 * cpu / len(msgs),
        "stories": len(result.stories),
        "memo_hits": remembered.hits,
    }


def _in_process_on_core(plain: list[dict[str, Any]], entities: bool, core: int) -> dict[str, Any]:
    os.sched_setaffinity(0, {core})
    return in_process(plain, entities)


def in_process_fresh(plain: list[dict[str, Any]], entities: bool) -> dict[str, Any]:
    """:func:`in_process` in a new interpreter pinned to one core: its caches (token features, key
    hashes, keyword tables) start empty, as a new worker's do, instead of warmed by the runs
    before it."""
    core = min(os.sched_getaffinity(0))
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as pool:
        return pool.submit(_in_process_on_core, plain, entities, core).result()


def paired_rounds(
    run_e2e: Callable[..., dict[str, Any]], plain: list[dict[str, Any]], rounds: int
) -> list[dict[str, Any]]:
    """``rounds`` times, for entities off then on: the in-process run (:func:`in_process_fresh`)
    and the one-worker run right after it; each pair's ratio, and per setting the median."""
    out: list[dict[str, Any]] = []
    for entities in (False, True):
        pairs = []
        for i in range(rounds):
            ip = in_process_fresh(plain, entities)
            e2e = run_e2e(plain, f"plain text, entities {'on' if entities else 'off'}", entities, 1)
            pair = {
                "round": i + 1,
                "in_process_per_second": ip["per_second"],
                "in_process_cpu_ms_per_article": ip["cpu_ms_per_article"],
                "end_to_end_per_second": e2e["per_second"],
                "end_to_end_cpu_ms_by_role": e2e["cpu_ms_by_role"],
                "ratio": e2e["per_second"] / ip["per_second"],
            }
            pairs.append(pair)
            console.print(
                f"  entities {'on' if entities else 'off'}, round {i + 1}: in-process "
                f"{ip['per_second']:.0f}/s, 1 worker {e2e['per_second']:.0f}/s: {pair['ratio']:.2f}x"
            )
        ratios = [p["ratio"] for p in pairs]
        out.append(
            {
                "entities": entities,
                "pairs": pairs,
                "median_ratio": float(np.median(ratios)),
                "min_ratio": min(ratios),
                "max_ratio": max(ratios),
            }
        )
    return out


# ---------------------------------------------------------------------------------------- broker


async def _publish_all(settings: Any, docs: list[dict[str, Any]]) -> float:
    from pipeline.kafka import make_producer

    producer = make_producer(settings)
    await producer.start()
    t0 = time.perf_counter()
    try:
        for d in docs:
            await producer.send(settings.raw_topic, value=orjson.dumps(d), key=d["id"].encode())
        await producer.flush()
    finally:
        await producer.stop()
    return time.perf_counter() - t0


READ_WAIT_MS = 10  # how long the bench's story reader lets the broker hold a fetch


async def _drain(
    settings: Any, want: int, timeout_s: float, check: Callable[[], None] | None = None
) -> tuple[dict[str, int], int, float]:
    """Read stories + dead letters until ``want`` articles are accounted for (``check`` is called
    between reads and may raise, e.g. when a worker process has died).

    Returns (article id -> story record timestamp ms of its first appearance, dead letters, end time).
    """
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        settings.stories_topic,
        settings.dead_letter_topic,
        group_id=None,
        auto_offset_reset="earliest",
        # The embedded Tansu holds a fetch for its whole wait: with the workers' 100 ms the last
        # stories were read 90-140 ms after the worker went idle, 67-81 ms with 10 (2026-12-04).
        fetch_max_wait_ms=READ_WAIT_MS,
        **settings.kafka_client_kwargs(),
    )
    await consumer.start()
    first_seen: dict[str, int] = {}
    dead = 0
    deadline = time.monotonic() + timeout_s
    last = time.perf_counter()
    try:
        while len(first_seen) + dead < want and time.monotonic() < deadline:
            if check is not None:
                check()
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            for tp, records in batch.items():
                for r in records:
                    last = time.perf_counter()
                    if tp.topic == settings.dead_letter_topic:
                        dead += 1
                        continue
                    for m in orjson.loads(r.value)["members"]:
                        first_seen.setdefault(m["article_id"], r.timestamp)
    finally:
        await consumer.stop()
    return first_seen, dead, last


async def _forget(settings: Any) -> None:
    """Delete a finished run's topics: the embedded broker holds every message in memory (about
    100 MB per 3,000-article run), so a whole bench would otherwise end with gigabytes in it, and
    each run would start on a broker fuller than the one before (2026-12-04, 3,000 articles, one
    worker, six alternating pairs on two brokers: 933 articles/s on the one keeping every run,
    972 on the one whose topics were deleted after each run). A failure is reported, not raised."""
    from pipeline.kafka import delete_topics_of

    try:
        await delete_topics_of(settings)
    except Exception as exc:  # the measurement stands; only the broker's memory is not freed
        console.print(f"  [yellow]could not delete the run's topics: {type(exc).__name__}: {exc}[/]")


async def _raw_timestamps(settings: Any) -> dict[str, int]:
    from pipeline.kafka import read_topic

    out = {}
    async for r in read_topic(settings, settings.raw_topic, from_beginning=True, follow=False):
        out[r.key.decode()] = r.timestamp
    return out


async def _groups_stable(settings: Any, members: dict[str, int], timeout_s: float) -> bool:
    """Wait until each consumer group in ``members`` is Stable with that many members (every
    worker has joined and the partitions are assigned). False when ``timeout_s`` ran out."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(**settings.kafka_client_kwargs())
    await admin.start()
    deadline = time.monotonic() + timeout_s
    try:
        waiting = dict(members)
        while waiting and time.monotonic() < deadline:
            for group, n in list(waiting.items()):
                try:
                    answers = await admin.describe_consumer_groups([group])
                except Exception:  # the embedded Tansu cannot describe some groups
                    return False
                # DescribeGroups v2+: groups of (error, group id, state, protocol type, protocol, members)
                if any(
                    g[1] == group and (g[2], len(g[5])) == ("Stable", n) for r in answers for g in r.groups
                ):
                    del waiting[group]
            await asyncio.sleep(0.25)
        return not waiting
    finally:
        await admin.close()


def _settle(
    pids: Sequence[int], quiet_cpu_s: float = 0.03, interval_s: float = 0.5, timeout_s: float = 60.0
) -> bool:
    """Wait until the processes ``pids`` (with their children) together used less than
    ``quiet_cpu_s`` of CPU over ``interval_s``, twice in a row: start-up work (models, caches,
    a rebalance) is done. False when ``timeout_s`` ran out."""
    deadline = time.monotonic() + timeout_s
    quiet = 0
    before = cpu_seconds(pids)
    while time.monotonic() < deadline and quiet < 2:
        time.sleep(interval_s)
        now = cpu_seconds(pids)
        quiet = quiet + 1 if now - before < quiet_cpu_s else 0
        before = now
    return quiet >= 2


class WorkerDied(RuntimeError):
    """A worker process of an end-to-end run exited before its articles were accounted for."""


def end_to_end(
    bootstrap: str,
    docs: list[dict[str, Any]],
    label: str,
    entities: bool,
    workers: int = 1,
    prepare_processes: int = 0,
    roles: Sequence[str] = (),
    html_fallback: bool = True,
    broker_pid: int | None = None,
    memo: bool = True,
    story_weight: float | None = None,
    pin: bool = True,
) -> dict[str, Any]:
    """Publish ``docs`` to a fresh namespace and time the worker processes until every article
    is accounted for. ``roles`` (one per worker, e.g. story + 2 x prepare) overrides ``workers``.
    With ``pin``, when there are no more workers than CPUs and none has prepare processes, worker
    i is pinned to the i-th CPU (``PIPELINE_CPUS``), as :func:`in_process_fresh` pins its run to
    the first: like for like.
    The CPU time of the workers (with their prepare processes) and of the broker over the timed
    part is reported per article (``cpu_ms_per_article``), also per worker. ``story_weight``
    (default: the setting's) reaches the workers as ``PIPELINE_STORY_WEIGHT``."""
    from pipeline.broker import die_with_parent
    from pipeline.kafka import ensure_topics
    from pipeline.settings import Settings

    ns = uuid.uuid4().hex[:8]
    settings = Settings(
        bootstrap=bootstrap,
        session_timeout_s=4.0,
        # 8, not 4: with two "all" workers the one running the story stage keeps 3 raw partitions
        # and the other 5 (PIPELINE_STORY_WEIGHT); with 4 partitions the weighted share rounds
        # back to an even 2 and 2
        raw_partitions=8,
        entities=entities,
        log_level="WARNING",
        data_dir=tempfile.mkdtemp(prefix="bench-worker-"),
        prepare_processes=prepare_processes,
        html_fallback=html_fallback,
        prepare_memo=Settings().prepare_memo if memo else 0,
        story_weight=Settings().story_weight if story_weight is None else story_weight,
    ).namespaced(f"b{ns}")
    asyncio.run(ensure_topics(settings))
    env = settings.to_env()
    procs = []
    roles = list(roles) or ["all"] * workers
    cores = sorted(os.sched_getaffinity(0))
    pinned = (
        [str(cores[i]) for i in range(len(roles))]
        if pin and not prepare_processes and len(roles) <= len(cores)
        else []
    )
    for i, role in enumerate(roles):
        with (Path(settings.data_dir) / f"worker{i}.log").open("wb") as fh:
            wenv = dict(env, PIPELINE_DATA_DIR=f"{settings.data_dir}/w{i}", PIPELINE_WORKER_ROLE=role)
            if pinned:
                wenv["PIPELINE_CPUS"] = pinned[i]
            cmd = [sys.executable, "-m", "pipeline", "worker"]
            procs.append(
                subprocess.Popen(
                    cmd, env=wenv, stdout=fh, stderr=subprocess.STDOUT, preexec_fn=die_with_parent()
                )
            )

    def workers_alive() -> None:
        for i, proc in enumerate(procs):
            if proc.poll() is not None:
                log = Path(settings.data_dir) / f"worker{i}.log"
                tail = log.read_text(errors="replace").strip().splitlines()[-15:]
                raise WorkerDied(
                    f"worker {i} ({roles[i]}) exited with code {proc.returncode}; the end of {log}:\n"
                    + "\n".join(tail)
                )

    try:
        warm = [dict(docs[0], id=f"warmup-{ns}")]
        asyncio.run(_publish_all(settings, warm))
        asyncio.run(_drain(settings, 1, 120, workers_alive))  # a worker joined, models loaded
        # The timed part starts when every worker has joined its group (a worker that joins later
        # stops the others for a rebalance) and no worker is busy with start-up work (loading
        # its models takes about a second of CPU), so a short run times steady work only.
        groups = {settings.app_id: sum(r in ("all", "story") for r in roles)}
        if "prepare" in roles:
            groups[f"{settings.app_id}-prepare"] = roles.count("prepare")
        joined = asyncio.run(_groups_stable(settings, {g: n for g, n in groups.items() if n}, 120))
        settled = _settle([p.pid for p in procs])
        if not (joined and settled):
            console.print(
                f"  [yellow]workers not settled before timing (joined {joined}, quiet {settled})[/]"
            )
        layer = [p.pid for p in procs] + ([broker_pid] if broker_pid else [])
        layer_roles = list(roles) + (["broker"] if broker_pid else [])
        cpu0 = [cpu_seconds([pid]) for pid in layer]
        t0, own0 = time.perf_counter(), time.process_time()
        publish_s = asyncio.run(_publish_all(settings, docs))
        seen, dead, t_end = asyncio.run(_drain(settings, len(docs) + 1, 600, workers_alive))
        own_cpu = time.process_time() - own0  # this process: publishing and reading the stories
        cpus = [cpu_seconds([pid]) - c0 for pid, c0 in zip(layer, cpu0, strict=True)]
        cpu = sum(cpus)
        elapsed = t_end - t0
        raw_ts = asyncio.run(_raw_timestamps(settings))
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
        asyncio.run(_forget(settings))
    lat = [seen[k] - raw_ts[k] for k in seen if k in raw_ts and not k.startswith("warmup")]
    done = len(seen) + dead - 1
    where = f", prepare in {prepare_processes} processes" if prepare_processes else ""
    where += f", pinned (CPU {','.join(pinned)})" if pinned else ""
    if set(roles) != {"all"}:
        who = " + ".join(f"{roles.count(r)} {r}" for r in ("story", "prepare", "all") if r in roles)
        name = f"end-to-end {label}, workers: {who}{where}"
    else:
        name = f"end-to-end {label}, {len(roles)} worker{'s' if len(roles) > 1 else ''}{where}"
    return {
        "name": name,
        "workers": len(roles),
        "roles": roles,
        "prepare_processes": prepare_processes,
        "pinned_cpus": pinned or None,  # worker i on CPU pinned_cpus[i]
        "n": len(docs),
        "accounted": done,
        "seconds": elapsed,
        "per_second": done / elapsed if elapsed > 0 else 0.0,
        "cpu_ms_per_article": 1000 * cpu / done if done else None,
        # per role (workers of one role summed, each with its prepare processes) and the broker
        "cpu_ms_by_role": {
            role: round(1000 * sum(c for r, c in zip(layer_roles, cpus, strict=True) if r == role) / done, 3)
            for role in dict.fromkeys(layer_roles)
        }
        if done
        else None,
        # per worker process (with its prepare processes), in the order of ``roles``
        "cpu_ms_by_worker": [round(1000 * c / done, 3) for c in cpus[: len(roles)]] if done else None,
        "publish_seconds": publish_s,
        "settled_before_timing": joined and settled,
        "bench_process_cpu_ms_per_article": 1000 * own_cpu / done if done else None,
        "latency_p50_ms": float(np.percentile(lat, 50)) if lat else None,
        "latency_p99_ms": float(np.percentile(lat, 99)) if lat else None,
    }


async def _floor(bootstrap: str, docs: list[dict[str, Any]]) -> dict[str, Any]:
    """A plain aiokafka consume->produce loop over the same messages: the broker's ceiling."""
    from aiokafka import AIOKafkaConsumer

    from pipeline.kafka import ensure_topics, make_producer
    from pipeline.settings import Settings

    ns = uuid.uuid4().hex[:8]
    settings = Settings(bootstrap=bootstrap, raw_partitions=4).namespaced(f"f{ns}")
    await ensure_topics(settings)
    await _publish_all(settings, docs)
    consumer = AIOKafkaConsumer(
        settings.raw_topic,
        group_id=f"floor-{ns}",
        auto_offset_reset="earliest",
        bootstrap_servers=bootstrap,
        max_partition_fetch_bytes=8 << 20,
    )
    producer = make_producer(settings)
    await consumer.start()
    await producer.start()
    moved = 0
    t0 = None
    try:
        while moved < len(docs):
            batch = await consumer.getmany(timeout_ms=1000, max_records=2000)
            if t0 is None and batch:
                t0 = time.perf_counter()
            for records in batch.values():
                for r in records:
                    await producer.send(settings.stories_topic, value=r.value, key=r.key)
                    moved += 1
            await consumer.commit()
        await producer.flush()
    finally:
        await consumer.stop()
        await producer.stop()
        await _forget(settings)
    elapsed = time.perf_counter() - (t0 or time.perf_counter())
    return {
        "name": "floor: aiokafka consume->produce",
        "n": moved,
        "seconds": elapsed,
        "per_second": moved / elapsed if elapsed else 0.0,
    }


# -------------------------------------------------------------------------------------- command


def run(args: argparse.Namespace) -> int:
    from pipeline.broker import start_broker

    quick = args.quick
    n = args.articles or (300 if quick else 3000)
    data = Path(args.data)
    if not data.is_dir():
        console.print(f"[yellow]{data} not found: using the synthetic corpus[/yellow]")
    plain = bench_corpus.build(n, data if data.is_dir() else None)
    # HTML: half as many pages as plain articles; 400 pages end to end take ~4 s, too short for
    # a steady rate (start-up and the last batches weigh 10-15%)
    pages = bench_corpus.build(max(100, n // 2), data if data.is_dir() else None, html_pages=True)
    from pipeline import native

    results: dict[str, Any] = {
        "machine": {"cores": os.cpu_count(), "compiled_kernels": native.available()},
        "quick": quick,
        "articles": n,
    }
    console.print(native.status())

    console.print(f"[bold]1/5 per-stage cost[/bold] on one core ({n} plain, {len(pages)} HTML articles)")
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})
    try:
        results["stages"] = stage_costs(plain, pages)
        results["stages"].append(naive_path(plain))
        console.print("[bold]2/5 dedup index sizes[/bold]")
        sizes = [10_000] if quick else [10_000, 100_000, 1_000_000]
        results["index"] = index_sizes(sizes, 2000 if quick else 5000)
        console.print("[bold]3/5 in-process pipeline[/bold]")
        results["in_process"] = [
            in_process(plain, entities=False),
            in_process(plain, entities=True),
            # what the memo gives (copies taking their fingerprint and enrichment from it)
            in_process(plain, entities=False, memo=False),
        ]
    finally:
        os.sched_setaffinity(0, cores)

    console.print("[bold]4/5 through the broker[/bold] (embedded Tansu + one worker process)")
    # SIGTERM (e.g. from `timeout`) unwinds like Ctrl-C, so the workers and the broker are stopped
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    broker = start_broker()
    run_e2e = partial(end_to_end, broker.bootstrap, broker_pid=broker.process.pid)
    try:
        e2e = [asyncio.run(_floor(broker.bootstrap, plain))]
        w = args.workers
        e2e.append(run_e2e(plain, "plain text, entities off", False, 1))
        e2e.append(run_e2e(plain, "plain text, entities on", True, 1))
        if w > 1:
            e2e.append(run_e2e(plain, "plain text, entities off", False, w))
            e2e.append(run_e2e(plain, "plain text, entities on", True, w))
        e2e.append(run_e2e(pages, "HTML, entities on", True, w))
        if w > 1:
            # the story stage in a worker of its own, prepare in w workers (``--role``)
            split = ["story", *["prepare"] * w]
            e2e.append(run_e2e(plain, "plain text, entities off", False, roles=split))
            e2e.append(run_e2e(plain, "plain text, entities on", True, roles=split))
            e2e.append(run_e2e(pages, "HTML, entities on", True, roles=split))
            e2e.append(
                run_e2e(pages, "HTML, entities on, no fallback", True, roles=split,
                           html_fallback=False)
            )  # fmt: skip
        pp = args.prepare_processes
        if pp:
            e2e.append(run_e2e(plain, "plain text, entities off", False, 1, pp))
            e2e.append(run_e2e(plain, "plain text, entities on", True, 1, pp))
            e2e.append(run_e2e(pages, "HTML, entities on", True, 1, pp))
        results["end_to_end"] = e2e
        rounds = args.rounds if args.rounds is not None else (1 if quick else 3)
        if rounds > 0:
            console.print(
                f"[bold]5/5 paired rounds[/bold]: in-process then 1 worker, {rounds} time(s) per setting"
            )
            results["paired"] = paired_rounds(run_e2e, plain, rounds)
    except WorkerDied as exc:
        console.print(f"[red]pipeline bench: end-to-end run stopped: {escape(str(exc))}[/red]")
        return 1
    finally:
        broker.stop()
    inproc = {("on" if r["entities"] else "off"): r for r in results["in_process"] if r["memo"]}
    for r in e2e[1:]:
        if "plain" not in r["name"]:
            continue
        same = inproc.get("off" if "entities off" in r["name"] else "on")
        if same is None:
            continue
        # CPU share of the layer (Faust, Kafka clients, serialisation, broker): what the workers
        # and the broker spent per article beyond what the same stages cost in process
        if r.get("cpu_ms_per_article"):
            r["layer_cpu_share"] = 1.0 - same["cpu_ms_per_article"] / r["cpu_ms_per_article"]
        if not r["prepare_processes"]:  # the in-process run uses one process: like with like
            r["ratio_to_in_process"] = r["per_second"] / same["per_second"]

    _print(results)
    if args.json:
        Path(args.json).write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
        console.print(f"JSON written to {args.json}")
    return 0


def _print(results: dict[str, Any]) -> None:
    out = Console(highlight=False, width=max(140, Console().width))
    kernels = results.get("machine", {}).get("compiled_kernels")
    out.print(f"compiled kernels: {'in use' if kernels else 'not built (pure-Python stages)'}")
    t = Table(title="per-stage cost (one core)")
    for col in ("stage", "n", "median µs", "p99 µs", "articles/s"):
        t.add_column(col, justify="right" if col != "stage" else "left")
    for r in results["stages"]:
        t.add_row(
            r["name"], str(r["n"]), f"{r['median_us']:.0f}", f"{r['p99_us']:.0f}", f"{r['per_second']:.0f}"
        )
    out.print(t)
    t = Table(title="dedup index: lookup+insert")
    for col in (
        "method",
        "entries",
        "median µs",
        "p99 µs",
        "bytes/article (index)",
        "bytes/article (entries)",
    ):
        t.add_column(col, justify="right" if col != "method" else "left")
    for r in results["index"]:
        t.add_row(
            r["method"],
            f"{r['size']:,}",
            f"{r['median_us']:.0f}",
            f"{r['p99_us']:.0f}",
            f"{r.get('index_bytes_per_article', r.get('bytes_per_article', 0)):.1f}",
            f"{r.get('entries_bytes_per_article', 0):.0f}",
        )
    out.print(t)
    t = Table(title="throughput")
    columns = ("path", "articles", "seconds", "articles/s", "p50 ms", "p99 ms", "vs in-process",
               "CPU ms/article", "layer's CPU share")  # fmt: skip
    for col in columns:
        t.add_column(col, justify="right" if col != "path" else "left")
    for r in results["in_process"] + results["end_to_end"]:
        ratio = r.get("ratio_to_in_process")
        cpu, share = r.get("cpu_ms_per_article"), r.get("layer_cpu_share")
        t.add_row(
            r["name"],
            str(r.get("accounted", r["n"])),
            f"{r['seconds']:.1f}",
            f"{r['per_second']:.0f}",
            f"{r['latency_p50_ms']:.0f}" if r.get("latency_p50_ms") is not None else "",
            f"{r['latency_p99_ms']:.0f}" if r.get("latency_p99_ms") is not None else "",
            f"{ratio:.2f}x" if ratio else "",
            f"{cpu:.2f}" if cpu else "",
            f"{share:.0%}" if share is not None else "",
        )
    out.print(t)
    for r in results["in_process"]:
        if r["memo"]:
            out.print(
                f"{r['name']}: {r['memo_hits']} of {r['n']} articles took their fingerprint and "
                "enrichment from the memo (copies of an article prepared shortly before)"
            )
    for r in results["end_to_end"]:
        if r.get("cpu_ms_by_role"):
            split = ", ".join(f"{role} {ms:.2f}" for role, ms in r["cpu_ms_by_role"].items())
            out.print(f"{r['name']}: CPU ms/article by process role: {split}")
    for p in results.get("paired", []):
        ratios = ", ".join(f"{x['ratio']:.2f}" for x in p["pairs"])
        out.print(
            f"1 worker / in-process, entities {'on' if p['entities'] else 'off'}, paired rounds (each "
            f"in-process run in a new interpreter, the worker run right after it): {ratios}; "
            f"median {p['median_ratio']:.2f}x"
        )
    out.print(
        "CPU ms/article: the workers (with their prepare processes) and the broker over the timed "
        "part; layer's CPU share: the part of it beyond what the same stages cost in process."
    )


def add_options(p: argparse.ArgumentParser, *, inherit: bool = False) -> None:
    """The benchmark's options. ``inherit``: for ``pipeline bench run``, whose parent parser
    (``pipeline bench``) has the same options: an option not given after ``run`` keeps the
    parent's value (``pipeline bench --quick run`` is quick) instead of resetting it."""

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if inherit else value

    p.add_argument(
        "--quick", action="store_true", default=default(False), help="small sizes, for CI (about two minutes)"
    )
    p.add_argument(
        "--articles", type=int, default=default(None), help="plain-text articles (default 3000; quick 300)"
    )
    p.add_argument(
        "--data", default=default(str(Path.cwd().parent / "shared" / "data")), help="shared corpora folder"
    )
    p.add_argument("--json", default=default(None), help="also write the results as JSON to this file")
    p.add_argument(
        "--workers", type=int, default=default(2), help="worker processes for the multi-worker runs"
    )
    p.add_argument(
        "--prepare-processes",
        type=int,
        default=default(os.cpu_count() or 1),
        help="also run one worker with the prepare step in this many child processes (0: skip; "
        "default: one per core)",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=default(None),
        help="paired rounds of in-process and one-worker runs per setting (default 3; quick 1; 0: skip)",
    )


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("run", help="the whole benchmark: stages, index, in-process, end-to-end")
    add_options(p, inherit=True)
    p.set_defaults(func=run)
