-- Webhook delivery (src/taskmarket/webhooks). Endpoints themselves are event-sourced;
-- these tables hold what changes on every POST, and the signing secrets.

-- Signing secrets in clear, out of the event log (see domain/webhook.py). The deliverer
-- uses the row whose hash the endpoint's events name.
CREATE TABLE webhook_secrets (
    endpoint_id  uuid NOT NULL,
    secret_hash  text NOT NULL,
    secret       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (endpoint_id, secret_hash)
);

-- One delivery cursor per endpoint: every matching event at or before `cursor` has been
-- delivered. Derived from the endpoint's events (tracked in projection_positions under
-- 'webhook_endpoints') plus the deliverer's progress.
CREATE TABLE webhook_endpoint_state (
    endpoint_id           uuid PRIMARY KEY,
    requester_id          uuid NOT NULL,
    url                   text NOT NULL,
    event_types           text[] NOT NULL,
    secret_hash           text NOT NULL,
    enabled               boolean NOT NULL,
    cursor                bigint NOT NULL DEFAULT 0,
    -- bumped by every replay, so a batch started before it cannot move the cursor
    generation            integer NOT NULL DEFAULT 0,
    consecutive_failures  integer NOT NULL DEFAULT 0,
    failing_since         timestamptz,
    next_attempt_at       timestamptz NOT NULL DEFAULT now(),
    lease_owner           uuid,
    lease_until           timestamptz,
    version               bigint NOT NULL
);
CREATE INDEX webhook_endpoints_due ON webhook_endpoint_state (next_attempt_at)
    WHERE enabled;

-- The delivery log: one row per (endpoint, replay generation, event) of the ordered
-- stream, plus one row per manual redelivery. Attempts accumulate on the row.
CREATE TABLE webhook_deliveries (
    id                uuid PRIMARY KEY,
    seq               bigserial NOT NULL UNIQUE,
    endpoint_id       uuid NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('stream', 'redelivery')),
    generation        integer NOT NULL DEFAULT 0,
    redelivery        integer,
    position          bigint NOT NULL,
    event_id          text NOT NULL,
    event_type        text NOT NULL,
    attempts          integer NOT NULL DEFAULT 0,
    last_status_code  integer,
    latency_ms        integer,
    last_error        text,
    delivered         boolean NOT NULL DEFAULT false,
    delivered_at      timestamptz,
    next_attempt_at   timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX webhook_deliveries_stream
    ON webhook_deliveries (endpoint_id, generation, position) WHERE kind = 'stream';
CREATE UNIQUE INDEX webhook_deliveries_redelivery
    ON webhook_deliveries (endpoint_id, redelivery) WHERE kind = 'redelivery';
CREATE INDEX webhook_deliveries_of_endpoint ON webhook_deliveries (endpoint_id, seq DESC);
CREATE INDEX webhook_redeliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE kind = 'redelivery' AND NOT delivered AND next_attempt_at IS NOT NULL;
