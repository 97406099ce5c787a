"""Which events of the global log a reader may see: one rule for the ``events`` query, the
``events`` subscription and webhook deliveries.

The event log files each event under the requester it concerns (event_log.py): a task's
events, a payout's and a requester's own. A REQUESTER or PARTNER key reads only its
requester's; a PARTNER follows the tasks, not the requester's account (deposits, wire
references); API keys' events are for ADMIN only. A webhook endpoint delivers what the key
that configured it may read of its requester's events, no more.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from .domain import DomainError, Role

# Kinds of aggregate whose events only ADMIN keys see.
ADMIN_ONLY_KINDS = frozenset({"ApiKey"})
# A partner follows its requester's tasks, not the requester's own account, nor its
# batches (whose events carry the known answers of control items).
PARTNER_HIDDEN_KINDS = ADMIN_ONLY_KINDS | {"Requester", "Batch", "BatchWorker"}


@dataclass(frozen=True)
class EventVisibility:
    requester_id: UUID | None       # only this requester's events; None: every event
    hidden_kinds: frozenset[str]    # aggregate kinds whose events are never shown

    def shows(self, aggregate_kind: str, requester_id: UUID | None) -> bool:
        if self.requester_id is not None and requester_id != self.requester_id:
            return False
        return aggregate_kind not in self.hidden_kinds


def visibility_of(role: Role, subject_id: UUID | None) -> EventVisibility:
    """What a key of ``role`` (acting for ``subject_id``) may read; FORBIDDEN for WORKER."""
    if role == Role.ADMIN:
        return EventVisibility(None, frozenset())
    if role == Role.FINANCE:
        return EventVisibility(None, ADMIN_ONLY_KINDS)
    if role == Role.REQUESTER:
        return EventVisibility(subject_id, ADMIN_ONLY_KINDS)
    if role == Role.PARTNER:
        return EventVisibility(subject_id, PARTNER_HIDDEN_KINDS)
    raise DomainError("FORBIDDEN", f"a {role.value} key does not read the event log")


def endpoint_visibility(audience: Role, requester_id: UUID) -> EventVisibility:
    """What a webhook endpoint of ``requester_id`` receives when a key of role ``audience``
    configured it: what that key reads of that requester's events."""
    return replace(visibility_of(audience, requester_id), requester_id=requester_id)
