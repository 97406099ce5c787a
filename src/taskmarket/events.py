"""What the outside world calls our events: a type name and a JSON body.

The public type of an event is its aggregate's class name followed by the event class
name (``Task.Claimed`` -> ``TaskClaimed``). The API, the projections, the dispatcher and
webhooks all name events through this module, so they always agree.
"""

from __future__ import annotations

import datetime
import enum
import uuid
from typing import Any

# Attributes every event has, or that only matter to the event store.
_ENVELOPE = frozenset({"originator_id", "originator_version", "originator_topic", "timestamp"})


def _is_private(name: str) -> bool:
    """Secrets and their hashes (API keys', webhook endpoints', any future one's) never
    leave the event store: an attribute whose name mentions a secret is left out."""
    return "secret" in name


def _qualname(topic_or_event: Any) -> str:
    if isinstance(topic_or_event, str):
        return topic_or_event.rpartition(":")[2]
    return type(topic_or_event).__qualname__


_TYPE_OF_CLASS: dict[type, str] = {}


def event_type(topic_or_event: Any) -> str:
    """``taskmarket.domain.task:Task.Claimed`` (or such an event object) -> ``TaskClaimed``."""
    if isinstance(topic_or_event, str):
        return _qualname(topic_or_event).replace(".", "")
    cls = type(topic_or_event)
    name = _TYPE_OF_CLASS.get(cls)
    if name is None:
        name = _TYPE_OF_CLASS[cls] = cls.__qualname__.replace(".", "")
    return name


_KIND_OF_CLASS: dict[type, str] = {}


def aggregate_kind(topic_or_event: Any) -> str:
    """The aggregate class an event belongs to: ``Task``, ``Payout``, ``Requester``..."""
    if isinstance(topic_or_event, str):
        return _qualname(topic_or_event).partition(".")[0]
    cls = type(topic_or_event)
    kind = _KIND_OF_CLASS.get(cls)
    if kind is None:
        kind = _KIND_OF_CLASS[cls] = cls.__qualname__.partition(".")[0]
    return kind


_CAMEL: dict[str, str] = {}


def camel(name: str) -> str:
    known = _CAMEL.get(name)
    if known is None:
        head, *rest = name.split("_")
        known = _CAMEL[name] = head + "".join(part.title() for part in rest)
    return known


_PLAIN = (str, int, float, bool, type(None))


def to_json_value(value: Any) -> Any:
    """UUIDs as strings, datetimes as ISO 8601, enums as their value, containers deeply."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is uuid.UUID:
        return str(value)
    if isinstance(value, enum.Enum):
        return to_json_value(value.value)
    if isinstance(value, (str, int, float)):
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_json_value(v) for v in value]
    return value


def event_fields(event: Any) -> dict[str, Any]:
    """An event's public attributes in camelCase, values as they are (UUIDs, datetimes):
    for serializers that know those types."""
    return {camel(name): value for name, value in vars(event).items()
            if name not in _ENVELOPE and not _is_private(name)}


def event_data(event: Any) -> dict[str, Any]:
    """The public JSON body of an event: its attributes in camelCase, secrets left out."""
    return {name: to_json_value(value) for name, value in event_fields(event).items()}


def data_fields(event_class: type) -> dict[str, str]:
    """The public ``data`` fields an event class carries (camelCase) and their declared
    Python types, as ``event_data`` will show them: for the docs and their tests."""
    import dataclasses

    return {camel(field.name): str(field.type) for field in dataclasses.fields(event_class)
            if field.name not in _ENVELOPE and not _is_private(field.name)}
