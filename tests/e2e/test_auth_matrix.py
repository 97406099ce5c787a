"""Every mutation and query as every role: who may, who may not (cross-tenant included).

"forbidden" is what a caller sees when its key may not: a FORBIDDEN userError or GraphQL
error, or a node that comes back null because the key may not see it. Anything else means
the key passed the check (a domain refusal like ALREADY_CLAIMED still counts as allowed).
"""

import base64
from dataclasses import dataclass
from typing import Any, Callable

import pytest

ROLES = ["ADMIN", "FINANCE", "REQ_A", "REQ_B", "WORKER_1", "WORKER_2", "PARTNER_A"]
ALL = set(ROLES)


@dataclass
class World:
    keys: dict[str, str]
    ids: dict[str, str]
    uuids: dict[str, str]


@pytest.fixture
def world(client, market) -> World:
    a, b = market.requester("Acme"), market.requester("Bolt")
    w1, w2 = market.worker("Wes"), market.worker("Wu")
    task, task2, task3 = market.task(a), market.task(a), market.task(a)
    b_task = market.task(b)
    claim = market.claim(w1, task)
    submission = market.submit(w1, claim)
    claim2 = market.claim(w1, task2)
    payout = market.review(a, market.submit(w1, market.claim(w1, task3)))["payout"]["id"]
    keys = {"ADMIN": market.admin, "FINANCE": market.key("FINANCE"), "REQ_A": a.key,
            "REQ_B": b.key, "WORKER_1": w1.key, "WORKER_2": w2.key,
            "PARTNER_A": market.key("PARTNER", a)}
    spare = client.data(market.admin, 'mutation { createApiKey(input: {role: FINANCE, '
                        'name: "spare"}) { apiKeyId } }')["createApiKey"]["apiKeyId"]
    ids = {"K": spare, "A": a.id, "B": b.id, "W1": w1.id, "T": task, "T2": task2, "TB": b_task,
           "C1": claim, "C2": claim2, "S1": submission, "P1": payout}
    uuids = {name: base64.b64decode(gid).decode().rsplit(":", 1)[1]
             for name, gid in ids.items() if name in ("A", "B")}
    return World(keys, ids, uuids)


@dataclass
class Op:
    name: str
    query: str
    variables: Callable[[dict], dict]
    allowed: set[str]
    result: Callable[[dict], Any] = lambda data: data


def payload(name: str) -> Callable[[dict], Any]:
    return lambda data: data[name]


