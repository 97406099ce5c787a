"""Every ID an event's data carries is presented as a global ID (or is Stripe's own)."""

from uuid import uuid4

from taskmarket.docs import all_event_classes
from taskmarket.events import data_fields
from taskmarket.global_ids import decode_id, to_global_id
from taskmarket.presented_events import (
    FOREIGN_IDS, REFERENCES, SUBJECT, TASK_PARTS, present_data,
)


def test_every_id_field_of_every_event_is_known_to_the_presenter():
    known = set(REFERENCES) | set(TASK_PARTS) | {SUBJECT} | FOREIGN_IDS
    for cls in all_event_classes():
        for name in data_fields(cls):
            if name.endswith("Id"):
                assert name in known, f"{cls.__qualname__}.{name}: add it to presented_events"


def test_claims_take_their_task_from_the_aggregate_and_keys_their_subject_kind():
    task, claim, worker = uuid4(), uuid4(), uuid4()
    shown = present_data("Task", task, {"claimId": str(claim), "workerId": str(worker),
                                        "refundedSlots": 0})
    assert decode_id(shown["claimId"], "Claim", "claimId") == (task, claim)
    assert shown["workerId"] == to_global_id("Worker", worker) and shown["refundedSlots"] == 0
    key = present_data("ApiKey", uuid4(), {"role": "WORKER", "subjectId": str(worker)})
    assert key["subjectId"] == to_global_id("Worker", worker)
    admin = present_data("ApiKey", uuid4(), {"role": "ADMIN", "subjectId": None})
    assert admin["subjectId"] is None
