"""Shared fixtures: the shared corpora, and one real broker per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path under ../shared; skip the test when absent (fail under CI=true)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        message = f"{path} is absent: the shared corpora are expected at ../shared beside the repo"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: this is an error)")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return shared_path("seeds")


@pytest.fixture(scope="session")
def broker() -> Iterator[str]:
    """A real Tansu broker on a free loopback port for the whole session; yields its bootstrap."""
    from pipeline.broker import start_broker

    log = Path(os.environ.get("PIPELINE_TEST_BROKER_LOG", "/tmp/pipeline-test-broker.log"))
    b = start_broker(log_path=log)
    try:
        yield b.bootstrap
    finally:
        b.stop()
