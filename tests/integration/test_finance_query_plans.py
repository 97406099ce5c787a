"""Finance's queries use indexes: with sequential scans priced out, none reads a whole table."""

from __future__ import annotations

import json

from projection_harness import catch_up, reads  # noqa: F401  (reads: fixture)

from taskmarket.bootstrap import build_marketplace
from taskmarket.projections import payout_trace, reconciliations, sqlq
from taskmarket.projections.sample_log import write_sample_log


def scans(plan: dict) -> list[str]:
    found = [f"{plan['Node Type']} {plan.get('Relation Name', '')}".strip()]
    for child in plan.get("Plans", []):
        found.extend(scans(child))
    return found


class Explaining:
    """A connection that keeps the plan of every statement it runs."""

    def __init__(self, conn, seen):
        self.conn, self.seen = conn, seen

    def execute(self, query, params=None):
        if query.lstrip().upper().startswith("SET "):  # a setting: no plan to keep
            return self.conn.execute(query, params)
        self.conn.execute("SET enable_seqscan = off")
        [(plan,)] = self.conn.execute("EXPLAIN (FORMAT JSON) " + query, params).fetchall()
        plan = plan if isinstance(plan, list) else json.loads(plan)
        self.seen.append((" ".join(query.split())[:80], scans(plan[0]["Plan"])))
        result = self.conn.execute(query, params)
        self.conn.execute("RESET enable_seqscan")
        return result

    def transaction(self):
        return self.conn.transaction()

    def cursor(self, **kwargs):
        outer = self

        class Cursor:
            def __init__(self):
                self.inner = outer.conn.cursor(**kwargs)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.inner.close()

            def execute(self, query, params=None):
                outer.execute(query, params)  # for the plan
                return self.inner.execute(query, params)

        return Cursor()


def test_trace_balances_and_runs_read_through_indexes(database, monkeypatch):
    app = build_marketplace(database)
    try:
        write_sample_log(app, tasks=150, seed=4)
    finally:
        app.close()
    catch_up(database)
    seen: list = []
    from taskmarket.projections import ledger_history
    with database.connect(autocommit=True) as conn:
        conn.execute("ANALYZE")
        payout_id, bonus_id = conn.execute(
            "SELECT (SELECT id FROM payouts WHERE kind = 'submission' LIMIT 1), "
            "(SELECT id FROM payouts WHERE kind = 'bonus' LIMIT 1)").fetchone()
        watched = Explaining(conn, seen)
        for module in (payout_trace, reconciliations):
            monkeypatch.setattr(module, "fetch", lambda c, q, p, make: sqlq.fetch(
                watched, q, p, make))
        from taskmarket.projections.payouts import by_ids
        for payout in by_ids(conn, [i for i in (payout_id, bonus_id) if i]).values():
            assert payout_trace.funding(watched, payout)
        ledger_history.balances_at(watched, 100)
        ledger_history.moment(watched, 50, None)
        reconciliations.open_discrepancies(watched)
        reconciliations.newest(watched, 5, None)
        at = conn.execute("SELECT occurred_at FROM event_log WHERE position = 40").fetchone()[0]
        assert ledger_history.moment(watched, None, at).position >= 40
        from taskmarket.finance.reconcile import _OURS
        watched.execute(_OURS + "WHERE p.status = 'PAID' AND p.paid_at >= %s "
                        "AND p.paid_at < %s", (at, at))
    whole_table_reads = [(query, nodes) for query, nodes in seen
                         if any(node.startswith("Seq Scan") for node in nodes)]
    assert len(seen) >= 6
    assert whole_table_reads == []
