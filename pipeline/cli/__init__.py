"""The ``pipeline`` command: one entry point, a subcommand per job, ``--help`` on each."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pipeline.broker import BrokerError
from pipeline.errors import ConfigError


def _build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; evaluation and benchmark modules (heavy imports) load only when asked for."""
    from pipeline.cli import _bench, _demo, _eval, _process, _publish, _reconcile, _run, _soak, _tail

    parser = argparse.ArgumentParser(
        prog="pipeline",
        description="Streaming news ingestion: clean, deduplicate and enrich articles from Kafka "
        "into one canonical story per story. Settings come from PIPELINE_* environment variables "
        "(see README); flags override them.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (_demo, _run, _publish, _tail, _process, _reconcile, _soak):
        module.register(sub)
    _eval.register(sub, load=command in (None, "eval"))
    _bench.register(sub, load=command in (None, "bench"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    if "-h" in argv or "--help" in argv:
        command = command or "help"
    parser = _build_parser(command)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("pipeline").setLevel(logging.DEBUG if args.verbose else logging.INFO)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"pipeline: configuration error: {exc}", file=sys.stderr)
        return 2
    except BrokerError as exc:
        print(f"pipeline: broker error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
