"""A requester posts tasks and pays for them from the funds it deposited."""

from __future__ import annotations

from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from .errors import DomainError, ensure
from .fingerprint import fingerprint
from .money import DEFAULT_CURRENCY, Money, check_amount_fits, currency_code
from .snapshot import StateSnapshot
from .values import NAME_LENGTH, REFERENCE_LENGTH, check_idempotency_key, check_text


class Requester(Aggregate):
    """Holds a requester's money: available balance and escrow reserved for task slots.

    Conservation: deposited == balance + escrow + spent, where spent is what payouts took.
    """

    Snapshot = StateSnapshot  # holds a set of references

    @staticmethod
    def create_id() -> UUID:
        return uuid4()

    @classmethod
    def open(cls, name: str, currency: str | None = DEFAULT_CURRENCY) -> "Requester":
        """A requester whose funds are in ``currency`` (ISO 4217), chosen up front."""
        return cls(name=check_text(name, "name", NAME_LENGTH),
                   currency=currency_code(currency or DEFAULT_CURRENCY))

    @event("Created")
    def __init__(self, name: str, currency: str | None = None):
        self.name = name
        # None only for requesters created before the currency was chosen up front:
        # their first deposit fixes it.
        self.currency: str | None = currency
        self.balance = 0
        self.escrow = 0
        self.spent = 0
        self.deposited = 0
        self.deposit_keys: dict[str, str] = {}
        self.references: set[str] = set()

    # --- deposits -------------------------------------------------------------------
    def deposit(self, money: Money, reference: str, idempotency_key: str | None = None) -> bool:
        """Credit funds once per key (or reference). Returns False for a replay."""
        reference = check_text(reference, "reference", REFERENCE_LENGTH)
        key = check_idempotency_key(idempotency_key) or f"reference:{reference}"
        digest = fingerprint(amount=money.amount, currency=money.currency, reference=reference)
        if key in self.deposit_keys:
            ensure(self.deposit_keys[key] == digest, "IDEMPOTENCY_KEY_REUSED",
                   "this idempotency key was used with different input", ["idempotencyKey"])
            return False
        ensure(reference not in self.references, "DUPLICATE_REFERENCE",
               "funds with this reference were already deposited", ["reference"])
        self.ensure_currency(money.currency)
        check_amount_fits(self.balance + self.escrow + money.amount, "amount",
                          "this requester's funds (balance plus escrow)")
        self._funds_deposited(amount=money.amount, currency=money.currency,
                              reference=reference, key=key, digest=digest)
        return True

    @event("FundsDeposited")
    def _funds_deposited(self, amount: int, currency: str, reference: str, key: str,
                         digest: str) -> None:
        self.currency = currency
        self.balance += amount
        self.deposited += amount
        self.deposit_keys[key] = digest
        self.references.add(reference)

    # --- escrow ---------------------------------------------------------------------
    def _ensure_available(self, money: Money, needed_for: str, field: str) -> None:
        """The balance covers ``money`` (in the requester's currency); INSUFFICIENT_FUNDS
        on ``field`` otherwise."""
        self.ensure_currency(money.currency)
        ensure(self.balance >= money.amount, "INSUFFICIENT_FUNDS",
               f"balance {self.balance} is below {needed_for}", [field])

    def reserve(self, task_id: UUID, money: Money) -> None:
        """Move funds for a task's slots from the balance into escrow."""
        self._ensure_available(money, f"the {money.amount} this task needs", "reward")
        self._escrow_reserved(task_id=task_id, amount=money.amount)

    @event("EscrowReserved")
    def _escrow_reserved(self, task_id: UUID, amount: int) -> None:
        self.balance -= amount
        self.escrow += amount

    def release(self, task_id: UUID, amount: int, slots: int) -> None:
        """Return the escrow of slots that will never be paid back to the balance."""
        if amount <= 0:
            return
        self._check_escrow(amount)
        self._escrow_released(task_id=task_id, amount=amount, slots=slots)

    @event("EscrowReleased")
    def _escrow_released(self, task_id: UUID, amount: int, slots: int) -> None:
        self.escrow -= amount
        self.balance += amount

    def consume(self, task_id: UUID, payout_id: UUID, amount: int) -> None:
        """Spend one slot's escrow on a payout for accepted work."""
        self._check_escrow(amount)
        self._escrow_consumed(task_id=task_id, payout_id=payout_id, amount=amount)

    @event("EscrowConsumed")
    def _escrow_consumed(self, task_id: UUID, payout_id: UUID, amount: int) -> None:
        self.escrow -= amount
        self.spent += amount

    def pay_bonus(self, payout_id: UUID, money: Money) -> None:
        """Spend available balance on a bonus payout."""
        self._ensure_available(money, f"the bonus of {money.amount}", "amount")
        self._bonus_funded(payout_id=payout_id, amount=money.amount)

    @event("BonusFunded")
    def _bonus_funded(self, payout_id: UUID, amount: int) -> None:
        self.balance -= amount
        self.spent += amount

    # --- checks ---------------------------------------------------------------------
    def ensure_currency(self, currency: str) -> None:
        if self.currency is not None and currency != self.currency:
            raise DomainError("CURRENCY_MISMATCH",
                              f"this requester's funds are in {self.currency}, not {currency}",
                              ["currency"])

    def _check_escrow(self, amount: int) -> None:
        if amount > self.escrow:  # a broken invariant, never a user's mistake
            raise AssertionError(f"escrow {self.escrow} cannot cover {amount}")

    @property
    def is_conserved(self) -> bool:
        return self.deposited == self.balance + self.escrow + self.spent
