"""The payout-account mutations over HTTP, on a server with the Stripe emulator: who may
call them, what they refuse, one account per worker under concurrent onboarding, and
bonuses (idempotent, from the requester's balance, booked in the ledger)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import Actor, GraphQLClient, Market, running_server

from taskmarket.payout_accounts import PayoutAccounts
from taskmarket.stripe_emulator import start_emulator
from taskmarket.jobs.stripe_gateway import StripeGateway

ONBOARD = """mutation($w: ID, $ret: String!, $ref: String!) {
  startPayoutOnboarding(input: {workerId: $w, returnUrl: $ret, refreshUrl: $ref}) {
    onboardingUrl worker { id payoutAccount { stripeAccountId status } }
    userErrors { code field message } } }"""
LINK = """mutation($w: ID!, $a: String!) { linkPayoutAccount(input: {workerId: $w,
  stripeAccountId: $a}) { worker { payoutAccount { stripeAccountId status } }
  userErrors { code field message } } }"""
SKILLS = """mutation($w: ID!, $s: [String!]!) { setWorkerSkills(input: {workerId: $w,
  skills: $s}) { worker { skills } userErrors { code field message } } }"""
BONUS = """mutation($s: ID!, $amount: Int!, $reason: String!, $key: String!) {
  payBonus(input: {submissionId: $s, amount: {amount: $amount, currency: "USD"},
                   reason: $reason, idempotencyKey: $key}) {
    payout { id kind reason status amount { amount } history { type } }
    requester { balance { amount } }
    userErrors { code field message } } }"""
RETRY = """mutation($p: ID!) { retryPayout(input: {payoutId: $p}) {
  payout { status } userErrors { code field message } } }"""
URLS = {"ret": "https://app.example/done", "ref": "https://app.example/again"}


@pytest.fixture
def emulator():
    running = start_emulator()
    yield running
    running.stop()


@pytest.fixture
def stripe_server(database, emulator):
    """The API with a Stripe connection (the emulator), as serve builds it."""

    def connect_stripe(app, marketplace):
        app.state.services.payout_accounts = PayoutAccounts(
            marketplace, StripeGateway.connect(None, emulator.url))

    with running_server(database, connect_stripe) as running:
        yield running


@pytest.fixture
def api(stripe_server):
    client = GraphQLClient(stripe_server)
    yield client
    client.close()


@pytest.fixture
def market(api, stripe_server):
    return Market(api, stripe_server.admin_key)


def new_worker(api: GraphQLClient, admin: str, name: str, skills=None) -> Actor:
    """A worker created as a new user would: no Stripe account yet."""
    made = api.data(admin, """mutation($n: String!, $s: [String!]) {
      createWorker(input: {name: $n, skills: $s}) { worker { id } apiKey
      userErrors { code } } }""", {"n": name, "s": skills or []})["createWorker"]
    assert made["userErrors"] == []
    return Actor(made["worker"]["id"], made["apiKey"])


def errors_of(data: dict) -> list[dict]:
    (payload,) = data.values()
    return payload["userErrors"]


def test_concurrent_onboarding_over_http_makes_one_account(api, market, emulator):
    worker = new_worker(api, market.admin, "Ada")
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: api.data(worker.key, ONBOARD, URLS), range(6)))
    accounts = {a["startPayoutOnboarding"]["worker"]["payoutAccount"]["stripeAccountId"]
                for a in answers}
    assert len(accounts) == 1
    assert [a["id"] for a in emulator.state.store.all_accounts()] == list(accounts)
    assert all(a["startPayoutOnboarding"]["onboardingUrl"].startswith(emulator.url)
               for a in answers)


def test_who_may_start_onboarding(api, market, stripe_server):
    ada, bo = new_worker(api, market.admin, "Ada"), new_worker(api, market.admin, "Bo")
    requester = market.requester("Acme", deposit=0)
    other = api.data(ada.key, ONBOARD, {**URLS, "w": bo.id})["startPayoutOnboarding"]
    assert [e["code"] for e in other["userErrors"]] == ["FORBIDDEN"]
    refused = api.data(requester.key, ONBOARD, URLS)["startPayoutOnboarding"]
    assert [e["code"] for e in refused["userErrors"]] == ["FORBIDDEN"]
    unnamed = api.data(stripe_server.admin_key, ONBOARD, URLS)["startPayoutOnboarding"]
    assert unnamed["userErrors"][0]["field"] == ["workerId"]
    bad_url = api.data(ada.key, ONBOARD, {**URLS, "ret": "javascript:alert(1)"})
    assert bad_url["startPayoutOnboarding"]["userErrors"][0] == {
        "code": "INVALID_INPUT", "field": ["returnUrl"],
        "message": "returnUrl must be an absolute http(s) URL of at most 2048 characters"}
    admin = api.data(stripe_server.admin_key, ONBOARD, {**URLS, "w": bo.id})
    assert admin["startPayoutOnboarding"]["worker"]["payoutAccount"]["status"] == "ONBOARDING"
    # Nobody else's account was made by the refused calls.
    assert api.data(ada.key, "{ me { worker { payoutAccount { status } } } }")[
        "me"]["worker"]["payoutAccount"] is None


def test_link_payout_account_checks_stripe_first(api, market, stripe_server, emulator):
    worker = new_worker(api, market.admin, "Ada")
    admin = stripe_server.admin_key
    unknown = api.data(admin, LINK, {"w": worker.id, "a": "acct_notatstripe"})
    assert errors_of(unknown) == [{"code": "PAYOUT_ACCOUNT_NOT_FOUND",
                                   "field": ["stripeAccountId"],
                                   "message": "Stripe has no connected account "
                                              "acct_notatstripe"}]
    assert api.data(admin, "query($id: ID!) { node(id: $id) { ... on Worker { payoutAccount "
                           "{ status } } } }", {"id": worker.id})["node"]["payoutAccount"] is None
    malformed = api.data(admin, LINK, {"w": worker.id, "a": "cus_123"})
    assert errors_of(malformed)[0]["code"] == "INVALID_INPUT"
    by_worker = api.data(worker.key, LINK, {"w": worker.id, "a": "acct_x"})
    assert errors_of(by_worker)[0]["code"] == "FORBIDDEN"

    account = emulator.stripe_client().v1.accounts.create({"type": "express"}).id
    emulator.state.store.complete_onboarding(account)
    linked = api.data(admin, LINK, {"w": worker.id, "a": account})["linkPayoutAccount"]
    assert linked["worker"]["payoutAccount"] == {"stripeAccountId": account,
                                                 "status": "ENABLED"}


def test_onboarding_a_worker_linked_to_an_unknown_account_opens_a_real_one(
        api, market, emulator):
    worker = market.worker("Ada")  # created with stripeAccountId acct_e2e, unknown at Stripe
    done = api.data(worker.key, ONBOARD, URLS)["startPayoutOnboarding"]
    account = done["worker"]["payoutAccount"]
    assert account["stripeAccountId"] != "acct_e2e" and account["status"] == "ONBOARDING"
    assert [a["id"] for a in emulator.state.store.all_accounts()] == [
        account["stripeAccountId"]]


def test_set_worker_skills_is_for_admin(api, market, stripe_server):
    worker = new_worker(api, market.admin, "Ada", ["vision"])
    assert errors_of(api.data(worker.key, SKILLS, {"w": worker.id, "s": ["audio"]}))[0][
        "code"] == "FORBIDDEN"
    done = api.data(stripe_server.admin_key, SKILLS, {"w": worker.id,
                                                      "s": ["Audio", "text", "audio"]})
    assert done["setWorkerSkills"] == {"worker": {"skills": ["audio", "text"]},
                                       "userErrors": []}
    empty = api.data(stripe_server.admin_key, SKILLS, {"w": worker.id, "s": [" "]})
    assert errors_of(empty)[0]["code"] == "INVALID_INPUT"


def submitted_work(market: Market, requester, worker) -> str:
    task = market.task(requester, reward=500)
    return market.submit(worker, market.claim(worker, task))


def test_pay_bonus_is_idempotent_funded_and_booked(api, market, stripe_server):
    requester = market.requester("Acme", deposit=2_000)
    other = market.requester("Other", deposit=2_000)
    worker = market.worker("Ada")
    submission = submitted_work(market, requester, worker)
    market.review(requester, submission)  # balance: 2000 - 500 escrowed and paid = 1500

    variables = {"s": submission, "amount": 300, "reason": "great boxes", "key": "bonus-1"}
    first = api.data(requester.key, BONUS, variables)["payBonus"]
    assert first["userErrors"] == []
    assert first["payout"]["kind"] == "BONUS" and first["payout"]["reason"] == "great boxes"
    assert first["payout"]["amount"] == {"amount": 300}
    assert first["payout"]["history"][0]["type"] == "PayoutRequested"
    assert first["requester"]["balance"] == {"amount": 1_200}

    again = api.data(requester.key, BONUS, variables)["payBonus"]
    assert again["payout"]["id"] == first["payout"]["id"]
    assert again["requester"]["balance"] == {"amount": 1_200}  # not charged twice
    changed = api.data(requester.key, BONUS, {**variables, "amount": 301})
    assert errors_of(changed)[0]["code"] == "IDEMPOTENCY_KEY_REUSED"

    too_much = api.data(requester.key, BONUS, {**variables, "amount": 5_000, "key": "b2"})
    assert errors_of(too_much)[0]["code"] == "INSUFFICIENT_FUNDS"
    no_reason = api.data(requester.key, BONUS, {**variables, "reason": " ", "key": "b3"})
    assert errors_of(no_reason)[0] == {"code": "INVALID_INPUT", "field": ["reason"],
                                       "message": "a bonus needs a reason"}
    not_theirs = api.data(other.key, BONUS, {**variables, "key": "b4"})
    assert errors_of(not_theirs)[0]["code"] == "NOT_FOUND"
    by_worker = api.data(worker.key, BONUS, {**variables, "key": "b5"})
    assert errors_of(by_worker)[0]["code"] == "FORBIDDEN"

    payouts = api.data(worker.key, "{ payouts { edges { node { kind amount { amount } } } } }")
    assert sorted((e["node"]["kind"], e["node"]["amount"]["amount"])
                  for e in payouts["payouts"]["edges"]) == [("BONUS", 300), ("SUBMISSION", 500)]

    # The requester's event feed (query, subscription, webhooks) carries the bonus.
    feed = api.data(requester.key, '{ events(types: ["PayoutRequested"]) { edges { node { '
                    'data } } } }')["events"]["edges"]
    bonuses = [e["node"]["data"] for e in feed if e["node"]["data"]["kind"] == "bonus"]
    assert [(b["amount"], b["reason"]) for b in bonuses] == [(300, "great boxes")]

    ledger = api.data(stripe_server.admin_key,
                      "{ ledger(first: 100) { edges { node { account amount eventType } } } }")
    entries = [e["node"] for e in ledger["ledger"]["edges"]]
    assert sum(e["amount"] for e in entries) == 0
    bonus = [e for e in entries if e["eventType"] == "PayoutRequested"
             and e["account"] == f"requester:{requester.id}:available"]
    assert [e["amount"] for e in bonus] == [-300]
    assert sum(e["amount"] for e in entries
               if e["account"] == f"worker:{worker.id}:payable") == 800


def test_retry_payout_is_for_finance_and_admin(api, market, stripe_server):
    requester = market.requester("Acme", deposit=2_000)
    worker = market.worker("Ada")
    payout = market.review(requester, submitted_work(market, requester, worker))["payout"]
    finance = market.key("FINANCE")
    # The payout is not FAILED: FINANCE may ask, and hears why not; a requester may not.
    assert errors_of(api.data(finance, RETRY, {"p": payout["id"]}))[0][
        "code"] == "PAYOUT_NOT_FAILED"
    assert errors_of(api.data(requester.key, RETRY, {"p": payout["id"]}))[0][
        "code"] == "FORBIDDEN"
