"""The per-request context: the viewer behind the API key, the services, DataLoaders."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from starlette.concurrency import run_in_threadpool
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from ..application import Marketplace
from ..domain import DomainError
from ..domain.values import unstorable
from .auth import Viewer
from .consistency import ReadsAfter
from .errors import ClientError
from .watcher import LogWatcher

BatchLookup = Callable[[list[UUID]], Mapping[UUID, Any]]


def batch_loader(lookup: BatchLookup) -> DataLoader[UUID, Any]:
    """A DataLoader that answers every key of a tick with one call of ``lookup``."""

    async def load(keys: list[UUID]) -> list[Any]:
        found = await run_in_threadpool(lookup, list(keys))
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load)


class Loaders:
    """One DataLoader per row kind, created on first use within a request."""

    KINDS = ("requesters", "workers", "tasks", "claims", "submissions", "payouts", "batches",
             "consensus", "gold_totals", "worker_stats", "flagged_submissions")

    def __init__(self, reads: Any):
        self._reads = reads
        self._made: dict[str, DataLoader[UUID, Any]] = {}

    def __getattr__(self, kind: str) -> DataLoader[UUID, Any]:
        if kind not in self.KINDS:
            raise AttributeError(kind)
        if kind not in self._made:
            self._made[kind] = batch_loader(getattr(self._reads, kind))
        return self._made[kind]

    def clear(self) -> None:
        """Forget what was loaded (after a mutation changed it)."""
        self._made.clear()


@dataclass
class Services:
    """What the API needs from the composition root."""

    marketplace: Marketplace
    reads: Any
    # Workers' connected accounts at Stripe (payout_accounts.PayoutAccounts); None when
    # this process has no Stripe connection.
    payout_accounts: Any = None
    # How long a mutation waits for the projections to show its own writes.
    read_your_writes_timeout: float = field(default_factory=lambda: float(
        os.environ.get("TASKMARKET_READ_YOUR_WRITES_SECONDS", "5")))
    # Ends the WebSocket sessions of revoked keys (built by create_app; None: not followed).
    revocations: Any = None
    # Authenticates requests from the keys already seen (known_keys.KnownKeys; None: every
    # request loads its key from the event store).
    keys: Any = None
    # Builds the Stripe reconciler on first use (serve starts its Stripe emulator after the
    # app is built); None where no Stripe is configured.
    reconciler_factory: Callable[[], Any] | None = None
    watcher: LogWatcher = field(init=False)

    def __post_init__(self) -> None:
        self.watcher = LogWatcher(self.reads)

    def reconciler(self) -> Any:
        if self.reconciler_factory is None:
            raise DomainError("NOT_CONFIGURED", "this server has no Stripe to reconcile with")
        return self.reconciler_factory()


@dataclass
class Context:
    services: Services
    request: Any = None
    response: Any = None
    viewer: Viewer | None = None
    request_id: str | None = None
    connection_params: dict[str, Any] | None = None
    loaders: Loaders = field(init=False)
    # The read models, waiting for the log position this request depends on (its own
    # writes, or the one its client passed); see consistency.py.
    reads_after: ReadsAfter = field(init=False)
    # The log position of the last event this request's mutations wrote (0: none).
    written_position: int = 0

    def __post_init__(self) -> None:
        self.reads_after = ReadsAfter(self.services.reads,
                                      self.services.read_your_writes_timeout)
        self.loaders = Loaders(self.reads_after)

    @property
    def marketplace(self) -> Marketplace:
        return self.services.marketplace

    @property
    def reads(self) -> Any:
        return self.reads_after

    def wrote(self, position: int) -> None:
        """This request's command wrote up to ``position``: reads wait for it, and the
        client gets it back as its read-your-writes token."""
        self.written_position = max(self.written_position, position)
        self.reads_after.require(position)

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a blocking read off the event loop; bad input (a malformed cursor) is the
        client's error, not ours."""
        for arg in args:  # a query's text arguments reach SQL: PostgreSQL must hold them
            texts = arg if isinstance(arg, (list, tuple)) else [arg]
            if any(isinstance(t, str) and unstorable(t) for t in texts):
                raise ClientError("text arguments must not contain NUL or lone surrogates",
                                  "INVALID_INPUT")
        try:
            return await run_in_threadpool(fn, *args)
        except DomainError as error:
            raise ClientError(error.message, error.code) from None

    def need_viewer(self) -> Viewer:
        if self.viewer is None:  # the transport refuses such requests before this
            raise DomainError("UNAUTHENTICATED", "an API key is required")
        return self.viewer


def ctx(info: Info) -> Context:
    return info.context


async def load_many(loader: DataLoader[UUID, Any], keys: Iterable[UUID]) -> list[Any]:
    return list(await loader.load_many(list(keys)))


async def load_optional(loader: DataLoader[UUID, Any], key: UUID | None,
                        node_type: Any) -> Any:
    """``node_type.from_row`` of the row ``loader`` finds for ``key``; None for no key or
    no row (a link that may be absent)."""
    if key is None:
        return None
    row = await loader.load(key)
    return node_type.from_row(row) if row else None
