"""``pipeline tail``: read the stories topic."""

from __future__ import annotations

import argparse
import asyncio
import sys

import orjson

from pipeline.cli._common import add_connection_args, err, out, settings_from
from pipeline.cli._render import story_text


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tail", help="read canonical stories from the stories topic")
    add_connection_args(p)
    p.add_argument("--json", action="store_true", help="one story object per line (JSON)")
    p.add_argument("--from-beginning", action="store_true", help="start at the oldest story revision")
    p.add_argument("--follow", "-f", action="store_true", help="keep waiting for new revisions")
    p.add_argument("--max", type=int, default=None, metavar="N", help="stop after N revisions")
    p.add_argument("--wait", type=float, default=5.0, help="seconds to wait for an unreachable broker")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_tail(args))


async def _tail(args: argparse.Namespace) -> int:
    from pipeline.api import iter_stories
    from pipeline.kafka import BrokerUnavailable, wait_for_broker

    settings = settings_from(args)
    try:
        await wait_for_broker(settings, args.wait)
    except BrokerUnavailable as exc:
        err.print(f"[red]pipeline tail: {exc}[/red]")
        return 2
    n = 0
    async for story in iter_stories(settings, from_beginning=args.from_beginning, follow=args.follow):
        if args.json:
            sys.stdout.write(orjson.dumps(story).decode("utf-8") + "\n")
            sys.stdout.flush()
        else:
            out.print(story_text(story))
        n += 1
        if args.max is not None and n >= args.max:
            break
    if not args.json:
        err.print(f"{n} story revision(s)")
    return 0
