"""A projection that cannot apply an event is loud, not silent.

The runner records the failure on the projection's position row (in its own small
transaction, after the batch rolled back): the error, when, and how many times in a row.
Applying the next batch clears it (``tracking.save_position``). Readers of the row:
/readyz turns not-ready, ``projections status`` prints it, and a mutation waiting for its
writes to show stops waiting at once (``ProjectionStalled``) instead of timing out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from ..domain.values import clean_text

ERROR_LENGTH = 1000


@dataclass(frozen=True)
class Stall:
    """A projection stopped at ``position`` (the last event it applied) by ``error``."""

    projection: str
    position: int
    error: str
    failed_at: datetime
    failures: int

    def as_json(self) -> dict:
        return {"projection": self.projection, "position": self.position,
                "error": self.error, "failedAt": self.failed_at.isoformat(),
                "failures": self.failures}


class ProjectionFailed(Exception):
    """A projection's batch failed and was rolled back; the failure is recorded."""

    def __init__(self, projection: str, position: int, error: BaseException):
        super().__init__(f"projection {projection} cannot apply the events after "
                         f"position {position}: {describe(error)}")
        self.projection = projection
        self.position = position


class ProjectionStalled(Exception):
    """Raised to a reader waiting for a position a stalled projection will not reach."""

    def __init__(self, stall: Stall, waiting_for: int):
        super().__init__(f"projection {stall.projection} is stalled at position "
                         f"{stall.position} ({stall.error}); it will not reach {waiting_for}")
        self.stall = stall
        self.waiting_for = waiting_for


def describe(error: BaseException) -> str:
    return clean_text(f"{type(error).__name__}: {error}", ERROR_LENGTH)


def record_failure(conn: psycopg.Connection, name: str, error: BaseException) -> int:
    """Note on ``name``'s position row that it failed; returns its position."""
    found = conn.execute(
        "UPDATE projection_positions SET error = %s, failed_at = now(), "
        "failures = failures + 1 WHERE name = %s RETURNING position",
        (describe(error), name)).fetchone()
    return found[0] if found else 0


def stalls(conn: psycopg.Connection, names: list[str] | None = None) -> list[Stall]:
    """Projections (all, or ``names``) whose last attempt failed, by name."""
    rows = conn.execute(
        "SELECT name, position, error, failed_at, failures FROM projection_positions "
        "WHERE error IS NOT NULL AND (%(names)s::text[] IS NULL OR name = ANY(%(names)s)) "
        "ORDER BY name", {"names": names}).fetchall()
    return [Stall(*row) for row in rows]


def progress(conn: psycopg.Connection, names: list[str]) -> dict[str, tuple[int, bool]]:
    """(position, failing?) of each of ``names`` in one query (never run: (0, False))."""
    rows = conn.execute("SELECT name, position, error IS NOT NULL FROM projection_positions "
                        "WHERE name = ANY(%s)", (names,)).fetchall()
    found = {name: (position, failing) for name, position, failing in rows}
    return {name: found.get(name, (0, False)) for name in names}
