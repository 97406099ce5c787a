"""Mutations answer from what they wrote, hand back their log position, and a request
that passes it reads its writes. Each mutation's payload shows its own effect."""

from __future__ import annotations

import pytest

from conftest import CLAIM, Market

POSITION = "X-Taskmarket-Position"
AFTER = "X-Taskmarket-After-Position"

CLAIM_ONLY = """mutation($task: ID!) { claimTask(input: {taskId: $task}) {
  claim { id status expiresAt } userErrors { code } } }"""
CLAIM_NEXT = """mutation { claimNextTask(input: {}) {
  claim { id status expiresAt task { id openSlots } } userErrors { code } } }"""
SUBMIT_ONLY = """mutation($claim: ID!) { submitWork(input: {claimId: $claim,
  result: {label: "cat", boxes: [1, 2]}}) {
  submission { id status result feedback submittedAt } userErrors { code } } }"""
CLAIM_NODE = """query($id: ID!) { node(id: $id) { ... on Claim {
  id status expiresAt task { id openSlots } worker { id } } } }"""
SUBMISSION_NODE = """query($id: ID!) { node(id: $id) { ... on Submission {
  id status result feedback submittedAt claim { id status } } } }"""
TASK = """query($id: ID!) { task(id: $id) { id status openSlots } }"""
RELEASE = """mutation($claim: ID!) { releaseClaim(input: {claimId: $claim}) {
  claim { id status task { openSlots } } userErrors { code } } }"""
CANCEL = """mutation($task: ID!) { cancelTask(input: {taskId: $task}) {
  task { id status openSlots requester { escrow { amount } balance { amount } } }
  userErrors { code } } }"""
SKILLS = """mutation($worker: ID!, $skills: [String!]!) {
  setWorkerSkills(input: {workerId: $worker, skills: $skills}) {
    worker { id skills } userErrors { code } } }"""
BONUS = """mutation($sub: ID!) { payBonus(input: {submissionId: $sub,
  amount: {amount: 250, currency: "USD"}, reason: "great boxes", idempotencyKey: "b-1"}) {
  payout { status amount { amount } kind reason } requester { balance { amount } }
  userErrors { code } } }"""


def written_position(response) -> int:
    """The position a mutation handed back; the header and the body agree."""
    assert response.status_code == 200, response.text
    header = response.headers[POSITION]
    assert response.json()["extensions"]["position"] == header
    return int(header)


def data(response) -> dict:
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]


def test_a_claim_answers_from_what_it_saved_and_a_query_after_its_position_sees_it(
        client, market: Market):
    requester = market.requester()
    task = market.task(requester, slots=2)
    worker = market.worker()

    answer = client.post(worker.key, CLAIM_ONLY, {"task": task})
    position = written_position(answer)
    claim = data(answer)["claimTask"]["claim"]
    assert claim["status"] == "ACTIVE"

    seen = data(client.post(worker.key, CLAIM_NODE, {"id": claim["id"]},
                            **{AFTER: str(position)}))["node"]
    # The payload built from the saved task says what the read model says.
    assert {k: seen[k] for k in ("id", "status", "expiresAt")} == claim
    assert seen["task"] == {"id": task, "openSlots": 1}
    assert seen["worker"] == {"id": worker.id}


def test_submitted_work_answers_from_the_saved_task_as_the_read_model_has_it(
        client, market: Market):
    requester = market.requester()
    task = market.task(requester)
    worker = market.worker()
    claim = market.claim(worker, task)

    answer = client.post(worker.key, SUBMIT_ONLY, {"claim": claim})
    position = written_position(answer)
    submission = data(answer)["submitWork"]["submission"]
    assert submission["status"] == "PENDING_REVIEW"
    assert submission["result"] == {"label": "cat", "boxes": [1, 2]}

    seen = data(client.post(requester.key, SUBMISSION_NODE, {"id": submission["id"]},
                            **{AFTER: str(position)}))["node"]
    assert {k: seen[k] for k in submission} == submission
    assert seen["claim"] == {"id": claim, "status": "SUBMITTED"}


