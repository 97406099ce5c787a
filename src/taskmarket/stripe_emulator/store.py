"""State of the emulator: accounts, account links, transfers, reversals, events, the
idempotency cache and pending webhook deliveries. Every mutation happens under one
re-entrant lock so the store can be inspected from test threads while the server runs.

Kept in memory, and written through to a SQLite file when the store is given a ``path``
(see :mod:`.persistence`), from which a restarted emulator picks everything up again."""

from __future__ import annotations

import copy
import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ApiError, no_such
from .persistence import Persistence

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


_COMPARE = {"gt": lambda a, b: a > b, "gte": lambda a, b: a >= b,
            "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b}


def _in_range(value: int, bounds: dict[str, int]) -> bool:
    return all(_COMPARE[op](value, bound) for op, bound in bounds.items())


@dataclass(frozen=True)
class IdempotentResponse:
    """A stored response, replayed byte-for-byte for a repeated Idempotency-Key."""

    fingerprint: str
    status: int
    body: bytes
    request_id: str
    saved_at: float = field(default_factory=time.time)

    def to_doc(self) -> dict[str, Any]:
        return {"fingerprint": self.fingerprint, "status": self.status,
                "body": self.body.decode("utf-8"), "request_id": self.request_id,
                "saved_at": self.saved_at}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "IdempotentResponse":
        return cls(doc["fingerprint"], doc["status"], doc["body"].encode("utf-8"),
                   doc["request_id"], doc["saved_at"])


IdempotencyScope = tuple[str, str, str]  # (api key, Stripe-Account header, idempotency key)

IDEMPOTENCY_TTL_SECONDS = 24 * 3600  # Stripe prunes keys after at least 24 hours
_PRUNE_EVERY = 1000
ACCOUNT_LINK_TTL_SECONDS = 300  # Stripe's Account Links expire after a few minutes
# What Stripe asks of a fresh Express account before it may receive transfers.
ONBOARDING_REQUIREMENTS = [
    "business_type", "external_account", "individual.dob.day", "individual.dob.month",
    "individual.dob.year", "individual.first_name", "individual.last_name",
    "tos_acceptance.date", "tos_acceptance.ip",
]


def _scope_id(scope: IdempotencyScope) -> str:
    return "\x1f".join(scope)


class Store:
    def __init__(self, platform_balance: int | None = None,
                 path: str | Path | None = None) -> None:
        self._lock = threading.RLock()
        self.initial_balance = platform_balance
        self._db = Persistence(path) if path is not None else None
        self._clear_memory()
        if self._db is not None:
            self._load()

    # -- lifecycle ---------------------------------------------------------
    def _clear_memory(self) -> None:
        self.accounts: dict[str, dict[str, Any]] = {}
        self.invalid_accounts: set[str] = set()
        self.account_links: dict[str, dict[str, Any]] = {}  # by the token in the link's URL
        self.transfers: dict[str, dict[str, Any]] = {}  # insertion = creation order
        self.reversals: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.deliveries: dict[str, dict[str, Any]] = {}  # pending webhook deliveries
        self.balance: int | None = self.initial_balance
        self._idempotent: dict[IdempotencyScope, IdempotentResponse] = {}
        self._in_flight: set[IdempotencyScope] = set()
        self._saves = 0

    def _load(self) -> None:
        db = self._db
        assert db is not None
        self.accounts = dict(db.all("account"))
        self.invalid_accounts = {doc_id for doc_id, _ in db.all("invalid_account")}
        self.account_links = dict(db.all("account_link"))
        self.transfers = dict(db.all("transfer"))
        self.reversals = dict(db.all("reversal"))
        self.events = [body for _, body in db.all("event")]
        self.deliveries = dict(db.all("delivery"))
        self.balance = db.setting("balance", {"value": self.initial_balance})["value"]
        for doc_id, doc in db.all("idempotency"):
            scope = tuple(doc_id.split("\x1f"))
            self._idempotent[scope] = IdempotentResponse.from_doc(doc)  # type: ignore[index]

    def _put(self, kind: str, doc_id: str, body: Any) -> None:
        if self._db is not None:
            self._db.put(kind, doc_id, body)

    def _put_balance(self) -> None:
        if self._db is not None:
            self._db.set_setting("balance", {"value": self.balance})

    def _atomically(self):
        """One SQLite transaction around a multi-document change (a no-op in memory)."""
        import contextlib

        return self._db.transaction() if self._db is not None else contextlib.nullcontext()

    def reset(self) -> None:
        """Forget every object and idempotency key; restore the initial balance."""
        with self._lock:
            self._clear_memory()
            if self._db is not None:
                self._db.clear()

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def set_balance(self, amount: int | None) -> None:
        """Set the platform's available balance (``None`` = unlimited)."""
        with self._lock:
            self.balance = amount
            self._put_balance()

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
        with self._lock:
            if account_id not in self.accounts:
                raise no_such("account", account_id)
            return copy.deepcopy(self.accounts[account_id])

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

    # -- transfers ---------------------------------------------------------
    def create_transfer(self, *, amount: int, currency: str, destination: str,
                        transfer_group: str | None = None, description: str | None = None,
                        metadata: dict[str, str] | None = None,
                        source_transaction: str | None = None,
                        created: int | None = None) -> dict[str, Any]:
        with self._lock:
            if destination not in self.accounts:
                raise no_such("destination", destination, param="destination", status=400)
            if destination in self.invalid_accounts:
                raise ApiError(400, f"The destination account '{destination}' cannot receive transfers: "
                               "the account is invalid or has been rejected.",
                               code="account_invalid", param="destination", cacheable=True)
            if self.accounts[destination]["capabilities"].get("transfers") != "active":
                raise ApiError(400, f"The destination account '{destination}' needs the transfers "
                               "capability to be active before it can receive transfers; its "
                               "holder has not finished onboarding.",
                               code="insufficient_capabilities_for_transfer",
                               param="destination", cacheable=True)
            if self.balance is not None and amount > self.balance:
                raise ApiError(400, "You have insufficient available funds in your Stripe account. "
                               "Try adding funds directly to your available balance.",
                               code="balance_insufficient", cacheable=True)
            transfer_id = new_id("tr_")
            transfer = {
                "id": transfer_id,
                "object": "transfer",
                "amount": amount,
                "amount_reversed": 0,
                "balance_transaction": new_id("txn_"),
                "created": int(time.time()) if created is None else created,
                "currency": currency,
                "description": description,
                "destination": destination,
                "destination_payment": new_id("py_"),
                "livemode": False,
                "metadata": dict(metadata or {}),
                "reversals": {"object": "list", "data": [], "has_more": False, "total_count": 0,
                              "url": f"/v1/transfers/{transfer_id}/reversals"},
                "reversed": False,
                "source_transaction": source_transaction,
                "source_type": "card",
                "transfer_group": transfer_group,
            }
            with self._atomically():
                if self.balance is not None:
                    self.balance -= amount
                    self._put_balance()
                self.transfers[transfer_id] = transfer
                self._put("transfer", transfer_id, transfer)
            return copy.deepcopy(transfer)

    def get_transfer(self, transfer_id: str) -> dict[str, Any]:
        with self._lock:
            if transfer_id not in self.transfers:
                raise no_such("transfer", transfer_id)
            return copy.deepcopy(self.transfers[transfer_id])

    def update_transfer(self, transfer_id: str, *, description: str | None = None,
                        metadata: dict[str, str] | None = None) -> dict[str, Any]:
        with self._lock:
            if transfer_id not in self.transfers:
                raise no_such("transfer", transfer_id)
            transfer = self.transfers[transfer_id]
            if description is not None:
                transfer["description"] = description
            for key, value in (metadata or {}).items():
                if value == "":
                    transfer["metadata"].pop(key, None)
                else:
                    transfer["metadata"][key] = value
            self._put("transfer", transfer_id, transfer)
            return copy.deepcopy(transfer)

    def list_transfers(self, *, limit: int = 10, starting_after: str | None = None,
                       ending_before: str | None = None, destination: str | None = None,
                       transfer_group: str | None = None,
                       created: dict[str, int] | None = None) -> tuple[list[dict[str, Any]], bool]:
        """Newest first, like Stripe. Returns ``(page, has_more)``. ``created`` filters on
        the creation time with any of ``gt``, ``gte``, ``lt``, ``lte`` (unix seconds)."""
        with self._lock:
            ordered = sorted(reversed(self.transfers.values()), key=lambda t: -t["created"])

            def keep(t: dict[str, Any]) -> bool:
                return ((destination is None or t["destination"] == destination)
                        and (transfer_group is None or t["transfer_group"] == transfer_group)
                        and _in_range(t["created"], created or {}))

            if ending_before is not None:
                if ending_before not in self.transfers:
                    raise no_such("transfer", ending_before, param="ending_before", status=400)
                idx = next(i for i, t in enumerate(ordered) if t["id"] == ending_before)
                candidates = [t for t in ordered[:idx] if keep(t)]
                page, has_more = candidates[-limit:], len(candidates) > limit
            else:
                if starting_after is not None:
                    if starting_after not in self.transfers:
                        raise no_such("transfer", starting_after, param="starting_after", status=400)
                    idx = next(i for i, t in enumerate(ordered) if t["id"] == starting_after)
                    ordered = ordered[idx + 1:]
                candidates = [t for t in ordered if keep(t)]
                page, has_more = candidates[:limit], len(candidates) > limit
            return copy.deepcopy(page), has_more

    def list_reversals_page(self, transfer_id: str, *, limit: int = 10,
                            starting_after: str | None = None) -> tuple[list[dict[str, Any]], bool]:
        """A page of a transfer's reversals, newest first: ``(page, has_more)``."""
        with self._lock:
            if transfer_id not in self.transfers:
                raise no_such("transfer", transfer_id)
            ordered = list(self.transfers[transfer_id]["reversals"]["data"])
            if starting_after is not None:
                ids = [r["id"] for r in ordered]
                if starting_after not in ids:
                    raise no_such("transfer_reversal", starting_after, param="starting_after",
                                  status=400)
                ordered = ordered[ids.index(starting_after) + 1:]
            return copy.deepcopy(ordered[:limit]), len(ordered) > limit

    def adjust_transfer(self, transfer_id: str, **changes: Any) -> dict[str, Any]:
        """Overwrite amount/currency/destination of a transfer (test control only)."""
        with self._lock:
            if transfer_id not in self.transfers:
                raise no_such("transfer", transfer_id)
            with self._atomically():
                self.transfers[transfer_id].update(changes)
                self._put("transfer", transfer_id, self.transfers[transfer_id])
            return copy.deepcopy(self.transfers[transfer_id])

    def all_transfers(self) -> list[dict[str, Any]]:
        """Every transfer, oldest first (a snapshot copy)."""
        with self._lock:
            return copy.deepcopy(list(self.transfers.values()))

    # -- reversals ---------------------------------------------------------
    def create_reversal(self, transfer_id: str, *, amount: int | None = None,
                        description: str | None = None,
                        metadata: dict[str, str] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """Reverse (part of) a transfer. Returns ``(reversal, updated transfer)``."""
        with self._lock:
            if transfer_id not in self.transfers:
                raise no_such("transfer", transfer_id)
            transfer = self.transfers[transfer_id]
            remaining = transfer["amount"] - transfer["amount_reversed"]
            if remaining <= 0:
                raise ApiError(400, f"Transfer {transfer_id} has already been fully reversed.")
            if amount is None:
                amount = remaining
            if amount > remaining:
                raise ApiError(400, f"Requested reversal amount ({amount}) is greater than the "
                               f"amount remaining to be reversed ({remaining}).",
                               code="amount_too_large", param="amount")
            reversal = {
                "id": new_id("trr_"),
                "object": "transfer_reversal",
                "amount": amount,
                "balance_transaction": new_id("txn_"),
                "created": int(time.time()),
                "currency": transfer["currency"],
                "description": description,
                "destination_payment_refund": new_id("pyr_"),
                "metadata": dict(metadata or {}),
                "source_refund": None,
                "transfer": transfer_id,
            }
            self.reversals[reversal["id"]] = reversal
            transfer["amount_reversed"] += amount
            transfer["reversed"] = transfer["amount_reversed"] >= transfer["amount"]
            transfer["reversals"]["data"].insert(0, reversal)
            transfer["reversals"]["total_count"] += 1
            with self._atomically():
                if self.balance is not None:
                    self.balance += amount
                    self._put_balance()
                self._put("reversal", reversal["id"], reversal)
                self._put("transfer", transfer_id, transfer)
            return copy.deepcopy(reversal), copy.deepcopy(transfer)

    def list_reversals(self, transfer_id: str) -> list[dict[str, Any]]:
        with self._lock:
            if transfer_id not in self.transfers:
                raise no_such("transfer", transfer_id)
            return copy.deepcopy(self.transfers[transfer_id]["reversals"]["data"])

    # -- events ------------------------------------------------------------
    def record_event(self, type: str, obj: dict[str, Any], *, api_version: str,
                     request_id: str | None, idempotency_key: str | None) -> dict[str, Any]:
        event = {
            "id": new_id("evt_"),
            "object": "event",
            "api_version": api_version,
            "created": int(time.time()),
            "data": {"object": copy.deepcopy(obj)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": request_id, "idempotency_key": idempotency_key},
            "type": type,
        }
        with self._lock:
            self.events.append(event)
            self._put("event", event["id"], event)
            return copy.deepcopy(event)

    def list_events(self, *, limit: int = 10, starting_after: str | None = None,
                    type: str | None = None, created: dict[str, int] | None = None
                    ) -> tuple[list[dict[str, Any]], bool]:
        """Newest first, like Stripe: ``(page, has_more)``, by type and creation time."""
        with self._lock:
            ordered = [e for e in reversed(self.events)
                       if (type is None or e["type"] == type)
                       and _in_range(e["created"], created or {})]
            if starting_after is not None:
                ids = [e["id"] for e in ordered]
                if starting_after not in ids:
                    raise no_such("event", starting_after, param="starting_after", status=400)
                ordered = ordered[ids.index(starting_after) + 1:]
            return copy.deepcopy(ordered[:limit]), len(ordered) > limit

    def all_events(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self.events)

    # -- webhook deliveries --------------------------------------------------
    def save_delivery(self, delivery: dict[str, Any]) -> None:
        """A pending delivery (``event``, ``attempts``, ``next_attempt_at``), kept until done."""
        with self._lock:
            self.deliveries[delivery["event"]["id"]] = delivery
            self._put("delivery", delivery["event"]["id"], delivery)

    def finish_delivery(self, event_id: str) -> None:
        with self._lock:
            self.deliveries.pop(event_id, None)
            if self._db is not None:
                self._db.delete("delivery", event_id)

    def next_delivery(self) -> dict[str, Any] | None:
        """The pending delivery due first (a copy), or None."""
        with self._lock:
            if not self.deliveries:
                return None
            return copy.deepcopy(min(self.deliveries.values(),
                                     key=lambda d: d["next_attempt_at"]))

    def has_unattempted_deliveries(self) -> bool:
        with self._lock:
            return any(d["attempts"] == 0 for d in self.deliveries.values())

    def pending_deliveries(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self.deliveries.values()))

    # -- idempotency -------------------------------------------------------
    def begin_idempotent(self, scope: IdempotencyScope) -> bool:
        """Mark a request with this key as running; False when one already is."""
        with self._lock:
            if scope in self._in_flight:
                return False
            self._in_flight.add(scope)
            return True

    def end_idempotent(self, scope: IdempotencyScope) -> None:
        with self._lock:
            self._in_flight.discard(scope)

    def idempotent_response(self, scope: IdempotencyScope) -> IdempotentResponse | None:
        with self._lock:
            return self._idempotent.get(scope)

    def save_idempotent_response(self, scope: IdempotencyScope, response: IdempotentResponse) -> None:
        with self._lock:
            if scope not in self._idempotent:
                self._idempotent[scope] = response
                self._put("idempotency", _scope_id(scope), response.to_doc())
            self._saves += 1
            if self._saves % _PRUNE_EVERY == 0:
                self._prune_idempotency_locked()

    def _prune_idempotency_locked(self) -> None:
        cutoff = time.time() - IDEMPOTENCY_TTL_SECONDS
        for scope in [s for s, r in self._idempotent.items() if r.saved_at < cutoff]:
            del self._idempotent[scope]
            if self._db is not None:
                self._db.delete("idempotency", _scope_id(scope))
