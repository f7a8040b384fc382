"""``pipeline reconcile``: account for every raw message (stories or dead letters)."""

from __future__ import annotations

import argparse
import asyncio

from pipeline.cli._common import add_connection_args, err, out, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "reconcile",
        help="check that every raw message is in exactly one story or in the dead-letter topic",
        description="Reads the raw, stories and dead-letter topics from the beginning and reports raw "
        "messages that are missing (in no story and not dead-lettered) or doubled (a member of two "
        "stories, twice in one story, or both a member and dead-lettered). Exit 1 if any.",
    )
    add_connection_args(p)
    p.add_argument("--wait", type=float, default=5.0, help="seconds to wait for an unreachable broker")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipeline.kafka import BrokerUnavailable, wait_for_broker
    from pipeline.reconcile import reconcile_topics

    settings = settings_from(args)
    try:
        asyncio.run(wait_for_broker(settings, args.wait))
    except BrokerUnavailable as exc:
        err.print(f"[red]pipeline reconcile: {exc}[/red]")
        return 2
    report = asyncio.run(reconcile_topics(settings))
    out.print(report.summary())
    return 0 if report.ok else 1
