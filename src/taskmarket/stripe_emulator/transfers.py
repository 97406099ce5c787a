"""The Store's transfers and their reversals (a mixin of store.Store; ``self`` is the
Store, and every change happens under its lock)."""

from __future__ import annotations

import copy
import time
from typing import Any

from .errors import ApiError, no_such
from .fields import in_range, new_id


class TransferCommands:
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
        return self._copy_of(self.transfers, "transfer", transfer_id)

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
            matching = self._documents_where(self.transfers, {
                "destination": destination, "transfer_group": transfer_group}, created)
            cursor = starting_after or ending_before
            if cursor is not None and all(t["id"] != cursor for t in matching):
                matching = list(self.transfers.values())  # a cursor outside the filter
            ordered = sorted(reversed(matching), key=lambda t: -t["created"])

            def keep(t: dict[str, Any]) -> bool:
                return ((destination is None or t["destination"] == destination)
                        and (transfer_group is None or t["transfer_group"] == transfer_group)
                        and in_range(t["created"], created or {}))

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
