"""The domain stays pure: no module under src/taskmarket/domain imports anything that does I/O."""

import ast
from pathlib import Path

import taskmarket.domain

FORBIDDEN = {"psycopg", "psycopg2", "stripe", "strawberry", "dramatiq", "starlette", "httpx",
             "requests", "socket", "uvicorn", "redis"}
DOMAIN = Path(taskmarket.domain.__file__).parent


def imported_roots(source: str) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_checker_sees_both_import_forms_even_inside_functions():
    source = "import os, socket\nfrom httpx import get\ndef f():\n    import stripe.api\n"
    assert imported_roots(source) & FORBIDDEN == {"socket", "httpx", "stripe"}
    assert imported_roots("from . import money\nfrom .errors import ensure") == set()


def test_no_domain_module_imports_an_io_library():
    modules = sorted(DOMAIN.rglob("*.py"))
    assert len(modules) >= 8
    offenders = {str(path.relative_to(DOMAIN)): sorted(imported_roots(path.read_text())
                                                        & FORBIDDEN)
                 for path in modules}
    assert {name: found for name, found in offenders.items() if found} == {}
