"""Events are forever: every golden log ever committed still loads and still projects.

``tests/fixtures/golden_log/`` holds event logs written by earlier versions of the code
(``make_golden_log.py``), each with the facts that version read back from it. Each log is
put into a fresh event store as stored rows; then every aggregate in it loads through
the application (from its snapshot, and by replaying its events, to the same state),
every projection rebuilds from it to the head, and the facts still hold, in the
aggregates and in the read models. A change that cannot read yesterday's events fails
here: give the event a ``class_version`` and an upcast method (README: Evolving an event).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from uuid import UUID

import pytest
from psycopg import sql

from taskmarket.bootstrap import build_marketplace
from taskmarket.projections.reads import ReadModels
from taskmarket.projections.runner import ProjectionRunner
from taskmarket.webhooks import sync

GOLDEN = Path(__file__).parents[1] / "fixtures" / "golden_log"
LOGS = sorted(GOLDEN.glob("*.jsonl"))


def _writer():
    spec = importlib.util.spec_from_file_location(
        "make_golden_log", GOLDEN.parent / "make_golden_log.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


writer = _writer()


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def insert_rows(database, app, rows: list[dict]) -> None:
    """The rows as the event store holds them, events in their log order."""
    tables = {"event": app.recorder.events_table_name,
              "snapshot": app.snapshots.recorder.events_table_name}
    with database.connect() as conn, conn.cursor() as cursor:
        for kind, table in tables.items():
            cursor.executemany(
                sql.SQL("INSERT INTO {} (originator_id, originator_version, topic, state) "
                        "VALUES (%s, %s, %s, %s)").format(sql.Identifier(table)),
                [(UUID(r["originator_id"]), r["originator_version"], r["topic"],
                  writer.decode_state(r)) for r in rows if r["kind"] == kind])


def state(aggregate) -> dict:
    values = dict(vars(aggregate))
    values.pop("_pending_events", None)
    return values


def test_golden_logs_hold_every_event_type_the_code_records():
    assert LOGS, "no golden log under tests/fixtures/golden_log"
    recorded = {r["topic"] for path in LOGS for r in read_rows(path) if r["kind"] == "event"}
    missing = writer.every_event_topic() - recorded
    assert not missing, (
        f"no golden log has {sorted(missing)}: write a new one (never rewrite an old one) "
        f"with `python tests/fixtures/make_golden_log.py tests/fixtures/golden_log/v{len(LOGS) + 1}`")


@pytest.mark.parametrize("path", LOGS, ids=[p.stem for p in LOGS])
def test_a_golden_log_loads_every_aggregate_and_rebuilds_every_projection(database, path):
    rows = read_rows(path)
    expected = json.loads(path.with_suffix(".facts.json").read_text())
    snapshotting = build_marketplace(database, IS_SNAPSHOTTING_ENABLED="y")
    replaying = build_marketplace(database, IS_SNAPSHOTTING_ENABLED="n")
    reads = ReadModels.from_database(database)
    try:
        insert_rows(database, snapshotting, rows)
        events = [r for r in rows if r["kind"] == "event"]
        head = snapshotting.recorder.max_notification_id()
        assert head == len(events)

        # Every aggregate loads, from its snapshot and by replay, to the same state.
        last_version: dict[UUID, int] = {}
        for r in events:
            last_version[UUID(r["originator_id"])] = r["originator_version"]
        snapshotted = {UUID(r["originator_id"]) for r in rows if r["kind"] == "snapshot"}
        assert snapshotted, "a golden log has snapshots"
        for aggregate_id, version in last_version.items():
            loaded = snapshotting.repository.get(aggregate_id)
            replayed = replaying.repository.get(aggregate_id)
            assert loaded.version == replayed.version == version
            assert state(loaded) == state(replayed), aggregate_id
        assert writer.facts(snapshotting, rows) == expected

        # Every projection rebuilds from the log to its head.
        runner = ProjectionRunner(database)
        runner.rebuild()
        assert set(reads.positions().values()) == {head}
        with database.connect() as conn:
            while sync.sync_endpoints(replaying, conn):
                pass
            endpoints = conn.execute(
                "SELECT endpoint_id, version FROM webhook_endpoint_state").fetchall()
        assert {(endpoint_id, last_version[endpoint_id]) for endpoint_id, _ in endpoints} \
            == set(endpoints)
        assert {str(e) for e, _ in endpoints} == set(expected["webhook_endpoints"])
        listed = reads.webhook_endpoint_page(None, 1000)
        assert {str(e.id): {"url": e.url, "event_types": e.event_types, "enabled": e.enabled}
                for e in listed} == {key: {name: facts[name] for name in
                                           ("url", "event_types", "enabled")}
                                     for key, facts in expected["webhook_endpoints"].items()}

        # ... and the read models tell the same facts as the aggregates.
        requesters = reads.requesters(UUID(k) for k in expected["requesters"])
        assert {str(k): {"balance": r.balance, "escrow": r.escrow, "spent": r.spent,
                         "deposited": r.deposited} for k, r in requesters.items()} \
            == expected["requesters"]
        tasks = reads.tasks(UUID(k) for k in expected["tasks"])
        assert {str(k): t.status for k, t in tasks.items()} == {
            k: t["status"] for k, t in expected["tasks"].items()}
        payouts = reads.payouts(UUID(k) for k in expected["payouts"])
        assert {str(k): p.status for k, p in payouts.items()} == {
            k: p["status"] for k, p in expected["payouts"].items()}
        workers = reads.workers(UUID(k) for k in expected["workers"])
        assert {str(k): sorted(w.skills) for k, w in workers.items()} == {
            k: sorted(w["skills"]) for k, w in expected["workers"].items()}
    finally:
        reads.close()
        snapshotting.close()
        replaying.close()
