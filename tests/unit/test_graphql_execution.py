"""The plain-leaf executor (graphql/execution.py) fails, nulls and completes leaf fields
exactly as graphql-core's general execution does, including values no resolver of ours
returns today: null in a non-null field, an exception or an awaitable as an attribute, a
value its scalar or enum cannot serialize. Fields it must not read directly (a resolver,
a permission class, a resolve hook of an extension) still go through strawberry."""

from __future__ import annotations

import asyncio
from enum import Enum
from collections.abc import AsyncGenerator
from typing import Any, NewType, Optional

import orjson
import pytest
import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission
from strawberry.schema.config import StrawberryConfig

from taskmarket.graphql.execution import (
    PlainLeafExecutor, SubscriptionSafeExecutor, plain_leaf,
)


@strawberry.enum
class Colour(Enum):
    RED = "RED"
    BLUE = "BLUE"


Odd = NewType("Odd", str)
CONFIG = StrawberryConfig(scalar_map={Odd: strawberry.scalar(
    name="Odd", serialize=lambda v: 1 // 0 if v == "bad" else v, parse_value=str)})


class Never(BasePermission):
    message = "not for you"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


class later:  # noqa: N801 - reads as a call: later(value)
    """An awaitable that is not a coroutine (none is left unawaited when unselected)."""

    def __init__(self, value: Any):
        self.value = value

    def __await__(self) -> Any:
        return self.value
        yield  # a generator: awaiting it returns the value at once


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Item(Named):  # with an interface: strawberry gives it an isinstance is_type_of
    name: str
    note: Optional[str]
    colour: Colour
    maybe_colour: Optional[Colour]
    odd: Odd
    count: int
    secret: str = strawberry.field(permission_classes=[Never])

    @strawberry.field
    def computed(self) -> str:
        return self.name.upper()


@strawberry.type
class Box:  # no interface: no is_type_of
    item: Optional[Item]
    strict_item: Item


@strawberry.type
class Holder:
    item: Optional[Item]
    strict_item: Item
    items: list[Optional[Item]]
    boxes: list[Optional[Box]]
    strict_boxes: Optional[list[Box]] = None


def boxes() -> list[Box]:
    """Object fields read by attribute, with each kind of value an object field can have."""
    made = items()
    return [
        Box(item=made[0], strict_item=made[0]),
        Box(item=None, strict_item=made[0]),
        Box(item=made[0], strict_item=None),                 # null in a non-null object
        Box(item=ValueError("no item"), strict_item=made[0]),  # an exception as the value
        Box(item=later(made[0]), strict_item=later(made[3])),  # awaitables
        Box(item=later(None), strict_item=made[0]),
        Box(item="not an item", strict_item=made[0]),        # fails Item's is_type_of
        Box(item=made[1], strict_item=made[0]),              # its non-null leaf fails
        Box(item=made[0], strict_item=made[1]),              # ... under a non-null object
    ]


def item(**overrides: Any) -> Item:
    values: dict[str, Any] = dict(name="a", note=None, colour=Colour.RED, maybe_colour=None,
                                  odd="ok", count=1, secret="s")
    values.update(overrides)
    return Item(**values)


def items() -> list[Item]:
    """Fresh each time: an awaitable can be awaited once."""
    return [
        item(),
        item(name=None),                              # null in a non-null leaf
        item(note=ValueError("a note that failed")),  # an exception as the value
        item(name=later("awaited")),                  # an awaitable as the value
        item(note=later(None), count=later(7)),
        item(colour="GREEN"),                         # not a value of the enum
        item(maybe_colour="GREEN"),
        item(odd="bad"),                              # its scalar's serialize raises
        item(count="many"),                           # not an Int
        item(count=2**40),                            # beyond GraphQL's Int
    ]


@strawberry.type
class Query:
    @strawberry.field
    def holder(self) -> Holder:
        made = items()
        return Holder(item=made[0], strict_item=made[1], items=made, boxes=boxes(),
                      strict_boxes=boxes()[:2] + [None] + boxes()[:1])  # null: non-null item

    @strawberry.field
    async def late_holder(self) -> Holder:
        made = items()
        return Holder(item=made[3], strict_item=made[0], items=tuple(made[2:5]),
                      boxes=[*boxes()[3:6], later(boxes()[0]), "not a box", None],
                      strict_boxes=[*boxes()[:2], ValueError("no box")])


class ResolveHook(SchemaExtension):
    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        result = _next(root, info, *args, **kwargs)
        return result.upper() if isinstance(result, str) and info.field_name == "name" \
            else result


QUERIES = [
    "{ holder { items { name note colour maybeColour odd count computed } } }",
    "{ holder { item { name n2: name note } strictItem { name } } }",
    "{ holder { items { secret name } } }",
    "{ lateHolder { items { name note count } item { name colour } } }",
    "{ holder { items { ... on Item { name } ...F } } } fragment F on Item { colour odd }",
    "query($s: Boolean!) { holder { items { name @skip(if: $s) count @include(if: $s) } } }",
    "{ holder { boxes { item { name count } strictItem { name } } } }",
    "{ holder { boxes { item { note } i2: item { colour ... on Named { name } } } } }",
    "{ lateHolder { boxes { item { name } strictItem { name count } } } }",
    "{ holder { boxes { strictItem { __typename } item { __typename name } } } }",
    "{ holder { strictBoxes { item { name } } items { name } } }",
    "{ lateHolder { boxes { item { name } } strictBoxes { item { name } } items { count } } }",
]


def answer(schema: strawberry.Schema, query: str) -> bytes:
    result = asyncio.run(schema.execute(query, variable_values={"s": True}))
    return orjson.dumps({"data": result.data,
                         "errors": [e.formatted for e in result.errors or ()]})


def schemas(*extensions: Any) -> tuple[strawberry.Schema, strawberry.Schema]:
    return (strawberry.Schema(Query, extensions=extensions, config=CONFIG,
                              execution_context_class=PlainLeafExecutor),
            strawberry.Schema(Query, extensions=extensions, config=CONFIG))


@pytest.mark.parametrize("query", QUERIES)
def test_leaf_values_errors_and_nulls_are_the_standard_ones(query):
    plain, standard = schemas()
    assert answer(plain, query) == answer(standard, query)


def test_the_cases_above_do_fail():
    plain, _ = schemas()
    result = asyncio.run(plain.execute(QUERIES[0]))
    messages = " ".join(error.message for error in result.errors)
    assert "Cannot return null for non-nullable field Item.name." in messages
    assert "a note that failed" in messages
    assert "GREEN" in messages and "modulo by zero" in messages
    assert result.data["holder"]["items"][0]["name"] == "a"
    assert result.data["holder"]["items"][1] is None  # the non-null error nulls its item


def test_the_object_cases_above_do_fail():
    plain, _ = schemas()
    result = asyncio.run(plain.execute(QUERIES[6]))
    messages = " ".join(error.message for error in result.errors)
    assert "Cannot return null for non-nullable field Box.strictItem." in messages
    assert "no item" in messages and "Expected value of type 'Item'" in messages
    assert result.data["holder"]["boxes"][0]["item"]["name"] == "a"
    assert result.data["holder"]["boxes"][2] is None  # its non-null object was null


def test_a_resolve_hook_still_sees_every_field():
    plain, standard = schemas(ResolveHook)
    query = "{ holder { item { name note } } }"
    assert answer(plain, query) == answer(standard, query)
    assert b'"name":"A"' in answer(plain, query)


def test_only_attribute_reads_of_leaves_are_read_directly():
    plain, _ = schemas()
    graphql_schema = plain._schema
    item_type = graphql_schema.type_map["Item"]
    holder_type = graphql_schema.type_map["Holder"]
    assert plain_leaf(graphql_schema, item_type, "name") is not None
    assert plain_leaf(graphql_schema, item_type, "colour") is not None
    assert plain_leaf(graphql_schema, item_type, "computed") is None  # a resolver
    assert plain_leaf(graphql_schema, item_type, "secret") is None    # a permission class
    assert plain_leaf(graphql_schema, holder_type, "item").object_type is not None
    assert plain_leaf(graphql_schema, holder_type, "items").item_type is not None


@strawberry.type
class Reading:
    value: int
    colour: Colour


@strawberry.type
class Beat:
    n: int
    reading: Reading


@strawberry.type
class Ticks:
    @strawberry.subscription
    async def beats(self, count: int) -> AsyncGenerator[Beat, None]:
        for n in range(count):
            yield Beat(n=n, reading=Reading(value=n, colour=Colour.RED))


@pytest.mark.parametrize("executor", [PlainLeafExecutor, SubscriptionSafeExecutor])
def test_a_long_subscription_keeps_no_memo_per_event(executor, monkeypatch):
    """graphql-core runs each event on a copy of the operation's executor; its memo of
    collected subfields (ours of plans too) must not keep an entry for every event."""
    operations = []
    build = executor.build_per_event_executor

    def noting_the_operation(self, payload):
        operations.append(self)
        return build(self, payload)

    monkeypatch.setattr(executor, "build_per_event_executor", noting_the_operation)
    schema = strawberry.Schema(Query, subscription=Ticks, config=CONFIG,
                               execution_context_class=executor)

    async def deliver() -> list[Any]:
        stream = await schema.subscribe(
            "subscription { beats(count: 300) { n reading { value colour } } }")
        return [result.data async for result in stream]

    delivered = asyncio.run(deliver())
    assert [beat["beats"]["n"] for beat in delivered] == list(range(300))
    assert delivered[-1]["beats"]["reading"] == {"value": 299, "colour": "RED"}
    operation = operations[0]
    assert all(each is operation for each in operations)
    assert len(operation._relevant_sub_fields) <= 2
    assert len(getattr(operation, "_planned", {})) <= 2
