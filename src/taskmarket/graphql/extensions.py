"""Schema extensions of ours: latency per operation, fresh DataLoaders per operation."""

from __future__ import annotations

import time
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from ..metrics import REQUEST_LATENCY


class OperationMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        name = self.execution_context.operation_name or "anonymous"
        REQUEST_LATENCY.labels(name[:64]).observe(time.perf_counter() - started)


class FreshLoaders(SchemaExtension):
    """Start every operation with empty DataLoaders.

    An HTTP request has its own context anyway; a WebSocket shares one context among all
    its operations, and a loader kept from an earlier operation would answer from rows
    read before later events were projected.
    """

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if hasattr(context, "loaders"):
            context.loaders.clear()
        yield
