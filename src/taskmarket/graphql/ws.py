"""graphql-transport-ws sessions bound to the API key that opened them.

When the key is revoked, the socket's open subscriptions end with an ``error`` message
(code UNAUTHENTICATED) and every later operation on the socket is answered with the same
``error`` message. Why ``error`` messages and not closing the socket with 4401: the
protocol reserves 4401 for a subscribe sent before the connection was acknowledged, and
an ``error`` message is its way to end one operation with GraphQL errors, so each
operation of the client ends with a code it can read, as an HTTP request gets its 401.
Queries and mutations already running when the revocation arrives finish, like HTTP
requests in flight.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, OperationType, parse
from graphql.utilities import get_operation_ast
from starlette.concurrency import run_in_threadpool
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)

REVOKED = GraphQLError("the API key was revoked",
                       extensions={"code": "UNAUTHENTICATED"}).formatted


def is_subscription(query: str, operation_name: str | None) -> bool:
    try:
        operation = get_operation_ast(parse(query), operation_name)
    except GraphQLError:
        return False
    return operation is not None and operation.operation == OperationType.SUBSCRIPTION


class KeyBoundTransportWSHandler(BaseGraphQLTransportWSHandler):
    _entered = False

    @property
    def _revocations(self) -> Any:
        return self.view.services.revocations  # type: ignore[attr-defined]

    @property
    def _key_id(self) -> Any:
        viewer = getattr(self.context, "viewer", None)
        return viewer.key_id if viewer is not None else None

    async def handle_connection_init(self, message: Any) -> None:
        follow = self._revocations is not None and not self.connection_init_received
        if follow and not self._entered:
            await self._revocations.enter()  # before the key is checked (see revocation)
            self._entered = True
        await super().handle_connection_init(message)
        if self._entered and self.connection_acknowledged and self._key_id is not None:
            self._revocations.attach(self._key_id, self)

    async def handle_subscribe(self, message: Any) -> None:
        if self.connection_acknowledged and not await self._key_live():
            await self.send_message({"id": message["id"], "type": "error",
                                     "payload": [REVOKED]})
            return
        await super().handle_subscribe(message)

    async def _key_live(self) -> bool:
        key_id = self._key_id
        if key_id is None:
            return True
        if self._revocations is not None and self._revocations.is_revoked(key_id):
            return False
        # Also asked of the event store: a revocation committed a moment ago may not
        # have been heard yet, and HTTP checks the key on every request too.
        return await run_in_threadpool(self.view.services.marketplace.key_is_live, key_id)

    async def key_revoked(self) -> None:
        """End every open subscription of this socket with UNAUTHENTICATED."""
        for operation in list(self.operations.values()):
            if not is_subscription(operation.query, operation.operation_name):
                continue
            await operation.send_operation_message(
                {"id": operation.id, "type": "error", "payload": [REVOKED]})
            if operation.task is not None:
                operation.task.cancel()

    async def shutdown(self) -> None:
        if self._entered:
            self._revocations.leave(self._key_id, self)
            self._entered = False
        await super().shutdown()
