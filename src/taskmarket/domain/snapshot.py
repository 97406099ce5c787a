"""Snapshots of aggregates whose state holds more than JSON can say.

eventsourcing's default snapshot stores ``vars(aggregate)`` through the JSON transcoder,
which cannot hold a dict keyed by UUID, a set, an enum or a dataclass (a Task's claims,
a Requester's references). This snapshot writes the state as tagged primitives and reads
it back to the same Python values, so a loaded snapshot equals the replayed aggregate.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Snapshot
from eventsourcing.utils import get_topic, resolve_topic


def to_primitive(value: Any) -> Any:
    """JSON-safe form: scalars stay; everything else is a list whose first item is a tag."""
    if isinstance(value, enum.Enum):  # first: str- and int-valued enums are str and int too
        return ["e", get_topic(type(value)), value.value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, UUID):
        return ["u", value.hex]
    if isinstance(value, datetime):
        return ["t", value.isoformat()]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return ["d", get_topic(type(value)),
                *(to_primitive(getattr(value, f.name)) for f in dataclasses.fields(value))]
    if isinstance(value, dict):
        return ["m", *(to_primitive(item) for pair in value.items() for item in pair)]
    if isinstance(value, (set, frozenset)):
        return ["s", *(to_primitive(v) for v in value)]
    if isinstance(value, tuple):
        return ["p", *(to_primitive(v) for v in value)]
    if isinstance(value, list):
        return ["l", *(to_primitive(v) for v in value)]
    raise TypeError(f"cannot snapshot a {type(value).__name__}")


def from_primitive(value: Any) -> Any:
    if type(value) is not list:
        return value
    return _DECODERS[value[0]](value)


@functools.lru_cache(maxsize=256)
def _resolve(topic: str) -> Any:
    return resolve_topic(topic)


def _pairs(value: list) -> dict:
    items = [from_primitive(v) for v in value[1:]]
    return dict(zip(items[::2], items[1::2]))


_DECODERS = {
    "e": lambda v: _resolve(v[1])(v[2]),
    "u": lambda v: UUID(v[1]),
    "t": lambda v: datetime.fromisoformat(v[1]),
    "d": lambda v: _resolve(v[1])(*(from_primitive(x) for x in v[2:])),
    "m": _pairs,
    "s": lambda v: {from_primitive(x) for x in v[1:]},
    "p": lambda v: tuple(from_primitive(x) for x in v[1:]),
    "l": lambda v: [from_primitive(x) for x in v[1:]],
}


@dataclasses.dataclass(frozen=True)
class StateSnapshot(Snapshot):
    """A snapshot whose state survives JSON: ``take`` encodes it, ``mutate`` decodes it."""

    @classmethod
    def take(cls, aggregate: Any) -> "StateSnapshot":
        plain = Snapshot.take.__func__(cls, aggregate)  # the library's field selection
        return dataclasses.replace(plain, state=to_primitive(plain.state))

    def mutate(self, _: None) -> Any:
        return Snapshot.mutate(dataclasses.replace(self, state=from_primitive(self.state)), None)
