"""``pipeline eval ...``: quality evaluations against labelled corpora (see each --help)."""

from __future__ import annotations

import argparse
import importlib

EVALUATIONS = ("pipeline.evaluation.clean_eval", "pipeline.evaluation.dedup_eval", "pipeline.evaluation.enrich_eval")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="measure cleaning, dedup and enrichment quality on labelled data")
    inner = p.add_subparsers(dest="evaluation", metavar="EVALUATION", required=True)
    for name in EVALUATIONS:
        importlib.import_module(name).register(inner)
