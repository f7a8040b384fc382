"""Fixtures for the clean-stage tests: the shared data folder (../shared relative to the repo)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.clean import CleanConfig

SHARED = Path(__file__).resolve().parents[2].parent / "shared"


@pytest.fixture(scope="session")
def config() -> CleanConfig:
    return CleanConfig()


@pytest.fixture(scope="session")
def shared() -> Path:
    """The shared folder; skip when absent, fail when absent on CI."""
    if not SHARED.is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"shared data folder missing on CI: {SHARED}")
        pytest.skip(f"shared data folder not found at {SHARED}; corpus tests need ../shared")
    return SHARED
