"""Getting workers paid: onboarding at Stripe, linking an account, skills, bonuses."""

from __future__ import annotations

from typing import Optional
from uuid import UUID

import strawberry

from ..domain import DomainError, Role
from ..global_ids import decode_id, decode_one
from .auth import Viewer, forbidden_command, require, require_requester
from .commands import execute
from .context import Context, ctx
from .errors import UserError
from .types import MoneyInput, Payout, Requester, Worker


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


async def load_worker(context: Context, worker_id: UUID) -> Optional[Worker]:
    row = await context.loaders.workers.load(worker_id)
    return Worker.from_row(row) if row else None


@strawberry.type
class PayoutAccountMutations:
    @strawberry.mutation(description="WORKER (itself) or ADMIN.")
    async def start_payout_onboarding(
            self, info: strawberry.Info,
            input: StartPayoutOnboardingInput) -> StartPayoutOnboardingPayload:
        context = ctx(info)

        def command():
            worker_id = onboarded_worker(context.need_viewer(), input.worker_id)
            url = payout_accounts(context).start_onboarding(worker_id, input.return_url,
                                                            input.refresh_url)
            # A concurrent call may have linked the account (this one then wrote nothing
            # of its own to wait for): show the worker as the log has it now.
            reads = context.reads
            reads.wait_for(reads.max_position(), context.services.read_your_writes_timeout)
            return worker_id, url

        outcome = await execute(context, "startPayoutOnboarding", command)
        if not outcome.ok:
            return StartPayoutOnboardingPayload(user_errors=outcome.errors)
        worker_id, url = outcome.value
        return StartPayoutOnboardingPayload(worker=await load_worker(context, worker_id),
                                            onboarding_url=url)

    @strawberry.mutation(description="ADMIN: link a connected account made elsewhere; it "
                         "must exist at Stripe.")
    async def link_payout_account(self, info: strawberry.Info,
                                  input: LinkPayoutAccountInput) -> LinkPayoutAccountPayload:
        context = ctx(info)

        def command():
            require(context.need_viewer(), Role.ADMIN)
            worker_id = decode_one(input.worker_id, "Worker", "workerId")
            payout_accounts(context).link(worker_id, input.stripe_account_id)
            return worker_id

        outcome = await execute(context, "linkPayoutAccount", command)
        if not outcome.ok:
            return LinkPayoutAccountPayload(user_errors=outcome.errors)
        return LinkPayoutAccountPayload(worker=await load_worker(context, outcome.value))

    @strawberry.mutation(description="ADMIN.")
    async def set_worker_skills(self, info: strawberry.Info,
                                input: SetWorkerSkillsInput) -> SetWorkerSkillsPayload:
        context = ctx(info)

        def command():
            require(context.need_viewer(), Role.ADMIN)
            worker_id = decode_one(input.worker_id, "Worker", "workerId")
            context.marketplace.change_worker_skills(worker_id, input.skills)
            return worker_id

        outcome = await execute(context, "setWorkerSkills", command)
        if not outcome.ok:
            return SetWorkerSkillsPayload(user_errors=outcome.errors)
        return SetWorkerSkillsPayload(worker=await load_worker(context, outcome.value))

    @strawberry.mutation(description="REQUESTER, from its balance, for a submission of its "
                         "own task.")
    async def pay_bonus(self, info: strawberry.Info, input: PayBonusInput) -> PayBonusPayload:
        context = ctx(info)

        def command():
            requester_id = require_requester(context.need_viewer())
            task_id, submission_id = decode_id(input.submission_id, "Submission",
                                               "submissionId")
            payout_id = context.marketplace.pay_submission_bonus(
                requester_id, task_id, submission_id, input.amount.amount,
                input.amount.currency, input.reason, input.idempotency_key)
            return payout_id, requester_id

        outcome = await execute(context, "payBonus", command)
        if not outcome.ok:
            return PayBonusPayload(user_errors=outcome.errors)
        payout_id, requester_id = outcome.value
        payout = await context.loaders.payouts.load(payout_id)
        requester = await context.loaders.requesters.load(requester_id)
        return PayBonusPayload(payout=Payout.from_row(payout) if payout else None,
                               requester=Requester.from_row(requester) if requester else None)