OPS = [
    Op("createRequester", 'mutation { createRequester(input: {name: "N"}) '
       '{ requester { id } userErrors { code } } }', lambda i: {}, {"ADMIN"},
       payload("createRequester")),
    Op("createWorker", 'mutation { createWorker(input: {name: "N"}) '
       '{ worker { id } userErrors { code } } }', lambda i: {}, {"ADMIN"},
       payload("createWorker")),
    Op("createApiKey", 'mutation { createApiKey(input: {role: FINANCE, name: "N"}) '
       '{ apiKey userErrors { code } } }', lambda i: {}, {"ADMIN"}, payload("createApiKey")),
    Op("revokeApiKey", 'mutation($id: ID!) { revokeApiKey(input: {apiKeyId: $id}) '
       '{ userErrors { code } } }', lambda i: {"id": i["K"]}, {"ADMIN"},
       payload("revokeApiKey")),
    Op("depositFunds", 'mutation($id: ID!) { depositFunds(input: {requesterId: $id, '
       'amount: {amount: 5, currency: "USD"}, reference: "r"}) { userErrors { code } } }',
       lambda i: {"id": i["A"]}, {"ADMIN"}, payload("depositFunds")),
    Op("postTask", 'mutation { postTask(input: {title: "t", instructions: "i", '
       'reward: {amount: 10, currency: "USD"}}) { task { id } userErrors { code } } }',
       lambda i: {}, {"REQ_A", "REQ_B"}, payload("postTask")),
    Op("cancelTask (B's task)", 'mutation($id: ID!) { cancelTask(input: {taskId: $id}) '
       '{ userErrors { code } } }', lambda i: {"id": i["TB"]}, {"REQ_B"},
       payload("cancelTask")),
    Op("claimTask", 'mutation($id: ID!) { claimTask(input: {taskId: $id}) '
       '{ userErrors { code } } }', lambda i: {"id": i["T"]}, {"WORKER_1", "WORKER_2"},
       payload("claimTask")),
    Op("releaseClaim (W1's)", 'mutation($id: ID!) { releaseClaim(input: {claimId: $id}) '
       '{ userErrors { code } } }', lambda i: {"id": i["C2"]}, {"WORKER_1"},
       payload("releaseClaim")),
    Op("submitWork (W1's claim)", 'mutation($id: ID!) { submitWork(input: {claimId: $id, '
       'result: {a: 1}}) { userErrors { code } } }', lambda i: {"id": i["C2"]},
       {"WORKER_1"}, payload("submitWork")),
    Op("reviewSubmission (A's)", 'mutation($id: ID!) { reviewSubmission(input: '
       '{submissionId: $id, decision: REJECT}) { userErrors { code } } }',
       lambda i: {"id": i["S1"]}, {"REQ_A"}, payload("reviewSubmission")),
    Op("claimNextTask", 'mutation { claimNextTask(input: {}) { userErrors { code } } }',
       lambda i: {}, {"WORKER_1", "WORKER_2"}, payload("claimNextTask")),
    Op("retryPayout", 'mutation($id: ID!) { retryPayout(input: {payoutId: $id}) '
       '{ userErrors { code } } }', lambda i: {"id": i["P1"]}, {"ADMIN", "FINANCE"},
       payload("retryPayout")),
    Op("task (A's)", 'query($id: ID!) { task(id: $id) { id } }', lambda i: {"id": i["T"]},
       ALL - {"REQ_B"}, payload("task")),
    Op("tasks", "{ tasks { edges { cursor } } }", lambda i: {}, ALL - {"PARTNER_A"}),
    Op("reviewQueue", "{ reviewQueue { edges { cursor } } }", lambda i: {},
       {"REQ_A", "REQ_B"}),
    Op("payouts", "{ payouts { edges { cursor } } }", lambda i: {},
       {"ADMIN", "FINANCE", "WORKER_1", "WORKER_2"}),
    Op("payouts of W1", "query($w: ID) { payouts(workerId: $w) { edges { cursor } } }",
       lambda i: {"w": i["W1"]}, {"ADMIN", "FINANCE", "WORKER_1"}),
    Op("events", "{ events { edges { cursor } } }", lambda i: {},
       {"ADMIN", "FINANCE", "REQ_A", "REQ_B", "PARTNER_A"}),
    Op("node (W1's submission to A)", "query($id: ID!) { node(id: $id) { id } }",
       lambda i: {"id": i["S1"]}, {"ADMIN", "FINANCE", "REQ_A", "WORKER_1"}, payload("node")),
    Op("node (W1's claim on A's task)", "query($id: ID!) { node(id: $id) { id } }",
       lambda i: {"id": i["C1"]}, {"ADMIN", "FINANCE", "REQ_A", "WORKER_1"}, payload("node")),
    Op("node (W1's payout from A)", "query($id: ID!) { node(id: $id) { id } }",
       lambda i: {"id": i["P1"]}, {"ADMIN", "FINANCE", "REQ_A", "WORKER_1"}, payload("node")),
    Op("A's balance", "query($id: ID!) { node(id: $id) { ... on Requester { balance "
       "{ amount } } } }", lambda i: {"id": i["A"]}, {"ADMIN", "FINANCE", "REQ_A"},
       payload("node")),
    Op("A's task history", "query($id: ID!) { task(id: $id) { history { type } } }",
       lambda i: {"id": i["T"]}, {"ADMIN", "FINANCE", "REQ_A", "PARTNER_A"}, payload("task")),
    Op("A's task submissions", "query($id: ID!) { task(id: $id) { submissions "
       "{ edges { cursor } } } }", lambda i: {"id": i["T"]}, {"ADMIN", "FINANCE", "REQ_A"},
       payload("task")),
    Op("myClaims", "{ myClaims { edges { cursor } } }", lambda i: {},
       {"WORKER_1", "WORKER_2"}),
    Op("me", "{ me { role requester { id } worker { id } } }", lambda i: {}, ALL,
       payload("me")),
    Op("ledger", "{ ledger { edges { node { account amount } } } }", lambda i: {},
       {"ADMIN", "FINANCE"}),
    Op("accountBalances", "{ accountBalances { position } }", lambda i: {},
       {"ADMIN", "FINANCE"}, payload("accountBalances")),
    Op("auditHead", "{ auditHead { hash } }", lambda i: {}, {"ADMIN", "FINANCE"},
       payload("auditHead")),
    Op("reconciliationRuns", "{ reconciliationRuns { edges { cursor } } }", lambda i: {},
       {"ADMIN", "FINANCE"}),
    Op("reconcile", 'mutation { reconcile(input: {from: "2026-11-01T00:00:00Z", '
       'to: "2026-11-02T00:00:00Z"}) { userErrors { code } } }', lambda i: {},
       {"ADMIN", "FINANCE"}, payload("reconcile")),
    Op("W1's payout history", "query($id: ID!) { node(id: $id) { ... on Payout { history "
       "{ type } } } }", lambda i: {"id": i["P1"]}, {"ADMIN", "FINANCE", "REQ_A", "WORKER_1"},
       payload("node")),
    Op("W1's payout trace", "query($id: ID!) { node(id: $id) { ... on Payout { trace "
       "{ autoApproved } } } }", lambda i: {"id": i["P1"]}, {"ADMIN", "FINANCE"},
       payload("node")),
]


