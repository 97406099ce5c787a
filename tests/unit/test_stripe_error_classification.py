"""Which Stripe failures are worth retrying, and which need finance to act."""

import stripe

from taskmarket.jobs.stripe_gateway import classify


def test_network_trouble_rate_limits_and_stripe_outages_are_retried():
    for error in (stripe.APIConnectionError("connection closed without response"),
                  stripe.RateLimitError("slow down", http_status=429),
                  stripe.APIError("boom", http_status=500),
                  stripe.APIError("bad gateway", http_status=502),
                  stripe.IdempotencyError("a request with this key is running",
                                          http_status=409)):
        assert classify(error).retryable, error


def test_a_bad_account_or_an_empty_platform_balance_fails_for_good():
    invalid = classify(stripe.InvalidRequestError(
        "cannot receive transfers", "destination", code="account_invalid", http_status=400))
    broke = classify(stripe.InvalidRequestError(
        "insufficient funds", None, code="balance_insufficient", http_status=400))
    assert (invalid.retryable, broke.retryable) == (False, False)
    assert invalid.reason.startswith("ACCOUNT_INVALID")
    assert broke.reason.startswith("BALANCE_INSUFFICIENT")


def test_a_key_reused_with_other_parameters_is_not_retried_with_the_same_key():
    failure = classify(stripe.IdempotencyError("keys can only be used with the same params",
                                               http_status=400))
    assert (failure.reason, failure.retryable) == ("IDEMPOTENCY_CONFLICT", False)


def test_our_own_bad_api_key_waits_for_a_fix_instead_of_failing_the_worker():
    assert classify(stripe.AuthenticationError("Invalid API Key", http_status=401)).retryable
