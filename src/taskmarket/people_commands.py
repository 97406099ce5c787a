"""The Marketplace's commands on people and their keys (a mixin of application.Marketplace):
requesters, workers and their payout accounts, deposits, API keys."""

from __future__ import annotations

import secrets
from uuid import UUID

from .command_retry import retry_on_conflict
from .domain import ApiKey, DomainError, Money, Requester, Role, Worker
from .domain.apikey import hash_secret
from .domain.ids import api_key_id


class PeopleCommands:
    """Commands on requesters, workers and API keys; ``self`` is the Marketplace."""

    # --- people ---------------------------------------------------------------------
    def create_requester(self, name: str, currency: str | None = None) -> UUID:
        requester = Requester.open(name, currency)
        self.save(requester)
        return requester.id

    def register_worker(self, name: str, skills: list[str] | None = None,
                        stripe_account_id: str | None = None) -> UUID:
        worker = Worker.register(name, skills)
        if stripe_account_id:
            worker.link_account(stripe_account_id)
        self.save(worker)
        return worker.id

    @retry_on_conflict
    def change_worker_skills(self, worker_id: UUID, skills: list[str]) -> None:
        worker = self.get_worker(worker_id)
        worker.change_skills(skills)
        self.save(worker)

    @retry_on_conflict
    def link_payout_account(self, worker_id: UUID, account_id: str,
                            status: str | None = None,
                            requirements_due: list[str] | None = None) -> None:
        worker = self.get_worker(worker_id)
        worker.link_account(account_id, status, requirements_due)
        self.save(worker)

    @retry_on_conflict
    def record_payout_account_status(self, worker_id: UUID, account_id: str, status: str,
                                     requirements_due: list[str]) -> bool:
        """What Stripe says of a worker's account; False when nothing changed."""
        worker = self.get_worker(worker_id)
        return self._save_if_written(
            worker, worker.update_account_status(account_id, status, requirements_due))

    # --- money in -------------------------------------------------------------------
    @retry_on_conflict
    def deposit_funds(self, requester_id: UUID, amount: int, currency: str, reference: str,
                      idempotency_key: str | None = None) -> bool:
        """Credit a deposit; False when this key (or reference) was already credited."""
        money = Money.of(amount, currency)
        requester = self.get_requester(requester_id)
        return self._save_if_written(requester,
                                     requester.deposit(money, reference, idempotency_key))

    # --- API keys -------------------------------------------------------------------
    def issue_api_key(self, role: Role | str, name: str,
                      subject_id: UUID | None = None) -> tuple[UUID, str]:
        """Issue a key; returns its id and the secret, which is never stored."""
        try:
            role = Role(role)
        except ValueError:
            raise DomainError("INVALID_INPUT", f"unknown role {role!r}", ["role"]) from None
        secret = f"tm_{role.value.lower()}_{secrets.token_urlsafe(32)}"
        key = ApiKey.issue(secret, role, name, subject_id)  # checks role and subject agree
        if subject_id is not None:
            kind = Worker if role == Role.WORKER else Requester
            self._load(kind, subject_id, f"{kind.__name__.lower()}Id")
        self.save(key)
        return key.id, secret

    @retry_on_conflict
    def revoke_api_key(self, key_id: UUID) -> None:
        key = self._load(ApiKey, key_id, "apiKeyId")
        key.revoke()
        self.save(key)

    def authenticate(self, secret: str) -> ApiKey | None:
        """The live key for a presented secret, or None."""
        if not secret:
            return None
        try:
            key = self._load(ApiKey, api_key_id(hash_secret(secret)), "apiKey")
        except DomainError:
            return None
        return None if key.revoked else key

    def key_is_live(self, key_id: UUID) -> bool:
        """Whether an API key exists and was not revoked (long-lived sessions re-check)."""
        try:
            key = self._load(ApiKey, key_id, "apiKeyId")
        except DomainError:
            return False
        return not key.revoked
