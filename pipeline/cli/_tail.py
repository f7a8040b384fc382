"""``pipeline tail``: read the stories topic."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import orjson

from pipeline.cli._common import add_connection_args, err, out, settings_from
from pipeline.cli._render import story_text


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "tail",
        help="read canonical stories from the stories topic",
        description="Without flags: the latest revision of every story now on the topic, then exit. "
        "--from-beginning: every revision from the oldest. --follow: keep waiting for new revisions "
        "(alone: only revisions published from now on).",
    )
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
    if not args.from_beginning and not args.follow:
        return await _snapshot(args, settings)
    n = 0
    async for story in iter_stories(settings, from_beginning=args.from_beginning, follow=args.follow):
        _show(args, story)
        n += 1
        if args.max is not None and n >= args.max:
            break
    if not args.json:
        err.print(f"{n} story revision(s)")
    return 0


def _show(args: argparse.Namespace, story: dict[str, Any]) -> None:
    if args.json:
        sys.stdout.write(orjson.dumps(story).decode("utf-8") + "\n")
        sys.stdout.flush()
    else:
        out.print(story_text(story))


async def _snapshot(args: argparse.Namespace, settings: Any) -> int:
    """The latest revision of each story on the topic now (oldest update first)."""
    from pipeline.api import iter_stories

    latest: dict[str, dict[str, Any]] = {}
    read = 0
    async for story in iter_stories(settings, from_beginning=True, follow=False):
        read += 1
        known = latest.get(story["story_id"])
        if known is None or story["revision"] >= known["revision"]:
            latest[story["story_id"]] = story
    stories = sorted(latest.values(), key=lambda s: (s["updated_at"], s["story_id"]))
    if args.max is not None:
        stories = stories[-args.max :]
    for story in stories:
        _show(args, story)
    if not args.json:
        err.print(f"{len(stories)} story(ies), the latest revision of each ({read} revisions read)")
    return 0
