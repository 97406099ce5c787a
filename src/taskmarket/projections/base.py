"""What a projection is: named tables plus handlers by public event type.

Read-model modules declare handlers with `Handlers.on`; a `Projection` combines the
handlers of one or more modules that share a transaction (and so may read each other's
rows, e.g. a submission's requester comes from its task).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .store import Batch, Table

Handler = Callable[[Batch, Any], None]


class Handlers:
    """Event handlers of one read-model module, in the order they were declared."""

    def __init__(self) -> None:
        self.by_type: dict[str, list[Handler]] = {}

    def on(self, *types: str) -> Callable[[Handler], Handler]:
        """Register a handler for these public event types ("*": every event)."""
        def register(handler: Handler) -> Handler:
            for name in types:
                self.by_type.setdefault(name, []).append(handler)
            return handler
        return register


class Projection:
    """A named read model: its tables and how each event type changes them.

    ``preload`` (optional) fetches in bulk the rows a batch's handlers will read;
    ``finish`` (optional) derives rows from the batch's final state before the write.
    """

    def __init__(self, name: str, tables: Sequence[Table], handlers: Iterable[Handlers],
                 preload: Callable[[Batch, list[tuple[str, Any]]], None] | None = None,
                 finish: Callable[[Batch], None] | None = None):
        self.name = name
        self.tables = tuple(tables)
        self.handlers: dict[str, list[Handler]] = {}
        for module in handlers:
            for event_type, functions in module.by_type.items():
                self.handlers.setdefault(event_type, []).extend(functions)
        self._preload = preload
        self._finish = finish

    @property
    def table_names(self) -> list[str]:
        return [t.name for t in self.tables]

    def concerns(self, events: list[tuple[int, str, Any]]) -> bool:
        """Whether any of these events changes the projection's rows."""
        return "*" in self.handlers or any(item[1] in self.handlers for item in events)

    def apply(self, batch: Batch, events: list[tuple[int, str, Any]]) -> None:
        """Apply (notification id, type, event) triples, in order, to the batch."""
        every = self.handlers.get("*", [])
        mine = events if every else [item for item in events if item[1] in self.handlers]
        if self._preload and mine:
            self._preload(batch, [(kind, e) for _, kind, e in mine])
        for nid, kind, event in mine:
            batch.position = nid
            for handler in self.handlers.get(kind, ()):
                handler(batch, event)
            for handler in every:
                handler(batch, event)
        if self._finish:
            self._finish(batch)
        batch.flush()

    def __repr__(self) -> str:
        return f"Projection({self.name!r})"
