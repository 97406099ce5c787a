"""Whatever text and JSON a command accepts, every projection can apply (property test).

Hypothesis drives the application with arbitrary strings (NUL, lone surrogates, any
plane) and arbitrary JSON (huge integers, NaN, infinities, deep nesting) through every
command that takes text or JSON. A command either refuses with a DomainError and writes
nothing, or writes events; either way every projection then catches up to the head with
no failure, and the event log gives back the JSON it accepted unchanged.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from projection_harness import catch_up

from taskmarket.domain import DomainError, Money, Role
from taskmarket.domain.task import TaskSpec
from taskmarket.projections.failures import stalls
from taskmarket.projections.tracking import head, positions

# Every code point, lone surrogates included (hypothesis leaves those out by default).
hostile_text = st.text(st.characters(exclude_categories=()), max_size=30) | st.sampled_from(
    ["a\x00b", "\x00", "\ud800", "ok", " padded ", "x" * 300])
numbers = (st.integers() | st.integers(-(2**63), 2**63 - 1) | st.floats()
           | st.sampled_from([123456789012345678901234567890, 1e300, 2**63, 2**63 - 1]))
scalars = st.none() | st.booleans() | numbers | hostile_text
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(hostile_text, inner, max_size=4), max_leaves=12)


def same_json(stored: Any, sent: Any) -> bool:
    """Equal as JSON: bools stay bools, text and keys exact, integers exact, and a float
    reads back as the same double. (Our writer prints a float's shortest decimal, e.g.
    5.71235343939905e16; jsonb keeps that decimal exactly and prints it as the integer
    57123534393990500, which any JSON reader turns back into the same double.)"""
    if isinstance(sent, bool) or isinstance(stored, bool):
        return type(sent) is type(stored) and sent == stored
    if isinstance(sent, int):
        return type(stored) is int and stored == sent
    if isinstance(sent, float):
        return isinstance(stored, (int, float)) and float(stored) == sent
    if isinstance(sent, dict):
        return (isinstance(stored, dict) and stored.keys() == sent.keys()
                and all(same_json(stored[k], v) for k, v in sent.items()))
    if isinstance(sent, (list, tuple)):
        return (isinstance(stored, list) and len(stored) == len(sent)
                and all(same_json(a, b) for a, b in zip(stored, sent)))
    return stored == sent


class Attempts:
    """Runs commands; a refusal must write nothing."""

    def __init__(self, app):
        self.app = app
        self.accepted: list[str] = []

    def __call__(self, name: str, command, *args) -> Any:
        before = self.app.recorder.max_notification_id()
        try:
            value = command(*args)
        except DomainError as error:
            assert self.app.recorder.max_notification_id() == before, (name, error)
            return None
        self.accepted.append(name)
        return value


def event_data(conn, aggregate_id, event_type: str) -> list[dict]:
    return [row[0] for row in conn.execute(
        "SELECT data FROM event_log WHERE aggregate_id = %s AND type = %s ORDER BY position",
        (aggregate_id, event_type)).fetchall()]


@pytest.fixture
def allow_local_webhooks(monkeypatch):
    monkeypatch.setenv("TASKMARKET_WEBHOOK_ALLOW_PRIVATE", "1")


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(texts=st.lists(hostile_text, min_size=12, max_size=12), skills=st.lists(hostile_text,
       max_size=3), payload=json_values, result=json_values)
def test_whatever_a_command_accepts_every_projection_applies(
        app, database, allow_local_webhooks, texts, skills, payload, result):
    attempt = Attempts(app)
    # A stage to act on: a funded requester, a worker holding two claims.
    acme = app.create_requester("Acme")
    app.deposit_funds(acme, 10_000, "USD", f"wire-{acme}")
    worker = app.register_worker("Wanda", [])
    task = app.post_task(acme, TaskSpec("stage", "i", Money(100, "USD"), assignments=2))
    claim = app.claim_task(task, worker)
    walt = app.register_worker("Walt", [])
    submitted = app.submit_work(task, app.claim_task(task, walt), walt, {"ok": True})

    attempt("createRequester", app.create_requester, texts[0])
    attempt("registerWorker", app.register_worker, texts[1], skills)
    attempt("changeSkills", app.change_worker_skills, worker, skills)
    attempt("issueKey", app.issue_api_key, Role.FINANCE, texts[2])
    attempt("deposit", app.deposit_funds, acme, 10, "USD", texts[3], texts[4])
    attempt("postTask", app.post_task, acme, TaskSpec(
        texts[5], texts[6], Money(10, "USD"), payload=payload,
        required_skills=tuple(skills)), texts[7])
    posted = attempt("postTaskPayload", app.post_task, acme, TaskSpec(
        "payload", "", Money(10, "USD"), payload=payload))
    attempt("claimNext", app.claim_next_task, worker, texts[8])
    sent = attempt("submitWork", app.submit_work, task, claim, worker, result)
    attempt("review", app.review_submission, task, submitted, acme, "REJECT", texts[9])
    endpoint = attempt("createWebhook", app.create_webhook_endpoint,
                       f"http://127.0.0.1:9/{texts[10]}", [], acme)
    attempt("createWebhookRaw", app.create_webhook_endpoint, texts[10], [], acme)
    if endpoint:
        attempt("updateWebhook", app.update_webhook_endpoint, endpoint[0], texts[11])
        attempt("disableWebhook", app.disable_webhook_endpoint, endpoint[0], texts[11])
    attempt("bonus", app.pay_bonus, acme, worker, 1, "USD", texts[4])
    attempt("submissionBonus", app.pay_submission_bonus, acme, task, submitted, 1, "USD",
            texts[11], texts[3])

    event(f"task posted: {bool(posted)}, work submitted: {bool(sent)}")
    catch_up(database)  # raises ProjectionFailed if any projection cannot apply an event
    with database.connect(autocommit=True) as conn:
        newest = head(conn)
        assert set(positions(conn).values()) == {newest}
        assert stalls(conn) == []
        if posted:
            [data] = event_data(conn, posted, "TaskPosted")
            assert same_json(data["payload"], payload), (data["payload"], payload)
            stored = conn.execute("SELECT payload FROM tasks WHERE id = %s",
                                  (posted,)).fetchone()[0]
            assert same_json(stored, payload)
        if sent:
            data = event_data(conn, task, "TaskWorkSubmitted")[-1]
            assert data["submissionId"] == str(sent)
            assert same_json(data["result"], result), (data["result"], result)
