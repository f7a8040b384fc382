"""``pipeline eval ...``: quality evaluations against labelled corpora (see each --help)."""

from __future__ import annotations

import argparse

from pipeline.cli._common import register_modules

EVALUATIONS = (
    "pipeline.evaluation.clean_eval",
    "pipeline.evaluation.dedup_eval",
    "pipeline.evaluation.enrich_eval",
)


def register(sub: argparse._SubParsersAction, *, load: bool = True) -> None:
    p = sub.add_parser("eval", help="measure cleaning, dedup and enrichment quality on labelled data")
    inner = p.add_subparsers(dest="evaluation", metavar="EVALUATION", required=True)
    if not load:
        return
    register_modules(inner, EVALUATIONS)
