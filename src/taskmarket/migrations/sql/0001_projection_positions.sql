-- Where each projection (and each log follower) has read up to, written in the same
-- transaction as the rows it derived from the events up to that position.
CREATE TABLE projection_positions (
    name        text PRIMARY KEY,
    position    bigint NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
