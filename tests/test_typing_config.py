"""mypy --strict checks the tests and the benchmarks as well as the package (issue 12 item 8):
a bare ``mypy`` (as .ci/run calls it) must cover all three."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_checks_the_package_the_tests_and_the_benchmarks_strictly() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert config["strict"] is True
    assert {"events", "tests", "bench"} <= set(config["packages"])
