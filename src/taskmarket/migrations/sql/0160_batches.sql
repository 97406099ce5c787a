-- Batches (issue 16). The "tasks" projection files each item under its batch.
ALTER TABLE tasks ADD COLUMN batch_id uuid;
CREATE INDEX tasks_of_batch ON tasks (batch_id, created_at, id) WHERE batch_id IS NOT NULL;

-- projection "batches": batches, which of their items are controls, workers' gold record
CREATE TABLE batches (
    id                 uuid PRIMARY KEY,
    requester_id       uuid NOT NULL,
    title              text NOT NULL,
    instructions       text NOT NULL,
    answer_schema      jsonb NOT NULL,
    answer_pointer     text NOT NULL,
    reward_amount      bigint NOT NULL,
    currency           text NOT NULL,
    overlap            integer NOT NULL,
    aggregation        text NOT NULL,
    cancelled          boolean NOT NULL,
    item_count         integer NOT NULL,
    gold_count         integer NOT NULL,
    created_at         timestamptz NOT NULL,
    version            bigint NOT NULL
);
CREATE INDEX batches_newest ON batches (created_at DESC, id DESC);
CREATE INDEX batches_of_requester ON batches (requester_id, created_at DESC, id DESC);

-- Which items are control items. Their known answers stay in the event store (Batch events).
CREATE TABLE batch_gold (
    task_id   uuid PRIMARY KEY,
    batch_id  uuid NOT NULL
);
CREATE INDEX batch_gold_of_batch ON batch_gold (batch_id);

CREATE TABLE batch_workers (
    batch_id       uuid NOT NULL,
    worker_id      uuid NOT NULL,
    gold_answered  integer NOT NULL DEFAULT 0,
    gold_correct   integer NOT NULL DEFAULT 0,
    blocked        integer NOT NULL DEFAULT 0,
    PRIMARY KEY (batch_id, worker_id)
);
CREATE INDEX batch_workers_of_worker ON batch_workers (worker_id);

-- Written by the aggregation job (taskmarket.quality), not a projection: the consensus
-- of each item that has its overlap of answers, re-estimated as answers arrive.
CREATE TABLE batch_consensus (
    task_id     uuid PRIMARY KEY,
    batch_id    uuid NOT NULL,
    answer      jsonb,
    confidence  double precision NOT NULL,
    method      text NOT NULL,
    answers     integer NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX batch_consensus_of_batch ON batch_consensus (batch_id);
