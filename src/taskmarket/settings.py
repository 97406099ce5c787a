"""Configuration read from the environment and the command line, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path(".taskmarket")
    database_url: str | None = None
    redis_url: str | None = None
    stripe_api_key: str | None = None
    stripe_webhook_secret: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, data_dir: str | Path | None = None) -> "Settings":
        env = os.environ
        chosen = data_dir or env.get("TASKMARKET_DATA_DIR") or ".taskmarket"
        return cls(
            data_dir=Path(chosen).expanduser().resolve(),
            database_url=env.get("DATABASE_URL") or None,
            redis_url=env.get("REDIS_URL") or None,
            stripe_api_key=env.get("STRIPE_API_KEY") or None,
            stripe_webhook_secret=env.get("STRIPE_WEBHOOK_SECRET") or None,
        )
