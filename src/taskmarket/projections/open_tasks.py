"""Which open tasks a worker could claim next: oldest posted first (fair to requesters,
and work waiting longest gets done first).

A candidate is only a hint: the claim itself is decided by the task aggregate, so a stale
candidate (filled meanwhile) just makes ``claim_next_task`` move on to the next one.
Candidates come from the "tasks" read model (indexed, oldest first) and then from the
tail of the event store the read model has not applied yet, so a lagging or stopped
projection delays nothing: a task posted a millisecond ago is already a candidate.

The composition root hands an ``OpenTasks`` to the application as its ``task_candidates``.
It reads through its own small connection pool, opened on the first claim (most processes
that build an application never claim), and closed with the application.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from ..database import Database
from ..domain import Task
from .tracking import EVENTS_TABLE

PAGE = 100
POOL_SIZE = 8
READ_MODEL = "tasks"  # the projection that owns the tasks table and its position

# Oldest first, one index range per skill the worker has (plus '' for tasks needing
# none), merged: the board's partial index (board_skill, created_at, id) read forwards.
_OPEN_TASKS = """
    SELECT board.id, board.created_at FROM unnest(%(skills)s::text[] || ''::text) AS s(skill)
    CROSS JOIN LATERAL (
        SELECT id, created_at FROM tasks
        WHERE status = 'OPEN' AND board_skill = s.skill
          AND required_skills <@ %(skills)s::text[] AND (created_at, id) > (%(at)s, %(id)s)
        ORDER BY created_at, id LIMIT %(page)s) AS board
    ORDER BY board.created_at, board.id LIMIT %(page)s"""
_OPEN_TASKS_NEEDING = """
    SELECT task_id AS id, created_at FROM task_board_skills
    WHERE skill = %(skill)s AND required_skills <@ %(skills)s::text[]
      AND (created_at, task_id) > (%(at)s, %(id)s)
    ORDER BY created_at, task_id LIMIT %(page)s"""
# Posted tasks that never completed or were cancelled, after a log position.
_UNAPPLIED = f"""
    SELECT notification_id, originator_id, originator_version, topic, state
    FROM {EVENTS_TABLE} AS posted WHERE topic = %(posted)s AND notification_id > %(after)s
    AND NOT EXISTS (SELECT 1 FROM {EVENTS_TABLE} AS ended
      WHERE ended.originator_id = posted.originator_id AND ended.topic = ANY(%(ended)s))
    ORDER BY notification_id LIMIT %(page)s"""
_START = {"at": "-infinity", "id": UUID(int=0)}
_POSTED = get_topic(Task.Posted)
_ENDED = [get_topic(Task.Completed), get_topic(Task.Cancelled)]


class OpenTasks:
    """``open_tasks(worker_skills, skill)``: ids of the open tasks a worker qualifies for
    (needing ``skill`` too, when given), the read model's first, then those posted after
    its position. ``mapper`` decodes the event store's Task.Posted events."""

    def __init__(self, database: Database, mapper: Any, pool_size: int = POOL_SIZE):
        self.mapper = mapper
        self.pool = ConnectionPool(database.conninfo, min_size=1, max_size=pool_size,
                                   kwargs={"autocommit": True, "row_factory": dict_row},
                                   open=False, name="open-tasks")
        self._opened = False
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            if self._opened:
                self.pool.close()

    def _connection(self):
        if not self._opened:
            with self._lock:
                if not self._opened:
                    self.pool.open()
                    self._opened = True
        return self.pool.connection()

    def __call__(self, worker_skills: list[str], skill: str | None) -> Iterator[UUID]:
        params = {"skills": sorted(set(worker_skills)), "skill": skill, "page": PAGE, **_START}
        with self._connection() as conn:
            row = conn.execute("SELECT position FROM projection_positions WHERE name = %s",
                               (READ_MODEL,)).fetchone()
        position = row["position"] if row else 0
        seen: set[UUID] = set()
        while position:
            with self._connection() as conn:
                rows = conn.execute(_OPEN_TASKS_NEEDING if skill else _OPEN_TASKS,
                                    params).fetchall()
            for row in rows:
                seen.add(row["id"])
                yield row["id"]
            if len(rows) < PAGE:
                break
            params.update(at=rows[-1]["created_at"], id=rows[-1]["id"])
        for task_id in self.unapplied(worker_skills, skill, after=position):
            if task_id not in seen:
                yield task_id

    def unapplied(self, worker_skills: list[str], skill: str | None,
                  after: int = 0) -> Iterator[UUID]:
        """Posted tasks that never completed or were cancelled, straight from the event
        store (after a log position), oldest first."""
        skills = set(worker_skills)
        while True:
            with self._connection() as conn:
                rows = conn.execute(_UNAPPLIED, {"posted": _POSTED, "after": after,
                                                 "ended": _ENDED, "page": PAGE}).fetchall()
            for row in rows:
                posted = self.mapper.to_domain_event(Notification(
                    id=row["notification_id"], originator_id=row["originator_id"],
                    originator_version=row["originator_version"], topic=row["topic"],
                    state=bytes(row["state"])))
                required = set(posted.required_skills)
                if required <= skills and (skill is None or skill in required):
                    yield row["originator_id"]
            if len(rows) < PAGE:
                return
            after = rows[-1]["notification_id"]
