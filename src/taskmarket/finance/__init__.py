"""Finance: tamper evidence of the log, reconciliation with Stripe, exports."""
