"""A labeling batch answered by a simulated crowd with known truth.

60 workers (good ones, random clickers, biased ones, each with its confusion matrix) answer
a batch of 1,000 items (5% gold, overlap 3) through the application, the first answers of
some of them over HTTP. Random clickers get blocked by their gold accuracy, Dawid-Skene's
consensus is at least as accurate as majority vote's, and the money adds up.
"""

import random
from uuid import UUID

import psycopg
import pytest

from taskmarket.bootstrap import build_marketplace
from taskmarket.domain import Money, Role
from taskmarket.domain.batch import AggregationMethod, BatchItem, BatchSpec, QualityRules
from taskmarket.global_ids import to_global_id
from taskmarket.projections.runner import ProjectionRunner
from taskmarket.quality.aggregation import majority_vote
from taskmarket.quality.consensus import aggregate_batch, batch_answers
from taskmarket.quality.simulation import make_crowd

LABELS = ["cat", "dog", "bird"]
ITEMS, GOLD, OVERLAP, REWARD = 950, 50, 3, 5
SCHEMA = {"type": "object", "required": ["label"], "properties": {"label": {"enum": LABELS}}}
CLAIM_NEXT = """mutation { claimNextTask(input: {}) { claim { id task { id payload } }
  userErrors { code } } }"""
SUBMIT = """mutation($c: ID!, $r: JSON!) { submitWork(input: {claimId: $c, result: $r}) {
  submission { id } userErrors { code } } }"""


class Crowd:
    """Who answers what: each worker is offered a few open items it has not answered."""

    def __init__(self, app, rng):
        self.app = app
        self.rng = rng
        self.open: dict[UUID, int] = {}
        self.answered: dict[UUID, set[UUID]] = {}
        self.current: UUID | None = None
        app.task_candidates = self.candidates

    def candidates(self, _skills, _skill):
        mine = [t for t in self.open if self.current not in self.answered[t]]
        return self.rng.sample(mine, min(4, len(mine)))

    def took(self, task_id: UUID, worker_id: UUID) -> None:
        if task_id in self.open:
            self.answered[task_id].add(worker_id)
            self.open[task_id] -= 1
            if not self.open[task_id]:
                del self.open[task_id]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_simulated_crowd_labels_a_batch(server, client):
    rng = random.Random(1616)
    # Snapshots keep the requester (its escrow moves with every gold claim) quick to load.
    app = build_marketplace(server.database, IS_SNAPSHOTTING_ENABLED="y")
    try:
        run_simulation(app, server, client, rng)
    finally:
        app.close()


def run_simulation(app, server, client, rng):
    lab = app.create_requester("lab")
    app.deposit_funds(lab, 1_000_000, "USD", "wire")
    spec = BatchSpec(title="What animal?", instructions="Pick one.", answer_schema=SCHEMA,
                     answer_pointer="/label", reward=Money(REWARD, "USD"), overlap=OVERLAP,
                     quality=QualityRules(gold_ratio=0.05, min_gold_answers=5,
                                          min_gold_accuracy=0.6),
                     aggregation=AggregationMethod.DAWID_SKENE)
    batch_id = app.create_batch(lab, spec)
    truths = [rng.choice(LABELS) for _ in range(ITEMS + GOLD)]
    items = [BatchItem(payload={"image": f"{n}.png"}) for n in range(ITEMS)]
    items += [BatchItem(payload={"image": f"{ITEMS + n}.png"}, gold_answer=truths[ITEMS + n],
                        is_gold=True) for n in range(GOLD)]
    assert app.add_batch_items(batch_id, lab, "all", items) == ITEMS + GOLD
    task_ids = app.get_batch(batch_id).items
    truth = dict(zip(task_ids, truths))
    plain = task_ids[:ITEMS]

    crowd = make_crowd(LABELS, good=36, random_clickers=12, biased=12, rng=rng)
    workers = {app.register_worker(sim.name): sim for sim in crowd}
    market = Crowd(app, rng)
    market.open = {t: OVERLAP for t in plain}
    market.answered = {t: set() for t in plain}

    def answer(worker_id, task_id):
        return {"label": workers[worker_id].answer(truth[task_id], rng)}

    # A slice over HTTP: three workers' first answers go through the API.
    for worker_id in list(workers)[:3]:
        _, key = app.issue_api_key(Role.WORKER, "sim", worker_id)
        for _ in range(3):
            market.current = worker_id
            got = client.data(key, CLAIM_NEXT)["claimNextTask"]
            assert got["userErrors"] == []
            task_id = UUID(got["claim"]["task"]["id"] and _task_uuid(got["claim"]["task"]["id"]))
            done = client.data(key, SUBMIT, {"c": got["claim"]["id"],
                                             "r": answer(worker_id, task_id)})["submitWork"]
            assert done["userErrors"] == []
            market.took(task_id, worker_id)

    active = list(workers)
    while market.open and active:
        rng.shuffle(active)
        for worker_id in list(active):
            market.current = worker_id
            got = app.claim_next_task(worker_id)
            if got is None:
                active.remove(worker_id)
                continue
            task_id, claim_id = got
            app.submit_work(task_id, claim_id, worker_id, answer(worker_id, task_id))
            market.took(task_id, worker_id)
    assert not market.open, "every item got its overlap of answers"

    ProjectionRunner(server.database, batch_size=5000).catch_up()
    with psycopg.connect(server.database.conninfo, autocommit=True) as conn:
        assert aggregate_batch(conn, batch_id) == ITEMS
        consensus = dict(conn.execute(
            "SELECT task_id, answer FROM batch_consensus WHERE batch_id = %s", (batch_id,)))
        answers = batch_answers(conn, batch_id, "/label")
        quality = {row[0]: row[1:] for row in conn.execute(
            "SELECT worker_id, gold_answered, gold_correct, blocked FROM batch_workers "
            "WHERE batch_id = %s", (batch_id,))}
        ledger_total = conn.execute("SELECT coalesce(sum(amount), 0) FROM ledger_entries"
                                    ).fetchone()[0]

    dawid_skene = sum(consensus[t] == truth[t] for t in plain) / ITEMS
    majority = sum(est.label == f'"{truth[t]}"' for t, est in majority_vote(answers).items()
                   ) / ITEMS
    assert dawid_skene >= majority
    assert dawid_skene > 0.9

    blocked = {workers[w].kind for w, (_, _, flag) in quality.items() if flag}
    clickers = [w for w, sim in workers.items() if sim.kind == "random"]
    assert all(quality[w][2] for w in clickers), "every random clicker is blocked"
    good_blocked = [w for w, sim in workers.items()
                    if sim.kind == "good" and w in quality and quality[w][2]]
    assert len(good_blocked) <= 3 and "random" in blocked

    money = app.get_requester(lab)
    assert money.is_conserved and ledger_total == 0
    print(f"\naccuracy: Dawid-Skene {dawid_skene:.3f}, majority vote {majority:.3f}; "
          f"good workers blocked: {len(good_blocked)}")


def _task_uuid(global_id: str) -> str:
    import base64

    assert to_global_id  # the ids are the API's global ids
    return base64.b64decode(global_id).decode().split(":")[1]
