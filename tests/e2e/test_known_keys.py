"""Servers keep the API keys they have seen (graphql/known_keys.py), and a revocation still
takes effect at once everywhere: a key each server has just answered is revoked through
another server (or another process's application) and used again straight away, with no
wait in between; every such request gets 401, on every server."""

from __future__ import annotations

from taskmarket.bootstrap import build_marketplace
from taskmarket.domain import Role
from taskmarket.global_ids import decode_one

ME = "{ me { role } }"
REVOKE = """mutation($id: ID!) { revokeApiKey(input: {apiKeyId: $id}) {
  revoked userErrors { code } } }"""
ROUNDS = 12


def new_key(client, admin: str) -> tuple[str, str]:
    made = client.data(admin, """mutation { createApiKey(input: {role: FINANCE,
      name: "books"}) { apiKey apiKeyId } }""")["createApiKey"]
    return made["apiKey"], made["apiKeyId"]


def test_a_key_revoked_through_another_server_is_refused_by_the_next_request(
        server, second_server, client):
    other = type(client)(second_server)
    try:
        for _ in range(ROUNDS):
            secret, key_id = new_key(client, server.admin_key)
            for answering in (client, other):  # both servers now know the key
                assert answering.data(secret, ME) == {"me": {"role": "FINANCE"}}
            revoked = other.data(second_server.admin_key, REVOKE, {"id": key_id})
            assert revoked["revokeApiKey"] == {"revoked": True, "userErrors": []}
            assert client.post(secret, ME).status_code == 401
            assert other.post(secret, ME).status_code == 401
    finally:
        other.close()


def test_a_key_revoked_by_another_process_is_refused_by_the_next_request(server, client):
    outside = build_marketplace(server.database)  # as the CLI's `keys revoke` would
    try:
        for _ in range(ROUNDS):
            secret, key_id = new_key(client, server.admin_key)
            assert client.data(secret, ME) == {"me": {"role": "FINANCE"}}
            outside.revoke_api_key(decode_one(key_id, "ApiKey", "apiKeyId"))
            assert client.post(secret, ME).status_code == 401
        # Keys issued after the server started, never revoked, keep working.
        _, secret = outside.issue_api_key(Role.FINANCE, "late")
        assert client.data(secret, ME) == {"me": {"role": "FINANCE"}}
        assert client.data(secret, ME) == {"me": {"role": "FINANCE"}}
    finally:
        outside.close()
