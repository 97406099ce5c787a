"""The runner applies every event exactly once: across batches, crashes, rebuilds and
concurrent runners, the read models equal those of one clean pass over the log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from projection_harness import BusyMarket, catch_up, dump, reads  # noqa: F401

from taskmarket.bootstrap import build_marketplace, start_projections
from taskmarket.domain import Money
from taskmarket.domain.task import TaskSpec
from taskmarket.projections.registry import PROJECTIONS
from taskmarket.projections.runner import ProjectionRunner
from taskmarket.projections.sample_log import write_sample_log


def clean_pass(database) -> dict:
    ProjectionRunner(database).rebuild()
    return dump(database)


def positions(database) -> dict[str, int]:
    with database.connect() as conn:
        return dict(conn.execute("SELECT name, position FROM projection_positions").fetchall())


def head(database) -> int:
    with database.connect() as conn:
        return conn.execute("SELECT max(notification_id) FROM taskmarket_events").fetchone()[0]


def test_tables_built_bit_by_bit_equal_a_rebuild(database):
    market = BusyMarket(database, seed=3)
    try:
        market.setup()
        for batch_size in (1, 7, 37, 500, 2):
            market.run(60)
            catch_up(database, batch_size=batch_size)
    finally:
        market.close()
    incremental = dump(database)
    assert len(incremental["event_log"]) == head(database) > 200
    assert incremental["tasks"] and incremental["ledger_entries"]
    assert clean_pass(database) == incremental


def test_rebuilding_one_projection_leaves_the_others_alone(database):
    market = BusyMarket(database, seed=5)
    try:
        market.setup()
        market.run(100)
    finally:
        market.close()
    catch_up(database)
    before = dump(database)
    with database.connect() as conn:
        conn.execute("UPDATE payouts SET status = 'CORRUPTED'")
    ProjectionRunner(database, ["payouts"]).rebuild()
    assert dump(database) == before


def test_two_runners_at_once_apply_each_event_once(database):
    market = BusyMarket(database, seed=9)
    try:
        market.setup()
        market.run(300)
    finally:
        market.close()
    errors: list[BaseException] = []

    def run(batch_size: int) -> None:
        try:
            ProjectionRunner(database, batch_size=batch_size).catch_up()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    threads = [threading.Thread(target=run, args=(size,)) for size in (23, 41, 41)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert set(positions(database).values()) == {head(database)}
    concurrent = dump(database)
    assert clean_pass(database) == concurrent


def runner_process(database, batch_size: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database.url,
           "TASKMARKET_PROJECTION_BATCH": str(batch_size), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "taskmarket.cli", "projections", "run"],
                            env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_until(predicate, timeout: float, interval: float = 0.002) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def test_a_runner_killed_mid_catch_up_resumes_exactly_where_it_stopped(database):
    app = build_marketplace(database)
    try:
        newest = write_sample_log(app, tasks=400, seed=13)
    finally:
        app.close()
    assert newest > 4000

    process = runner_process(database, batch_size=40)
    try:
        def mid_way() -> bool:
            reached = positions(database)
            return len(reached) == len(PROJECTIONS) and 0 < min(reached.values()) and \
                max(reached.values()) < newest - 400
        assert wait_until(mid_way, timeout=60), "the runner never got going"
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        process.kill()
    killed_at = positions(database)
    assert 0 < min(killed_at.values()) < newest  # it really stopped half way

    process = runner_process(database, batch_size=40)
    try:
        assert wait_until(lambda: set(positions(database).values()) == {newest}, 60, 0.05)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
        assert process.returncode == 0, output  # SIGTERM stops the runner cleanly
        assert "stopped" in output
    finally:
        process.kill()
    resumed = dump(database)
    assert clean_pass(database) == resumed


def test_live_runner_lets_a_reader_wait_for_its_own_writes(app, database, reads):
    acme = app.create_requester("Acme")
    app.deposit_funds(acme, 1_000, "USD", "wire-1")
    runner = start_projections(database, app)
    try:
        for n in range(5):
            task = app.post_task(acme, TaskSpec(f"task {n}", "i", Money(10, "USD")))
            assert reads.wait_for(reads.max_position(), timeout=10)
            assert reads.tasks([task])[task].title == f"task {n}"  # read your own write
            assert reads.open_tasks_for_worker([], None, 1)[0].id == task
        assert set(reads.positions().values()) == {reads.max_position()}
        assert reads.wait_for(reads.max_position() + 10, timeout=0.2) is False
        assert reads.wait_for(reads.max_position(), names=["tasks"], timeout=1)
    finally:
        runner.stop()
    assert not runner.alive
