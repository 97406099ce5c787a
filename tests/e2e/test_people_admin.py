"""A requester's currency is chosen up front; an ADMIN lists requesters, workers and keys."""

import pytest

CREATE = """mutation($name: String!, $currency: String) {
  createRequester(input: {name: $name, currency: $currency}) {
    requester { id currency balance { amount currency } } apiKey
    userErrors { code field message } } }"""
DEPOSIT = """mutation($id: ID!, $currency: String!) {
  depositFunds(input: {requesterId: $id, amount: {amount: 500, currency: $currency},
                       reference: $currency}) {
    requester { balance { amount currency } } userErrors { code field message } } }"""
KEYS = """query($first: Int, $after: String) { apiKeys(first: $first, after: $after) {
  edges { node { id name role createdAt revokedAt requester { id } worker { id } } }
  pageInfo { hasNextPage endCursor } } }"""


def test_the_currency_is_chosen_when_the_requester_is_created(client, market):
    made = client.data(market.admin, CREATE, {"name": "Euro Ltd", "currency": "eur"})
    requester = made["createRequester"]["requester"]
    assert requester["currency"] == "EUR"
    assert requester["balance"] == {"amount": 0, "currency": "EUR"}
    refused = client.data(market.admin, DEPOSIT, {"id": requester["id"], "currency": "USD"})
    error = refused["depositFunds"]["userErrors"][0]
    assert error["code"] == "CURRENCY_MISMATCH" and error["field"] == ["currency"]
    assert "EUR" in error["message"] and "USD" in error["message"]
    paid = client.data(market.admin, DEPOSIT, {"id": requester["id"], "currency": "EUR"})
    assert paid["depositFunds"]["requester"]["balance"] == {"amount": 500, "currency": "EUR"}

    default = client.data(market.admin, CREATE, {"name": "Plain", "currency": None})
    assert default["createRequester"]["requester"]["currency"] == "USD"
    bad = client.data(market.admin, CREATE, {"name": "Odd", "currency": "dollars"})
    assert bad["createRequester"]["userErrors"][0]["code"] == "INVALID_INPUT"
    assert bad["createRequester"]["requester"] is None


def page_through(client, key, query, name, **variables):
    seen, after = [], None
    while True:
        page = client.data(key, query, {**variables, "first": 2, "after": after})[name]
        seen += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


def test_an_admin_lists_requesters_and_workers(client, market):
    made = [market.requester(f"R{n}", deposit=0) for n in range(3)]
    painters = [market.worker(f"W{n}", skills=["paint"] if n % 2 else []) for n in range(4)]
    requesters = page_through(client, market.admin, """query($first: Int, $after: String) {
      requesters(first: $first, after: $after) { edges { node { id name currency } }
      pageInfo { hasNextPage endCursor } } }""", "requesters")
    assert [r["id"] for r in requesters] == [r.id for r in made]
    workers = page_through(client, market.admin, """query($first: Int, $after: String,
      $skill: String) { workers(first: $first, after: $after, skill: $skill) {
      edges { node { id skills } } pageInfo { hasNextPage endCursor } } }""", "workers",
                           skill="Paint")
    assert [w["id"] for w in workers] == [painters[1].id, painters[3].id]


def test_an_admin_lists_keys_without_secrets_and_sees_revocations(client, market):
    acme, wanda = market.requester("Acme", deposit=0), market.worker("Wanda")
    made = client.data(market.admin, """mutation($req: ID) { createApiKey(input: {
      role: PARTNER, requesterId: $req, name: "partner feed"}) { apiKey apiKeyId } }""",
                       {"req": acme.id})["createApiKey"]
    keys = page_through(client, market.admin, KEYS, "apiKeys")
    by_name = {key["name"]: key for key in keys}
    assert by_name["partner feed"]["id"] == made["apiKeyId"]
    assert by_name["partner feed"]["requester"] == {"id": acme.id}
    assert by_name["Wanda"]["worker"] == {"id": wanda.id} and by_name["Wanda"]["role"] == "WORKER"
    assert by_name["e2e admin"]["role"] == "ADMIN" and by_name["e2e admin"]["requester"] is None
    assert all(key["revokedAt"] is None for key in keys)
    assert made["apiKey"] not in str(keys)

    revoked = client.data(market.admin, """mutation($id: ID!) { revokeApiKey(input:
      {apiKeyId: $id}) { revoked userErrors { code } } }""", {"id": made["apiKeyId"]})
    assert revoked["revokeApiKey"] == {"revoked": True, "userErrors": []}
    again = {k["name"]: k for k in page_through(client, market.admin, KEYS, "apiKeys")}
    assert again["partner feed"]["revokedAt"] is not None
    node = client.data(market.admin, """query($id: ID!) { node(id: $id) {
      ... on ApiKeyInfo { name revokedAt } } }""", {"id": made["apiKeyId"]})["node"]
    assert node["name"] == "partner feed" and node["revokedAt"]


@pytest.mark.parametrize("field", ["requesters", "workers", "apiKeys"])
def test_only_an_admin_lists_people(client, market, field):
    acme = market.requester("Acme", deposit=0)
    for key in (acme.key, market.key("FINANCE"), market.worker("W").key):
        body = client.run(key, f"{{ {field} {{ edges {{ cursor }} }} }}")
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_a_refusal_names_the_roles_in_plain_english(client, market):
    worker = market.worker("W")
    refused = client.data(worker.key, CREATE, {"name": "Nope", "currency": None})
    error = refused["createRequester"]["userErrors"][0]
    assert error["code"] == "FORBIDDEN"
    assert error["message"] == "this needs an ADMIN key; yours is a WORKER key"
