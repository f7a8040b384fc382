"""``pipeline eval ...``: quality evaluations against labelled corpora (see each --help)."""

from __future__ import annotations

import argparse
import importlib

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
    for name in EVALUATIONS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(inner)
