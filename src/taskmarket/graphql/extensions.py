"""Schema extensions of ours: latency per operation, fresh DataLoaders per operation,
the read-your-writes token of a mutation."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension

from ..metrics import REQUEST_LATENCY
from .consistency import POSITION_HEADER


# Clients name their operations; a bound on distinct labels keeps a client that invents
# names from growing the metrics without limit.
MAX_OPERATION_LABELS = 200
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_labels: set[str] = set()


def operation_label(name: str | None) -> str:
    if not name:
        return "anonymous"
    if name in _labels:
        return name
    if not _NAME.match(name) or len(_labels) >= MAX_OPERATION_LABELS:
        return "other"
    _labels.add(name)
    return name


class OperationMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        label = operation_label(self.execution_context.operation_name)
        REQUEST_LATENCY.labels(label).observe(time.perf_counter() - started)


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


class ReadYourWritesToken(SchemaExtension):
    """Hand back the log position of what the operation wrote: ``extensions.position``
    (a string, like Event.position) and, over HTTP, the ``X-Taskmarket-Position`` header.
    A later request passing it in ``X-Taskmarket-After-Position`` reads its writes."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        position = getattr(context, "written_position", 0)
        headers = getattr(getattr(context, "response", None), "headers", None)
        if position and headers is not None:
            headers[POSITION_HEADER] = str(position)

    def get_results(self) -> dict[str, Any]:
        position = getattr(self.execution_context.context, "written_position", 0)
        return {"position": str(position)} if position else {}
