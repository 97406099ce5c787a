"""The one place that reads the wall clock; the domain receives time as an argument."""

from datetime import datetime, timezone


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
