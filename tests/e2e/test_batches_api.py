"""Batches over HTTP: create, add items, answer (schema checked), gold hidden from workers
and partners, consensus and results for the requester, cancel with refunds."""

import json

import psycopg

from taskmarket.quality.consensus import aggregate_batch

SCHEMA = {"type": "object", "required": ["label"],
          "properties": {"label": {"enum": ["cat", "dog"]}}}
CREATE = """mutation($input: CreateBatchInput!) { createBatch(input: $input) {
  batch { id title status overlap itemCount aggregation answerSchema reward { amount } }
  userErrors { code field message } } }"""
ADD = """mutation($input: AddBatchItemsInput!) { addBatchItems(input: $input) {
  added batch { id itemCount requester { escrow { amount } } }
  userErrors { code field message } } }"""
RESULTS = """query($id: ID!) { node(id: $id) { ... on Batch { status itemCount completedCount
  results(first: 100) { edges { node { task { id } consensus { answer confidence method answers } } } }
  workerQuality { edges { node { worker { name } goldAnswered goldCorrect accuracy blocked } } }
} } }"""
TASK = """query($id: ID!) { task(id: $id) { id payload assignments batch { id title answerSchema }
  consensus { answer } } }"""


def create_batch(client, requester, **extra):
    values = {"title": "Cats", "instructions": "Cat or dog?", "answerSchema": SCHEMA,
              "answerPointer": "/label", "reward": {"amount": 10, "currency": "USD"},
              "overlap": 2, "quality": {"goldRatio": 0.5, "minGoldAnswers": 1,
                                        "minGoldAccuracy": 0.5}}
    values.update(extra)
    made = client.data(requester.key, CREATE, {"input": values})["createBatch"]
    assert made["userErrors"] == [], made
    return made["batch"]


