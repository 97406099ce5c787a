"""Expected failures as data (userErrors); everything else masked for the client."""

from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError

from ..domain import DomainError

log = logging.getLogger("taskmarket.graphql")


@strawberry.type
class UserError:
    field: list[str] | None
    message: str
    code: str


def user_error(error: DomainError) -> UserError:
    return UserError(field=error.field, message=error.message, code=error.code)


class ClientError(Exception):
    """A request the client got wrong outside a mutation (e.g. first=500 on a query).

    Shown to the client as a GraphQL error with its message and ``code`` extension.
    """

    def __init__(self, message: str, code: str = "INVALID_INPUT"):
        super().__init__(message)
        self.code = code
        self.extensions = {"code": code}


class ServiceError(ClientError):
    """A failure of ours the client must see as it is (not masked), with a stable
    ``code`` and details in the extensions, e.g. PROJECTION_STALLED."""

    def __init__(self, message: str, code: str, **details: object):
        super().__init__(message, code)
        self.extensions = {"code": code, **details}


def client_error_from(error: DomainError) -> ClientError:
    return ClientError(error.message, error.code)


def should_mask(error: GraphQLError) -> bool:
    """Mask unexpected exceptions; keep parse/validation errors and ClientErrors."""
    original = error.original_error
    if original is None or isinstance(original, (ClientError, GraphQLError)):
        return False
    log.error("unexpected error in %s", error.path, exc_info=original)
    return True
