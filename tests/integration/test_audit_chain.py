"""Finance proves the log was not edited: a hash chain, its head, `taskmarket audit verify`."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from projection_harness import catch_up

from taskmarket.domain import Money
from taskmarket.domain.task import TaskSpec
from taskmarket.projections.runner import ProjectionRunner

SCRIPT = shutil.which("taskmarket", path=str(Path(sys.executable).parent))
COMMAND = [SCRIPT] if SCRIPT else [sys.executable, "-m", "taskmarket.cli"]


def taskmarket(database, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database.url}
    env.pop("TASKMARKET_DATA_DIR", None)
    return subprocess.run([*COMMAND, "--log-level", "WARNING", *args], capture_output=True,
                          text=True, timeout=120, env=env)


def a_little_market(app) -> None:
    acme = app.create_requester("Acme")
    app.deposit_funds(acme, 10_000, "USD", "wire-1")
    task = app.post_task(acme, TaskSpec("Label cats", "Is it a cat?", Money(250, "USD")))
    ada = app.register_worker("Ada", [], "acct_ada")
    claim = app.claim_task(task, ada)
    submission = app.submit_work(task, claim, ada, {"cat": True, "note": "ünïcode ✓"})
    app.review_submission(task, submission, acme, "ACCEPT")


def links(database) -> list[tuple]:
    with database.connect() as conn:
        return conn.execute("SELECT position, notification_id, hash FROM event_hashes "
                            "ORDER BY position").fetchall()


def test_each_link_covers_the_previous_one_and_the_event_in_canonical_json(app, database):
    a_little_market(app)
    catch_up(database)
    chain = links(database)
    with database.connect() as conn:
        rows = conn.execute("SELECT position, aggregate_id, aggregate_version, type, "
                            "occurred_at, data FROM event_log ORDER BY position").fetchall()
    assert [link[0] for link in chain] == [row[0] for row in rows] == list(
        range(1, len(rows) + 1))
    # An auditor recomputes the chain from the exported log with nothing but sha256.
    previous = "0" * 64
    for (position, aggregate_id, version, kind, occurred_at, data), (_, _, stored) in zip(
            rows, chain):
        record = json.dumps({"position": position, "aggregateId": str(aggregate_id),
                             "aggregateVersion": version, "type": kind,
                             "occurredAt": occurred_at.isoformat(), "data": data},
                            sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        previous = hashlib.sha256(previous.encode() + record.encode()).hexdigest()
        assert previous == stored, position


def test_a_rebuild_leaves_every_hash_as_it_was(app, database):
    a_little_market(app)
    catch_up(database, batch_size=3)  # links computed across batch boundaries
    before = links(database)
    ProjectionRunner(database, ["event_log"]).rebuild()
    assert links(database) == before


def test_verify_names_exactly_the_event_whose_data_was_edited_in_sql(app, database):
    a_little_market(app)
    catch_up(database)
    clean = taskmarket(database, "audit", "verify")
    assert clean.returncode == 0, clean.stderr
    head_position, _, head_hash = links(database)[-1]
    assert f"head position {head_position} hash {head_hash}" in clean.stdout

    with database.connect() as conn:
        position, nid = conn.execute(
            "SELECT position, notification_id FROM event_log "
            "WHERE type = 'RequesterFundsDeposited'").fetchone()
        edited = conn.execute(
            "UPDATE taskmarket_events SET state = convert_to(replace(convert_from(state, "
            "'UTF8'), '10000', '90000'), 'UTF8') WHERE notification_id = %s", (nid,))
        assert edited.rowcount == 1

    tampered = taskmarket(database, "audit", "verify")
    assert tampered.returncode == 1
    assert f"first bad position: {position}" in tampered.stdout
    assert "RequesterFundsDeposited" in tampered.stderr
    # Checking only from after the edit passes: the links after it are intact.
    later = taskmarket(database, "audit", "verify", "--from", str(position + 1))
    assert later.returncode == 0, later.stderr
