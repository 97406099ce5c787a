"""The task board: open tasks a worker qualifies for, newest first.

A task is on the board while its status is OPEN (it then has open slots). Two indexes
serve it: the partial index ``task_board`` on tasks (board_skill, created_at, id), where
board_skill is the task's smallest required skill ('' for none) — a worker qualifies only
if it has that skill, so the board of a worker is the merge of one index range per skill
it has, plus ''; and ``task_board_skills``, one row per (required skill, open task), for
"open tasks needing skill X".
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import psycopg

from . import cursors
from .rows import TaskRow
from .sqlq import fetch
from .store import Batch, Table
from .task_rows import COLUMNS, make

TASK_BOARD_SKILLS = Table("task_board_skills", ("skill", "created_at", "task_id",
                                                "required_skills"), ("skill",))


def sync(batch: Batch) -> None:
    """Put the batch's changed tasks that need skills on (or off) the skill index."""
    tasks = batch["tasks"]
    changed = [tasks.rows[key] for key in tasks.dirty]
    with_skills = [row for row in changed if row["required_skills"]]
    gone = [row["id"] for row in with_skills if row["status"] != "OPEN"]
    if gone:
        batch.conn.execute("DELETE FROM task_board_skills WHERE task_id = ANY(%s)", (gone,))
    entries = [(skill, row["created_at"], row["id"], row["required_skills"])
               for row in with_skills if row["status"] == "OPEN"
               for skill in row["required_skills"]]
    if entries:
        with batch.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO task_board_skills (skill, created_at, task_id, required_skills) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING", entries)


def open_for_worker(conn: psycopg.Connection, worker_skills: list[str], skill: str | None,
                    first: int, after: str | None) -> list[TaskRow]:
    """Open tasks whose required skills the worker has (and that need ``skill``)."""
    skills = sorted({s.strip().lower() for s in worker_skills})
    place = cursors.decode(after, datetime, UUID)
    params: dict = {"skills": skills, "first": first}
    page = ""
    if place:
        page = "AND (created_at, id) < (%(at)s, %(id)s)"
        params.update(at=place[0], id=place[1])
    if skill is not None:
        params["skill"] = skill.strip().lower()
        query = f"""
            SELECT {COLUMNS} FROM tasks WHERE id IN (
                SELECT task_id FROM task_board_skills
                WHERE skill = %(skill)s AND required_skills <@ %(skills)s::text[]
                  {page.replace('created_at, id', 'created_at, task_id')}
                ORDER BY created_at DESC, task_id DESC LIMIT %(first)s)
            ORDER BY created_at DESC, id DESC"""
    else:
        query = f"""
            SELECT {COLUMNS} FROM tasks WHERE id IN (
                SELECT board.id FROM unnest(%(skills)s::text[] || ''::text) AS s(skill)
                CROSS JOIN LATERAL (
                    SELECT id, created_at FROM tasks
                    WHERE status = 'OPEN' AND board_skill = s.skill
                      AND required_skills <@ %(skills)s::text[] {page}
                    ORDER BY created_at DESC, id DESC LIMIT %(first)s) AS board
                ORDER BY board.created_at DESC, board.id DESC LIMIT %(first)s)
            ORDER BY created_at DESC, id DESC"""
    return fetch(conn, query, params, make)
