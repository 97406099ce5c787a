"""KnownKeys answers as Marketplace.authenticate does: the live key for a known secret,
None for an unknown, empty or revoked one, under concurrent requests too; and when it
cannot read the log's revocations it falls back to loading the key, so nobody is locked
out (nor let in) by its own connection failing."""

from __future__ import annotations

import asyncio

from taskmarket.domain import Role
from taskmarket.graphql.known_keys import KnownKeys


def test_known_unknown_and_revoked_secrets(app, database):
    key_id, secret = app.issue_api_key(Role.FINANCE, "books")
    _, other = app.issue_api_key(Role.ADMIN, "ops")
    keys = KnownKeys(database, app)

    async def run() -> None:
        answers = await asyncio.gather(*(keys.authenticate(s)
                                         for s in [secret, other] * 25))
        assert [a.name for a in answers] == ["books", "ops"] * 25
        assert await keys.authenticate("tm_not_a_key") is None
        assert await keys.authenticate("") is None
        app.revoke_api_key(key_id)  # committed before the next request arrives
        assert await keys.authenticate(secret) is None
        assert (await keys.authenticate(other)).name == "ops"
        await keys.close()

    asyncio.run(run())


def test_a_failing_revocation_read_falls_back_to_loading_the_key(app, database):
    key_id, secret = app.issue_api_key(Role.FINANCE, "books")
    nowhere = database.with_dbname("no_such_database")
    keys = KnownKeys(nowhere, app)

    async def run() -> None:
        assert (await keys.authenticate(secret)).name == "books"
        app.revoke_api_key(key_id)
        assert await keys.authenticate(secret) is None

    asyncio.run(run())
