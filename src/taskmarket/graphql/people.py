"""Mutations that create requesters, workers and API keys (ADMIN)."""

from __future__ import annotations

from typing import Optional
from uuid import UUID

import strawberry

from ..domain import DomainError, Role
from ..global_ids import decode_one, to_global_id
from .auth import ADMIN
from .errors import UserError
from .mutation import Caller, Done, read_node, run_mutation, returned
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


def api_key_global_id(done: Done[tuple[UUID, str]]) -> strawberry.ID:
    return strawberry.ID(to_global_id("ApiKey", done.value[0]))


@strawberry.type
class PeopleMutations:
    @strawberry.mutation
    async def create_requester(self, info: strawberry.Info,
                               input: CreateRequesterInput) -> CreateRequesterPayload:
        def command(caller: Caller) -> tuple[UUID, str]:
            requester_id = caller.marketplace.create_requester(input.name, input.currency)
            _, secret = caller.marketplace.issue_api_key(Role.REQUESTER, input.name,
                                                         requester_id)
            return requester_id, secret

        return await run_mutation(info, "createRequester", command, CreateRequesterPayload,
                                  roles=ADMIN, requester=read_node(Requester, "requesters", 0),
                                  api_key=returned(1))

    @strawberry.mutation
    async def create_worker(self, info: strawberry.Info,
                            input: CreateWorkerInput) -> CreateWorkerPayload:
        def command(caller: Caller) -> tuple[UUID, str]:
            worker_id = caller.marketplace.register_worker(input.name, input.skills,
                                                           input.stripe_account_id)
            _, secret = caller.marketplace.issue_api_key(Role.WORKER, input.name, worker_id)
            return worker_id, secret

        return await run_mutation(info, "createWorker", command, CreateWorkerPayload,
                                  roles=ADMIN, worker=read_node(Worker, "workers", 0),
                                  api_key=returned(1))

    @strawberry.mutation
    async def create_api_key(self, info: strawberry.Info,
                             input: CreateApiKeyInput) -> CreateApiKeyPayload:
        def command(caller: Caller) -> tuple[UUID, str]:
            role, subject_id = subject_of(input)
            return caller.marketplace.issue_api_key(role, input.name, subject_id)

        return await run_mutation(info, "createApiKey", command, CreateApiKeyPayload,
                                  roles=ADMIN, api_key=returned(1),
                                  api_key_id=api_key_global_id)

    @strawberry.mutation(description="Revoke an API key: it stops working at once, "
                         "open subscriptions included.")
    async def revoke_api_key(self, info: strawberry.Info,
                             input: RevokeApiKeyInput) -> RevokeApiKeyPayload:
        def command(caller: Caller) -> None:
            key_id = decode_one(input.api_key_id, "ApiKey", "apiKeyId")
            caller.marketplace.revoke_api_key(key_id)

        return await run_mutation(info, "revokeApiKey", command, RevokeApiKeyPayload,
                                  roles=ADMIN, revoked=lambda done: True)
