"""How hard and how long the deliverer tries: timeouts, backoff with jitter, when to give up."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, replace

from .ssrf import allow_private_from_env


@dataclass(frozen=True)
class DeliveryPolicy:
    timeout: float = 10.0              # a 2xx within this many seconds counts as delivered
    base_delay: float = 10.0           # first retry after about this long
    max_delay: float = 6 * 3600.0      # retries never wait longer than this
    horizon: float = 3 * 24 * 3600.0   # failing for this long disables the endpoint
    max_failures: int = 25             # ...and so do this many consecutive failures
    batch: int = 100                   # events read per endpoint tick
    tick_budget: float = 20.0          # no new POST starts after this long in one tick
    lease: float = 60.0                # how long a claimed endpoint stays ours
    poll_interval: float = 0.25        # idle wait between looks at the log
    workers: int = 4                   # delivery threads per process
    allow_private: bool = False        # TASKMARKET_WEBHOOK_ALLOW_PRIVATE=1

    def retry_delay(self, failures: int, rng: random.Random = random._inst) -> float:
        """Seconds before the next attempt after ``failures`` consecutive failures.

        Exponential, capped, with equal jitter: half the delay is fixed so retries never
        bunch up at zero, the other half random so endpoints that failed together (one
        outage) do not retry in lockstep.
        """
        delay = min(self.max_delay, self.base_delay * 2 ** max(0, failures - 1))
        return delay / 2 + rng.uniform(0, delay / 2)

    def gives_up(self, failures: int, failing_for: float) -> str | None:
        """Why the endpoint should be disabled now, or None to keep retrying."""
        if failures >= self.max_failures:
            return f"{failures} consecutive failed deliveries"
        if failing_for >= self.horizon:
            return f"deliveries failing for more than {_duration(self.horizon)}"
        return None

    @classmethod
    def from_env(cls, **overrides) -> "DeliveryPolicy":
        env = os.environ
        policy = cls(allow_private=allow_private_from_env())
        numbers = {"horizon": "TASKMARKET_WEBHOOK_HORIZON_SECONDS",
                   "max_failures": "TASKMARKET_WEBHOOK_MAX_FAILURES",
                   "workers": "TASKMARKET_WEBHOOK_WORKERS"}
        for name, variable in numbers.items():
            if env.get(variable):
                kind = type(getattr(policy, name))
                policy = replace(policy, **{name: kind(env[variable])})
        return replace(policy, **overrides)


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    return f"{seconds:g} seconds"
