"""The event store's transcoder writes exactly the bytes eventsourcing's JSON transcoder
writes (events are forever: the stored format must not move), only faster."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum, IntEnum
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)
from hypothesis import given
from hypothesis import strategies as st

from taskmarket.bootstrap import EVENT_STORE
from taskmarket.persistence.mapping import event_mapper
from taskmarket.persistence.transcoder import OrjsonJSONTranscoder

GOLDEN = Path(__file__).parents[1] / "fixtures" / "golden_log"


def with_library_transcodings(transcoder: JSONTranscoder) -> JSONTranscoder:
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    return transcoder


LIBRARY = with_library_transcodings(JSONTranscoder())
OURS = with_library_transcodings(OrjsonJSONTranscoder())


class Colour(str, Enum):
    RED = "red"


class Level(IntEnum):
    HIGH = 3


leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(),
    st.uuids(), st.decimals(allow_nan=False),
    st.datetimes(timezones=st.sampled_from([None, timezone.utc, timezone(timedelta(hours=-5))])),
    st.sampled_from([Colour.RED, Level.HIGH]),
)
states = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.text(), inner, max_size=4),
        st.dictionaries(st.integers(), inner, max_size=2),
    ),
    max_leaves=20,
)


def same_outcome(value: object) -> bytes | type[BaseException]:
    """The library's bytes for ``value``, checked to be ours too (or the same error)."""
    try:
        expected: bytes | type[BaseException] = LIBRARY.encode(value)
    except Exception as error:  # noqa: BLE001 - compared below
        expected = type(error)
    try:
        actual: bytes | type[BaseException] = OURS.encode(value)
    except Exception as error:  # noqa: BLE001 - compared below
        actual = type(error)
    assert actual == expected
    return actual


@given(st.dictionaries(st.text(), states, max_size=6))
def test_any_event_state_is_written_as_the_library_writes_it(state):
    same_outcome(state)


def test_every_character_is_escaped_as_the_library_escapes_it():
    text = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    assert same_outcome({"key" + text[:2048]: text}) == LIBRARY.encode(
        {"key" + text[:2048]: text})


def test_what_the_library_cannot_write_fails_the_same_way():
    assert same_outcome({"a": object()}) is TranscodingNotRegisteredError
    assert same_outcome({"a": "\ud800"}) is UnicodeEncodeError  # a lone surrogate
    assert same_outcome({"big": 2**80, "at": datetime(2026, 1, 1)}) == (
        b'{"big":1208925819614629174706176,'
        b'"at":{"_type_":"datetime_iso","_data_":"2026-01-01T00:00:00"}}')


@pytest.mark.parametrize("log", sorted(GOLDEN.glob("*.jsonl")), ids=lambda p: p.stem)
def test_every_golden_event_is_written_again_byte_for_byte(log):
    """Each stored state of the golden logs, read back and written again by the event
    store's configured mapper, is the bytes it was stored as."""
    mapper = event_mapper(EVENT_STORE)
    assert isinstance(mapper.transcoder, OrjsonJSONTranscoder)
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    checked = 0
    for row in rows:
        if "state" not in row:
            continue  # a compressed or binary state: not JSON text
        stored = row["state"].encode("utf-8")
        assert mapper.transcoder.encode(LIBRARY.decode(stored)) == stored
        checked += 1
    assert checked > 0


def test_a_stored_event_reads_back_to_the_same_event():
    mapper = event_mapper(EVENT_STORE)
    state = {"worker_id": UUID(int=7), "at": datetime(2026, 11, 30, tzinfo=timezone.utc),
             "amount": Decimal("1.50"), "skills": ["vision", "audio"], "note": None}
    assert mapper.transcoder.decode(mapper.transcoder.encode(state)) == state
