"""An operator checks and rebuilds the read models with `taskmarket projections`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from projection_harness import catch_up, dump

from taskmarket.domain import Money
from taskmarket.domain.task import TaskSpec

SCRIPT = shutil.which("taskmarket", path=str(Path(sys.executable).parent))
COMMAND = [SCRIPT] if SCRIPT else [sys.executable, "-m", "taskmarket.cli"]


def taskmarket(database, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database.url, "COLUMNS": "120"}
    env.pop("TASKMARKET_DATA_DIR", None)
    return subprocess.run([*COMMAND, "--log-level", "WARNING", *args], capture_output=True,
                          text=True, timeout=120, env=env)


def lines_of(output: str) -> dict[str, list[str]]:
    """Table rows of `projections status`, by projection name."""
    rows = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.replace("│", "|").split("|") if c.strip()]
        if len(cells) == 4:  # projection, position, lag, state ("ok" or STALLED ...)
            rows[cells[0]] = cells[1:3]
    return rows


def test_status_shows_the_lag_and_rebuild_catches_up(app, database):
    acme = app.create_requester("Acme")
    app.deposit_funds(acme, 1_000, "USD", "wire-1")
    app.post_task(acme, TaskSpec("t", "i", Money(100, "USD")))
    head = app.recorder.max_notification_id()
    catch_up(database, ["requesters"])

    status = taskmarket(database, "projections", "status")
    assert status.returncode == 0, status.stderr
    rows = lines_of(status.stdout)
    assert f"head: {head}" in status.stdout
    assert rows["requesters"] == [str(head), "0"]
    assert rows["tasks"] == ["0", str(head)]

    rebuilt = taskmarket(database, "projections", "rebuild", "tasks", "ledger")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "rebuilt tasks, ledger" in rebuilt.stdout
    rows = lines_of(taskmarket(database, "projections", "status").stdout)
    assert rows["tasks"] == rows["ledger"] == [str(head), "0"]
    assert rows["event_log"] == ["0", str(head)]

    everything = taskmarket(database, "projections", "rebuild")
    assert everything.returncode == 0, everything.stderr
    rows = lines_of(taskmarket(database, "projections", "status").stdout)
    assert {tuple(v) for v in rows.values()} == {(str(head), "0")}
    before = dump(database)
    assert before["tasks"] and before["event_log"]


def test_rebuilding_an_unknown_projection_is_refused(database):
    refused = taskmarket(database, "projections", "rebuild", "nonsense")
    assert refused.returncode == 2
    assert "unknown projection(s): nonsense" in refused.stderr
    assert "tasks" in refused.stderr  # it names the ones that exist


def test_status_names_a_stalled_projection_and_exits_non_zero(app, database):
    from projection_harness import poisoned_task

    from taskmarket.projections.failures import ProjectionFailed

    acme = app.create_requester("Acme")
    app.save(poisoned_task(acme, app.clock()))
    try:
        catch_up(database)
    except ProjectionFailed:
        pass
    status = taskmarket(database, "projections", "status")
    assert status.returncode == 1
    text = " ".join(status.stdout.replace("│", " ").split())
    assert "tasks 1 1 STALLED" in text and "event_log 1 1 STALLED" in text
    assert "NUL" in text
    assert lines_of(status.stdout)["requesters"] == ["2", "0"]