def test_claim_next_task_shows_its_claim_and_the_task_it_took_a_slot_of(
        client, market: Market):
    requester = market.requester()
    task = market.task(requester, slots=3)
    worker = market.worker()

    answer = client.post(worker.key, CLAIM_NEXT)
    position = written_position(answer)
    claim = data(answer)["claimNextTask"]["claim"]
    assert claim["status"] == "ACTIVE"
    assert claim["task"] == {"id": task, "openSlots": 2}
    after = data(client.post(requester.key, TASK, {"id": task}, **{AFTER: str(position)}))
    assert after["task"]["openSlots"] == 2


def test_release_and_cancel_payloads_show_their_effect(client, market: Market):
    requester = market.requester(deposit=10_000)
    task = market.task(requester, reward=500, slots=3)
    worker = market.worker()
    claim = market.claim(worker, task)

    released = data(client.post(worker.key, RELEASE, {"claim": claim}))["releaseClaim"]
    assert released["claim"] == {"id": claim, "status": "RELEASED",
                                 "task": {"openSlots": 3}}

    cancelled = data(client.post(requester.key, CANCEL, {"task": task}))["cancelTask"]
    assert cancelled["task"]["status"] == "CANCELLED"
    assert cancelled["task"]["openSlots"] == 0
    assert cancelled["task"]["requester"] == {"escrow": {"amount": 0},
                                              "balance": {"amount": 10_000}}


def test_skills_and_bonus_payloads_show_their_effect(client, market: Market, server):
    requester = market.requester(deposit=10_000)
    task = market.task(requester, reward=500)
    worker = market.worker(skills=["cats"])

    skilled = data(client.post(server.admin_key, SKILLS, {
        "worker": worker.id, "skills": ["dogs", "cats"]}))["setWorkerSkills"]
    assert sorted(skilled["worker"]["skills"]) == ["cats", "dogs"]

    submission = market.submit(worker, market.claim(worker, task))
    market.review(requester, submission)
    bonus = data(client.post(requester.key, BONUS, {"sub": submission}))["payBonus"]
    assert bonus["userErrors"] == []
    assert bonus["payout"] == {"status": "REQUESTED", "amount": {"amount": 250},
                               "kind": "BONUS", "reason": "great boxes"}
    assert bonus["requester"] == {"balance": {"amount": 10_000 - 500 - 250}}


def test_a_mutation_that_wrote_nothing_hands_back_no_position(client, market: Market):
    requester = market.requester()
    task = market.task(requester, slots=1)
    first, second = market.worker("A"), market.worker("B")
    market.claim(first, task)

    refused = client.post(second.key, CLAIM, {"task": task})
    assert refused.status_code == 200
    assert data(refused)["claimTask"]["userErrors"][0]["code"] == "NO_OPEN_SLOTS"
    assert POSITION not in refused.headers
    assert "position" not in (refused.json().get("extensions") or {})


@pytest.mark.parametrize("value", ["soon", "-1", "1.5", "", "99999999999999999999", "0x10"])
def test_a_malformed_position_is_refused_before_anything_runs(client, market: Market, value):
    requester = market.requester(deposit=0)
    answer = client.post(requester.key, TASK, {"id": "x"}, **{AFTER: value})
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_a_position_past_the_end_of_the_log_is_refused(client, market: Market):
    requester = market.requester(deposit=0)
    answer = client.post(requester.key, TASK, {"id": "x"}, **{AFTER: "900000000"})
    assert answer.status_code == 400
    assert "past the end of the log" in answer.json()["errors"][0]["message"]


