"""Shared bits of the subcommands: settings from env + flags, console output."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Iterable
from typing import Any

from rich.console import Console

from pipeline.settings import Settings

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False)


def add_connection_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--bootstrap", help="Kafka bootstrap host:port (env PIPELINE_BOOTSTRAP, default 127.0.0.1:9092)"
    )


def settings_from(args: argparse.Namespace, **more: Any) -> Settings:
    return Settings.from_env(bootstrap=getattr(args, "bootstrap", None), **more)


def register_modules(inner: argparse._SubParsersAction, names: Iterable[str]) -> None:
    """Let each module (by name) add its subcommands; a module that is not there is skipped."""
    for name in names:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(inner)
