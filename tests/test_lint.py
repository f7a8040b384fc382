"""ruff and mypy run as part of the test suite, so CI checks them on every change."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=600
    )


def test_ruff() -> None:
    proc = run("ruff", "check", "pipeline", "tests")
    assert proc.returncode == 0, proc.stdout[-4000:]


def test_mypy() -> None:
    proc = run("mypy")
    assert proc.returncode == 0, proc.stdout[-4000:]
