"""Which open tasks a worker could claim next, oldest posted first (fairness to requesters).

A candidate is only a hint: the claim itself is decided by the task aggregate, so a stale
candidate (filled meanwhile) just makes ``claim_next_task`` move on to the next one.
This provider reads the event store directly (posted tasks that never completed or were
cancelled), so it works without any read model; a task-board read model can replace it
through the same ``(worker_skills, skill) -> iterable of task ids`` shape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from uuid import UUID

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic
from psycopg import sql

from ..domain import Task

TaskCandidates = Callable[[list[str], "str | None"], Iterable[UUID]]

PAGE = 200


def event_store_candidates(app) -> TaskCandidates:
    """Candidates from the application's PostgreSQL event store, oldest posted first."""
    recorder = app.recorder
    table = sql.Identifier(recorder.datastore.schema, recorder.events_table_name)
    query = sql.SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state "
        "FROM {table} AS posted WHERE topic = %(posted)s AND notification_id > %(after)s "
        "AND NOT EXISTS (SELECT 1 FROM {table} AS ended "
        "  WHERE ended.originator_id = posted.originator_id AND ended.topic = ANY(%(ended)s)) "
        "ORDER BY notification_id LIMIT %(page)s").format(table=table)
    ended = [get_topic(Task.Completed), get_topic(Task.Cancelled)]

    def candidates(worker_skills: list[str], skill: str | None) -> Iterator[UUID]:
        skills = set(worker_skills)
        after = 0
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
