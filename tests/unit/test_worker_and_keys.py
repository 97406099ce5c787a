"""Workers (skills, Stripe account) and API keys (hash only, revocation), without a database."""

from dataclasses import asdict, is_dataclass
from uuid import uuid4

import pytest
from eventsourcing.application import Application

from taskmarket.domain import ApiKey, DomainError, Role, Worker
from taskmarket.domain.apikey import hash_secret

SECRET = "tm_admin_s3cr3t-value-that-must-never-be-stored"


def code_of(call, *args):
    with pytest.raises(DomainError) as caught:
        call(*args)
    return caught.value.code


def test_a_worker_registers_with_normalised_skills():
    worker = Worker.register("  Ada ", ["Vision", "vision", " audio "])
    assert (worker.name, worker.skills) == ("Ada", ["audio", "vision"])
    assert worker.qualifies_for(["vision"]) and not worker.qualifies_for(["french"])


@pytest.mark.parametrize("name, skills", [("", []), ("  ", []), ("Ada", ["ok", ""]),
                                          ("Ada", ["x" * 65])])
def test_a_worker_needs_a_name_and_sane_skills(name, skills):
    assert code_of(Worker.register, name, skills) == "INVALID_INPUT"


def test_changing_skills_to_the_same_set_writes_nothing():
    worker = Worker.register("Ada", ["vision"])
    version = worker.version
    worker.change_skills(["VISION"])
    assert worker.version == version
    worker.change_skills(["vision", "french"])
    assert worker.version == version + 1 and worker.skills == ["french", "vision"]


def test_a_worker_links_a_stripe_connected_account():
    worker = Worker.register("Ada")
    for bad in ("", "acct_", "cus_123", "acct_12 3"):
        assert code_of(worker.link_account, bad) == "INVALID_INPUT"
    worker.link_account("acct_1Nabc")
    version = worker.version
    worker.link_account("acct_1Nabc")
    assert worker.version == version and worker.stripe_account_id == "acct_1Nabc"


def test_a_worker_rebuilt_from_stored_events_equals_the_original():
    worker = Worker.register("Ada", ["vision"])
    worker.change_skills(["audio"])
    worker.link_account("acct_9")
    store = Application()
    store.save(worker)
    assert vars(store.repository.get(worker.id)) == vars(worker)


def event_values(aggregate):
    for domain_event in aggregate.collect_events():
        yield from (asdict(domain_event) if is_dataclass(domain_event)
                    else vars(domain_event)).values()


def test_an_issued_key_stores_only_a_hash_of_its_secret():
    key = ApiKey.issue(SECRET, Role.ADMIN, "ops", None)
    assert key.secret_hash == hash_secret(SECRET) != SECRET
    assert key.id == ApiKey.create_id(hash_secret(SECRET))
    assert all(SECRET not in str(value) for value in event_values(key))


def test_the_secret_is_absent_from_the_stored_event_record():
    key = ApiKey.issue(SECRET, Role.WORKER, "ada's laptop", uuid4())
    store = Application()
    store.save(key)
    [record] = store.recorder.select_events(key.id)
    assert SECRET.encode() not in record.state
    assert hash_secret(SECRET).encode() in record.state


@pytest.mark.parametrize("role, subject, field", [
    (Role.WORKER, None, ["workerId"]),
    (Role.REQUESTER, None, ["requesterId"]),
    (Role.PARTNER, None, ["requesterId"]),
    (Role.ADMIN, uuid4(), ["requesterId"]),
    (Role.FINANCE, uuid4(), ["requesterId"]),
])
def test_a_key_is_bound_to_a_subject_exactly_when_its_role_needs_one(role, subject, field):
    with pytest.raises(DomainError) as caught:
        ApiKey.issue(SECRET, role, "k", subject)
    assert (caught.value.code, caught.value.field) == ("INVALID_INPUT", field)


def test_a_key_needs_a_name():
    assert code_of(ApiKey.issue, SECRET, Role.ADMIN, " ", None) == "INVALID_INPUT"


def test_a_revoked_key_stays_revoked_and_revoking_twice_writes_once():
    key = ApiKey.issue(SECRET, Role.FINANCE, "books", None)
    key.revoke()
    key.revoke()
    assert key.revoked
    assert [type(e).__name__ for e in key.collect_events()] == ["Issued", "Revoked"]
