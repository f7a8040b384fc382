"""``pipeline soak``: publish generated articles for M minutes; memory, lag, accounting."""

from __future__ import annotations

import argparse

from pipeline.cli._common import add_connection_args, out, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "soak",
        help="load a worker for M minutes; report its memory and lag over time, then reconcile",
        description="Starts an embedded broker (or uses PIPELINE_BOOTSTRAP with --external) and a worker "
        "process, publishes generated articles (new stories, copies, rewrites, bad payloads) for M "
        "minutes, prints the worker's resident memory and consumer lag every --sample seconds, waits "
        "for the worker to drain, then reconciles every raw message. Exit 1 if any was lost or doubled.",
    )
    add_connection_args(p)
    p.add_argument("--minutes", type=float, default=3.0, help="how long to publish (default 3)")
    p.add_argument(
        "--rate", type=float, default=None, help="messages per second (default: as fast as possible)"
    )
    p.add_argument("--sample", type=float, default=10.0, help="seconds between samples (default 10)")
    p.add_argument(
        "--drain-minutes",
        type=float,
        default=15.0,
        help="how long to wait for the worker to catch up (default 15)",
    )
    p.add_argument("--external", action="store_true", help="use the broker at PIPELINE_BOOTSTRAP")
    p.add_argument("--no-entities", action="store_true", help="skip entity extraction in the worker")
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipeline.soak import SoakConfig, run_soak, summary

    settings = settings_from(args, entities=False if args.no_entities else None)
    config = SoakConfig(
        minutes=args.minutes,
        rate=args.rate,
        sample_s=args.sample,
        drain_minutes=args.drain_minutes,
        seed=args.seed,
    )
    result = run_soak(settings, config, external=args.external, say=lambda m: out.print(m, highlight=False))
    out.print(summary(result), highlight=False)
    rep = result.report
    return 0 if rep is not None and rep.ok and result.drained else 1
