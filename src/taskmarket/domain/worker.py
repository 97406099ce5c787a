"""A worker claims tasks, submits work and is paid through its Stripe connected account."""

from __future__ import annotations

import re
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from .errors import ensure
from .payout_account import PayoutAccountStatus, requirements_list
from .values import NAME_LENGTH, SKILL_LENGTH, check_text

_ACCOUNT = re.compile(r"^acct_[A-Za-z0-9]+$")


MAX_SKILLS = 100


def normalize_skills(skills: list[str] | None, field: str = "skills") -> list[str]:
    """Skills are lower-case tags; order and repeats do not matter."""
    ensure(len(skills or ()) <= MAX_SKILLS, "INVALID_INPUT",
           f"at most {MAX_SKILLS} skills", [field])
    cleaned = {check_text(skill, field, SKILL_LENGTH).lower() for skill in (skills or [])}
    return sorted(cleaned)


def check_account(account_id: str) -> None:
    ok = isinstance(account_id, str) and len(account_id) <= 255 and bool(
        _ACCOUNT.fullmatch(account_id))
    ensure(ok, "INVALID_INPUT", "a Stripe connected account id looks like acct_...",
           ["stripeAccountId"])


class Worker(Aggregate):
    @staticmethod
    def create_id() -> UUID:
        return uuid4()

    @classmethod
    def register(cls, name: str, skills: list[str] | None = None) -> "Worker":
        return cls(name=check_text(name, "name", NAME_LENGTH), skills=normalize_skills(skills))

    @event("Registered")
    def __init__(self, name: str, skills: list[str]):
        self.name = name
        self.skills = list(skills)
        self.stripe_account_id: str | None = None
        # What Stripe last said of that account (None: not asked yet, e.g. linked by id).
        self.payout_account_status: str | None = None
        self.requirements_due: list[str] = []

    def change_skills(self, skills: list[str]) -> None:
        new = normalize_skills(skills)
        if new != self.skills:
            self._skills_changed(skills=new)

    @event("SkillsChanged")
    def _skills_changed(self, skills: list[str]) -> None:
        self.skills = list(skills)

    def link_account(self, account_id: str, status: PayoutAccountStatus | str | None = None,
                     requirements_due: list[str] | None = None) -> None:
        """Pay into ``account_id`` from now on; with what Stripe says of it when known."""
        check_account(account_id)
        if account_id != self.stripe_account_id:
            self._account_linked(account_id=account_id)
        if status is not None:
            self.update_account_status(account_id, status, requirements_due or [])

    @event("PayoutAccountLinked")
    def _account_linked(self, account_id: str) -> None:
        self.stripe_account_id = account_id
        self.payout_account_status = None
        self.requirements_due = []

    @property
    def can_be_paid(self) -> bool:
        return self.payout_account_status == PayoutAccountStatus.ENABLED.value

    def update_account_status(self, account_id: str, status: PayoutAccountStatus | str,
                              requirements_due: list[str]) -> bool:
        """Record what Stripe says of the worker's account; False when it is not news
        (unchanged, or about an account the worker no longer uses)."""
        if account_id != self.stripe_account_id:
            return False
        try:
            value = PayoutAccountStatus(status).value
        except ValueError:
            ensure(False, "INVALID_INPUT", f"unknown account status {status!r}", ["status"])
        due = requirements_list(requirements_due)
        if (value, due) == (self.payout_account_status, self.requirements_due):
            return False
        self._account_status_changed(account_id=account_id, status=value,
                                     requirements_due=due)
        return True

    @event("PayoutAccountStatusChanged")
    def _account_status_changed(self, account_id: str, status: str,
                                requirements_due: list[str]) -> None:
        self.payout_account_status = status
        self.requirements_due = list(requirements_due)

    def qualifies_for(self, required_skills: list[str]) -> bool:
        return set(required_skills) <= set(self.skills)
