"""Running a command again when a concurrent command saved the same aggregate first."""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from eventsourcing.persistence import IntegrityError

from .domain import DomainError

MAX_ATTEMPTS = 64
F = TypeVar("F", bound=Callable[..., Any])


def retry_on_conflict(method: F) -> F:
    """Run a command again when a concurrent command saved the same aggregate first."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(MAX_ATTEMPTS):
            try:
                return method(*args, **kwargs)
            except IntegrityError:
                if attempt == MAX_ATTEMPTS - 1:
                    raise DomainError("CONFLICT", "too many concurrent changes; try again")
                time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 10)))
        raise AssertionError("unreachable")

    return wrapper  # type: ignore[return-value]
