"""Side effects driven by the event log: Stripe payouts, lease expiry and auto-approval.

The dispatcher follows the log and sends Dramatiq messages (IDs only); idempotent actors do
the work; the sweeper re-sends what is due and was not done, so a lost message only delays.
"""
