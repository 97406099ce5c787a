"""A kind of document kept in the SQLite file only, read through a small cache.

Stripe keeps every transfer, reversal and event it made and answers for each (and an
idempotency key for at least a day). An emulator that also holds all of them in memory
grows for as long as it runs (a serve paying a few payouts a second grew by megabytes a
minute). With a state file, those kinds live in it alone: ``DocumentMap`` is the mapping
the store uses for one kind, and memory holds only the last ``cache_size`` documents read
or written (so a document changed in place stays the same object until it is written).

Writes go through the store (``Store._put``) as in memory, right after the change and
under the store's lock; assigning to the map only caches the document.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

from .persistence import Persistence

CACHE_SIZE = 256


class DocumentMap(MutableMapping):
    """The documents of one ``kind`` by id, in insertion order, read from ``db``."""

    def __init__(self, db: Persistence, kind: str, *,
                 decode: Callable[[Any], Any] = lambda body: body,
                 cache_size: int | None = None) -> None:
        self._db = db
        self._kind = kind
        self._decode = decode
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._cache_size = CACHE_SIZE if cache_size is None else cache_size

    def _remember(self, doc_id: str, value: Any) -> None:
        self._cache[doc_id] = value
        self._cache.move_to_end(doc_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def __getitem__(self, doc_id: str) -> Any:
        if doc_id in self._cache:
            self._cache.move_to_end(doc_id)
            return self._cache[doc_id]
        body = self._db.get(self._kind, doc_id)
        if body is None:
            raise KeyError(doc_id)
        value = self._decode(body)
        self._remember(doc_id, value)
        return value

    def __setitem__(self, doc_id: str, value: Any) -> None:
        self._remember(doc_id, value)

    def __delitem__(self, doc_id: str) -> None:
        self._cache.pop(doc_id, None)
        self._db.delete(self._kind, doc_id)

    def __contains__(self, doc_id: object) -> bool:
        if not isinstance(doc_id, str):
            return False
        try:
            self[doc_id]  # cached: a look is usually followed by a read
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._db.ids(self._kind))

    def __len__(self) -> int:
        return self._db.count(self._kind)

    def values(self) -> list[Any]:  # type: ignore[override]
        """Every document, oldest first: one query, not one per id."""
        return [self._cache.get(doc_id) or self._decode(body)
                for doc_id, body in self._db.all(self._kind)]

    def items(self) -> list[tuple[str, Any]]:  # type: ignore[override]
        return [(doc_id, self._cache.get(doc_id) or self._decode(body))
                for doc_id, body in self._db.all(self._kind)]

    def where(self, equals: dict[str, str | None],
              created: dict[str, int] | None = None) -> list[Any]:
        """The documents whose top-level fields equal ``equals`` (None: any) and whose
        ``created`` is in range (``{"gte": ...}``, as list calls filter), oldest first:
        filtered in the file, so a list call decodes its matches, not every document."""
        return [self._cache.get(doc_id) or self._decode(body)
                for doc_id, body in self._db.matching(self._kind, equals, created or {})]

    @property
    def in_memory(self) -> int:
        """How many documents of this kind memory holds now (at most the cache size)."""
        return len(self._cache)
