"""The Batch's pure rules: schemas, pointers, gold serving and judging, blocking."""

from datetime import datetime, timezone
from uuid import uuid4

import pytest

from taskmarket.domain import DomainError, Money
from taskmarket.domain.batch import (
    Batch, BatchItem, BatchSpec, BatchWorker, QualityRules, answer_at, check_answer,
)
from taskmarket.webhooks.catalog import deliverable_types

NOW = datetime(2026, 11, 30, tzinfo=timezone.utc)
SCHEMA = {"type": "object", "properties": {"labels": {"type": "array",
                                                      "items": {"enum": ["a", "b"]}}}}


def batch(**quality):
    spec = BatchSpec("t", "i", SCHEMA, Money(3, "EUR"), 2, answer_pointer="/labels/0",
                     quality=QualityRules(**quality) if quality else QualityRules())
    return Batch.create(uuid4(), spec, NOW, uuid4())


def test_a_failing_answer_names_its_json_path():
    with pytest.raises(DomainError) as invalid:
        check_answer(SCHEMA, {"labels": ["a", "z"]})
    assert invalid.value.code == "INVALID_ANSWER"
    assert invalid.value.field == ["result", "labels", "1"]
    assert invalid.value.message.startswith("$.labels[1]:")
    check_answer(SCHEMA, {"labels": ["b"]})


def test_an_unresolvable_ref_is_invalid_answer_not_a_crash_and_never_fetched():
    schema = {"$ref": "https://example.invalid/schema.json"}
    with pytest.raises(DomainError) as invalid:
        check_answer(schema, {"x": 1})
    assert invalid.value.code == "INVALID_ANSWER"


def test_the_pointer_picks_the_compared_part_and_a_missing_part_is_none():
    assert answer_at("/labels/0", {"labels": ["b", "a"]}) == "b"
    assert answer_at("/labels/0", {"other": 1}) is None
    assert answer_at("", {"x": 1}) == {"x": 1}


def test_gold_is_judged_at_the_pointer_and_served_once_more_often_while_warming_up():
    made = batch(gold_ratio=0.1, min_gold_answers=3, min_gold_accuracy=0.5)
    owner = made.requester_id
    posts = made.add_items(owner, "k", [BatchItem({"n": n}) for n in range(200)] +
                           [BatchItem({"g": n}, "a", True) for n in range(5)])
    assert len(posts) == 205 and made.item_count == 205 and len(made.gold) == 5
    gold = made.gold_order[0]
    assert made.judge(gold, {"labels": ["a", "b"]}) and not made.judge(gold, {"labels": ["b"]})
    worker = uuid4()
    record = BatchWorker(batch_id=made.id, worker_id=worker)
    plain = [task_id for task_id, _ in posts[:200]]
    warm = sum(made.gold_due(record, worker, t) is not None for t in plain) / len(plain)
    assert 0.35 < warm < 0.65  # at least half-and-half until min_gold_answers were served
    for gold_id in made.gold_order[:3]:
        record.serve_gold(gold_id)
    later = sum(made.gold_due(record, worker, t) is not None for t in plain) / len(plain)
    assert 0.03 < later < 0.2
    served = made.gold_due(record, worker, next(t for t in plain
                                                if made.gold_due(record, worker, t)))
    assert served in made.gold_order[3:]
    with pytest.raises(DomainError) as again:
        record.serve_gold(made.gold_order[0])
    assert again.value.code == "ALREADY_CLAIMED"


def test_a_worker_is_blocked_below_the_accuracy_after_the_minimum_answers():
    rules = QualityRules(0.2, 3, 0.6)
    record = BatchWorker(batch_id=uuid4(), worker_id=uuid4())
    outcomes = [record.record_gold_answer(uuid4(), correct, rules)
                for correct in (False, True, False)]
    assert outcomes == [False, False, True] and record.blocked
    with pytest.raises(DomainError) as blocked:
        record.check_may_work()
    assert blocked.value.code == "NOT_QUALIFIED"


def test_a_gold_answer_must_satisfy_the_schema_without_a_pointer():
    spec = BatchSpec("t", "i", {"enum": ["a", "b"]}, Money(3, "EUR"), 1)
    made = Batch.create(uuid4(), spec, NOW, uuid4())
    with pytest.raises(DomainError) as wrong:
        made.add_items(made.requester_id, "k", [BatchItem({}, "c", True)])
    assert wrong.value.field == ["items", "0", "goldAnswer"]


def test_batch_events_are_never_webhook_deliverable():
    assert not any(name.startswith("Batch") for name in deliverable_types())
