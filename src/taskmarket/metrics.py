"""Prometheus metrics of the process, in one place so every part increments the same ones."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUEST_LATENCY = Histogram(
    "taskmarket_graphql_request_seconds", "Time to answer a GraphQL operation.",
    ["operation"],
)
COMMAND_OUTCOMES = Counter(
    "taskmarket_command_outcomes_total",
    "Mutations by name and outcome (OK or the userError code).", ["command", "outcome"],
)
PROJECTION_POSITION = Gauge(
    "taskmarket_projection_position", "Last event position a projection has applied.",
    ["projection"],
)
EVENT_LOG_HEAD = Gauge("taskmarket_event_log_head", "Highest position in the event log.")
PROJECTION_LAG = Gauge(
    "taskmarket_projection_lag_events", "Events in the log a projection has not applied yet.",
    ["projection"],
)
PROJECTION_FAILURES = Counter(
    "taskmarket_projection_failures_total",
    "Batches a projection could not apply (rolled back; it retries after a pause).",
    ["projection"],
)
PROJECTION_STALLED = Gauge(
    "taskmarket_projection_stalled",
    "1 while a projection's last attempt to apply events failed, else 0.", ["projection"],
)
PAYOUT_OUTCOMES = Counter(
    "taskmarket_payout_outcomes_total",
    "Payout attempts by outcome (paid, failed, retrying, ...).", ["outcome"],
)
WEBHOOK_ATTEMPTS = Counter(
    "taskmarket_webhook_attempts_total",
    "Webhook POSTs by outcome (delivered, or why not: http_5xx, timeout, refused...).",
    ["outcome"],
)
WEBHOOK_LATENCY = Histogram(
    "taskmarket_webhook_attempt_seconds", "Time from sending a webhook POST to its answer.",
)
WEBHOOK_ENDPOINTS_DISABLED = Counter(
    "taskmarket_webhook_endpoints_disabled_total",
    "Endpoints the deliverer disabled after failing past the retry policy.",
)
SUBSCRIPTIONS_ACTIVE = Gauge(
    "taskmarket_subscriptions_active", "Event subscriptions currently streaming.")
OPEN_DISCREPANCIES = Gauge(
    "taskmarket_reconciliation_open_discrepancies",
    "Discrepancies between our payouts and Stripe that the newest reconciliation run found.")
