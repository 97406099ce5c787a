"""The Store's connected accounts and account links (a mixin of store.Store; ``self`` is
the Store, and every change happens under its lock)."""

from __future__ import annotations

import copy
import time
from typing import Any

from .errors import no_such
from .fields import new_id

ACCOUNT_LINK_TTL_SECONDS = 300  # Stripe's Account Links expire after a few minutes
# What Stripe asks of a fresh Express account before it may receive transfers.
ONBOARDING_REQUIREMENTS = [
    "business_type", "external_account", "individual.dob.day", "individual.dob.month",
    "individual.dob.year", "individual.first_name", "individual.last_name",
    "tos_acceptance.date", "tos_acceptance.ip",
]


class AccountCommands:
    # -- accounts ----------------------------------------------------------
    def create_account(self, *, type: str, email: str | None, metadata: dict[str, str],
                       country: str = "US", default_currency: str = "usd",
                       business_type: str | None = None) -> dict[str, Any]:
        """A connected account as Stripe makes one: it cannot receive transfers until the
        account holder has completed onboarding (see :meth:`complete_onboarding`)."""
        account = {
            "id": new_id("acct_", 16),
            "object": "account",
            "type": type,
            "email": email,
            "metadata": dict(metadata),
            "country": country,
            "default_currency": default_currency,
            "business_type": business_type,
            "created": int(time.time()),
            "livemode": False,
            "charges_enabled": False,
            "payouts_enabled": False,
            "details_submitted": False,
            "capabilities": {"transfers": "inactive"},
            "requirements": {"currently_due": list(ONBOARDING_REQUIREMENTS),
                             "eventually_due": list(ONBOARDING_REQUIREMENTS),
                             "past_due": list(ONBOARDING_REQUIREMENTS),
                             "disabled_reason": "requirements.past_due"},
        }
        with self._lock, self._atomically():
            self.accounts[account["id"]] = account
            if metadata.get("fail") == "invalid":
                self._invalidate_locked(account["id"])
            self._put("account", account["id"], account)
            return copy.deepcopy(account)

    def complete_onboarding(self, account_id: str) -> dict[str, Any]:
        """The account holder gave Stripe everything: transfers to it are possible."""
        with self._lock, self._atomically():
            if account_id not in self.accounts:
                raise no_such("account", account_id)
            account = self.accounts[account_id]
            account.update(charges_enabled=True, payouts_enabled=True, details_submitted=True)
            account["capabilities"]["transfers"] = "active"
            account["requirements"].update(currently_due=[], eventually_due=[], past_due=[],
                                           disabled_reason=None)
            self.invalid_accounts.discard(account_id)
            if self._db is not None:
                self._db.delete("invalid_account", account_id)
            self._put("account", account_id, account)
            return copy.deepcopy(account)

    def require_information(self, account_id: str, fields: list[str] | None = None) -> dict[str, Any]:
        """Stripe needs more from an onboarded holder: transfers stop until they give it."""
        with self._lock, self._atomically():
            if account_id not in self.accounts:
                raise no_such("account", account_id)
            account = self.accounts[account_id]
            due = list(fields or ["individual.verification.document"])
            account["payouts_enabled"] = False
            account["capabilities"]["transfers"] = "inactive"
            account["requirements"].update(currently_due=due, eventually_due=due, past_due=due,
                                           disabled_reason="requirements.past_due")
            self._put("account", account_id, account)
            return copy.deepcopy(account)

    # -- account links -----------------------------------------------------
    def create_account_link(self, *, account: str, type: str, refresh_url: str,
                            return_url: str, base_url: str) -> dict[str, Any]:
        with self._lock:
            if account not in self.accounts:
                raise no_such("account", account, param="account", status=400)
            token = new_id("", 32)
            created = int(time.time())
            link = {
                "object": "account_link",
                "created": created,
                "expires_at": created + ACCOUNT_LINK_TTL_SECONDS,
                "url": f"{base_url.rstrip('/')}/connect/onboarding/{token}",
            }
            self.account_links[token] = {**link, "account": account, "type": type,
                                         "refresh_url": refresh_url, "return_url": return_url,
                                         "used": False}
            self._put("account_link", token, self.account_links[token])
            return copy.deepcopy(link)

    def account_link(self, token: str) -> dict[str, Any] | None:
        with self._lock:
            link = self.account_links.get(token)
            return copy.deepcopy(link) if link else None

    def use_account_link(self, token: str) -> dict[str, Any] | None:
        """Mark a live link used; None when it is unknown, used or expired."""
        with self._lock, self._atomically():
            link = self.account_links.get(token)
            if link is None or link["used"] or link["expires_at"] < time.time():
                return None
            link["used"] = True
            self._put("account_link", token, link)
            return copy.deepcopy(link)

    def get_account(self, account_id: str) -> dict[str, Any]:
        return self._copy_of(self.accounts, "account", account_id)

    def all_accounts(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self.accounts.values()))

    def invalidate_account(self, account_id: str) -> dict[str, Any]:
        """Make transfers to this account fail with ``account_invalid``."""
        with self._lock:
            if account_id not in self.accounts:
                raise no_such("account", account_id)
            with self._atomically():
                self._invalidate_locked(account_id)
            return copy.deepcopy(self.accounts[account_id])

    def _invalidate_locked(self, account_id: str) -> None:
        self.invalid_accounts.add(account_id)
        account = self.accounts[account_id]
        account["payouts_enabled"] = False
        account["capabilities"]["transfers"] = "inactive"
        account["requirements"]["disabled_reason"] = "rejected.other"
        self._put("invalid_account", account_id, True)
        self._put("account", account_id, account)
