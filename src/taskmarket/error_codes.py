"""Which error codes the package raises, and which mutations can return each, read from
its source (for docs/errors.md).

Error codes: every UPPER_SNAKE literal given as the code of a ``DomainError``, ``ensure``,
``ClientError`` or ``ServiceError``. Which mutations return a code follows the calls from
each mutation's resolver through the functions it calls (by name, across the package, and
into functions handed on by name): an over-approximation when two functions share a name,
never an omission of a direct path. A call of a name the function binds itself
(``run_mutation`` calling the ``command`` it was given) is not followed by name: the code
it runs is walked where it was written.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from .events import camel

PACKAGE = Path(__file__).resolve().parent
CODE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$|^[A-Z]{4,}$")
RAISERS = {"DomainError": 0, "ensure": 1, "ClientError": 1, "ServiceError": 1}


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "stripe_emulator" in path.parts:  # speaks Stripe's errors, not ours
            continue
        yield path, ast.parse(path.read_text(), str(path))


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _code_of(call: ast.Call) -> str | None:
    name = _called_name(call)
    if name not in RAISERS:
        return None
    arguments = list(call.args)
    argument = next((k.value for k in call.keywords if k.arg == "code"), None)
    if argument is None and len(arguments) > RAISERS[name]:
        argument = arguments[RAISERS[name]]
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str) \
            and CODE.match(argument.value):
        return argument.value
    return None


def _message_of(call: ast.Call) -> str | None:
    name = _called_name(call)
    index = {"DomainError": 1, "ensure": 2, "ClientError": 0,
             "ServiceError": 0}[name]  # type: ignore[index]
    if len(call.args) > index and isinstance(call.args[index], ast.Constant):
        return str(call.args[index].value)
    return None


def _bound_names(function: ast.AST) -> set[str]:
    """Names the function (or a function nested in it) binds: parameters, assignments,
    loop variables, nested definitions. A call of such a name runs what was passed or
    defined here (``run_mutation`` calling the resolver's ``command``): the code it runs
    is already in the walk of the function that wrote it, so it is not followed by name
    (which would join every function of that name across the package)."""
    bound: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif node is not function and isinstance(node, (ast.FunctionDef,
                                                        ast.AsyncFunctionDef)):
            bound.add(node.name)
    return bound


def _is_mutation(function: ast.AST) -> bool:
    for decorator in getattr(function, "decorator_list", []):
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute) and target.attr == "mutation":
            return True
    return False


class SourceIndex:
    """Codes raised and names called, per function name, across the package."""

    def __init__(self) -> None:
        self.codes: dict[str, set[str]] = {}
        self.calls: dict[str, set[str]] = {}
        self.messages: dict[str, list[str]] = {}
        self.mutations: dict[str, ast.AST] = {}
        for _, module in _modules():
            for node in ast.walk(module):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    self._index(node)
                    if _is_mutation(node):
                        self.mutations[camel(node.name)] = node
                elif isinstance(node, ast.Call) and (code := _code_of(node)):
                    message = _message_of(node)
                    if message and message not in self.messages.setdefault(code, []):
                        self.messages[code].append(message)
        # A command's writes are waited for later, by the payload's first read of a read
        # model (graphql/consistency.py: Context.wrote, then ReadsAfter.wait): what that
        # wait raises reaches every mutation that ran a command.
        self.calls.setdefault("wrote", set()).add("wait")

    def _index(self, function: ast.AST) -> None:
        name = function.name  # type: ignore[attr-defined]
        codes, calls = self.codes.setdefault(name, set()), self.calls.setdefault(name, set())
        for decorator in function.decorator_list:  # type: ignore[attr-defined]
            if isinstance(decorator, ast.Name):  # @retry_on_conflict wraps the call
                calls.add(decorator.id)
        bound = _bound_names(function)
        for node in ast.walk(function):
            if isinstance(node, ast.Call):
                if code := _code_of(node):
                    codes.add(code)
                called = _called_name(node)
                if called and not (isinstance(node.func, ast.Name) and called in bound):
                    calls.add(called)
                # A function handed on by name (a payload field's ``shown``) runs too.
                calls.update(argument.id for argument in
                             [*node.args, *(k.value for k in node.keywords)]
                             if isinstance(argument, ast.Name) and argument.id not in bound)

    def all_codes(self) -> set[str]:
        return set().union(*self.codes.values()) | set(self.messages)

    def reachable_codes(self, name: str) -> set[str]:
        seen, todo, found = {name}, [name], set()
        while todo:
            current = todo.pop()
            found |= self.codes.get(current, set())
            for called in self.calls.get(current, ()):
                if called not in seen and called in self.calls:
                    seen.add(called)
                    todo.append(called)
        return found

    def mutations_by_code(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for mutation, function in sorted(self.mutations.items()):
            for code in self.reachable_codes(function.name):  # type: ignore[attr-defined]
                found.setdefault(code, []).append(mutation)
        return found
