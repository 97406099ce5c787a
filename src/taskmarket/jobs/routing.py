"""Which open tasks a worker could claim next: oldest posted first (fair to requesters,
and work waiting longest gets done first).

A candidate is only a hint: the claim itself is decided by the task aggregate, so a stale
candidate (filled meanwhile) just makes ``claim_next_task`` move on to the next one.
Candidates come from the "tasks" read model (indexed, oldest first) and then from the
tail of the event store the read model has not applied yet, so a lagging or stopped
projection delays nothing: a task posted a millisecond ago is already a candidate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from uuid import UUID

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic
from psycopg import sql

from ..domain import Task

TaskCandidates = Callable[[list[str], "str | None"], Iterable[UUID]]

PAGE = 100
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
_START = {"at": "-infinity", "id": UUID(int=0)}


def open_task_candidates(app) -> TaskCandidates:
    """The read model's open tasks, then those posted after its position."""
    datastore = app.recorder.datastore
    unapplied = event_store_candidates(app)

    def candidates(worker_skills: list[str], skill: str | None) -> Iterator[UUID]:
        params = {"skills": sorted(set(worker_skills)), "skill": skill, "page": PAGE, **_START}
        with datastore.get_connection() as conn:
            row = conn.execute("SELECT position FROM projection_positions WHERE name = %s",
                               (READ_MODEL,)).fetchone()
        position = row["position"] if row else 0
        seen: set[UUID] = set()
        while position:
            with datastore.get_connection() as conn:
                rows = conn.execute(_OPEN_TASKS_NEEDING if skill else _OPEN_TASKS,
                                    params).fetchall()
            for row in rows:
                seen.add(row["id"])
                yield row["id"]
            if len(rows) < PAGE:
                break
            params.update(at=rows[-1]["created_at"], id=rows[-1]["id"])
        for task_id in unapplied(worker_skills, skill, after=position):
            if task_id not in seen:
                yield task_id

    return candidates


def event_store_candidates(app) -> Callable[..., Iterator[UUID]]:
    """Posted tasks that never completed or were cancelled, straight from the event store
    (after a log position), oldest first."""
    recorder = app.recorder
    table = sql.Identifier(recorder.datastore.schema, recorder.events_table_name)
    query = sql.SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state "
        "FROM {table} AS posted WHERE topic = %(posted)s AND notification_id > %(after)s "
        "AND NOT EXISTS (SELECT 1 FROM {table} AS ended "
        "  WHERE ended.originator_id = posted.originator_id AND ended.topic = ANY(%(ended)s)) "
        "ORDER BY notification_id LIMIT %(page)s").format(table=table)
    ended = [get_topic(Task.Completed), get_topic(Task.Cancelled)]

    def candidates(worker_skills: list[str], skill: str | None,
                   after: int = 0) -> Iterator[UUID]:
        skills = set(worker_skills)
        while True:
            with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
                cursor.execute(query, {"posted": get_topic(Task.Posted), "after": after,
                                       "ended": ended, "page": PAGE})
                rows = cursor.fetchall()
            for row in rows:
                posted = app.mapper.to_domain_event(Notification(
                    id=row["notification_id"], originator_id=row["originator_id"],
                    originator_version=row["originator_version"], topic=row["topic"],
                    state=bytes(row["state"])))
                required = set(posted.required_skills)
                if required <= skills and (skill is None or skill in required):
                    yield row["originator_id"]
            if len(rows) < PAGE:
                return
            after = rows[-1]["notification_id"]

    return candidates
