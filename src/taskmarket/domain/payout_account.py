"""A worker's Stripe connected account as far as paying it goes: can transfers go to it?

The status is read from what Stripe says about the account (an ``account.updated`` event
or a retrieved account), never guessed: transfers are possible once the account's
``transfers`` capability is active.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from .errors import ensure

MAX_REQUIREMENTS = 200


class PayoutAccountStatus(str, enum.Enum):
    ONBOARDING = "ONBOARDING"
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


def status_of(account: Mapping[str, Any]) -> tuple[PayoutAccountStatus, list[str]]:
    """The status and ``requirements.currently_due`` of a Stripe account object."""
    capabilities = account.get("capabilities") or {}
    requirements = account.get("requirements") or {}
    due = requirements_list(requirements.get("currently_due") or [])
    if capabilities.get("transfers") == "active":
        return PayoutAccountStatus.ENABLED, due
    reason = str(requirements.get("disabled_reason") or "")
    # Until the holder has submitted their details, Stripe is waiting on them; after that,
    # or when Stripe rejected the account, transfers were turned off.
    if reason.startswith("rejected") or (account.get("details_submitted") and reason):
        return PayoutAccountStatus.DISABLED, due
    return PayoutAccountStatus.ONBOARDING, due


def requirements_list(values: Any) -> list[str]:
    ensure(isinstance(values, (list, tuple)), "INVALID_INPUT", "requirements are a list",
           ["requirementsDue"])
    cleaned = sorted({str(value)[:200] for value in values if str(value).strip()})
    return cleaned[:MAX_REQUIREMENTS]


def is_rejected(account: Mapping[str, Any]) -> bool:
    """Stripe rejected the account for good (fraud, terms): no wait will make it payable."""
    requirements = account.get("requirements") or {}
    return str(requirements.get("disabled_reason") or "").startswith("rejected")
