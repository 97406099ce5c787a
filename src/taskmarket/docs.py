"""docs/errors.md and docs/events.md, generated from the code so they cannot drift.

    python -m taskmarket.docs            # rewrite docs/ (run from the repository root)
    python -m taskmarket.docs --check    # exit 1 when the committed files differ

Error codes, and which mutations return each, are read from the package's source
(error_codes.py). Event types and their fields come from the aggregates'
event classes (``domain.catalog``). A code or event without a hand-written line below is
still listed: a code described by the messages the code gives with it, an event as
"not described yet".
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path

from .domain.catalog import AGGREGATES, deliverable_types, recorded_event_classes
from .error_codes import SourceIndex
from .events import aggregate_kind, data_fields, event_type
from .presented_events import FOREIGN_IDS, REFERENCES, SUBJECT, TASK_PARTS


MEANINGS = {
    "INVALID_INPUT": "The input is malformed or out of range (an id of the wrong kind or "
                     "a raw UUID included); `field` names it. Nothing was written.",
    "NOT_FOUND": "The id names nothing the caller may act on.",
    "FORBIDDEN": "The API key's role may not do this, or the thing is someone else's.",
    "UNAUTHENTICATED": "No key, an unknown key or a revoked key.",
    "CONFLICT": "Too many concurrent changes to the same thing; try again.",
    "INSUFFICIENT_FUNDS": "The requester's available balance cannot cover the escrow "
                          "or bonus.",
    "AMOUNT_TOO_LARGE": "An amount, a task's reward times its assignments, or a "
                        "requester's balance plus escrow after a deposit would pass "
                        "2,147,483,647 minor units (the largest GraphQL Int).",
    "PROJECTION_STALLED": "A GraphQL error, not a userError: the command was recorded, but "
                          "a read model cannot apply events and will not show it; "
                          "extensions name the projection and its position.",
    "CURRENCY_MISMATCH": "Money in another currency than the requester's (chosen at "
                         "createRequester); the message names both.",
    "DUPLICATE_REFERENCE": "Funds with this reference were already deposited.",
    "IDEMPOTENCY_KEY_REUSED": "The idempotency key was used before with different input.",
    "TASK_NOT_OPEN": "The task is not open for this (completed or cancelled).",
    "NOT_QUALIFIED": "The worker lacks a skill the task requires.",
    "ALREADY_CLAIMED": "The worker already holds a claim on, or submitted work for, this "
                       "task.",
    "NO_OPEN_SLOTS": "Every slot of the task is taken.",
    "CLAIM_NOT_ACTIVE": "The claim was released or submitted already.",
    "LEASE_EXPIRED": "The claim's lease ran out (whether or not its expiry was recorded "
                     "yet); claim the task again.",
    "ALREADY_REVIEWED": "The submission was reviewed already.",
    "ALREADY_PAID": "The payout was paid already.",
    "PAYOUT_NOT_FAILED": "Only a FAILED payout can be retried.",
    "NOT_IMPLEMENTED": "The server is not configured for this.",
}

WHEN = {
    "RequesterCreated": "An ADMIN created a requester (createRequester).",
    "RequesterFundsDeposited": "Funds were deposited (depositFunds).",
    "RequesterEscrowReserved": "A task was posted: its reward times its assignments moved "
                               "from the balance into escrow.",
    "RequesterEscrowReleased": "Escrow of slots that will never be paid went back to the "
                               "balance (cancellation, rejections, releases on a "
                               "cancelled task).",
    "RequesterEscrowConsumed": "Accepted work spent one slot's escrow on a payout.",
    "RequesterBonusFunded": "The requester paid a bonus from its balance.",
    "WorkerRegistered": "An ADMIN created a worker (createWorker).",
    "WorkerSkillsChanged": "The worker's skills changed.",
    "WorkerPayoutAccountLinked": "The worker's Stripe connected account was linked.",
    "TaskPosted": "A requester posted a task (postTask).",
    "TaskClaimed": "A worker claimed a slot (claimTask); the lease ends at `expiresAt`.",
    "TaskClaimReleased": "The worker gave its claim back (releaseClaim).",
    "TaskClaimExpired": "A lease ran out without a submission.",
    "TaskWorkSubmitted": "A worker submitted work on its claim (submitWork).",
    "TaskSubmissionAccepted": "The requester accepted the work (or it was approved "
                              "automatically after the task's delay).",
    "TaskSubmissionRejected": "The requester rejected the work; the slot reopens.",
    "TaskRevisionRequested": "The requester asked for a revision; the claim is active "
                             "again with a new lease.",
    "TaskCompleted": "Every assignment of the task was accepted.",
    "TaskCancelled": "The requester cancelled the task (cancelTask).",
    "PayoutRequested": "Accepted work (or a bonus) is owed to a worker.",
    "PayoutPaid": "The Stripe transfer for the payout went through.",
    "PayoutFailed": "A transfer attempt failed (`retryable` says whether it is retried).",
    "PayoutRetried": "FINANCE asked to try a failed payout again (retryPayout).",
    "PayoutTransferReversed": "Stripe reversed the payout's transfer.",
    "ApiKeyIssued": "An API key was issued (never with its secret).",
    "ApiKeyRevoked": "An API key was revoked.",
    "WebhookEndpointCreated": "A webhook endpoint was registered.",
    "WebhookEndpointUpdated": "Its URL or event types changed.",
    "WebhookEndpointSecretRotated": "Its signing secret was rotated.",
    "WebhookEndpointDisabled": "Deliveries stopped (by its owner or after failing).",
    "WebhookEndpointEnabled": "Deliveries resumed.",
    "WebhookEndpointReplayRequested": "Events after a position are to be sent again.",
    "WebhookEndpointRedeliveryRequested": "One logged delivery is to be sent again.",
}


def all_event_classes() -> list[type]:
    return [cls for aggregate in AGGREGATES for cls in recorded_event_classes(aggregate)]


# --- errors.md --------------------------------------------------------------------------
def errors_markdown() -> str:
    index = SourceIndex()
    by_code = index.mutations_by_code()
    lines = [
        "# Error codes",
        "",
        "Generated from the code by `python -m taskmarket.docs`; do not edit by hand.",
        "",
        "A mutation refuses bad input with a `userErrors` entry: a stable `code` from this",
        "list, the `field` it concerns and a `message` for people; nothing is written. Queries",
        "and transport failures answer a GraphQL error whose `extensions.code` is from the",
        "same list (for example `FORBIDDEN`, `UNAUTHENTICATED`, `INVALID_INPUT` for a bad",
        "`first` or cursor). HTTP requests that are not a JSON object get a 400 with",
        "`BAD_REQUEST`.",
        "",
        "| Code | Meaning | Mutations that return it |",
        "| --- | --- | --- |",
    ]
    for code in sorted(index.all_codes()):
        meaning = MEANINGS.get(code) or "; ".join(
            f"“{m}”" for m in index.messages.get(code, [])[:2]) or "(no description)"
        mutations = (", ".join(f"`{m}`" for m in by_code.get(code, []))
                     or "none: queries, transport or background work")
        lines.append(f"| `{code}` | {meaning} | {mutations} |")
    return "\n".join(lines) + "\n"


# --- events.md --------------------------------------------------------------------------
def _id_of(type_name: str, python_type: str) -> str:
    article = "an" if type_name[0] in "AEIOU" else "a"
    return f"ID of {article} {type_name}" + (", or null" if "None" in python_type else "")


def _field_type(name: str, python_type: str, aggregate: str) -> str:
    if name in REFERENCES:
        return _id_of(REFERENCES[name], python_type)
    if name in TASK_PARTS:
        return _id_of(TASK_PARTS[name], python_type)
    if name == SUBJECT:
        return "ID of a Worker (WORKER keys) or Requester, or null"
    if name in FOREIGN_IDS:
        return "Stripe id"
    kinds = [PLAIN_TYPES.get(part.strip(), part.strip()) for part in python_type.split("|")]
    nullable = "null" in kinds
    shown = " or ".join(kind for kind in kinds if kind != "null")
    return f"{shown}, or null" if nullable else shown


PLAIN_TYPES = {"str": "String", "int": "Int", "bool": "Boolean", "float": "Float",
               "Any": "JSON", "datetime": "DateTime (ISO 8601)", "UUID": "ID",
               "None": "null", "list[str]": "[String]", "list[UUID]": "[ID]",
               "dict[str, Any]": "JSON object"}


def events_markdown() -> str:
    deliverable = deliverable_types()
    lines = [
        "# Event types",
        "",
        "Generated from the code by `python -m taskmarket.docs`; do not edit by hand.",
        "",
        "Every change is an event in the global log (`events` query and subscription,",
        "`Task.history`, webhooks). An event has `id`, `type`, `position` (gap-free),",
        "`aggregateId` (the global ID of the node it changed), `aggregateVersion`,",
        "`occurredAt` and `data` below. IDs in `data` are global IDs, the same strings as",
        "`node.id`: paste them into `node(id:)` or any mutation. Money amounts are integers",
        "in the currency's minor unit (cents for USD). Webhooks deliver the events marked",
        "so, of the requester's own tasks, payouts and account.",
        "",
    ]
    current = None
    for cls in all_event_classes():
        aggregate = aggregate_kind(cls.__qualname__)
        if aggregate != current:
            lines += [f"## {aggregate}", ""]
            current = aggregate
        name = event_type(cls.__qualname__)
        webhook = " Delivered by webhooks." if name in deliverable else ""
        when = WHEN.get(name, f"A {aggregate} event (not described yet).")
        lines += [f"### {name}", "", when + webhook, ""]
        fields = data_fields(cls)
        if not fields:
            lines += ["`data` is empty.", ""]
            continue
        lines += ["| Field | Type |", "| --- | --- |"]
        lines += [f"| `{field}` | {_field_type(field, kind, aggregate)} |"
                  for field, kind in fields.items()]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


PAGES: dict[str, Callable[[], str]] = {"errors.md": cache(errors_markdown),
                                       "events.md": cache(events_markdown)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m taskmarket.docs",
                                     description="Write docs/errors.md and docs/events.md.")
    parser.add_argument("--out", type=Path, default=Path("docs"),
                        help="the directory to write (default: docs)")
    parser.add_argument("--check", action="store_true",
                        help="only compare; exit 1 when a file differs")
    args = parser.parse_args(argv)
    stale = []
    for name, render in PAGES.items():
        path = args.out / name
        text = render()
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if stale:
        print(f"stale: {', '.join(stale)}; run python -m taskmarket.docs", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
