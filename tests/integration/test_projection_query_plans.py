"""Every read-model query has an index to use: with sequential scans priced out, no plan
of any list or lookup query falls back to reading a whole table."""

from __future__ import annotations

import json

import pytest
from projection_harness import catch_up, reads  # noqa: F401  (reads: fixture)

from taskmarket.bootstrap import build_marketplace
from taskmarket.projections import (
    claims, event_log, ledger, payouts, requesters, sqlq, submissions, task_board, tasks,
    worker_stats, workers,
)
from taskmarket.projections.sample_log import write_sample_log

MODULES = (claims, event_log, ledger, payouts, requesters, submissions, task_board, tasks,
           worker_stats, workers)


def scans(plan: dict) -> list[str]:
    found = [f"{plan['Node Type']} {plan.get('Relation Name', '')}".strip()]
    for child in plan.get("Plans", []):
        found.extend(scans(child))
    return found


@pytest.fixture
def plans(monkeypatch, database):
    """Run each query as usual, and keep its plan (sequential scans disabled)."""
    seen: list[tuple[str, list[str]]] = []
    plain_fetch = sqlq.fetch

    def explaining(conn, query, params, make):
        text = query.as_string(conn) if hasattr(query, "as_string") else query
        conn.execute("SET enable_seqscan = off")
        [(plan,)] = conn.execute("EXPLAIN (FORMAT JSON) " + text, params).fetchall()
        plan = plan if isinstance(plan, list) else json.loads(plan)
        seen.append((" ".join(text.split())[:90], scans(plan[0]["Plan"])))
        conn.execute("RESET enable_seqscan")
        return plain_fetch(conn, query, params, make)

    for module in (*MODULES, sqlq):  # sqlq's shared page helpers fetch through it
        monkeypatch.setattr(module, "fetch", explaining)
    return seen


def test_no_query_reads_a_whole_table(database, reads, plans):
    app = build_marketplace(database)
    try:
        write_sample_log(app, tasks=150, seed=4)
    finally:
        app.close()
    catch_up(database)
    with database.connect(autocommit=True) as conn:
        conn.execute("ANALYZE")
        requester = conn.execute("SELECT id FROM requesters LIMIT 1").fetchone()[0]
        worker, skills = conn.execute("SELECT id, skills FROM workers LIMIT 1").fetchone()
        task = conn.execute("SELECT id FROM tasks LIMIT 1").fetchone()[0]

    page = reads.open_tasks_for_worker(skills, None, 5)
    reads.open_tasks_for_worker(skills, None, 5, page[-1].cursor)
    reads.open_tasks_for_worker(skills, skills[0], 5)
    reads.tasks_of_requester(requester, None, 5)
    reads.tasks_of_requester(requester, "COMPLETED", 5)
    reads.all_tasks(None, None, 5)
    reads.all_tasks("OPEN", None, 5)
    reads.submissions_of_task(task, 5)
    reads.review_queue(requester, 5)
    reads.claims_of_worker(worker, 5)
    reads.payout_history(None, None, 5)
    reads.payout_history(worker, "PAID", 5)
    reads.events(0, 5)
    reads.events(10, 5, types=["TaskClaimed", "PayoutPaid"])
    reads.events(0, 5, requester_id=requester)
    reads.events(0, 5, ["TaskPosted"], requester)
    reads.task_history(task)
    reads.ledger(f"requester:{requester}", 5)
    reads.ledger("stripe:paid_out", 5)
    reads.ledger("", 5)
    reads.tasks([task])
    reads.claims([task])
    reads.submissions([task])
    reads.payouts([task])
    reads.requesters([requester])
    reads.workers([worker])
    reads.worker_stats([worker])

    assert len(plans) == 27
    whole_table_reads = [(query, nodes) for query, nodes in plans
                         if any(node.startswith("Seq Scan") for node in nodes)]
    assert whole_table_reads == []
