-- ADMIN lists of requesters, workers and API keys (oldest first, keyset pages).

-- projection "api_keys"
CREATE TABLE api_keys (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    role        text NOT NULL,
    subject_id  uuid,
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    version     bigint NOT NULL
);
CREATE INDEX api_keys_by_age ON api_keys (created_at, id);
CREATE INDEX requesters_by_age ON requesters (created_at, id);
CREATE INDEX workers_by_age ON workers (created_at, id);
