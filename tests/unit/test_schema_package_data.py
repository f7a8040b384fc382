"""The JSON Schemas ship inside the package (a wheel holds them), as the one copy in schemas/."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pipeline.contracts import SCHEMA_DIR, SCHEMA_FILES

REPO = Path(__file__).resolve().parents[2]


def test_schema_dir_is_package_data_and_the_repository_copy() -> None:
    package = REPO / "pipeline"
    assert SCHEMA_DIR.parent == package  # under the package, so setuptools packs it
    assert SCHEMA_DIR.resolve() == (REPO / "schemas").resolve()  # one copy, not two
    for name in SCHEMA_FILES.values():
        assert (SCHEMA_DIR / name).is_file(), name
    config = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))
    assert "schemas/*.json" in config["tool"]["setuptools"]["package-data"]["pipeline"]
