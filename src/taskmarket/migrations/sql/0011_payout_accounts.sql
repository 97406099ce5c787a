-- projection "workers": what Stripe says of each worker's connected account
ALTER TABLE workers ADD COLUMN payout_account_status text;
ALTER TABLE workers ADD COLUMN requirements_due text[] NOT NULL DEFAULT '{}';
CREATE INDEX workers_by_stripe_account ON workers (stripe_account_id)
    WHERE stripe_account_id IS NOT NULL;

-- projection "payouts": a bonus's reason
ALTER TABLE payouts ADD COLUMN reason text;
