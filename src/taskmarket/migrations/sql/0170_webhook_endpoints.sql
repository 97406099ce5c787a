-- Webhook endpoints as queries list them: a read model like the others (projection
-- 'webhook_endpoints', src/taskmarket/projections/webhook_endpoints.py), rebuildable from
-- the endpoints' events. Delivery progress stays in webhook_endpoint_state.
CREATE TABLE webhook_endpoints (
    id               uuid PRIMARY KEY,
    requester_id     uuid NOT NULL,
    url              text NOT NULL,
    event_types      text[] NOT NULL,
    enabled          boolean NOT NULL,
    disabled_reason  text,
    audience         text NOT NULL,
    created_at       timestamptz NOT NULL,
    version          bigint NOT NULL
);
CREATE INDEX webhook_endpoints_of_requester ON webhook_endpoints (requester_id, id);

-- The follower of the delivery state kept its position under the name the read model
-- now takes; it keeps that position under its own name.
UPDATE projection_positions SET name = 'webhook_delivery_state' WHERE name = 'webhook_endpoints';
