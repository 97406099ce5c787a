"""Finance takes the books into a spreadsheet or a warehouse: `taskmarket finance export`."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
from projection_harness import catch_up

from taskmarket.domain import Money
from taskmarket.domain.task import TaskSpec
from taskmarket.global_ids import to_global_id
from taskmarket.graphql.finance import present_account

SCRIPT = shutil.which("taskmarket", path=str(Path(sys.executable).parent))
COMMAND = [SCRIPT] if SCRIPT else [sys.executable, "-m", "taskmarket.cli"]


def taskmarket(database, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database.url}
    env.pop("TASKMARKET_DATA_DIR", None)
    return subprocess.run([*COMMAND, "--log-level", "WARNING", *args], capture_output=True,
                          timeout=120, env=env)


def books(app):
    acme = app.create_requester("Acme")
    app.deposit_funds(acme, 10_000, "USD", 'wire "A", north — ü')
    task = app.post_task(acme, TaskSpec("Label, \"quoted\"", "i", Money(250, "USD")))
    ada = app.register_worker("Ada", [], "acct_ada")
    claim = app.claim_task(task, ada)
    submission = app.submit_work(task, claim, ada, {"line": "one\ntwo"})
    payout = app.review_submission(task, submission, acme, "ACCEPT")
    app.record_payout_paid(payout, "tr_1")
    tokyo = app.create_requester("Tokyo", "JPY")
    app.deposit_funds(tokyo, 5_000, "JPY", "furikomi")
    bonus = app.pay_bonus(tokyo, ada, 300, "JPY", "thanks")
    return dict(acme=acme, task=task, submission=submission, payout=payout, bonus=bonus,
                ada=ada)


def read_csv(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def test_csv_exports_in_log_order_with_global_ids_and_decimal_amounts(app, database, tmp_path):
    made = books(app)
    catch_up(database)
    done = taskmarket(database, "finance", "export", "payouts")
    assert done.returncode == 0, done.stderr
    assert b"exported 2 payouts rows" in done.stderr
    payouts = read_csv(done.stdout)
    assert [p["id"] for p in payouts] == [to_global_id("Payout", made["payout"]),
                                          to_global_id("Payout", made["bonus"])]
    first, bonus = payouts
    assert first["submission_id"] == to_global_id("Submission", made["task"],
                                                  made["submission"])
    assert first["task_id"] == to_global_id("Task", made["task"])
    assert (first["amount_minor"], first["amount"], first["currency"]) == ("250", "2.50", "USD")
    assert (first["status"], first["stripe_transfer_id"]) == ("PAID", "tr_1")
    assert (bonus["amount_minor"], bonus["amount"], bonus["task_id"]) == ("300", "300", "")
    assert bonus["worker_id"] == to_global_id("Worker", made["ada"])

    out = tmp_path / "ledger.csv"
    done = taskmarket(database, "finance", "export", "ledger", "-o", str(out))
    assert done.returncode == 0, done.stderr
    ledger = read_csv(out.read_bytes())
    with database.connect() as conn:
        assert len(ledger) == conn.execute("SELECT count(*) FROM ledger_entries").fetchone()[0]
    with database.connect() as conn:
        stored = {a for (a,) in conn.execute("SELECT DISTINCT account FROM ledger_entries")}
    # Owners' ids as global IDs, exactly as the ledger query shows them.
    assert {row["account"] for row in ledger} == {present_account(a) for a in stored}
    assert f"worker:{to_global_id('Worker', made['ada'])}:payable" in {
        row["account"] for row in ledger}
    positions = [(int(row["position"]), int(row["seq"])) for row in ledger]
    assert positions == sorted(positions)
    for currency in ("USD", "JPY"):
        assert sum(Decimal(r["amount"]) for r in ledger if r["currency"] == currency) == 0
    assert {r["amount"] for r in ledger if r["currency"] == "JPY"} >= {"5000", "-5000"}
    # Each account is presented once, from its balance row; an entry without one (none
    # should be) is still exported, its account presented the same way row by row.
    with database.connect() as conn:
        assert conn.execute("DELETE FROM ledger_balances WHERE account LIKE 'worker:%'"
                            ).rowcount > 0
    done = taskmarket(database, "finance", "export", "ledger", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert read_csv(out.read_bytes()) == ledger

    events = read_csv(taskmarket(database, "finance", "export", "events").stdout)
    deposit = next(e for e in events if e["type"] == "RequesterFundsDeposited")
    assert json.loads(deposit["data"])["reference"] == 'wire "A", north — ü'
    assert [e["id"] for e in events[:2]] == [to_global_id("Event", 1),
                                             to_global_id("Event", 2)]
    assert events[0]["aggregate_id"] == to_global_id("Requester", made["acme"])
    with database.connect() as conn:
        hashes = [h for (h,) in conn.execute("SELECT hash FROM event_hashes ORDER BY position")]
    assert [e["hash"] for e in events] == hashes

    sixth = events[5]["occurred_at"].replace(" ", "T").replace("+00", "+0000")
    later = read_csv(taskmarket(database, "finance", "export", "events", "--from",
                                sixth).stdout)
    assert [e["position"] for e in later] == [e["position"] for e in events[5:]]


def test_parquet_exports_carry_typed_columns(app, database, tmp_path):
    books(app)
    catch_up(database)
    for kind in ("ledger", "events", "payouts"):
        out = tmp_path / f"{kind}.parquet"
        done = taskmarket(database, "finance", "export", kind, "--format", "parquet",
                          "-o", str(out))
        assert done.returncode == 0, done.stderr
    ledger = pq.read_table(tmp_path / "ledger.parquet").to_pylist()
    assert {r["amount"] for r in ledger if r["currency"] == "USD"} >= {
        Decimal("100"), Decimal("-100"), Decimal("2.5")}
    assert str(pq.read_schema(tmp_path / "ledger.parquet").field("amount").type) == \
        "decimal128(38, 4)"
    events = pq.read_table(tmp_path / "events.parquet")
    with database.connect() as conn:
        assert events.num_rows == conn.execute("SELECT count(*) FROM event_log").fetchone()[0]
    assert events.column("occurred_at").type.tz == "UTC"
    payouts = pq.read_table(tmp_path / "payouts.parquet").to_pylist()
    assert [p["task_id"] is None for p in payouts] == [False, True]
    no_file = taskmarket(database, "finance", "export", "ledger", "--format", "parquet")
    assert no_file.returncode == 2 and b"needs -o FILE" in no_file.stderr
