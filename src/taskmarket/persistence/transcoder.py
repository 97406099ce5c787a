"""The event store's transcoder: the library's JSON, written by orjson where that is the same.

eventsourcing's ``JSONTranscoder`` encodes with the standard library's C encoder, which
calls back into Python for every UUID and datetime (the library's transcodings). That was
~8% of the interpreter's time in a claim at 16 callers (issue 14). Here the state is first
walked in Python (the registered transcodings applied, as the library's callback would)
and the result serialised by orjson, which writes the very bytes the library writes
(compact separators, UTF-8 without ``\\u`` escapes) for the values the walk lets through:
str, int, bool, None, lists, tuples and dicts with str keys. Anything else (floats, whose
text differs between the two; other key types; subclasses; types without a transcoding;
integers past 64 bits) is handed to the library's encoder unchanged, so every state is
written exactly as before, and decoding is the library's. Events are forever: this changes
how bytes are produced, never which.
"""

from __future__ import annotations

from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder


class _Unusual(Exception):
    """A value the fast path leaves to the library's encoder."""


class OrjsonJSONTranscoder(JSONTranscoder):
    """``JSONTranscoder`` whose ``encode`` produces the same bytes faster."""

    def encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(self._plain(obj))
        except (_Unusual, orjson.JSONEncodeError, RecursionError):
            return super().encode(obj)

    def _plain(self, value: Any) -> Any:
        kind = type(value)
        if kind is str or kind is int or kind is bool or value is None:
            return value
        if kind is dict:
            plain = {}
            for key, item in value.items():
                if type(key) is not str:
                    raise _Unusual
                plain[key] = self._plain(item)
            return plain
        if kind is list or kind is tuple:
            return [self._plain(item) for item in value]
        if isinstance(value, (str, int, float, list, tuple, dict)):
            raise _Unusual  # floats, and subclasses, which the library's encoder writes as is
        transcoding = self.types.get(kind)
        if transcoding is None:
            raise _Unusual  # the library's encoder raises its error for it
        return {"_type_": transcoding.name, "_data_": self._plain(transcoding.encode(value))}
