"""Mutations that create requesters, workers and API keys (ADMIN)."""

from __future__ import annotations

from typing import Optional

import strawberry

from ..domain import DomainError, Role
from .auth import require
from .commands import execute
from .context import ctx
from .errors import UserError
from ..global_ids import decode_one, to_global_id
from .types import Requester, Role as RoleEnum, Worker


@strawberry.input
class CreateRequesterInput:
    name: str
    currency: Optional[str] = strawberry.field(
        default="USD", description="The currency of the requester's funds (ISO 4217).")


@strawberry.type
class CreateRequesterPayload:
    requester: Optional[Requester] = None
    api_key: Optional[str] = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CreateWorkerInput:
    name: str
    skills: Optional[list[str]] = None
    stripe_account_id: Optional[str] = strawberry.field(
        default=None,
        description="The worker's Stripe connected account (acct_...) that payouts are "
        "transferred to.")


@strawberry.type
class CreateWorkerPayload:
    worker: Optional[Worker] = None
    api_key: Optional[str] = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CreateApiKeyInput:
    role: RoleEnum
    requester_id: Optional[strawberry.ID] = strawberry.field(
        default=None, description="The requester a PARTNER key reads events for; omitted "
        "for FINANCE and ADMIN.")
    name: str
    worker_id: Optional[strawberry.ID] = strawberry.field(
        default=None, description="The worker a WORKER key acts for.")


@strawberry.type
class CreateApiKeyPayload:
    api_key: Optional[str] = None
    api_key_id: Optional[strawberry.ID] = strawberry.field(
        default=None, description="Names the key to revokeApiKey; not a secret.")
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RevokeApiKeyInput:
    api_key_id: strawberry.ID


@strawberry.type
class RevokeApiKeyPayload:
    revoked: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def subject_of(input: CreateApiKeyInput):
    role = Role(input.role.value if hasattr(input.role, "value") else input.role)
    if input.requester_id and input.worker_id:
        raise DomainError("INVALID_INPUT", "give requesterId or workerId, not both",
                          ["workerId"])
    if input.worker_id:
        return role, decode_one(input.worker_id, "Worker", "workerId")
    if input.requester_id:
        return role, decode_one(input.requester_id, "Requester", "requesterId")
    return role, None


@strawberry.type
class PeopleMutations:
    @strawberry.mutation
    async def create_requester(self, info: strawberry.Info,
                               input: CreateRequesterInput) -> CreateRequesterPayload:
        context = ctx(info)

        def command():
            require(context.need_viewer(), Role.ADMIN)
            app = context.marketplace
            requester_id = app.create_requester(input.name, input.currency)
            _, secret = app.issue_api_key(Role.REQUESTER, input.name, requester_id)
            return requester_id, secret

        outcome = await execute(context, "createRequester", command)
        if not outcome.ok:
            return CreateRequesterPayload(user_errors=outcome.errors)
        requester_id, secret = outcome.value
        row = await context.loaders.requesters.load(requester_id)
        return CreateRequesterPayload(requester=row and Requester.from_row(row), api_key=secret)

    @strawberry.mutation
    async def create_worker(self, info: strawberry.Info,
                            input: CreateWorkerInput) -> CreateWorkerPayload:
        context = ctx(info)

        def command():
            require(context.need_viewer(), Role.ADMIN)
            app = context.marketplace
            worker_id = app.register_worker(input.name, input.skills, input.stripe_account_id)
            _, secret = app.issue_api_key(Role.WORKER, input.name, worker_id)
            return worker_id, secret

        outcome = await execute(context, "createWorker", command)
        if not outcome.ok:
            return CreateWorkerPayload(user_errors=outcome.errors)
        worker_id, secret = outcome.value
        row = await context.loaders.workers.load(worker_id)
        return CreateWorkerPayload(worker=row and Worker.from_row(row), api_key=secret)

    @strawberry.mutation
    async def create_api_key(self, info: strawberry.Info,
                             input: CreateApiKeyInput) -> CreateApiKeyPayload:
        context = ctx(info)

        def command():
            require(context.need_viewer(), Role.ADMIN)
            role, subject_id = subject_of(input)
            return context.marketplace.issue_api_key(role, input.name, subject_id)

        outcome = await execute(context, "createApiKey", command)
        if not outcome.ok:
            return CreateApiKeyPayload(user_errors=outcome.errors)
        key_id, secret = outcome.value
        return CreateApiKeyPayload(api_key=secret,
                                   api_key_id=strawberry.ID(to_global_id("ApiKey", key_id)))

    @strawberry.mutation(description="Revoke an API key: it stops working at once, "
                         "open subscriptions included.")
    async def revoke_api_key(self, info: strawberry.Info,
                             input: RevokeApiKeyInput) -> RevokeApiKeyPayload:
        context = ctx(info)

        def command():
            require(context.need_viewer(), Role.ADMIN)
            key_id = decode_one(input.api_key_id, "ApiKey", "apiKeyId")
            context.marketplace.revoke_api_key(key_id)

        outcome = await execute(context, "revokeApiKey", command)
        return RevokeApiKeyPayload(revoked=outcome.ok, user_errors=outcome.errors)
