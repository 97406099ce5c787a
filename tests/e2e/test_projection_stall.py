"""An operator and a client see a stalled read model at once: /readyz names it, metrics
count it, and a mutation waiting for its writes to show fails fast with a stable code."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "integration"))
from projection_harness import poisoned_task  # noqa: E402

from taskmarket.bootstrap import build_marketplace  # noqa: E402
from taskmarket.global_ids import decode_one  # noqa: E402


def wait_for_status(client, code: int, stalled: set[str] = frozenset(),
                    seconds: float = 60.0):
    deadline = time.monotonic() + seconds
    while True:
        answer = client.http.get("/readyz")
        if answer.status_code == code and {
                s["projection"] for s in answer.json()["stalled"]} == stalled:
            return answer.json()
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.05)


def test_a_stalled_projection_turns_readiness_off_and_mutations_fail_fast(
        client, market, server):
    acme = market.requester("Acme", deposit=1_000)
    assert wait_for_status(client, 200)["stalled"] == []
    # An event no read model can store, as one written before input was checked.
    writer = build_marketplace(server.database)
    try:
        writer.save(poisoned_task(decode_one(acme.id, "Requester", "requesterId"),
                                  writer.clock()))
    finally:
        writer.close()

    # Both read models that store the title fail on it (each in its own thread).
    body = wait_for_status(client, 503, {"tasks", "event_log"})
    assert body["status"] == "projection stalled"
    stalled = {s["projection"]: s for s in body["stalled"]}
    assert stalled["tasks"]["position"] == body["projections"]["tasks"]["position"]
    assert body["projections"]["tasks"]["lag"] == 1
    assert "NUL" in stalled["tasks"]["error"]

    metrics = client.http.get("/metrics").text
    assert 'taskmarket_projection_stalled{projection="tasks"} 1.0' in metrics
    assert 'taskmarket_projection_stalled{projection="requesters"} 0.0' in metrics
    assert 'taskmarket_projection_failures_total{projection="tasks"}' in metrics

    # The server waits up to 60 s for projections here; a stalled one is not waited for.
    answer = client.run(server.admin_key, """mutation { createRequester(input: {name: "B"})
      { requester { id } userErrors { code } } }""")
    error = answer["errors"][0]
    assert error["extensions"]["code"] == "PROJECTION_STALLED"
    assert error["extensions"]["projection"] in ("tasks", "event_log")
    assert "was recorded" in error["message"]
