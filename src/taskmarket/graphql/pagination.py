"""Relay connections over keyset pages: ask the read model for one row more than asked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry

from .errors import ClientError

DEFAULT_PAGE = 20
MAX_PAGE = 100

T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo


def page_size(first: int | None) -> int:
    """``first`` checked against 1..100; 20 when omitted."""
    if first is None:
        return DEFAULT_PAGE
    if not 1 <= first <= MAX_PAGE:
        raise ClientError(f"first must be from 1 to {MAX_PAGE}, got {first}")
    return first


def connection(rows: Sequence[Any], first: int, to_node: Callable[[Any], T]) -> Connection[T]:
    """A connection of the first ``first`` of ``rows`` (fetched with one extra row)."""
    page = list(rows[:first])
    edges = [Edge(cursor=str(row.cursor), node=to_node(row)) for row in page]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=len(rows) > first,
                           end_cursor=edges[-1].cursor if edges else None),
    )


def empty_connection() -> Connection[Any]:
    return Connection(edges=[], page_info=PageInfo(has_next_page=False, end_cursor=None))
