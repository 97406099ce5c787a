"""Getting workers paid: onboarding at Stripe, linking an account, skills, bonuses."""

from __future__ import annotations

from typing import Optional
from uuid import UUID

import strawberry

from ..domain import DomainError, Role
from ..global_ids import decode_id, decode_one
from .auth import ADMIN, REQUESTER, Viewer, forbidden_command, require
from .context import Context
from .errors import UserError
from .mutation import Caller, read_node, run_mutation, returned
from .payout_types import Payout
from .types import MoneyInput, Requester, Worker


@strawberry.input
class StartPayoutOnboardingInput:
    worker_id: Optional[strawberry.ID] = strawberry.field(
        default=None, description="ADMIN names the worker; a WORKER key onboards itself "
        "and leaves it out.")
    return_url: str = strawberry.field(
        description="Where Stripe sends the worker back after onboarding.")
    refresh_url: str = strawberry.field(
        description="Where Stripe sends the worker when the link has expired or was "
        "already used.")


@strawberry.type
class StartPayoutOnboardingPayload:
    worker: Optional[Worker] = None
    onboarding_url: Optional[str] = strawberry.field(
        default=None, description="A one-time onboarding link (Stripe Account Link) for "
        "the worker to open in a browser.")
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class LinkPayoutAccountInput:
    worker_id: strawberry.ID
    stripe_account_id: str


@strawberry.type
class LinkPayoutAccountPayload:
    worker: Optional[Worker] = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SetWorkerSkillsInput:
    worker_id: strawberry.ID
    skills: list[str]


@strawberry.type
class SetWorkerSkillsPayload:
    worker: Optional[Worker] = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class PayBonusInput:
    submission_id: strawberry.ID = strawberry.field(
        description="A submission of one of the calling requester's tasks.")
    amount: MoneyInput
    reason: str
    idempotency_key: str


@strawberry.type
class PayBonusPayload:
    payout: Optional[Payout] = None
    requester: Optional[Requester] = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def onboarded_worker(viewer: Viewer, worker_id: Optional[str]) -> UUID:
    """Whose onboarding this is: a WORKER key's own, or the worker ADMIN names."""
    require(viewer, Role.WORKER, Role.ADMIN)
    if viewer.role == Role.WORKER:
        assert viewer.subject_id is not None
        if worker_id and decode_one(worker_id, "Worker", "workerId") != viewer.subject_id:
            raise forbidden_command("a worker onboards itself only", ["workerId"])
        return viewer.subject_id
    if not worker_id:
        raise DomainError("INVALID_INPUT", "name the worker to onboard", ["workerId"])
    return decode_one(worker_id, "Worker", "workerId")


def payout_accounts(context: Context):
    accounts = context.services.payout_accounts
    if accounts is None:
        raise DomainError("STRIPE_UNAVAILABLE", "this server has no Stripe connection")
    return accounts


@strawberry.type
class PayoutAccountMutations:
    @strawberry.mutation(description="WORKER (itself) or ADMIN.")
    async def start_payout_onboarding(
            self, info: strawberry.Info,
            input: StartPayoutOnboardingInput) -> StartPayoutOnboardingPayload:
        def command(caller: Caller) -> tuple[UUID, str]:
            context = caller.context
            worker_id = onboarded_worker(caller.viewer, input.worker_id)
            url = payout_accounts(context).start_onboarding(worker_id, input.return_url,
                                                            input.refresh_url)
            # A concurrent call may have linked the account (this one then wrote nothing
            # of its own to wait for): show the worker as the log has it now.
            reads = context.reads
            reads.wait_for(reads.max_position(), context.services.read_your_writes_timeout)
            return worker_id, url

        return await run_mutation(info, "startPayoutOnboarding", command,
                                  StartPayoutOnboardingPayload,
                                  worker=read_node(Worker, "workers", 0), onboarding_url=returned(1))

    @strawberry.mutation(description="ADMIN: link a connected account made elsewhere; it "
                         "must exist at Stripe.")
    async def link_payout_account(self, info: strawberry.Info,
                                  input: LinkPayoutAccountInput) -> LinkPayoutAccountPayload:
        def command(caller: Caller) -> UUID:
            worker_id = decode_one(input.worker_id, "Worker", "workerId")
            payout_accounts(caller.context).link(worker_id, input.stripe_account_id)
            return worker_id

        return await run_mutation(info, "linkPayoutAccount", command, LinkPayoutAccountPayload,
                                  roles=ADMIN, worker=read_node(Worker, "workers"))

    @strawberry.mutation(description="ADMIN.")
    async def set_worker_skills(self, info: strawberry.Info,
                                input: SetWorkerSkillsInput) -> SetWorkerSkillsPayload:
        def command(caller: Caller) -> UUID:
            worker_id = decode_one(input.worker_id, "Worker", "workerId")
            caller.marketplace.change_worker_skills(worker_id, input.skills)
            return worker_id

        return await run_mutation(info, "setWorkerSkills", command, SetWorkerSkillsPayload,
                                  roles=ADMIN, worker=read_node(Worker, "workers"))

    @strawberry.mutation(description="REQUESTER, from its balance, for a submission of its "
                         "own task.")
    async def pay_bonus(self, info: strawberry.Info, input: PayBonusInput) -> PayBonusPayload:
        def command(caller: Caller) -> tuple[UUID, UUID]:
            task_id, submission_id = decode_id(input.submission_id, "Submission",
                                               "submissionId")
            payout_id = caller.marketplace.pay_submission_bonus(
                caller.subject_id, task_id, submission_id, input.amount.amount,
                input.amount.currency, input.reason, input.idempotency_key)
            return payout_id, caller.subject_id

        return await run_mutation(info, "payBonus", command, PayBonusPayload,
                                  roles=REQUESTER, payout=read_node(Payout, "payouts", 0),
                                  requester=read_node(Requester, "requesters", 1))
