"""Batches through the application on PostgreSQL: items are Tasks with escrow, answers are
checked, gold is served once and judged, low accuracy blocks, cancelling refunds."""

import pytest

from taskmarket.domain import DomainError, Money
from taskmarket.domain.batch import BatchItem, BatchSpec, QualityRules
from taskmarket.domain.task import SubmissionStatus, TaskStatus

SCHEMA = {"type": "object", "required": ["label"], "additionalProperties": False,
          "properties": {"label": {"enum": ["cat", "dog"]}}}


def spec(**changes):
    values = dict(title="Cat or dog?", instructions="Look at the picture.", answer_schema=SCHEMA,
                  answer_pointer="/label", reward=Money(10, "USD"), overlap=3,
                  quality=QualityRules(0.2, 2, 0.6))
    values.update(changes)
    return BatchSpec(**values)


@pytest.fixture
def requester(app):
    requester_id = app.create_requester("lab")
    app.deposit_funds(requester_id, 100_000, "USD", "wire-1")
    return requester_id


def items(n, gold=0):
    plain = [BatchItem(payload={"image": f"img-{i}.png"}) for i in range(n)]
    golds = [BatchItem(payload={"image": f"gold-{i}.png"}, gold_answer="cat", is_gold=True)
             for i in range(gold)]
    return plain + golds


def test_items_are_tasks_of_the_batch_with_escrow_reserved(app, requester):
    batch_id = app.create_batch(requester, spec())
    assert app.add_batch_items(batch_id, requester, "chunk-1", items(4, gold=1)) == 5
    batch = app.get_batch(batch_id)
    assert len(batch.items) == 5
    task = app.get_task(batch.items[0])
    assert (task.batch_id, task.assignments, task.payload) == (batch_id, 3, {"image": "img-0.png"})
    money = app.get_requester(requester)
    assert (money.balance, money.escrow) == (100_000 - 5 * 3 * 10, 5 * 3 * 10)
    # The same key again is a replay: nothing written, the same count answered.
    before = app.recorder.max_notification_id()
    assert app.add_batch_items(batch_id, requester, "chunk-1", items(4, gold=1)) == 5
    assert app.recorder.max_notification_id() == before
    with pytest.raises(DomainError) as reused:
        app.add_batch_items(batch_id, requester, "chunk-1", items(3))
    assert reused.value.code == "IDEMPOTENCY_KEY_REUSED"


def test_bad_batches_and_items_are_refused_and_write_nothing(app, requester):
    before = app.recorder.max_notification_id()
    for bad, field in [(spec(answer_schema={"type": "nonsense"}), "answerSchema"),
                       (spec(answer_pointer="label"), "answerPointer"),
                       (spec(overlap=0), "overlap"),
                       (spec(quality=QualityRules(0.9, 1, 0.5)), "quality")]:
        with pytest.raises(DomainError) as refused:
            app.create_batch(requester, bad)
        assert refused.value.code == "INVALID_INPUT"
        assert refused.value.field[0] == field
    assert app.recorder.max_notification_id() == before
    batch_id = app.create_batch(requester, spec())
    poor = app.create_requester("poor")
    before = app.recorder.max_notification_id()
    with pytest.raises(DomainError) as too_many:
        app.add_batch_items(batch_id, requester, "k", items(1001))
    assert too_many.value.code == "INVALID_INPUT"
    with pytest.raises(DomainError) as forbidden:
        app.add_batch_items(batch_id, poor, "k", items(1))
    assert forbidden.value.code == "FORBIDDEN"
    assert app.recorder.max_notification_id() == before


def test_an_answer_outside_the_schema_is_invalid_answer_with_its_path(app, requester):
    batch_id = app.create_batch(requester, spec(quality=QualityRules()))
    app.add_batch_items(batch_id, requester, "k", items(1))
    task_id = app.get_batch(batch_id).items[0]
    worker = app.register_worker("w")
    claim_id = app.claim_task(task_id, worker)
    before = app.recorder.max_notification_id()
    with pytest.raises(DomainError) as invalid:
        app.submit_work(task_id, claim_id, worker, {"label": "horse"})
    assert invalid.value.code == "INVALID_ANSWER"
    assert invalid.value.field == ["result", "label"]
    assert "$.label" in invalid.value.message
    assert app.recorder.max_notification_id() == before
    app.submit_work(task_id, claim_id, worker, {"label": "dog"})
    submissions = list(app.get_task(task_id).submissions.values())
    assert [s.status for s in submissions] == [SubmissionStatus.PENDING_REVIEW]


