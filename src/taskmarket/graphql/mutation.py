"""One way to run a mutation, so a resolver only says what is particular to it.

A resolver gives ``run_mutation`` its command (decode the input, call the marketplace,
return what the payload needs) and how each field of its payload is shown from what the
command returned. ``run_mutation`` checks the caller's key (and role, when ``roles`` are
given) as part of the command, runs it off the event loop through ``commands.execute``
(a DomainError becomes a userError and nothing was written), and builds the payload:
``Payload(user_errors=...)`` on refusal, else ``Payload(field=shown, ...)``.

The payload still shows the mutation's own effect: a field read from a read model
(``read_node``) waits for the log position the command wrote (consistency.ReadsAfter), and
the request returns that position as its read-your-writes token. A field built from what
the command saved (``Done.saved``, see written.py) waits for nothing.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Optional, TypeVar
from uuid import UUID

import strawberry

from ..domain import Role
from .auth import Viewer, require
from .commands import execute
from .context import Context, ctx, load_optional

T = TypeVar("T")
P = TypeVar("P")


@dataclass(frozen=True)
class Caller:
    """What a command sees: the request and its viewer (whose role was checked)."""

    context: Context
    viewer: Viewer

    @property
    def marketplace(self) -> Any:
        return self.context.marketplace

    @property
    def subject_id(self) -> UUID:
        """The requester or worker the key acts for (a role that has one was required)."""
        assert self.viewer.subject_id is not None
        return self.viewer.subject_id


@dataclass(frozen=True)
class Done(Generic[T]):
    """A command that went through: what it returned and the aggregates it saved."""

    context: Context
    value: T
    saved: dict[Any, Any] = field(default_factory=dict)


Shown = Callable[[Done[Any]], Any]  # a payload field's value, or an awaitable of it


async def run_mutation(info: strawberry.Info, name: str, command: Callable[[Caller], T],
                       payload: Callable[..., P], /, *, roles: tuple[Role, ...] = (),
                       **fields: Shown) -> P:
    """Run ``command`` as the mutation ``name`` and answer ``payload``."""
    context = ctx(info)

    def authorized_command() -> T:
        viewer = context.need_viewer()
        if roles:
            require(viewer, *roles)
        return command(Caller(context, viewer))

    outcome = await execute(context, name, authorized_command)
    if not outcome.ok:
        return payload(user_errors=outcome.errors)
    done = Done(context, outcome.value, outcome.saved)
    shown = {}
    for name_of_field, show in fields.items():
        value = show(done)
        shown[name_of_field] = await value if inspect.isawaitable(value) else value
    return payload(**shown)


def returned(index: int | None = None) -> Shown:
    """The command's value (or its ``index``-th part) as it is."""
    return lambda done: done.value if index is None else done.value[index]


def read_node(node_type: Any, loader: str, index: int | None = None) -> Shown:
    """The node a read model holds for the command's value (or its ``index``-th part):
    ``node_type.from_row`` of what ``context.loaders.<loader>`` loads; None for no id."""

    async def show(done: Done[Any]) -> Optional[Any]:
        key = done.value if index is None else done.value[index]
        return await load_optional(getattr(done.context.loaders, loader), key, node_type)

    return show


def written_or_read(node_type: Any, loader: str, written_row: Any,
                    index: int | None = None) -> Shown:
    """The node as the command saved it (``written_row(done)``, a row of graphql/written.py,
    None when the saved aggregates cannot give it); else as ``read_node`` reads it (which
    waits for the command's position)."""
    read = read_node(node_type, loader, index)

    async def show(done: Done[Any]) -> Optional[Any]:
        row = written_row(done)
        return node_type.from_row(row) if row is not None else await read(done)

    return show
