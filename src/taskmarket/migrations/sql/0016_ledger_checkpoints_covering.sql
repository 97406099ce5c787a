-- Balances as of a position (issue 15, figure F): the checkpoint's key carries the balance
-- too, so reading one checkpoint's rows is an index-only scan of adjacent index pages
-- instead of one heap visit per account (the visibility map marks the checkpoints, which
-- are never updated, all-visible once vacuumed).
ALTER TABLE ledger_checkpoints
    DROP CONSTRAINT ledger_checkpoints_pkey,
    ADD CONSTRAINT ledger_checkpoints_pkey PRIMARY KEY (position, account, currency)
        INCLUDE (balance);