def outcome(body: dict, op: Op) -> str:
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code == "FORBIDDEN":
            return "forbidden"
        raise AssertionError(f"{op.name}: unexpected error {error}")
    value = op.result(body["data"])
    if value is None:
        return "forbidden"
    errors = value.get("userErrors", []) if isinstance(value, dict) else []
    if any(e["code"] == "FORBIDDEN" for e in errors):
        return "forbidden"
    return "allowed"


def test_every_operation_as_every_role(client, world):
    seen, expected = {}, {}
    for op in OPS:
        for role in ROLES:
            body = client.run(world.keys[role], op.query, op.variables(world.ids))
            seen[(op.name, role)] = outcome(body, op)
            expected[(op.name, role)] = "allowed" if role in op.allowed else "forbidden"
    wrong = {k: v for k, v in seen.items() if v != expected[k]}
    assert wrong == {}


def test_a_partner_and_a_requester_see_only_their_own_events(client, world):
    query = "{ events(first: 100) { edges { node { aggregateId type } } } }"
    for role, own, other in [("PARTNER_A", "T", "TB"), ("REQ_A", "T", "TB"),
                             ("REQ_B", "TB", "T")]:
        events = [e["node"] for e in client.data(world.keys[role], query)["events"]["edges"]]
        aggregates = {e["aggregateId"] for e in events}
        assert world.ids[own] in aggregates and world.ids[other] not in aggregates
        assert not any(e["type"].startswith("ApiKey") for e in events)
    finance = client.data(world.keys["FINANCE"], query)["events"]["edges"]
    assert not any(e["node"]["type"].startswith("ApiKey") for e in finance)
    admin = client.data(world.keys["ADMIN"], query)["events"]["edges"]
    assert any(e["node"]["type"] == "ApiKeyIssued" for e in admin)


def test_finance_reads_the_ledger_and_it_balances(client, world):
    query = '''query($after: String) { ledger(first: 100, after: $after) {
      edges { cursor node { account currency amount eventType } }
      pageInfo { hasNextPage endCursor } } }'''
    entries, after = [], None
    while True:
        page = client.data(world.keys["FINANCE"], query, {"after": after})["ledger"]
        entries += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert entries and sum(e["amount"] for e in entries) == 0
    acme = client.data(world.keys["FINANCE"], '''query($a: String) { ledger(account: $a) {
      edges { node { amount account } } } }''', {"a": f"requester:{world.ids['A']}"})
    assert acme["ledger"]["edges"]
    assert all(e["node"]["account"].startswith(f"requester:{world.ids['A']}:")
               for e in acme["ledger"]["edges"])
    raw = client.run(world.keys["FINANCE"], '''query($a: String) { ledger(account: $a) {
      edges { node { amount } } } }''', {"a": f"requester:{world.uuids['A']}"})
    assert raw["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


def test_me_says_who_each_key_acts_for(client, world):
    query = "{ me { role requester { id } worker { id } } }"
    seen = {role: client.data(world.keys[role], query)["me"] for role in ROLES}
    assert seen["REQ_A"] == {"role": "REQUESTER", "requester": {"id": world.ids["A"]},
                             "worker": None}
    assert seen["PARTNER_A"]["requester"] == {"id": world.ids["A"]}
    assert seen["WORKER_1"] == {"role": "WORKER", "requester": None,
                                "worker": {"id": world.ids["W1"]}}
    assert seen["FINANCE"] == {"role": "FINANCE", "requester": None, "worker": None}


def test_a_worker_sees_only_its_own_payouts(client, world):
    query = "{ payouts { edges { node { worker { id } } } } }"
    mine = client.data(world.keys["WORKER_1"], query)["payouts"]["edges"]
    assert [e["node"]["worker"]["id"] for e in mine] == [world.ids["W1"]]
    assert client.data(world.keys["WORKER_2"], query)["payouts"]["edges"] == []
