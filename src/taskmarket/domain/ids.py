"""Deterministic identities: uniqueness becomes a version conflict in the event store."""

from __future__ import annotations

from uuid import UUID, uuid5

NAMESPACE = UUID("5b2f4c1e-8a47-4d0e-9f3a-7c6b1d2e3f40")


def derived_id(*parts: object) -> UUID:
    return uuid5(NAMESPACE, "/".join(str(part) for part in parts))


def task_id_for_key(requester_id: UUID, idempotency_key: str) -> UUID:
    return derived_id("task", requester_id, idempotency_key)


def payout_id_for_submission(submission_id: UUID) -> UUID:
    return derived_id("payout", "submission", submission_id)


def payout_id_for_bonus(requester_id: UUID, idempotency_key: str) -> UUID:
    return derived_id("payout", "bonus", requester_id, idempotency_key)


def claim_id(task_id: UUID, number: int) -> UUID:
    return derived_id("claim", task_id, number)


def submission_id(task_id: UUID, number: int) -> UUID:
    return derived_id("submission", task_id, number)


def api_key_id(secret_hash: str) -> UUID:
    return derived_id("api-key", secret_hash)
