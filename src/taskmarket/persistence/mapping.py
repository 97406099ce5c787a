"""The event store's mapper (stored events <-> domain events) for code that only reads.

The application builds its mapper from its environment as eventsourcing's ``Application``
does (the JSON transcoder with the library's transcodings); taskmarket's application adds
no transcodings of its own. A follower of the log builds the same mapper here without the
application, and without opening a second connection pool (in-memory persistence module).
"""

from __future__ import annotations

from typing import Any

from eventsourcing.application import Application


def event_mapper(env: dict[str, str]) -> Any:
    """The mapper an application with ``env`` uses."""
    return Application(env={**env, "PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper
