"""Operators' endpoints: readiness with lag, Prometheus metrics, request ids, CORS."""


def test_readyz_reports_the_head_and_each_projection(client, market):
    market.requester("Acme")
    ready = client.http.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ok" and body["head"] > 0
    assert body["projections"]["event_log"]["position"] <= body["head"]
    assert all(p["lag"] >= 0 for p in body["projections"].values())


def test_metrics_count_commands_by_outcome_and_time_operations(client, market):
    acme = market.requester("Acme", deposit=0)
    client.run(acme.key, """mutation Post { postTask(input: {title: "t", instructions: "i",
        reward: {amount: 100, currency: "USD"}}) { userErrors { code } } }""")
    text = client.http.get("/metrics").text
    assert 'taskmarket_command_outcomes_total{command="postTask",outcome="INSUFFICIENT_FUNDS"}' \
        in text
    assert 'taskmarket_graphql_request_seconds_count{operation="Post"}' in text
    assert 'taskmarket_projection_lag_events{projection="tasks"}' in text
    assert "# TYPE taskmarket_payout_outcomes_total counter" in text


def test_the_request_id_is_echoed_or_made(client, server):
    given = client.post(server.admin_key, "{ tasks { edges { cursor } } }",
                        **{"X-Request-Id": "trace-123"})
    assert given.headers["x-request-id"] == "trace-123"
    made = client.post(server.admin_key, "{ tasks { edges { cursor } } }")
    assert len(made.headers["x-request-id"]) == 32


def test_a_command_is_logged_with_the_request_id_and_the_positions_it_wrote(
        client, market, caplog):
    acme = market.requester("Acme")
    caplog.set_level("INFO", logger="taskmarket.commands")
    answer = client.post(acme.key, """mutation { postTask(input: {title: "t",
        instructions: "i", reward: {amount: 100, currency: "USD"}}) { task { history {
        position } } } }""", **{"X-Request-Id": "trace-post"})
    written = [int(e["position"]) for e in answer.json()["data"]["postTask"]["task"]["history"]]
    done = [r for r in caplog.records if getattr(r, "command", None) == "postTask"]
    assert [r.request_id for r in done] == ["trace-post"]
    assert done[0].positions and len(done[0].positions) == len(written) + 1  # + requester
