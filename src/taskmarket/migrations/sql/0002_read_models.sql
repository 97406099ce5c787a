-- Read models derived from the event store by the projections (src/taskmarket/projections).
-- Each table belongs to exactly one projection, which rewrites it from position 0 on rebuild.

-- projection "requesters"
CREATE TABLE requesters (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    currency    text,
    balance     bigint NOT NULL DEFAULT 0,
    escrow      bigint NOT NULL DEFAULT 0,
    spent       bigint NOT NULL DEFAULT 0,
    deposited   bigint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL,
    version     bigint NOT NULL
);

-- projection "workers"
CREATE TABLE workers (
    id                 uuid PRIMARY KEY,
    name               text NOT NULL,
    skills             text[] NOT NULL,
    stripe_account_id  text,
    created_at         timestamptz NOT NULL,
    version            bigint NOT NULL
);

-- projection "tasks": tasks, the task board's skill index, claims, submissions, worker stats
CREATE TABLE tasks (
    id                          uuid PRIMARY KEY,
    requester_id                uuid NOT NULL,
    title                       text NOT NULL,
    instructions                text NOT NULL,
    payload                     jsonb,
    reward_amount               bigint NOT NULL,
    currency                    text NOT NULL,
    assignments                 integer NOT NULL,
    required_skills             text[] NOT NULL,
    claim_timeout_seconds       integer NOT NULL,
    auto_approve_after_seconds  integer,
    status                      text NOT NULL,
    open_slots                  integer NOT NULL,
    active_claims               integer NOT NULL,
    pending_review              integer NOT NULL,
    accepted                    integer NOT NULL,
    refunded_slots              integer NOT NULL,
    cancelled                   boolean NOT NULL,
    -- the smallest required skill ('' for none): a qualified worker always has it
    board_skill                 text NOT NULL,
    created_at                  timestamptz NOT NULL,
    updated_at                  timestamptz NOT NULL,
    version                     bigint NOT NULL
);
CREATE INDEX tasks_newest ON tasks (created_at DESC, id DESC);
CREATE INDEX tasks_by_status ON tasks (status, created_at DESC, id DESC);
CREATE INDEX tasks_of_requester ON tasks (requester_id, created_at DESC, id DESC);
CREATE INDEX tasks_of_requester_by_status ON tasks (requester_id, status, created_at DESC, id DESC);
-- The task board: open tasks, newest first, reached through the skill every qualified
-- worker has.
CREATE INDEX task_board ON tasks (board_skill, created_at DESC, id DESC) WHERE status = 'OPEN';

-- One row per (required skill, open task): the board filtered by one skill.
CREATE TABLE task_board_skills (
    skill            text NOT NULL,
    created_at       timestamptz NOT NULL,
    task_id          uuid NOT NULL,
    required_skills  text[] NOT NULL,
    PRIMARY KEY (skill, created_at, task_id)
);
CREATE INDEX task_board_skills_task ON task_board_skills (task_id);

CREATE TABLE claims (
    id            uuid PRIMARY KEY,
    task_id       uuid NOT NULL,
    worker_id     uuid NOT NULL,
    requester_id  uuid NOT NULL,
    status        text NOT NULL,
    claimed_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL
);
CREATE INDEX claims_of_worker ON claims (worker_id, claimed_at DESC, id DESC);
CREATE INDEX claims_of_task ON claims (task_id, claimed_at, id);
CREATE INDEX claims_active_by_expiry ON claims (expires_at) WHERE status = 'ACTIVE';

CREATE TABLE submissions (
    id            uuid PRIMARY KEY,
    task_id       uuid NOT NULL,
    claim_id      uuid NOT NULL,
    worker_id     uuid NOT NULL,
    requester_id  uuid NOT NULL,
    result        jsonb NOT NULL,
    status        text NOT NULL,
    feedback      text,
    automatic     boolean NOT NULL DEFAULT false,
    submitted_at  timestamptz NOT NULL,
    reviewed_at   timestamptz
);
CREATE INDEX submissions_of_task ON submissions (task_id, submitted_at, id);
CREATE INDEX submissions_of_worker ON submissions (worker_id, submitted_at DESC, id DESC);
-- The review queue: a requester's pending submissions, oldest first.
CREATE INDEX review_queue ON submissions (requester_id, submitted_at, id)
    WHERE status = 'PENDING_REVIEW';
