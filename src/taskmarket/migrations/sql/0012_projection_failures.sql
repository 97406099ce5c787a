-- A projection that cannot apply the next batch says so where every process can see it:
-- /readyz, `projections status` and mutations waiting for their writes read these columns.
-- Cleared by the next batch the projection applies (or by a rebuild).
ALTER TABLE projection_positions
    ADD COLUMN error     text,
    ADD COLUMN failed_at timestamptz,
    ADD COLUMN failures  integer NOT NULL DEFAULT 0;
