-- Side effects the workers owe, derived from the event log by the dispatcher: a payout to
-- pay, a lease to expire, a submission to auto-approve. The sweeper re-sends rows that are
-- due, not done and not touched for a while, so a lost broker message only delays work.
CREATE TABLE scheduled_work (
    kind          text NOT NULL,          -- 'pay' | 'expire' | 'auto_approve'
    subject_id    uuid NOT NULL,          -- payout id | claim id | submission id
    aggregate_id  uuid NOT NULL,          -- payout id | task id
    worker_id     uuid,                   -- for payouts: whose account they wait for
    due_at        timestamptz NOT NULL,
    sent_at       timestamptz,            -- last message sent or attempt started
    done_at       timestamptz,
    PRIMARY KEY (kind, subject_id)
);

CREATE INDEX scheduled_work_due ON scheduled_work (due_at) WHERE done_at IS NULL;
CREATE INDEX scheduled_work_payouts_of_worker ON scheduled_work (worker_id)
    WHERE done_at IS NULL AND kind = 'pay';
