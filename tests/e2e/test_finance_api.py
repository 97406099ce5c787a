"""Finance asks the API why a payout was paid, from which money, and what the books said
at a past moment; and writes down the head of the log's hash chain."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from uuid import UUID

from taskmarket.bootstrap import build_marketplace
from taskmarket.global_ids import parse_global_id

TRACE = """query { payouts(first: 10) { edges { node { id amount { amount }
  history { type data }
  trace { autoApproved stripeTransferId reviewedAt reviewedBy { id name }
          submission { id status } task { id title }
          funding { type position data } } } } } }"""


def test_a_payout_traced_to_its_review_its_escrow_and_the_deposits_behind_it(
        client, market, server):
    acme = market.requester("Acme", deposit=300)
    client.data(market.admin, """mutation($id: ID!) { depositFunds(input: {requesterId: $id,
        amount: {amount: 400, currency: "USD"}, reference: "wire-2"}) {
        userErrors { code } } }""", {"id": acme.id})
    wanda = market.worker("Wanda")
    task = market.task(acme, reward=500, title="Label cats")
    payout = market.review(acme, market.submit(wanda, market.claim(wanda, task)))["payout"]

    payout_id = UUID(parse_global_id(payout["id"])[1][0])
    backend = build_marketplace(server.database)
    try:
        backend.record_payout_failure(payout_id, "STRIPE_UNAVAILABLE: HTTP 500", True)
        backend.record_payout_paid(payout_id, "tr_traced")
    finally:
        backend.close()
    finance = market.key("FINANCE")
    # The writes above bypassed the API, so nothing waits for the read models: poll them.
    deadline = time.monotonic() + 60  # a hang guard, not a budget
    while True:
        [edge] = client.data(finance, TRACE)["payouts"]["edges"]
        node = edge["node"]
        if len(node["history"]) == 3 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert [e["type"] for e in node["history"]] == ["PayoutRequested", "PayoutFailed",
                                                    "PayoutPaid"]
    assert node["history"][-1]["data"]["transferId"] == "tr_traced"
    trace = node["trace"]
    assert trace["stripeTransferId"] == "tr_traced"
    assert trace["autoApproved"] is False and trace["reviewedAt"]
    assert trace["reviewedBy"] == {"id": acme.id, "name": "Acme"}
    assert trace["task"] == {"id": task, "title": "Label cats"}
    assert trace["submission"]["status"] == "ACCEPTED"
    funding = trace["funding"]
    assert [e["type"] for e in funding] == ["RequesterEscrowReserved",
                                            "RequesterFundsDeposited",
                                            "RequesterFundsDeposited"]
    assert [e["data"].get("reference") for e in funding[1:]] == ["wire-Acme", "wire-2"]
    assert funding[0]["data"]["amount"] == 500

    # The next task draws only on what is left of the second deposit.
    second = market.task(acme, reward=100, title="Label dogs")
    market.review(acme, market.submit(wanda, market.claim(wanda, second)))
    edges = client.data(finance, TRACE)["payouts"]["edges"]
    [dogs] = [e["node"] for e in edges if e["node"]["trace"]["task"]["title"] == "Label dogs"]
    assert [e["data"].get("reference") for e in dogs["trace"]["funding"]] == [None, "wire-2"]

    refused = client.run(wanda.key, TRACE)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


BALANCES = """query($asOf: String, $at: DateTime) { accountBalances(asOf: $asOf, at: $at) {
  position asOf balances { account currency amount } } }"""


def test_balances_as_of_a_past_position_and_the_audit_head(client, market):
    acme = market.requester("Acme", deposit=1_000)
    finance = market.key("FINANCE")
    first = client.data(finance, BALANCES)["accountBalances"]
    market.requester("Bigco", deposit=2_000_000_000)
    market.requester("Hugeco", deposit=2_000_000_000)

    now = client.data(finance, BALANCES)["accountBalances"]
    deposits = {b["account"]: b["amount"] for b in now["balances"]}
    assert deposits["external:deposits"] == "-4000001000"  # beyond a 32-bit Int, as digits
    then = client.data(finance, BALANCES, {"asOf": first["position"]})["accountBalances"]
    assert then == first
    assert {b["account"]: b["amount"] for b in then["balances"]} == {
        "external:deposits": "-1000", f"requester:{acme.id}:available": "1000"}
    at = client.data(finance, BALANCES, {"at": first["asOf"]})["accountBalances"]
    assert at["position"] == first["position"]

    ledger = client.data(finance, """query($p: String) { ledger(first: 100, asOf: $p) {
        edges { node { account amount position } } } }""", {"p": first["position"]})["ledger"]
    assert len(ledger["edges"]) == 2
    [deposited_at] = {e["node"]["position"] for e in ledger["edges"]}
    deposit = client.data(finance, "query($p: String!) { events(after: $p, first: 1) { edges "
                          "{ node { type } } } }", {"p": str(int(deposited_at) - 1)})
    assert deposit["events"]["edges"][0]["node"]["type"] == "RequesterFundsDeposited"

    head = client.data(finance, "{ auditHead { position hash } }")["auditHead"]
    assert int(head["position"]) >= int(now["position"]) and len(head["hash"]) == 64
    events = client.data(market.admin, "query($p: String!) { events(after: $p, first: 5) { "
                         "edges { node { position } } } }",
                         {"p": str(int(head["position"]) - 1)})["events"]["edges"]
    assert events[0]["node"]["position"] == head["position"]

    requester_view = client.run(acme.key, BALANCES)
    assert requester_view["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bad = client.run(finance, BALANCES, {"asOf": "nope"})
    assert bad["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


RECONCILE = """mutation($from: DateTime!, $to: DateTime!) {
  reconcile(input: {from: $from, to: $to}) {
    run { id from to payoutsCompared transfersCompared
          discrepancies { kind detail stripeTransferId payout { id } ours stripe } }
    userErrors { code field message } } }"""


def test_finance_reconciles_through_the_api_and_lists_the_runs(client, market, monkeypatch):
    from taskmarket.stripe_emulator import start_emulator

    emulator = start_emulator()
    try:
        monkeypatch.setenv("STRIPE_API_BASE", emulator.url)
        account = emulator.stripe_client().v1.accounts.create({"type": "express"})
        emulator.state.store.complete_onboarding(account.id)
        emulator.stripe_client().v1.transfers.create(
            {"amount": 700, "currency": "usd", "destination": account.id,
             "metadata": {"payout_id": "not-one-of-ours"}})
        finance = market.key("FINANCE")
        now = datetime.now(timezone.utc)
        period = {"from": (now - timedelta(days=1)).isoformat(),
                  "to": (now + timedelta(days=1)).isoformat()}
        done = client.data(finance, RECONCILE, period)["reconcile"]
        assert done["userErrors"] == []
        run = done["run"]
        assert (run["payoutsCompared"], run["transfersCompared"]) == (0, 1)
        [found] = run["discrepancies"]
        assert found["kind"] == "TRANSFER_WITHOUT_PAYOUT" and found["payout"] is None
        assert found["stripe"]["amount"] == 700 and found["ours"] is None

        runs = client.data(finance, "{ reconciliationRuns(first: 5) { edges { node { id "
                           "discrepancies { kind } } } } }")["reconciliationRuns"]["edges"]
        assert [edge["node"]["id"] for edge in runs] == [run["id"]]
        node = client.data(finance, "query($id: ID!) { node(id: $id) { id "
                           "... on ReconciliationRun { transfersCompared } } }",
                           {"id": run["id"]})["node"]
        assert node == {"id": run["id"], "transfersCompared": 1}
        [event] = client.data(finance, '{ events(types: ["ReconciliationRunCompleted"]) { '
                              'edges { node { aggregateId data } } } }')["events"]["edges"]
        assert event["node"]["aggregateId"] == run["id"]
        assert event["node"]["data"]["discrepancies"][0]["stripe"]["amount"] == 700

        backwards = client.data(finance, RECONCILE, {"from": period["to"],
                                                     "to": period["from"]})["reconcile"]
        assert backwards["run"] is None
        assert backwards["userErrors"][0]["code"] == "INVALID_INPUT"
        worker = market.worker("Wanda")
        refused = client.data(worker.key, RECONCILE, period)["reconcile"]
        assert refused["userErrors"][0]["code"] == "FORBIDDEN"
    finally:
        emulator.stop()


def test_the_ledger_and_payouts_download_as_csv_for_finance_keys(client, market, server):
    import csv
    import io

    import httpx

    acme = market.requester("Acme", deposit=1_234)
    finance = market.key("FINANCE")
    http = httpx.Client(base_url=server.url, timeout=30)
    got = http.get("/exports/ledger.csv", headers={"Authorization": f"Bearer {finance}"})
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert [(r["account"], r["amount_minor"], r["amount"]) for r in rows] == [
        ("external:deposits", "-1234", "-12.34"),
        (f"requester:{acme.id}:available", "1234", "12.34")]

    empty = http.get("/exports/payouts.csv", params={"from": "2999-01-01"},
                     headers={"Authorization": f"Bearer {market.admin}"})
    assert empty.status_code == 200 and empty.text.splitlines()[0].startswith("position,id,")
    assert len(empty.text.splitlines()) == 1
    assert http.get("/exports/ledger.csv").status_code == 401
    assert http.get("/exports/ledger.csv", headers={
        "Authorization": f"Bearer {acme.key}"}).status_code == 403
    bad = http.get("/exports/ledger.csv", params={"to": "last tuesday"},
                   headers={"Authorization": f"Bearer {finance}"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "INVALID_INPUT"
    assert http.get("/exports/events.csv", headers={
        "Authorization": f"Bearer {finance}"}).status_code == 404


def test_traces_of_an_auto_approved_payout_and_of_a_bonus(client, market, server):
    from taskmarket.domain import Money
    from taskmarket.domain.task import TaskSpec
    from taskmarket.global_ids import to_global_id

    later = [datetime.now(timezone.utc)]
    backend = build_marketplace(server.database, clock=lambda: later[0])
    try:
        acme = backend.create_requester("Acme")
        backend.deposit_funds(acme, 1_000, "USD", "wire-1")
        ada = backend.register_worker("Ada", [], "acct_ada")
        task = backend.post_task(acme, TaskSpec("t", "i", Money(300, "USD"),
                                                auto_approve_after_seconds=60))
        claim = backend.claim_task(task, ada)
        submission = backend.submit_work(task, claim, ada, {"a": 1})
        later[0] += timedelta(seconds=61)
        automatic = backend.auto_approve(task, submission)
        bonus = backend.pay_bonus(acme, ada, 50, "USD", "thanks")
    finally:
        backend.close()
    finance = market.key("FINANCE")
    query = """query($id: ID!) { node(id: $id) { ... on Payout { trace { autoApproved
        reviewedBy { id } reviewedAt task { id } submission { id }
        funding { type data } } } } }"""

    def trace(payout_id):
        deadline = datetime.now(timezone.utc) + timedelta(seconds=30)
        while True:  # the API's projections follow the log on their own thread
            node = client.data(finance, query, {"id": to_global_id("Payout", payout_id)})
            if node["node"] or datetime.now(timezone.utc) > deadline:
                return node["node"]["trace"]

    auto = trace(automatic)
    assert auto["autoApproved"] is True and auto["reviewedBy"] is None
    assert auto["reviewedAt"] and auto["task"]["id"] == to_global_id("Task", task)
    assert [f["type"] for f in auto["funding"]] == ["RequesterEscrowReserved",
                                                    "RequesterFundsDeposited"]
    extra = trace(bonus)
    assert (extra["task"], extra["submission"], extra["reviewedBy"]) == (None, None, None)
    assert [(f["type"], f["data"]["amount"]) for f in extra["funding"]] == [
        ("RequesterBonusFunded", 50), ("RequesterFundsDeposited", 1_000)]
