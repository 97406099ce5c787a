"""A labeling batch answered by a simulated crowd with known truth.

60 workers (good ones, random clickers, biased ones, each with its confusion matrix) answer
a batch of 1,000 items (5% gold, overlap 3) through the application, the first answers of
some of them over HTTP. Random clickers get blocked by their gold accuracy, Dawid-Skene's
consensus is at least as accurate as majority vote's, and the money adds up.
"""

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

import psycopg
import pytest

from taskmarket.bootstrap import build_marketplace
from taskmarket.domain import Money, Role
from taskmarket.domain.batch import AggregationMethod, BatchItem, BatchSpec, QualityRules
from taskmarket.global_ids import decode_id
from taskmarket.projections.runner import ProjectionRunner
from taskmarket.quality.aggregation import majority_vote
from taskmarket.quality.consensus import aggregate_batch, batch_answers
from taskmarket.quality.simulation import make_crowd

LABELS = ["cat", "dog", "bird"]
ITEMS, GOLD, OVERLAP, REWARD = 950, 50, 3, 5
THREADS = 4
SCHEMA = {"type": "object", "required": ["label"], "properties": {"label": {"enum": LABELS}}}
CLAIM_NEXT = """mutation { claimNextTask(input: {}) { claim { id task { id payload } }
  userErrors { code } } }"""
SUBMIT = """mutation($c: ID!, $r: JSON!) { submitWork(input: {claimId: $c, result: $r}) {
  submission { id } userErrors { code } } }"""


class Crowd:
    """Who answers what: each worker is offered a few open items it has not answered.

    Several threads drive workers at once (as a crowd would), so the task candidates are
    those of the thread's current worker."""

    def __init__(self, app, items, rng):
        self.app = app
        self.lock = threading.Lock()
        self.open: dict[UUID, int] = {t: OVERLAP for t in items}
        self.answered: dict[UUID, set[UUID]] = {t: set() for t in items}
        self.local = threading.local()
        self.local.rng = rng
        app.task_candidates = self.candidates

    def candidates(self, _skills, _skill):
        with self.lock:
            mine = [t for t in self.open if self.local.worker not in self.answered[t]]
        return self.local.rng.sample(mine, min(4, len(mine)))

    def has_work_for(self, worker_id: UUID) -> bool:
        with self.lock:
            return any(worker_id not in who for who in self.answered.values()
                       if len(who) < OVERLAP)

    def took(self, task_id: UUID, worker_id: UUID) -> None:
        with self.lock:
            if task_id in self.open:
                self.answered[task_id].add(worker_id)
                self.open[task_id] -= 1
                if not self.open[task_id]:
                    del self.open[task_id]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_simulated_crowd_labels_a_batch(database, start_server):
    rng = random.Random(1616)
    # Snapshots keep the requester (its escrow moves with every gold claim) quick to load.
    app = build_marketplace(database, IS_SNAPSHOTTING_ENABLED="y")
    try:
        run_simulation(app, database, start_server, rng)
    finally:
        app.close()


def run_simulation(app, database, start_server, rng):
    lab = app.create_requester("lab")
    app.deposit_funds(lab, 1_000_000, "USD", "wire")
    spec = BatchSpec(title="What animal?", instructions="Pick one.", answer_schema=SCHEMA,
                     answer_pointer="/label", reward=Money(REWARD, "USD"), overlap=OVERLAP,
                     # 5% of the items are gold; a worker meets them more often than
                     # that (20% of its items, half until it has answered 10)
                     quality=QualityRules(gold_ratio=0.2, min_gold_answers=10,
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
    market = Crowd(app, plain, rng)

    def answer(worker_id, task_id, rng):
        return {"label": workers[worker_id].answer(truth[task_id], rng)}

    # A slice over HTTP: five workers' first answers go through the API (a server runs
    # only for this part: its projections would follow every command of the rest).
    with start_server() as (_server, client):
        for worker_id in list(workers)[:5]:
            _, key = app.issue_api_key(Role.WORKER, "sim", worker_id)
            for _ in range(4):
                got = client.data(key, CLAIM_NEXT)["claimNextTask"]
                assert got["userErrors"] == []
                task_id = UUID(_task_uuid(got["claim"]["task"]["id"]))
                done = client.data(key, SUBMIT, {
                    "c": got["claim"]["id"], "r": answer(worker_id, task_id, rng)})
                assert done["submitWork"]["userErrors"] == []
                market.took(task_id, worker_id)

    def drive(worker_ids, seed):
        """One thread's share of the crowd, answering until nothing is left for them."""
        local_rng = random.Random(seed)
        market.local.rng = local_rng
        active = list(worker_ids)
        while active:
            for worker_id in list(active):
                market.local.worker = worker_id
                got = app.claim_next_task(worker_id)
                if got is None:
                    record = app.batch_worker(batch_id, worker_id)
                    if (record is not None and record.blocked) or not market.has_work_for(
                            worker_id):
                        active.remove(worker_id)
                    continue
                task_id, claim_id = got
                app.submit_work(task_id, claim_id, worker_id,
                                answer(worker_id, task_id, local_rng))
                market.took(task_id, worker_id)

    shares = [list(workers)[n::THREADS] for n in range(THREADS)]
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(drive, shares, range(THREADS)))
    assert not market.open, "every item got its overlap of answers"

    ProjectionRunner(database, batch_size=5000).catch_up()
    with psycopg.connect(database.conninfo, autocommit=True) as conn:
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
    # Gold blocking stops the clickers early, so what is left to aggregate is mostly good
    # workers' answers and both methods land close (0.93-0.95 here); which worker gets
    # which item depends on the threads' interleaving, and ties between the two methods
    # go either way by an item or two. Dawid-Skene at least majority vote's accuracy on
    # the same crowd without blocking is checked over ten seeds in
    # tests/unit/test_aggregation.py; here it must not fall behind by more than 1 point.
    assert dawid_skene >= majority - 0.01
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
    (task_id,) = decode_id(global_id, "Task", "taskId")
    return str(task_id)
