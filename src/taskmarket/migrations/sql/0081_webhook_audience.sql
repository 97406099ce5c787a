-- Whose reading rights an endpoint's deliveries follow: the role of the key that last
-- configured it (see event_visibility.py). Endpoints from before were REQUESTER's.
ALTER TABLE webhook_endpoint_state ADD COLUMN audience text NOT NULL DEFAULT 'REQUESTER';
