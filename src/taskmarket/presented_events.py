"""Events as people see them: references to other nodes as global IDs.

Stored events (and the event log's rows) keep raw UUIDs. Whatever shows an event to a
person or a program outside (the API's ``Event.data``, webhook bodies) passes its data
through ``present_data`` here, so ``data.taskId`` is the same string as that task's
``node.id`` and can be given back to ``node(id:)`` or any mutation.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from .global_ids import to_global_id

# Data fields that name one of our nodes, and the node type they name.
REFERENCES = {
    "requesterId": "Requester", "workerId": "Worker", "taskId": "Task", "payoutId": "Payout",
    "endpointId": "WebhookEndpoint", "deliveryId": "WebhookDelivery", "ownerKeyId": "ApiKey",
    "batchId": "Batch", "runId": "ReconciliationRun",
}
# Claims and submissions live inside a task: their global ids carry the task's id too.
TASK_PARTS = {"claimId": "Claim", "submissionId": "Submission"}
# An API key's subject is a worker for WORKER keys and a requester for the others.
SUBJECT = "subjectId"
# Fields ending in "Id" that are not ours to resolve (Stripe's ids) stay as they are.
FOREIGN_IDS = frozenset({"transferId", "accountId", "stripeAccountId"})


def _task_of(aggregate_kind: str, aggregate_id: Any, data: dict[str, Any]) -> Any:
    return data.get("taskId") or (aggregate_id if aggregate_kind == "Task" else None)


def present_data(aggregate_kind: str, aggregate_id: UUID | str,
                 data: dict[str, Any]) -> dict[str, Any]:
    """A copy of an event's data with every reference as a global ID (None stays None)."""
    presented = dict(data)
    for name, value in data.items():
        if value is None:
            continue
        if name in REFERENCES:
            presented[name] = to_global_id(REFERENCES[name], value)
        elif name in TASK_PARTS:
            task_id = _task_of(aggregate_kind, aggregate_id, data)
            if task_id is not None:
                presented[name] = to_global_id(TASK_PARTS[name], task_id, value)
        elif name == SUBJECT:
            kind = "Worker" if data.get("role") == "WORKER" else "Requester"
            presented[name] = to_global_id(kind, value)
    return presented