CREATE INDEX submissions_pending_by_time ON submissions (submitted_at)
    WHERE status = 'PENDING_REVIEW';

CREATE TABLE worker_stats (
    worker_id            uuid PRIMARY KEY,
    submitted            integer NOT NULL DEFAULT 0,
    accepted             integer NOT NULL DEFAULT 0,
    rejected             integer NOT NULL DEFAULT 0,
    revisions_requested  integer NOT NULL DEFAULT 0
);

-- projection "payouts": payouts and what each worker earned and was paid
CREATE TABLE payouts (
    id                  uuid PRIMARY KEY,
    worker_id           uuid NOT NULL,
    requester_id        uuid NOT NULL,
    task_id             uuid,
    submission_id       uuid,
    kind                text NOT NULL,
    amount              bigint NOT NULL,
    currency            text NOT NULL,
    status              text NOT NULL,
    stripe_transfer_id  text,
    attempts            integer NOT NULL,
    retries             integer NOT NULL,
    failure_reason      text,
    retryable           boolean,
    reversed_amount     bigint NOT NULL,
    requested_at        timestamptz NOT NULL,
    paid_at             timestamptz,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX payouts_newest ON payouts (requested_at DESC, id DESC);
CREATE INDEX payouts_by_status ON payouts (status, requested_at DESC, id DESC);
CREATE INDEX payouts_of_worker ON payouts (worker_id, requested_at DESC, id DESC);
CREATE INDEX payouts_of_worker_by_status ON payouts (worker_id, status, requested_at DESC, id DESC);
CREATE INDEX payouts_of_submission ON payouts (submission_id);

CREATE TABLE worker_earnings (
    worker_id  uuid NOT NULL,
    currency   text NOT NULL,
    earned     bigint NOT NULL DEFAULT 0,
    paid       bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (worker_id, currency)
);

-- projection "ledger": double entry, every money event is a pair of entries summing to 0
CREATE TABLE ledger_entries (
    position      bigint NOT NULL,
    seq           smallint NOT NULL,
    account       text NOT NULL,
    owner         text NOT NULL,
    currency      text NOT NULL,
    amount        bigint NOT NULL,
    event_type    text NOT NULL,
    occurred_at   timestamptz NOT NULL,
    PRIMARY KEY (position, seq)
);
CREATE INDEX ledger_entries_of_account ON ledger_entries (account, position, seq);
CREATE INDEX ledger_entries_of_owner ON ledger_entries (owner, position, seq);

CREATE TABLE ledger_balances (
    account   text NOT NULL,
    currency  text NOT NULL,
    balance   bigint NOT NULL,
    PRIMARY KEY (account, currency)
);

-- what the ledger remembers to book later events that do not repeat it
CREATE TABLE ledger_requesters (
    requester_id  uuid PRIMARY KEY,
    currency      text NOT NULL
);
CREATE TABLE ledger_payouts (
    payout_id  uuid PRIMARY KEY,
    worker_id  uuid NOT NULL,
    amount     bigint NOT NULL,
    currency   text NOT NULL
);

-- projection "event_log": the global log for partners and the API, with a gap-free
-- position (notification ids skip the numbers of rolled-back inserts).
CREATE TABLE event_log (
    position           bigint PRIMARY KEY,
    notification_id    bigint NOT NULL UNIQUE,
    type               text NOT NULL,
    aggregate_id       uuid NOT NULL,
    aggregate_kind     text NOT NULL,
    aggregate_version  bigint NOT NULL,
    occurred_at        timestamptz NOT NULL,
    requester_id       uuid,
    data               jsonb NOT NULL
);
CREATE INDEX event_log_of_requester ON event_log (requester_id, position);
CREATE INDEX event_log_of_requester_by_type ON event_log (requester_id, type, position);
CREATE INDEX event_log_of_aggregate ON event_log (aggregate_id, position);
CREATE INDEX event_log_by_type ON event_log (type, position);

CREATE TABLE event_log_owners (
    aggregate_id  uuid PRIMARY KEY,
    requester_id  uuid NOT NULL
);
