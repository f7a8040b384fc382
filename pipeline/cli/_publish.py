"""``pipeline publish PATH...``: feeds, JSONL, .html and .txt files to the raw topic."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import orjson
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pipeline.cli._common import add_connection_args, err, settings_from
from pipeline.errors import StageError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "publish",
        help="publish RSS/Atom/JSON Feed files, JSONL raw articles, .html and .txt files",
        description="Each item is validated against schemas/raw_article.schema.json before it is sent. "
        "Rejected items are reported one by one and sent to the dead-letter topic. Exit code: 0 when "
        "at least one item was published, 1 when none could be, 2 when the broker is unreachable.",
    )
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    add_connection_args(p)
    p.add_argument(
        "--source", help="publisher name for .html/.txt files (default: folder/file name) and untitled feeds"
    )
    p.add_argument(
        "--wait",
        type=float,
        default=5.0,
        help="seconds to wait for an unreachable broker (default 5; 0 = fail at once)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    return asyncio.run(_publish(args, settings))


async def _publish(args: argparse.Namespace, settings: object) -> int:
    from pipeline.api import Publisher
    from pipeline.feeds import read_items
    from pipeline.kafka import BrokerUnavailable
    from pipeline.settings import Settings

    assert isinstance(settings, Settings)
    missing = [p for p in args.paths if not p.is_file()]
    for p in missing:
        err.print(f"[red]rejected[/red] {p}: no such file")
    paths = [p for p in args.paths if p.is_file()]
    try:
        pub = Publisher(settings, wait_s=args.wait)
        await pub.__aenter__()
    except BrokerUnavailable as exc:
        err.print(f"[red]pipeline publish: {exc}[/red]")
        return 2
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=False,
        ) as progress:
            task = progress.add_task("publishing", total=len(paths))
            for path in paths:
                progress.update(task, description=f"publishing {path.name}")
                for item in read_items(path, source=args.source):
                    if item.doc is None:
                        bad = StageError(
                            item.reason or "schema_invalid", item.error or "unreadable", stage="publish"
                        )
                        progress.console.print(
                            f"[red]rejected[/red] {item.where}: {bad.reason}: {bad.detail}"
                        )
                        await pub.reject(item.original, item.where, bad, None)
                        continue
                    try:
                        await pub.publish(item.doc)
                    except StageError as exc:
                        progress.console.print(
                            f"[red]rejected[/red] {item.where}: {exc.reason}: {exc.detail}"
                        )
                        article_id = item.doc.get("id") if isinstance(item.doc.get("id"), str) else None
                        await pub.reject(orjson.dumps(item.doc), item.where, exc, article_id)
                progress.advance(task)
        await pub.flush()
    finally:
        await pub.__aexit__(None, None, None)
    rejected = pub.rejected + len(missing)
    where = f" (to the dead-letter topic {settings.dead_letter_topic})" if pub.rejected else ""
    err.print(
        f"published [bold]{pub.published}[/bold] to {settings.raw_topic} at {settings.bootstrap}, "
        f"rejected [bold]{rejected}[/bold]{where}"
    )
    return 0 if pub.published > 0 else 1
