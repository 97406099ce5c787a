"""The query API of the read models, for GraphQL resolvers, workers and the CLI.

Lists are keyset-paginated: each row carries an opaque ``cursor``; pass the last row's
cursor as ``after`` for the next page. ``first`` is used as given (callers validate it,
1..100) and at most ``first`` rows come back: ask for ``first + 1`` to learn whether
there is a next page. Events are paged by their gap-free ``position`` instead (their
cursor is the position as a string). A malformed cursor raises DomainError INVALID_INPUT.

Batch lookups (``requesters(ids)`` etc.) run one query for all ids and return a dict with
only the ids found — what DataLoaders need.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from psycopg_pool import ConnectionPool

from ..database import Database
from . import (
    api_keys, audit_chain, batches, claims, event_log, failures, ledger, ledger_history,
    payout_trace, payouts, reconciliations, requesters, submissions, task_board, tasks, tracking,
    webhook_endpoints, worker_stats, workers,
)
from .registry import PROJECTIONS
from .rows import (
    ApiKeyRow, ClaimRow, EventRow, LedgerEntryRow, PayoutRow, RequesterRow, SubmissionRow, TaskRow,
    WebhookEndpointRow, WorkerRow, WorkerStatsRow,
)


class ReadModels:
    def __init__(self, pool: ConnectionPool, owns_pool: bool = False):
        self.pool = pool
        self._owns_pool = owns_pool

    @classmethod
    def from_database(cls, database: Database, max_size: int = 8) -> "ReadModels":
        pool = ConnectionPool(database.conninfo, min_size=1, max_size=max_size,
                              kwargs={"autocommit": True}, open=True, name="read-models")
        return cls(pool, owns_pool=True)

    def close(self) -> None:
        if self._owns_pool:
            self.pool.close()

    # --- batch lookups --------------------------------------------------------------
    def requesters(self, ids: Iterable[UUID]) -> dict[UUID, RequesterRow]:
        with self.pool.connection() as conn:
            return requesters.by_ids(conn, ids)

    def workers(self, ids: Iterable[UUID]) -> dict[UUID, WorkerRow]:
        with self.pool.connection() as conn:
            return workers.by_ids(conn, ids)

    def api_keys(self, ids: Iterable[UUID]) -> dict[UUID, ApiKeyRow]:
        with self.pool.connection() as conn:
            return api_keys.by_ids(conn, list(ids))

    # --- ADMIN lists, oldest first --------------------------------------------------
    def requester_page(self, first: int, after: str | None = None) -> list[RequesterRow]:
        with self.pool.connection() as conn:
            return requesters.page(conn, first, after)

    def worker_page(self, skill: str | None, first: int,
                    after: str | None = None) -> list[WorkerRow]:
        with self.pool.connection() as conn:
            return workers.page(conn, skill, first, after)

    def api_key_page(self, first: int, after: str | None = None) -> list[ApiKeyRow]:
        with self.pool.connection() as conn:
            return api_keys.page(conn, first, after)

    def webhook_endpoint_page(self, requester_id: UUID | None, first: int,
                              after: str | None = None) -> list[WebhookEndpointRow]:
        """Endpoints of one requester (all when None), in id order."""
        with self.pool.connection() as conn:
            return webhook_endpoints.page(conn, requester_id, first, after)

    def tasks(self, ids: Iterable[UUID]) -> dict[UUID, TaskRow]:
        with self.pool.connection() as conn:
            return tasks.by_ids(conn, ids)

    def claims(self, ids: Iterable[UUID]) -> dict[UUID, ClaimRow]:
        with self.pool.connection() as conn:
            return claims.by_ids(conn, ids)

    def submissions(self, ids: Iterable[UUID]) -> dict[UUID, SubmissionRow]:
        with self.pool.connection() as conn:
            return submissions.by_ids(conn, ids)

    def payouts(self, ids: Iterable[UUID]) -> dict[UUID, PayoutRow]:
        with self.pool.connection() as conn:
            return payouts.by_ids(conn, ids)

    def workers_with_account(self, account_id: str) -> list[WorkerRow]:
        """The workers whose payouts go to a Stripe connected account."""
        with self.pool.connection() as conn:
            return workers.by_stripe_account(conn, account_id)

    def payout_history_events(self, payout_id: UUID) -> list[EventRow]:
        """Every event of a payout, oldest first."""
        with self.pool.connection() as conn:
            return event_log.of_aggregate(conn, payout_id)

    def worker_stats(self, ids: Iterable[UUID]) -> dict[UUID, WorkerStatsRow]:
        with self.pool.connection() as conn:
            return worker_stats.by_ids(conn, ids)

    def batches(self, ids: Iterable[UUID]) -> dict[UUID, batches.BatchRow]:
        with self.pool.connection() as conn:
            return batches.by_ids(conn, ids)

    def consensus(self, task_ids: Iterable[UUID]) -> dict[UUID, batches.ConsensusRow]:
        with self.pool.connection() as conn:
            return batches.consensus(conn, task_ids)

    def flagged_submissions(self, ids: Iterable[UUID]) -> dict[UUID, bool]:
        with self.pool.connection() as conn:
            return batches.flagged_submissions(conn, ids)

    def gold_totals(self, worker_ids: Iterable[UUID]) -> dict[UUID, tuple[int, int]]:
        with self.pool.connection() as conn:
            return batches.gold_totals(conn, worker_ids)

    # --- lists ----------------------------------------------------------------------
    def batch_list(self, requester_id: UUID | None, first: int,
                   after: str | None = None) -> list[batches.BatchRow]:
        """Batches newest first (of one requester when given)."""
        with self.pool.connection() as conn:
            return batches.newest_first(conn, requester_id, first, after)

    def batch_tasks(self, batch_id: UUID, first: int, after: str | None = None,
                    without_gold: bool = False) -> list[TaskRow]:
        """A batch's items, oldest first (without its control items when asked)."""
        with self.pool.connection() as conn:
            return batches.tasks_of_batch(conn, batch_id, first, after, without_gold)

    def batch_worker_quality(self, batch_id: UUID, first: int, after: str | None = None
                             ) -> list[batches.WorkerQualityRow]:
        with self.pool.connection() as conn:
            return batches.worker_quality(conn, batch_id, first, after)

    def open_tasks_for_worker(self, worker_skills: list[str], skill: str | None, first: int,
                              after: str | None = None) -> list[TaskRow]:
        """OPEN tasks whose required skills are all in ``worker_skills``, newest first."""
        with self.pool.connection() as conn:
            return task_board.open_for_worker(conn, worker_skills, skill, first, after)

    def tasks_of_requester(self, requester_id: UUID, status: str | None, first: int,
                           after: str | None = None) -> list[TaskRow]:
        """A requester's tasks, newest first."""
        with self.pool.connection() as conn:
            return tasks.of_requester(conn, requester_id, status, first, after)

    def all_tasks(self, status: str | None, skill: str | None, first: int,
                  after: str | None = None) -> list[TaskRow]:
        """Every task (ADMIN, FINANCE), newest first."""
        with self.pool.connection() as conn:
            return tasks.everything(conn, status, skill, first, after)

    def submissions_of_task(self, task_id: UUID, first: int,
                            after: str | None = None) -> list[SubmissionRow]:
        """A task's submissions, oldest first."""
        with self.pool.connection() as conn:
            return submissions.of_task(conn, task_id, first, after)

    def review_queue(self, requester_id: UUID, first: int,
                     after: str | None = None) -> list[SubmissionRow]:
        """A requester's submissions waiting for review, oldest first."""
        with self.pool.connection() as conn:
            return submissions.review_queue(conn, requester_id, first, after)

    def claims_of_worker(self, worker_id: UUID, first: int,
                         after: str | None = None) -> list[ClaimRow]:
        """A worker's claims, newest first."""
        with self.pool.connection() as conn:
            return claims.of_worker(conn, worker_id, first, after)

    def payout_history(self, worker_id: UUID | None, status: str | None, first: int,
                       after: str | None = None) -> list[PayoutRow]:
        """Payouts newest first (of one worker and/or status when given)."""
        with self.pool.connection() as conn:
            return payouts.history(conn, worker_id, status, first, after)

    def events(self, after: int, first: int, types: list[str] | None = None,
               requester_id: UUID | None = None) -> list[EventRow]:
        """The global log past position ``after`` (0: from the start), in order."""
        with self.pool.connection() as conn:
            return event_log.events(conn, after, first, types, requester_id)

    def task_history(self, task_id: UUID) -> list[EventRow]:
        """Every event of a task (claims and submissions included), oldest first."""
        with self.pool.connection() as conn:
            return event_log.of_aggregate(conn, task_id)

    def ledger(self, account_prefix: str, first: int, after: str | None = None,
               as_of: int | None = None) -> list[LedgerEntryRow]:
        """Ledger entries in log order; up to log position ``as_of`` when given."""
        with self.pool.connection() as conn:
            until = None if as_of is None else ledger_history.moment(conn, as_of, None)
            return ledger.entries(conn, account_prefix, first, after,
                                  None if until is None else until.notification_id)

    def ledger_balance(self, account: str, currency: str | None = None) -> int:
        with self.pool.connection() as conn:
            return ledger.balance(conn, account, currency)

    def ledger_totals(self) -> dict[str, int]:
        """Sum of the ledger per currency (always zero)."""
        with self.pool.connection() as conn:
            return ledger.totals(conn)

    # --- finance --------------------------------------------------------------------
    def audit_head(self) -> tuple[int, str]:
        """The log's hash chain: latest position and its hash."""
        with self.pool.connection() as conn:
            return audit_chain.head(conn)

    def reconciliation_runs(self, first: int, after: str | None = None
                            ) -> list[reconciliations.ReconciliationRunRow]:
        """Reconciliation runs, newest first."""
        with self.pool.connection() as conn:
            return reconciliations.newest(conn, first, after)

    def reconciliation_run(self, run_id: UUID) -> reconciliations.ReconciliationRunRow | None:
        with self.pool.connection() as conn:
            return reconciliations.by_ids(conn, [run_id]).get(run_id)

    def open_discrepancies(self) -> int:
        """Discrepancies found by the newest reconciliation run."""
        with self.pool.connection() as conn:
            return reconciliations.open_discrepancies(conn)

    def payout_funding(self, payout: PayoutRow) -> list[EventRow]:
        """The events that funded a payout: escrow reservation or bonus, then deposits."""
        with self.pool.connection() as conn:
            return payout_trace.funding(conn, payout)

    def account_balances(self, as_of: int | None = None, at: datetime | None = None
                         ) -> tuple[ledger_history.Moment, list[tuple[str, str, int]]]:
        """Every ledger account's balance at a log position, a time, or now."""
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            moment = ledger_history.moment(conn, as_of, at)
            return moment, ledger_history.balances_at(conn, moment.notification_id)

    # --- freshness ------------------------------------------------------------------
    def positions(self) -> dict[str, int]:
        """Each projection's position: the notification id of its last applied event."""
        with self.pool.connection() as conn:
            return tracking.positions(conn)

    def max_position(self) -> int:
        """The head of the event store (notification id of its newest event)."""
        with self.pool.connection() as conn:
            return tracking.head(conn)

    def event_log_head(self) -> int:
        """The gap-free position of the newest event in the event log read model."""
        with self.pool.connection() as conn:
            return event_log.head(conn)

    def stalls(self, names: list[str] | None = None) -> list[failures.Stall]:
        """Projections whose last attempt to apply events failed."""
        with self.pool.connection() as conn:
            return failures.stalls(conn, names)

    def wait_for(self, position: int, timeout: float = 5.0,
                 names: list[str] | None = None) -> bool:
        """Block until the projections (all, or ``names``) applied the event store up to
        notification id ``position``; False when ``timeout`` passed first. Raises
        ``ProjectionStalled`` at once when one that has not got there is failing."""
        deadline = time.monotonic() + timeout
        pause = 0.001
        wanted = list(names or PROJECTIONS)
        while True:
            with self.pool.connection() as conn:
                reached = failures.progress(conn, wanted)
                behind = [name for name, (at, _) in reached.items() if at < position]
                if any(reached[name][1] for name in behind):
                    stalled = failures.stalls(conn, behind)
                    if stalled:
                        raise failures.ProjectionStalled(stalled[0], position)
            if not behind:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause = min(pause * 2, 0.02)
