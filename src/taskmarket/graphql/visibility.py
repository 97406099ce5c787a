"""Which rows a viewer may read. Pure functions of the viewer and the rows."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ..domain import Role
from .auth import Viewer


def owns_requester(viewer: Viewer, requester_id: UUID | None) -> bool:
    """A REQUESTER key of that requester (PARTNER keys only read events)."""
    return viewer.role == Role.REQUESTER and viewer.subject_id == requester_id


def sees_requester_money(viewer: Viewer, requester_id: UUID) -> bool:
    return viewer.sees_everything or owns_requester(viewer, requester_id)


def sees_task(viewer: Viewer, task: Any) -> bool:
    """Workers browse every task; requesters and partners their requester's."""
    if viewer.sees_everything or viewer.role == Role.WORKER:
        return True
    return viewer.subject_id == task.requester_id


def sees_task_history(viewer: Viewer, task: Any) -> bool:
    if viewer.sees_everything:
        return True
    return viewer.role in (Role.REQUESTER, Role.PARTNER) and viewer.subject_id == task.requester_id


def sees_task_work(viewer: Viewer, task: Any) -> bool:
    """Every claim and submission of a task: its requester, ADMIN and FINANCE."""
    return viewer.sees_everything or owns_requester(viewer, task.requester_id)


def sees_work(viewer: Viewer, worker_id: UUID, task: Any | None) -> bool:
    """One claim or submission: its worker, or whoever sees the task's work."""
    if viewer.role == Role.WORKER:
        return viewer.subject_id == worker_id
    return viewer.sees_everything or (task is not None and sees_task_work(viewer, task))


def sees_payout(viewer: Viewer, payout: Any) -> bool:
    if viewer.sees_everything:
        return True
    if viewer.role == Role.WORKER:
        return viewer.subject_id == payout.worker_id
    return owns_requester(viewer, getattr(payout, "requester_id", None))


def sees_payout_account(viewer: Viewer, worker_id: UUID) -> bool:
    """A worker's connected account: the worker itself, ADMIN and FINANCE."""
    return viewer.sees_everything or (viewer.role == Role.WORKER
                                      and viewer.subject_id == worker_id)


def manages_webhooks(viewer: Viewer) -> bool:
    """ADMIN, or a REQUESTER (or its PARTNER) key for the endpoints of its requester."""
    return viewer.role == Role.ADMIN or (viewer.role in (Role.REQUESTER, Role.PARTNER)
                                         and viewer.requester_id is not None)


def sees_webhook_endpoint(viewer: Viewer, endpoint: Any) -> bool:
    return viewer.role == Role.ADMIN or (viewer.role in (Role.REQUESTER, Role.PARTNER)
                                         and endpoint.requester_id == viewer.requester_id)


def sees_batch(viewer: Viewer, row: Any) -> bool:
    """A batch is read by whoever may see its items: its requester's keys, ADMIN and
    FINANCE, and workers (who need its instructions and answer schema)."""
    return viewer.role == Role.WORKER or sees_task(viewer, row)
