"""The marketplace's story told over HTTP: post, race, submit, review, pay, read."""

from concurrent.futures import ThreadPoolExecutor

import httpx

CLAIM = """mutation($task: ID!) { claimTask(input: {taskId: $task}) {
  claim { id status } userErrors { code } } }"""


FEED = "subscription { events { position type aggregateId } }"


def test_a_task_from_posting_to_payout(client, market, server, subscribe_as):
    acme = market.requester("Acme", deposit=10_000)
    partner = market.key("PARTNER", acme)
    feed = subscribe_as(partner)
    feed.subscribe(FEED)
    posted = client.data(acme.key, """mutation { postTask(input: {title: "Label cats",
        instructions: "one label", reward: {amount: 700, currency: "USD"}, assignments: 3,
        requiredSkills: ["Vision"]}) {
        task { id status openSlots requester { name balance { amount } escrow { amount } } }
        userErrors { code } } }""")["postTask"]
    # The payload already shows the command's effect (read-your-writes).
    assert posted["task"]["status"] == "OPEN" and posted["task"]["openSlots"] == 3
    assert posted["task"]["requester"] == {"name": "Acme", "balance": {"amount": 7_900},
                                           "escrow": {"amount": 2_100}}
    task_id = posted["task"]["id"]

    workers = [market.worker(f"w{i}", ["vision"]) for i in range(6)]
    unqualified = market.worker("novice", [])
    board = client.data(unqualified.key, "{ tasks { edges { node { id } } } }")
    assert board["tasks"]["edges"] == []
    board = client.data(workers[0].key, "{ tasks { edges { node { id openSlots } } } }")
    assert board["tasks"]["edges"] == [{"node": {"id": task_id, "openSlots": 3}}]

    # Six workers race for three slots with concurrent HTTP requests.
    def claim(worker):
        with httpx.Client(base_url=server.url, timeout=30) as http:
            answer = http.post("/graphql", json={"query": CLAIM, "variables": {"task": task_id}},
                               headers={"Authorization": f"Bearer {worker.key}"})
            return worker, answer.json()["data"]["claimTask"]

    with ThreadPoolExecutor(len(workers)) as pool:
        results = list(pool.map(claim, workers))
    winners = [(w, r["claim"]["id"]) for w, r in results if r["claim"]]
    losers = [r["userErrors"][0]["code"] for _, r in results if not r["claim"]]
    assert len(winners) == 3 and losers == ["NO_OPEN_SLOTS"] * 3

    submissions = [market.submit(w, claim_id, {"label": w.id}) for w, claim_id in winners]
    queue = client.data(acme.key, "{ reviewQueue { edges { node { id status } } } }")
    assert [e["node"]["id"] for e in queue["reviewQueue"]["edges"]] == submissions

    payouts = [market.review(acme, s)["payout"] for s in submissions]
    assert {p["status"] for p in payouts} <= {"REQUESTED", "PAID"}
    assert [p["amount"] for p in payouts] == [{"amount": 700, "currency": "USD"}] * 3

    task = client.data(acme.key, """query($id: ID!) { task(id: $id) { status openSlots
        history { type position } } }""", {"id": task_id})["task"]
    assert task["status"] == "COMPLETED" and task["openSlots"] == 0
    types = [e["type"] for e in task["history"]]
    assert types[0] == "TaskPosted" and types[-1] == "TaskCompleted"
    positions = [int(e["position"]) for e in task["history"]]
    assert positions == sorted(positions)

    finance = market.key("FINANCE")
    history = client.data(finance, "{ payouts(first: 10) { edges { node { id worker { id } "
                                   "amount { amount } } } } }")["payouts"]["edges"]
    assert {e["node"]["id"] for e in history} == {p["id"] for p in payouts}

    winner, _ = winners[0]
    own = client.data(winner.key, "{ payouts { edges { node { worker { id } } } } }")
    assert [e["node"]["worker"]["id"] for e in own["payouts"]["edges"]] == [winner.id]

    # The partner's feed carried the whole story, in log order, as its query shows it.
    log = client.data(partner, "{ events(first: 100) { edges { node { position type "
                               "aggregateId } } } }")["events"]["edges"]
    received = feed.take(len(log))
    assert received == [edge["node"] for edge in log]
    kinds = [e["type"] for e in received]
    assert kinds[0] == "TaskPosted" and kinds.count("TaskClaimed") == 3
    assert kinds.count("TaskSubmissionAccepted") == 3 and kinds.count("PayoutRequested") == 3
    assert "TaskCompleted" in kinds


NEXT = """mutation($skill: String) { claimNextTask(input: {skill: $skill}) {
  claim { id status task { id title } } userErrors { code } } }"""


def test_claim_next_task_takes_a_fitting_task_or_says_none_fits(client, market):
    acme = market.requester("Acme")
    market.task(acme, title="needs french", skills=["french"])
    plain = market.task(acme, title="plain")
    worker = market.worker("w", ["german"])

    first = client.data(worker.key, NEXT)["claimNextTask"]
    assert first["userErrors"] == [] and first["claim"]["task"]["id"] == plain
    assert first["claim"]["status"] == "ACTIVE"

    nothing = client.data(worker.key, NEXT)["claimNextTask"]
    assert nothing == {"claim": None, "userErrors": []}
    assert client.data(worker.key, NEXT, {"skill": "french"})["claimNextTask"]["claim"] is None
