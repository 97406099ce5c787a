"""The schema extension of ours: limits, fresh DataLoaders and latency per operation, the
read-your-writes token of a mutation."""

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


class OperationHooks(SchemaExtension):
    """What every operation needs from us, in one extension: strawberry walks every
    extension's hooks on every request (a context manager per hook), so one object doing
    four things costs a quarter of four doing one each (about 30 us less per request
    than separate extensions plus strawberry's MaxTokensLimiter and AddValidationRules).

    - the parser's token limit and our validation rules (depth, aliases);
    - fresh DataLoaders: an HTTP request has its own context anyway; a WebSocket shares
      one context among all its operations, and a loader kept from an earlier operation
      would answer from rows read before later events were projected;
    - latency per operation (metrics);
    - the read-your-writes token: the log position of what the operation wrote, as
      ``extensions.position`` (a string, like Event.position) and, over HTTP, the
      ``X-Taskmarket-Position`` header. A later request passing it in
      ``X-Taskmarket-After-Position`` reads its writes.
    """

    def __init__(self, *, max_tokens: int, validation_rules: tuple[Any, ...]):
        self.max_tokens = max_tokens
        self.validation_rules = validation_rules

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        execution = self.execution_context
        execution.parse_options["max_tokens"] = self.max_tokens
        execution.validation_rules = execution.validation_rules + self.validation_rules
        context = execution.context
        if hasattr(context, "loaders"):
            context.loaders.clear()
        yield
        position = getattr(context, "written_position", 0)
        headers = getattr(getattr(context, "response", None), "headers", None)
        if position and headers is not None:
            headers[POSITION_HEADER] = str(position)
        label = operation_label(execution.operation_name)
        REQUEST_LATENCY.labels(label).observe(time.perf_counter() - started)

    def get_results(self) -> dict[str, Any]:
        position = getattr(self.execution_context.context, "written_position", 0)
        return {"position": str(position)} if position else {}
