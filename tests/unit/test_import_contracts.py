"""The layers hold: import-linter's contracts (pyproject.toml) pass on the source tree,
and no import inside a function hides a cycle between our modules."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp  # import-linter's import graph (function-level imports included)

import taskmarket

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src" / "taskmarket"
# Function-level imports that close a cycle, each with its reason: remove an entry when
# it is fixed, never add one.
KNOWN_CYCLES = {
    # Strawberry types that refer to each other (issue 12's thin-GraphQL work).
    ("taskmarket.graphql.finance", "taskmarket.graphql.books"),
    ("taskmarket.graphql.types", "taskmarket.graphql.batch_types"),
    ("taskmarket.graphql.types", "taskmarket.graphql.trace"),
}


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


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SOURCE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(importer: str, node: ast.Import | ast.ImportFrom, is_package: bool,
                     known: set[str]) -> list[str]:
    """Our modules that ``node`` (in module ``importer``) imports."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        package = node.module or ""
        if node.level:  # relative: from the importer's package, up level - 1 packages
            base = importer.split(".") if is_package else importer.split(".")[:-1]
            base = base[:len(base) - (node.level - 1)]
            package = ".".join([*base, node.module] if node.module else base)
        names = [f"{package}.{alias.name}" if f"{package}.{alias.name}" in known else package
                 for alias in node.names]
    return [name for name in names if name in known]


def function_level_imports() -> list[tuple[str, str]]:
    """(importer, imported) for every import of ours inside a function, in src/."""
    known = {m.name for m in pkgutil.walk_packages(
        taskmarket.__path__, "taskmarket.")} | {"taskmarket"}
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        importer = module_name(path)
        for function in ast.walk(ast.parse(path.read_text())):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    found += [(importer, imported) for imported in imported_modules(
                        importer, node, path.name == "__init__.py", known)]
    return sorted(set(found))


def test_the_finder_sees_function_level_imports():
    # The CLI imports its commands' heavy modules when they run.
    assert ("taskmarket.cli", "taskmarket.web") in function_level_imports()


def test_no_import_inside_a_function_hides_a_cycle():
    # Deferring an import to call time lets a cycle import; it stays a cycle: the module
    # imported must not lead back (by any import) to the module importing it.
    graph = grimp.build_graph("taskmarket", cache_dir=None)
    cycles = {(importer, imported) for importer, imported in function_level_imports()
              if graph.find_shortest_chain(importer=imported, imported=importer)}
    assert cycles - KNOWN_CYCLES == set()


def test_the_composition_root_is_imported_at_module_level_only():
    # cli, web, database_setup and the CLI groups ask bootstrap for what they run, and
    # import it up front; below it nothing imports it at all (the layers contract).
    deferred = [pair for pair in function_level_imports()
                if pair[1].startswith("taskmarket.bootstrap")
                or pair[0].startswith("taskmarket.bootstrap")
                and pair[1].split(".")[1] in {"cli", "web", "database_setup"}]
    assert deferred == []
