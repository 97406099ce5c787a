"""Global IDs: opaque, typed, and refusing what they do not name."""

from uuid import uuid4

import pytest

from taskmarket.domain import DomainError
from taskmarket.global_ids import decode_id, decode_one, to_global_id


def test_a_claim_id_carries_its_task():
    task, claim = uuid4(), uuid4()
    assert decode_id(to_global_id("Claim", task, claim), "Claim", "claimId") == (task, claim)


def test_malformed_ids_are_invalid_input_with_the_field():
    with pytest.raises(DomainError) as error:
        decode_one("not base64 !!", "Task", "taskId")
    assert (error.value.code, error.value.field) == ("INVALID_INPUT", ["taskId"])


def test_an_id_of_another_type_is_invalid_input_naming_both_types():
    with pytest.raises(DomainError) as error:
        decode_one(to_global_id("Worker", uuid4()), "Task", "taskId")
    assert (error.value.code, error.value.field) == ("INVALID_INPUT", ["taskId"])
    assert error.value.message == "expected a Task id, got a Worker id"


def test_a_raw_uuid_is_invalid_input():
    for raw in (str(uuid4()), uuid4().hex):
        with pytest.raises(DomainError) as error:
            decode_one(raw, "Task", "taskId")
        assert (error.value.code, error.value.field) == ("INVALID_INPUT", ["taskId"])


def test_a_well_formed_id_with_a_bad_uuid_is_invalid():
    with pytest.raises(DomainError) as error:
        decode_one(to_global_id("Task", "nope"), "Task", "taskId")
    assert error.value.code == "INVALID_INPUT"
