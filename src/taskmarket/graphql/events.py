"""Which events of the global log a viewer may read, for the query and the subscription."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ..domain import DomainError
from ..event_visibility import EventVisibility, visibility_of
from ..projections.cursors import decode_position
from .auth import Viewer
from .errors import client_error_from


def parse_position(after: str | None) -> int:
    try:
        return decode_position(after)
    except DomainError as error:
        raise client_error_from(error) from None


@dataclass(frozen=True)
class EventScope:
    """Reads the events a visibility rule (event_visibility.py) lets through."""

    visibility: EventVisibility

    @property
    def requester_id(self) -> UUID | None:
        return self.visibility.requester_id

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
        return self.visibility.shows(row.aggregate_kind, row.requester_id)


def event_scope(viewer: Viewer) -> EventScope:
    try:
        return EventScope(visibility_of(viewer.role, viewer.subject_id))
    except DomainError as error:  # a WORKER key
        raise client_error_from(error) from None