POST_FULL = """mutation { postTask(input: {title: "  boxes ", instructions: "draw boxes",
  payload: {image: "a.png", n: [1, 2]}, reward: {amount: 150, currency: "USD"},
  assignments: 3, requiredSkills: ["Vision"], claimTimeoutSeconds: 600,
  autoApproveAfterSeconds: 7200}) {
  task { id title instructions payload reward { amount currency } requiredSkills
         status openSlots claimTimeoutSeconds autoApproveAfterSeconds createdAt assignments }
  userErrors { code } } }"""
TASK_FULL = """query($id: ID!) { task(id: $id) { id title instructions payload
  reward { amount currency } requiredSkills status openSlots claimTimeoutSeconds
  autoApproveAfterSeconds createdAt assignments } }"""


def test_a_posted_task_answers_from_the_saved_task_as_the_read_model_has_it(
        client, market: Market):
    requester = market.requester()

    answer = client.post(requester.key, POST_FULL)
    position = written_position(answer)
    task = data(answer)["postTask"]["task"]
    assert task["status"] == "OPEN" and task["openSlots"] == 3
    assert task["title"] == "boxes"

    seen = data(client.post(requester.key, TASK_FULL, {"id": task["id"]},
                            **{AFTER: str(position)}))["task"]
    assert seen == task


REVIEW_FULL = """mutation($sub: ID!, $decision: ReviewDecision!) {
  reviewSubmission(input: {submissionId: $sub, decision: $decision, feedback: " ok "}) {
  submission { id status result feedback submittedAt claim { id status } }
  payout { id status amount { amount currency } kind requestedAt paidAt }
  userErrors { code } } }"""
SUBMISSION_FULL = """query($id: ID!) { node(id: $id) { ... on Submission {
  id status result feedback submittedAt claim { id status } } } }"""
PAYOUT_NODE = """query($id: ID!) { node(id: $id) { ... on Payout {
  id status amount { amount currency } kind requestedAt paidAt } } }"""


@pytest.mark.parametrize("decision, status", [("ACCEPT", "ACCEPTED"), ("REJECT", "REJECTED")])
def test_a_review_answers_from_what_it_saved_as_the_read_model_has_it(
        client, market: Market, decision, status):
    requester = market.requester()
    task = market.task(requester)
    worker = market.worker()
    submission_id = market.submit(worker, market.claim(worker, task), {"label": "dog"})

    answer = client.post(requester.key, REVIEW_FULL, {"sub": submission_id,
                                                       "decision": decision})
    position = written_position(answer)
    reviewed = data(answer)["reviewSubmission"]
    submission = reviewed["submission"]
    assert submission["status"] == status and submission["feedback"] == " ok "
    assert submission["result"] == {"label": "dog"}

    seen = data(client.post(requester.key, SUBMISSION_FULL, {"id": submission_id},
                            **{AFTER: str(position)}))["node"]
    assert seen == submission
    if decision == "REJECT":
        assert reviewed["payout"] is None
        return
    payout = reviewed["payout"]
    assert payout["status"] == "REQUESTED" and payout["amount"]["amount"] == 500
    seen = data(client.post(requester.key, PAYOUT_NODE, {"id": payout["id"]},
                            **{AFTER: str(position)}))["node"]
    # The payout may have been paid since; what the request made of it is the same.
    assert {k: seen[k] for k in ("id", "amount", "kind", "requestedAt")} == {
        k: payout[k] for k in ("id", "amount", "kind", "requestedAt")}


def test_a_review_of_someone_elses_submission_is_refused_as_before(client, market: Market):
    owner, other = market.requester(), market.requester("Other")
    worker = market.worker()
    submission_id = market.submit(worker, market.claim(worker, market.task(owner)))

    answer = client.post(other.key, REVIEW_FULL, {"sub": submission_id, "decision": "ACCEPT"})
    reviewed = data(answer)["reviewSubmission"]
    assert reviewed["submission"] is None and reviewed["payout"] is None
    assert reviewed["userErrors"] == [{"code": "FORBIDDEN"}]
