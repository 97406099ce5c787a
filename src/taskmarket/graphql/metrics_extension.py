"""A latency histogram per operation name."""

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
