-- Finance (issue 15): the log's hash chain, ledger balance checkpoints, reconciliation runs.

-- projection "event_log": one link of the hash chain per event (see projections/audit_chain.py).
CREATE TABLE event_hashes (
    position         bigint PRIMARY KEY,
    notification_id  bigint NOT NULL UNIQUE,
    hash             text NOT NULL
);

-- projection "ledger": every account's balance after each CHECKPOINT_EVERY-th entry position,
-- so a balance as of any position reads one checkpoint plus the entries after it.
CREATE TABLE ledger_checkpoints (
    position  bigint NOT NULL,
    account   text NOT NULL,
    currency  text NOT NULL,
    balance   bigint NOT NULL,
    PRIMARY KEY (position, account, currency)
);
-- accountBalances(at:): the last event at or before a time.
CREATE INDEX event_log_by_time ON event_log (occurred_at, position);

-- projection "reconciliations": each reconciliation run with Stripe and what it found.
CREATE TABLE reconciliation_runs (
    id                  uuid PRIMARY KEY,
    started_at          timestamptz NOT NULL,
    finished_at         timestamptz,
    period_from         timestamptz NOT NULL,
    period_to           timestamptz NOT NULL,
    payouts_compared    integer NOT NULL,
    transfers_compared  integer NOT NULL,
    discrepancies       jsonb NOT NULL
);
CREATE INDEX reconciliation_runs_newest ON reconciliation_runs (started_at DESC, id DESC);

-- Payout.trace: the event that funded a payout (a task's escrow reservation, a bonus).
CREATE INDEX event_log_escrow_of_task ON event_log ((data->>'taskId'))
    WHERE type = 'RequesterEscrowReserved';
CREATE INDEX event_log_bonus_of_payout ON event_log ((data->>'payoutId'))
    WHERE type = 'RequesterBonusFunded';

-- Reconciliation: our payouts paid during a period.
CREATE INDEX payouts_paid_at ON payouts (paid_at) WHERE status = 'PAID';