def test_gold_is_judged_paid_when_right_and_blocks_a_bad_worker(app, requester):
    batch_id = app.create_batch(requester, spec(overlap=1, quality=QualityRules(0.5, 2, 0.6)))
    app.add_batch_items(batch_id, requester, "k", items(2, gold=3))
    batch = app.get_batch(batch_id)
    golds = list(batch.gold_order)
    good, bad = app.register_worker("good"), app.register_worker("bad")
    for gold_id in golds[:2]:
        claim = app.claim_task(gold_id, good)
        app.submit_work(gold_id, claim, good, {"label": "cat"})
    statuses = [s.status for g in golds[:2] for s in app.get_task(g).submissions.values()]
    assert statuses == [SubmissionStatus.ACCEPTED] * 2
    # overlap 1, yet gold stays open: each claim of its last slot added one (escrow too)
    assert app.get_task(golds[0]).status == TaskStatus.OPEN
    with pytest.raises(DomainError) as again:
        app.claim_task(golds[0], good)
    assert again.value.code == "ALREADY_CLAIMED"
    plain = batch.items[0]
    claim = app.claim_task(plain, bad)
    app.submit_work(plain, claim, bad, {"label": "dog"})
    for gold_id in golds[:2]:
        claim = app.claim_task(gold_id, bad)
        app.submit_work(gold_id, claim, bad, {"label": "dog"})
    rejected = [s for s in app.get_task(golds[0]).submissions.values()
                if s.status == SubmissionStatus.REJECTED]
    assert len(rejected) == 1 and rejected[0].feedback
    record = app.batch_worker(batch_id, bad)
    assert (record.answered, record.correct, record.blocked) == (2, 0, True)
    with pytest.raises(DomainError) as blocked:
        app.claim_task(batch.items[1], bad)
    assert blocked.value.code == "NOT_QUALIFIED"
    money = app.get_requester(requester)
    assert money.is_conserved
    assert money.spent == 2 * 10


def test_cancel_batch_cancels_open_items_and_refunds(app, requester):
    batch_id = app.create_batch(requester, spec(quality=QualityRules()))
    app.add_batch_items(batch_id, requester, "k", items(3))
    first = app.get_batch(batch_id).items[0]
    worker = app.register_worker("w")
    claim = app.claim_task(first, worker)
    app.submit_work(first, claim, worker, {"label": "cat"})
    refunded = app.cancel_batch(batch_id, requester)
    assert refunded == 3 * 3 - 1
    money = app.get_requester(requester)
    assert money.escrow == 10 and money.is_conserved
    assert all(app.get_task(t).status == TaskStatus.CANCELLED
               for t in app.get_batch(batch_id).items)
    assert app.cancel_batch(batch_id, requester) == 0  # again: nothing left to do
    with pytest.raises(DomainError) as closed:
        app.add_batch_items(batch_id, requester, "k2", items(1))
    assert closed.value.code == "BATCH_NOT_OPEN"


def test_the_same_call_sent_at_once_from_several_clients_adds_its_items_once(app, requester):
    from concurrent.futures import ThreadPoolExecutor

    batch_id = app.create_batch(requester, spec(quality=QualityRules()))
    with ThreadPoolExecutor(6) as pool:
        counts = list(pool.map(lambda _: app.add_batch_items(batch_id, requester, "same",
                                                             items(50)), range(6)))
    assert counts == [50] * 6
    assert app.get_batch(batch_id).item_count == 50
    assert app.get_requester(requester).escrow == 50 * 3 * 10


def test_workers_racing_for_one_gold_item_each_get_it_once_with_escrow_for_each(app, requester):
    from concurrent.futures import ThreadPoolExecutor

    batch_id = app.create_batch(requester, spec(overlap=1, quality=QualityRules(0.5, 1, 0.5)))
    app.add_batch_items(batch_id, requester, "k", items(1, gold=1))
    gold_id = app.get_batch(batch_id).gold_order[0]
    workers = [app.register_worker(f"w{n}") for n in range(6)]

    def answer(worker):
        claim = app.claim_task(gold_id, worker)
        return app.submit_work(gold_id, claim, worker, {"label": "cat"})

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(answer, workers))
    task = app.get_task(gold_id)
    assert sorted(s.worker_id for s in task.submissions.values()) == sorted(workers)
    assert all(s.status == SubmissionStatus.ACCEPTED for s in task.submissions.values())
    money = app.get_requester(requester)
    # paid six answers; one spare slot stays reserved (the item stays open); one plain item
    assert money.spent == 6 * 10 and money.is_conserved
    assert money.escrow == 10 * (task.assignments - 6) + 10
