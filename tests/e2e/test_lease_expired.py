"""A worker whose lease ran out hears LEASE_EXPIRED, before and after the expiry is recorded."""

import time

from taskmarket.bootstrap import build_marketplace
from taskmarket.global_ids import decode_id

POST = """mutation { postTask(input: {title: "Quick", instructions: "fast",
  reward: {amount: 100, currency: "USD"}, claimTimeoutSeconds: 1}) {
  task { id } userErrors { code } } }"""
SUBMIT = """mutation($claim: ID!) { submitWork(input: {claimId: $claim, result: {a: 1}}) {
  submission { id } userErrors { code field message } } }"""
RELEASE = """mutation($claim: ID!) { releaseClaim(input: {claimId: $claim}) {
  claim { id } userErrors { code field } } }"""


def test_submit_and_release_after_the_lease_ran_out(client, market, server):
    acme, wanda = market.requester("Acme"), market.worker("Wanda")
    task = client.data(acme.key, POST)["postTask"]["task"]["id"]
    claim = market.claim(wanda, task)
    time.sleep(1.1)  # past the one-second lease
    for mutation, name in ((SUBMIT, "submitWork"), (RELEASE, "releaseClaim")):
        errors = client.data(wanda.key, mutation, {"claim": claim})[name]["userErrors"]
        assert [(e["code"], e["field"]) for e in errors] == [("LEASE_EXPIRED", ["claimId"])]

    marketplace = build_marketplace(server.database)  # the lease worker records the expiry
    try:
        assert marketplace.expire_claim(*decode_id(claim, "Claim", "claimId"))
    finally:
        marketplace.close()
    for mutation, name in ((SUBMIT, "submitWork"), (RELEASE, "releaseClaim")):
        errors = client.data(wanda.key, mutation, {"claim": claim})[name]["userErrors"]
        assert [e["code"] for e in errors] == ["LEASE_EXPIRED"]