def test_a_batch_from_creation_to_results_over_http(client, market, server):
    lab = market.requester("Lab", deposit=10_000)
    bad = client.data(lab.key, CREATE, {"input": {
        "title": "x", "instructions": "y", "answerSchema": {"type": 12},
        "reward": {"amount": 10, "currency": "USD"}, "overlap": 2}})["createBatch"]
    assert bad["batch"] is None and bad["userErrors"][0]["code"] == "INVALID_INPUT"
    assert bad["userErrors"][0]["field"] == ["answerSchema"]

    batch = create_batch(client, lab)
    assert (batch["status"], batch["overlap"], batch["itemCount"]) == ("OPEN", 2, 0)
    items = [{"payload": {"image": f"{n}.png"}} for n in range(3)]
    items.append({"payload": {"image": "gold.png"}, "goldAnswer": "cat"})
    added = client.data(lab.key, ADD, {"input": {"batchId": batch["id"], "items": items,
                                                 "idempotencyKey": "chunk-0"}})["addBatchItems"]
    assert added["userErrors"] == [] and added["added"] == 4
    assert added["batch"]["requester"]["escrow"]["amount"] == 4 * 2 * 10
    again = client.data(lab.key, ADD, {"input": {"batchId": batch["id"], "items": items,
                                                 "idempotencyKey": "chunk-0"}})["addBatchItems"]
    assert again["added"] == 4 and again["batch"]["itemCount"] == 4

    board_worker = market.worker("w0")
    board = client.data(board_worker.key, "{ tasks(first: 50) { edges { node { id payload } } } }")
    task_ids = {edge["node"]["payload"]["image"]: edge["node"]["id"]
                for edge in board["tasks"]["edges"]}
    assert set(task_ids) == {"0.png", "1.png", "2.png", "gold.png"}
    gold_id = task_ids["gold.png"]
    # A worker reads the gold item like any other: no known answer anywhere.
    seen = client.data(board_worker.key, TASK, {"id": gold_id})
    assert seen["task"]["batch"]["answerSchema"] == SCHEMA
    assert seen["task"]["consensus"] is None
    partner = market.key("PARTNER", lab)
    log = client.run(partner, "{ events(first: 100) { edges { node { type data } } } }")
    assert log.get("errors") is None
    assert '"cat"' not in json.dumps(log["data"])  # nobody answered yet: only gold has it
    assert not any(edge["node"]["type"].startswith("Batch")
                   for edge in log["data"]["events"]["edges"])
    # The requester's own log does carry its batch's events (the known answers with them).
    own = client.data(lab.key, "{ events(first: 100) { edges { node { type } } } }")
    assert "BatchItemsAdded" in {edge["node"]["type"] for edge in own["events"]["edges"]}

    workers = [market.worker(f"w{n}") for n in range(1, 3)]
    claim = market.claim(workers[0], task_ids["0.png"])
    wrong = client.data(workers[0].key, """mutation($c: ID!) { submitWork(input: {claimId: $c,
        result: {label: "horse"}}) { submission { id } userErrors { code field message } } }""",
                        {"c": claim})["submitWork"]
    assert wrong["submission"] is None
    assert wrong["userErrors"][0]["code"] == "INVALID_ANSWER"
    assert wrong["userErrors"][0]["field"] == ["result", "label"]
    assert "$.label" in wrong["userErrors"][0]["message"]
    market.submit(workers[0], claim, {"label": "cat"})
    claim = market.claim(workers[1], task_ids["0.png"])
    market.submit(workers[1], claim, {"label": "cat"})
    # gold: right is accepted and paid at once, wrong is rejected with feedback and blocks
    right = market.claim(workers[0], gold_id)
    market.submit(workers[0], right, {"label": "cat"})
    wrong_gold = market.claim(workers[1], gold_id)
    judged = client.data(workers[1].key, """mutation($c: ID!) { submitWork(input: {claimId: $c,
        result: {label: "dog"}}) { submission { status feedback } userErrors { code } } }""",
                         {"c": wrong_gold})["submitWork"]
    assert judged["submission"]["status"] == "REJECTED" and judged["submission"]["feedback"]
    # The gold item gained a slot for its second claim: its requester sees it, a worker
    # sees the batch's overlap, as on every other item.
    slots = "query($id: ID!) { task(id: $id) { assignments } }"
    assert client.data(lab.key, slots, {"id": gold_id})["task"]["assignments"] == 3
    assert client.data(board_worker.key, slots, {"id": gold_id})["task"]["assignments"] == 2
    refused = client.data(workers[1].key, """mutation($t: ID!) { claimTask(input: {taskId: $t})
        { claim { id } userErrors { code } } }""", {"t": task_ids["1.png"]})["claimTask"]
    assert refused["userErrors"] == [{"code": "NOT_QUALIFIED"}]

    # The blocked worker's pending answer waits in the review queue, flagged.
    queue = client.data(lab.key, """{ reviewQueue { edges { node { worker { name } flagged }
        } } }""")["reviewQueue"]["edges"]
    assert sorted((e["node"]["worker"]["name"], e["node"]["flagged"]) for e in queue) == [
        ("w1", False), ("w2", True)]
    # Across batches, on Worker: review outcomes and gold accuracy.
    summary = """query($id: ID!) { node(id: $id) { ... on Worker { quality { accepted rejected
        goldAnswered goldCorrect goldAccuracy } } } }"""
    assert client.data(lab.key, summary, {"id": workers[1].id})["node"]["quality"] == {
        "accepted": 0, "rejected": 1, "goldAnswered": 1, "goldCorrect": 0, "goldAccuracy": 0.0}
    assert client.data(workers[0].key, summary, {"id": workers[0].id})["node"]["quality"][
        "goldAccuracy"] == 1.0
    assert client.data(workers[0].key, summary, {"id": workers[1].id})["node"]["quality"] is None
    with psycopg.connect(server.database.conninfo, autocommit=True) as conn:
        assert aggregate_batch(conn, _uuid(batch["id"])) == 1
    results = client.data(lab.key, RESULTS, {"id": batch["id"]})["node"]
    assert results["completedCount"] == 1 and results["itemCount"] == 4
    by_task = {edge["node"]["task"]["id"]: edge["node"]["consensus"]
               for edge in results["results"]["edges"]}
    assert gold_id not in by_task and len(by_task) == 3
    assert by_task[task_ids["0.png"]] == {"answer": "cat", "confidence": 1.0,
                                          "method": "MAJORITY_VOTE", "answers": 2}
    quality = {edge["node"]["worker"]["name"]: edge["node"]
               for edge in results["workerQuality"]["edges"]}
    assert quality["w1"] == {"worker": {"name": "w1"}, "goldAnswered": 1, "goldCorrect": 1,
                             "accuracy": 1.0, "blocked": False}
    assert quality["w2"]["blocked"] is True and quality["w2"]["accuracy"] == 0.0
    owner_view = client.data(lab.key, TASK, {"id": task_ids["0.png"]})["task"]
    assert owner_view["consensus"] == {"answer": "cat"}
    forbidden = client.run(workers[0].key, RESULTS, {"id": batch["id"]})
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    cancelled = client.data(lab.key, """mutation($id: ID!) { cancelBatch(input: {batchId: $id})
        { batch { status requester { escrow { amount } } } userErrors { code } } }""",
                            {"id": batch["id"]})["cancelBatch"]
    assert cancelled["userErrors"] == []
    assert cancelled["batch"]["status"] == "CANCELLED"
    # Left in escrow: the two pending answers of item 0, awaiting review.
    assert cancelled["batch"]["requester"]["escrow"]["amount"] == 2 * 10
    listed = client.data(lab.key, "{ batches { edges { node { id status } } } }")
    assert listed["batches"]["edges"] == [{"node": {"id": batch["id"], "status": "CANCELLED"}}]


def _uuid(global_id):
    import base64
    from uuid import UUID

    return UUID(base64.b64decode(global_id).decode().split(":")[1])
