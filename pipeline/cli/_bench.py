"""``pipeline bench``: speed and memory benchmarks that print numbers side by side."""

from __future__ import annotations

import argparse

from pipeline.cli._common import register_modules

PARTS = ("pipeline.evaluation.index_bench", "pipeline.evaluation.enrich_bench", "pipeline.evaluation.bench")


def register(sub: argparse._SubParsersAction, *, load: bool = True) -> None:
    p = sub.add_parser("bench", help="benchmarks: per-stage cost, dedup index, end-to-end throughput")
    inner = p.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=False)
    if not load:
        return
    from pipeline.evaluation import bench

    bench.add_options(p)  # `pipeline bench [--quick]` runs the whole benchmark
    p.set_defaults(func=bench.run)
    register_modules(inner, PARTS)
