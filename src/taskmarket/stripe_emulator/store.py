"""State of the emulator: accounts, account links, transfers, reversals, events, the
idempotency cache and pending webhook deliveries. Every mutation happens under one
re-entrant lock so the store can be inspected from test threads while the server runs.

Kept in memory, and written through to a SQLite file when the store is given a ``path``
(see :mod:`.persistence`), from which a restarted emulator picks everything up again.
With a file, what grows with use (transfers, reversals, events, idempotency keys) lives in
the file alone, read through a small cache (:mod:`.documents`), so memory stays bounded.
Accounts and account links (accounts.py) and transfers and reversals (transfers.py) are
mixins of the Store."""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import MutableMapping
from typing import Any

from .accounts import AccountCommands
from .documents import DocumentMap
from .errors import no_such
from .fields import in_range, new_id
from .persistence import Persistence
from .transfers import TransferCommands

__all__ = ["IdempotentResponse", "Store", "new_id"]

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


def _scope_id(scope: IdempotencyScope) -> str:
    return "\x1f".join(scope)


class Store(AccountCommands, TransferCommands):
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
        # By id, insertion = creation order; in the file alone when there is one.
        self.transfers: MutableMapping[str, dict[str, Any]] = self._documents("transfer")
        self.reversals: MutableMapping[str, dict[str, Any]] = self._documents("reversal")
        self.events: MutableMapping[str, dict[str, Any]] = self._documents("event")
        self.deliveries: dict[str, dict[str, Any]] = {}  # pending webhook deliveries
        self.balance: int | None = self.initial_balance
        self._idempotent: MutableMapping[str, IdempotentResponse] = self._documents(
            "idempotency", IdempotentResponse.from_doc)  # by _scope_id
        self._in_flight: set[IdempotencyScope] = set()
        self._saves = 0

    def _documents(self, kind: str, decode=None) -> MutableMapping[str, Any]:
        """Where the documents of ``kind`` live: in the file when there is one, else a dict."""
        if self._db is None:
            return {}
        return DocumentMap(self._db, kind, **({"decode": decode} if decode else {}))

    @staticmethod
    def _documents_where(documents: MutableMapping[str, Any], equals: dict[str, Any],
                         created: dict[str, int] | None) -> list[Any]:
        """Candidates for a list call: narrowed in the file when the kind lives there (the
        caller still applies every filter), else all of them."""
        if isinstance(documents, DocumentMap):
            return documents.where(equals, created)
        return list(documents.values())

    def _load(self) -> None:
        db = self._db
        assert db is not None
        self.accounts = dict(db.all("account"))
        self.invalid_accounts = {doc_id for doc_id, _ in db.all("invalid_account")}
        self.account_links = dict(db.all("account_link"))
        self.deliveries = dict(db.all("delivery"))
        self.balance = db.setting("balance", {"value": self.initial_balance})["value"]

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
            if self._db is not None:
                self._db.clear()
            self._clear_memory()

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _copy_of(self, objects: dict[str, Any], kind: str, object_id: str) -> dict[str, Any]:
        """A copy of one stored object; Stripe's resource_missing when there is none."""
        with self._lock:
            if object_id not in objects:
                raise no_such(kind, object_id)
            return copy.deepcopy(objects[object_id])

    def set_balance(self, amount: int | None) -> None:
        """Set the platform's available balance (``None`` = unlimited)."""
        with self._lock:
            self.balance = amount
            self._put_balance()

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
            self.events[event["id"]] = event
            self._put("event", event["id"], event)
            return copy.deepcopy(event)

    def list_events(self, *, limit: int = 10, starting_after: str | None = None,
                    type: str | None = None, created: dict[str, int] | None = None
                    ) -> tuple[list[dict[str, Any]], bool]:
        """Newest first, like Stripe: ``(page, has_more)``, by type and creation time."""
        with self._lock:
            ordered = [e for e in reversed(self._documents_where(
                           self.events, {"type": type}, created))
                       if (type is None or e["type"] == type)
                       and in_range(e["created"], created or {})]
            if starting_after is not None:
                ids = [e["id"] for e in ordered]
                if starting_after not in ids:
                    raise no_such("event", starting_after, param="starting_after", status=400)
                ordered = ordered[ids.index(starting_after) + 1:]
            return copy.deepcopy(ordered[:limit]), len(ordered) > limit

    def all_events(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self.events.values()))

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
            return self._idempotent.get(_scope_id(scope))

    def save_idempotent_response(self, scope: IdempotencyScope, response: IdempotentResponse) -> None:
        with self._lock:
            if _scope_id(scope) not in self._idempotent:
                self._idempotent[_scope_id(scope)] = response
                self._put("idempotency", _scope_id(scope), response.to_doc())
            self._saves += 1
            if self._saves % _PRUNE_EVERY == 0:
                self._prune_idempotency_locked()

    def _prune_idempotency_locked(self) -> None:
        cutoff = time.time() - IDEMPOTENCY_TTL_SECONDS
        if self._db is not None:  # in the file: one statement, not a read of every key
            for scope_id in self._db.delete_older("idempotency", "saved_at", cutoff):
                self._idempotent.pop(scope_id, None)  # type: ignore[union-attr]
            return
        for scope_id in [s for s, r in self._idempotent.items() if r.saved_at < cutoff]:
            del self._idempotent[scope_id]
