"""The layers hold: import-linter's contracts (pyproject.toml) pass on the source tree."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import taskmarket

ROOT = Path(__file__).resolve().parents[2]


def contracts() -> list[dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return config["tool"]["importlinter"]["contracts"]


def test_lint_imports_keeps_every_contract():
    run = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"Contracts: {len(contracts())} kept, 0 broken." in run.stdout


def test_the_forbidden_contracts_name_every_other_top_level_module():
    # A new top-level module is forbidden to the domain and the emulator from day one.
    top_level = {f"taskmarket.{m.name}" for m in pkgutil.iter_modules(taskmarket.__path__)}
    forbidding = [c for c in contracts() if c["type"] == "forbidden"]
    assert len(forbidding) == 2
    for contract in forbidding:
        expected = top_level - set(contract["source_modules"])
        assert set(contract["forbidden_modules"]) == expected, contract["name"]
