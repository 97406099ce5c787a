"""A claim loads its worker and task in one query: same answers as loading each alone."""

from uuid import uuid4

import pytest

from taskmarket.domain import DomainError, Money
from taskmarket.domain.task import TaskSpec


def posted_task(app, skills=(), assignments=1):
    requester = app.create_requester("Acme")
    app.deposit_funds(requester, 100 * assignments, "USD", "wire-1")
    spec = TaskSpec("Label", "Draw boxes", Money(100, "USD"), assignments=assignments,
                    required_skills=tuple(skills))
    return requester, app.post_task(requester, spec)


def claim_error(app, task, worker) -> tuple[str, list[str] | None]:
    with pytest.raises(DomainError) as error:
        app.claim_task(task, worker)
    return error.value.code, error.value.field


def test_claims_run_on_the_one_query_path(app):
    """Snapshots are on (for tasks and requesters) but a claim's loads never use them."""
    assert callable(getattr(app.recorder, "select_events_of", None))
    assert not app.repository.cache
    requester, task = posted_task(app)
    worker = app.register_worker("ada")
    asked: list[object] = []
    select = app.recorder.select_events_of
    app.recorder.select_events_of = lambda ids: asked.append(list(ids)) or select(ids)
    app.snapshots.get = lambda *args, **kwargs: pytest.fail("a claim read a snapshot")
    app.claim_task(task, worker)
    assert asked == [[worker, task]]


def test_a_missing_worker_or_task_is_named_worker_first(app):
    requester, task = posted_task(app)
    worker = app.register_worker("ada")

    assert claim_error(app, task, uuid4()) == ("NOT_FOUND", ["workerId"])
    assert claim_error(app, uuid4(), worker) == ("NOT_FOUND", ["taskId"])
    assert claim_error(app, uuid4(), uuid4()) == ("NOT_FOUND", ["workerId"])
    # An id of the wrong kind of aggregate is not found either.
    assert claim_error(app, task, requester) == ("NOT_FOUND", ["workerId"])
    assert claim_error(app, worker, worker) == ("NOT_FOUND", ["taskId"])


def test_the_loaded_worker_and_task_are_their_latest_versions(app):
    _, task = posted_task(app, skills=["vision"], assignments=2)
    worker = app.register_worker("ada", ["audio"])

    assert claim_error(app, task, worker)[0] == "NOT_QUALIFIED"
    app.change_worker_skills(worker, ["vision"])
    claim = app.claim_task(task, worker)

    assert claim_error(app, task, worker)[0] == "ALREADY_CLAIMED"
    assert claim in app.get_task(task).claims
    assert app.get_task(task).version == 2


@pytest.mark.parametrize("how_many", [1, 2, 4, 5, 9])
def test_loading_several_aggregates_at_once_gives_each_its_events_in_version_order(app,
                                                                                  how_many):
    """Up to a few ids go as one placeholder each, more as an array: same answer."""
    workers = [app.register_worker(f"w{n}") for n in range(how_many)]
    for n, worker in enumerate(workers):
        for change in range(n % 3):
            app.change_worker_skills(worker, [f"skill{change}"])
    wanted = [*reversed(workers), uuid4()]  # an unknown id is simply absent

    stored = app.recorder.select_events_of(wanted)

    by_worker = {w: [e.originator_version for e in stored if e.originator_id == w]
                 for w in workers}
    assert by_worker == {w: list(range(1, 2 + n % 3)) for n, w in enumerate(workers)}
    assert {e.originator_id for e in stored} == set(workers)
