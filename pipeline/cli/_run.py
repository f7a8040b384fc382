"""``pipeline broker`` and ``pipeline worker``."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import threading

from pipeline.cli._common import add_connection_args, err, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("broker", help="run the embedded Kafka-compatible broker (Tansu) on loopback")
    b.add_argument(
        "--host", default=None, help="listen address (env PIPELINE_BROKER_HOST, default 127.0.0.1)"
    )
    b.add_argument("--port", type=int, default=None, help="port (env PIPELINE_BROKER_PORT, default 9092)")
    b.add_argument(
        "--cert", help="TLS certificate (PEM); refused: this Tansu build cannot serve TLS (see the README)"
    )
    b.add_argument("--key", help="TLS private key (PEM)")
    b.add_argument("--no-topics", action="store_true", help="do not create the pipeline's topics")
    b.set_defaults(func=run_broker)

    w = sub.add_parser("worker", help="run a pipeline worker against the Kafka bootstrap in the settings")
    add_connection_args(w)
    w.add_argument("--app-id", help="consumer group / app id (env PIPELINE_APP_ID)")
    w.add_argument("--no-entities", action="store_true", help="skip named-entity recognition (faster)")
    w.add_argument(
        "--prepare-processes",
        type=int,
        default=None,
        metavar="N",
        help="prepare (clean, fingerprint, enrich) in N child processes, e.g. one per core; 0 = in the "
        "worker process (env PIPELINE_PREPARE_PROCESSES, default 0)",
    )
    w.add_argument(
        "--role",
        choices=("all", "prepare", "story"),
        default=None,
        help="which stages this worker runs: all (default), prepare (raw -> prepared: clean, "
        "fingerprint, enrich; scale these out) or story (dedup and stories: one such worker is "
        "busy; more are standbys) (env PIPELINE_WORKER_ROLE)",
    )
    w.add_argument(
        "--cpus",
        default=None,
        metavar="LIST",
        help="pin the worker process to these CPUs, e.g. 0 or 0,2 or 1-3; its prepare processes "
        "still use every CPU (env PIPELINE_CPUS; default: not pinned)",
    )
    w.add_argument(
        "--wait",
        type=float,
        default=None,
        help="seconds to wait for an unreachable broker before giving up (env PIPELINE_WAIT_FOR_BROKER_S)",
    )
    w.set_defaults(func=run_worker_cmd)


def run_broker(args: argparse.Namespace) -> int:
    from pipeline.broker import BrokerError, start_broker
    from pipeline.kafka import ensure_topics

    settings = settings_from(
        args, broker_host=args.host, broker_port=args.port, broker_cert=args.cert, broker_key=args.key
    )
    try:
        broker = start_broker(
            settings.broker_host, settings.broker_port, cert=settings.broker_cert, key=settings.broker_key
        )
    except BrokerError as exc:
        err.print(f"[red]pipeline broker: {exc}[/red]")
        return 1
    settings = settings.replace(bootstrap=broker.bootstrap)
    if not args.no_topics and not settings.uses_ssl:
        asyncio.run(ensure_topics(settings))
    err.print(f"broker listening on [bold]{broker.bootstrap}[/bold] (memory storage; Ctrl-C to stop)")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.is_set() and broker.process.poll() is None:
            stop.wait(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        broker.stop()
    return 0 if broker.process.returncode in (0, -15, None) else 1


def run_worker_cmd(args: argparse.Namespace) -> int:
    from pipeline.kafka import BrokerUnavailable, ensure_topics, wait_for_broker
    from pipeline.worker import run_worker

    settings = settings_from(
        args,
        app_id=args.app_id,
        entities=False if args.no_entities else None,
        wait_for_broker_s=args.wait,
        prepare_processes=args.prepare_processes,
        worker_role=args.role,
        cpus=args.cpus,
    )
    try:
        asyncio.run(wait_for_broker(settings, settings.wait_for_broker_s, say=lambda m: err.print(m)))
        asyncio.run(ensure_topics(settings))
    except BrokerUnavailable as exc:
        err.print(f"[red]pipeline worker: {exc}[/red]")
        return 1
    consumes = {"all": f"{settings.raw_topic} and {settings.prepared_topic}", "prepare": settings.raw_topic,
                "story": settings.prepared_topic}[settings.worker_role]  # fmt: skip
    role = settings.worker_role
    err.print(f"worker {settings.app_id} ({role}) consuming {consumes} at {settings.bootstrap}")
    sys.argv = sys.argv[:1]  # Faust's worker reads argv; keep it away from ours
    run_worker(settings)
    return 0
