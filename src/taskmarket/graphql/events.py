"""Which events of the global log a viewer may read, for the query and the subscription."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ..domain import DomainError, Role
from ..projections.cursors import decode_position
from .auth import Viewer
from .errors import ClientError, client_error_from

# Kinds of aggregate whose events only ADMIN keys see.
ADMIN_ONLY_KINDS = frozenset({"ApiKey"})
# A partner follows its requester's tasks, not the requester's own account, nor its
# batches (whose events carry the known answers of control items).
PARTNER_HIDDEN_KINDS = ADMIN_ONLY_KINDS | {"Requester", "Batch", "BatchWorker"}


def parse_position(after: str | None) -> int:
    try:
        return decode_position(after)
    except DomainError as error:
        raise client_error_from(error) from None


@dataclass(frozen=True)
class EventScope:
    requester_id: UUID | None
    hidden_kinds: frozenset[str]

    def read(self, reads: Any, after: int, first: int,
             types: Sequence[str] | None) -> list[Any]:
        return self.scan(reads, after, first, types)[0]

    def scan(self, reads: Any, after: int, first: int,
             types: Sequence[str] | None) -> tuple[list[Any], int]:
        """Up to ``first`` visible events after ``after``, in log order, and the position
        read up to.

        Hidden events are skipped by reading on past them, so a page is never cut short
        by events the viewer may not see.
        """
        found: list[Any] = []
        position = after
        while len(found) < first:
            rows = reads.events(position, first, list(types) if types else None,
                                self.requester_id)
            for row in rows:
                if len(found) == first:
                    return found, position
                if self.shows(row):
                    found.append(row)
                position = row.position
            if len(rows) < first:
                break
        return found, position

    def shows(self, row: Any) -> bool:
        return row.aggregate_kind not in self.hidden_kinds


def event_scope(viewer: Viewer) -> EventScope:
    if viewer.role == Role.ADMIN:
        return EventScope(None, frozenset())
    if viewer.role == Role.FINANCE:
        return EventScope(None, ADMIN_ONLY_KINDS)
    # The read model files each event under the requester it concerns.
    if viewer.role == Role.REQUESTER:
        return EventScope(viewer.subject_id, ADMIN_ONLY_KINDS)
    if viewer.role == Role.PARTNER:
        return EventScope(viewer.subject_id, PARTNER_HIDDEN_KINDS)
    raise ClientError("a WORKER key does not read the event log", "FORBIDDEN")
