"""GraphQL execution with a short path for plain leaf fields.

Most fields of a page are attribute reads of a scalar or an enum (a Task's ``title``, its
``reward.amount``): strawberry resolves them with its basic resolver (no resolver of
ours, no field extensions, no permission classes, no arguments). For those, graphql-core
still builds a resolve info, a path and runs the general ``complete_value`` dispatch for
each field of each node. ``PlainLeafExecutor`` reads such a field and coerces it as a
leaf directly, and builds the path only when the field fails. An object read the same way
(an edge's ``node``, a Task's ``reward``) is checked as graphql-core checks it (null,
strawberry's isinstance ``is_type_of``) and its fields executed, without a resolve info
or the general ``complete_value`` dispatch. Lists, and every other field, and any
value that is not an ordinary one (an awaitable, an exception returned as a value), goes
through graphql-core's own code, so results and errors are the standard ones:
``tests/unit/test_graphql_execution.py`` compares both executors on unusual values and
``tests/integration/test_graphql_plain_leaves.py`` on generated queries for every role.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from graphql import (
    GraphQLLeafType, GraphQLObjectType, GraphQLOutputType, GraphQLSchema, is_leaf_type,
    is_list_type, is_non_null_type, is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.executor import invalid_return_type_error
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class PlainLeaf(NamedTuple):
    resolve: Any                # strawberry's basic resolver of the field
    attribute: str | None       # the attribute it reads, when it reads with getattr
    return_type: GraphQLOutputType
    leaf_type: GraphQLLeafType | None       # a scalar or an enum: coerced here
    non_null: bool
    object_type: GraphQLObjectType | None = None  # else an object: its fields executed
    is_type_of: Any = None      # strawberry's isinstance check of that object, if any
    item_type: GraphQLOutputType | None = None  # a list of such objects: the item's type


# Values a leaf resolver returns that are neither awaitable nor an exception.
ORDINARY = frozenset({str, int, float, bool})

# (parent type, field name) -> PlainLeaf, or None for a field that takes the full path.
# Types are compared by identity, so several schemas (tests build some) never mix.
_plans: dict[tuple[GraphQLObjectType, str], PlainLeaf | None] = {}


def is_basic(field_def: Any) -> bool:
    """Whether strawberry resolves the field by reading the attribute alone: its basic
    resolver (no resolver, field extensions, permissions or exception handlers)."""
    definition = (field_def.extensions or {}).get("strawberry-definition")
    resolve = field_def.resolve
    return (definition is not None and definition.is_basic_field
            and getattr(resolve, "_is_default", False)
            and getattr(resolve, "__name__", "") == "_get_basic_result")


def plain_leaf(schema: GraphQLSchema, parent_type: GraphQLObjectType,
               name: str) -> PlainLeaf | None:
    key = (parent_type, name)
    try:
        return _plans[key]
    except KeyError:
        pass
    field_def = schema.get_field(parent_type, name)
    plan = None
    if field_def is not None and not field_def.args and is_basic(field_def):
        return_type = field_def.type
        non_null = is_non_null_type(return_type)
        inner = return_type.of_type if non_null else return_type  # type: ignore[union-attr]
        definition = field_def.extensions["strawberry-definition"]
        # The basic resolver calls the config's default resolver with the Python
        # name; when that is getattr (strawberry's default) it is read directly.
        attribute = definition.python_name if definition.default_resolver is getattr \
            else None
        if is_leaf_type(inner):
            plan = PlainLeaf(field_def.resolve, attribute, return_type, inner, non_null)
        elif plain_object(inner):
            plan = PlainLeaf(field_def.resolve, attribute, return_type, None, non_null,
                             inner, inner.is_type_of)
        elif is_list_type(inner):
            item_type = inner.of_type
            item = item_type.of_type if is_non_null_type(item_type) else item_type
            if plain_object(item):
                plan = PlainLeaf(field_def.resolve, attribute, return_type, None, non_null,
                                 item, item.is_type_of, item_type)
    _plans[key] = plan
    return plan


def plain_object(type_: Any) -> bool:
    return is_object_type(type_) and (type_.is_type_of is None
                                      or is_strawberry_isinstance(type_.is_type_of))


def is_strawberry_isinstance(is_type_of: Any) -> bool:
    """Whether an object type's ``is_type_of`` is the one strawberry generates for a type
    with interfaces (an isinstance check that never reads its resolve info)."""
    return getattr(is_type_of, "__qualname__", "").endswith(
        "_get_is_type_of.<locals>.is_type_of") and \
        getattr(is_type_of, "__module__", "") == "strawberry.schema.schema_converter"


class SubscriptionSafeExecutor(StrawberryGraphQLCoreExecutionContext):
    """strawberry's executor, with per-event memos for subscriptions.

    graphql-core (3.3) runs each subscription event on a shallow copy of the operation's
    executor, so the copies share its memo of collected subfields, keyed by the identity
    of each event's freshly collected field lists: a long subscription added entries for
    every event it delivered and kept them all (the soak's RSS growth, figure 11). Each
    event's copy gets memos of its own, dropped with it.
    """

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        return executor


class PlainLeafExecutor(SubscriptionSafeExecutor):
    """strawberry's executor, reading plain leaf fields without the per-field machinery."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # id(grouped field set) -> (that set, its fields with their plans): one set
        # serves every node of a list, as graphql-core memoizes the collected fields.
        self._planned: dict[int, tuple[GroupedFieldSet, list[tuple[Any, ...]] | None]] = {}

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        executor._planned = {}  # keyed like graphql-core's memo: per event as well
        return executor

    def _plans_of(self, parent_type: GraphQLObjectType,
                  grouped_field_set: GroupedFieldSet) -> list[tuple[Any, ...]] | None:
        cached = self._planned.get(id(grouped_field_set))
        if cached is not None:
            return cached[1]
        fields = [(name, details, plain_leaf(self.schema, parent_type,
                                             details[0].node.name.value))
                  for name, details in grouped_field_set.items()]
        if not any(plan for _, _, plan in fields):
            fields = None  # type: ignore[assignment]
        elif self.middleware_manager is not None and self.middleware_manager.middlewares:
            fields = None  # type: ignore[assignment]  # middleware must see every field
        self._planned[id(grouped_field_set)] = (grouped_field_set, fields)
        return fields

    def execute_fields(self, parent_type: GraphQLObjectType, source_value: Any,
                       path: Path | None, grouped_field_set: GroupedFieldSet,
                       position_context: Any) -> Any:
        fields = self._plans_of(parent_type, grouped_field_set)
        if fields is None:
            return super().execute_fields(parent_type, source_value, path,
                                          grouped_field_set, position_context)
        # Each field is either read here (a plain leaf) or handed to execute_field; the
        # awaitables among the results are then gathered as graphql-core does.
        results: dict[str, Any] = {}
        pending: list[str] = []
        is_awaitable = self.is_awaitable
        try:
            for response_name, details, plan in fields:
                if plan is not None and not details[0].node.arguments:
                    read = self._read_leaf if plan.object_type is None else (
                        self._read_object if plan.item_type is None else self._read_list)
                    value = read(plan, parent_type, source_value, details, path,
                                 response_name, position_context)
                else:
                    value = self.execute_field(
                        parent_type, source_value, details,
                        Path(path, response_name, parent_type.name), position_context)
                    if value is Undefined:
                        continue
                results[response_name] = value
                if value.__class__ not in ORDINARY and is_awaitable(value):
                    pending.append(response_name)
        except Exception:
            if pending:
                self.settle_in_background([results[name] for name in pending])
            raise
        if not pending:
            return results
        return self._gather(results, pending)

    async def _gather(self, results: dict[str, Any], pending: list[str]) -> dict[str, Any]:
        if len(pending) == 1:
            results[pending[0]] = await results[pending[0]]
        else:
            values = await gather_with_cancel(*(results[name] for name in pending))
            results.update(zip(pending, values, strict=True))
        return results

    @staticmethod
    def _value_of(plan: PlainLeaf, parent_type: GraphQLObjectType, source: Any,
                  details: FieldDetailsList) -> Any:
        """The field's value read from its source; None for a null (Undefined too) where the
        schema allows one, graphql-core's error where it does not."""
        if plan.attribute is not None:
            result = getattr(source, plan.attribute)
        else:
            result = plan.resolve(source, None)
        if result is None or result is Undefined:
            if plan.non_null:
                raise TypeError("Cannot return null for non-nullable field"
                                f" {parent_type}.{details[0].node.name.value}.")
            return None
        return result

    def _read_leaf(self, plan: PlainLeaf, parent_type: GraphQLObjectType, source: Any,
                   details: FieldDetailsList, path: Path | None, response_name: str,
                   position_context: Any) -> Any:
        try:
            result = self._value_of(plan, parent_type, source, details)
            if result is None:
                return None
            if result.__class__ not in ORDINARY and (
                    isinstance(result, Exception) or self.is_awaitable(result)):
                # Not an ordinary value: graphql-core completes it (and reports it).
                return self._complete_unusual(plan, parent_type, details, path,
                                              response_name, result, position_context)
            coerced = plan.leaf_type.coerce_output_value(result)
            if coerced is None or coerced is Undefined:
                return self.complete_leaf_value(plan.leaf_type, result)  # raises its error
            return coerced
        except Exception as raw_error:
            self.handle_field_error(raw_error, plan.return_type, details,
                                    Path(path, response_name, parent_type.name))
            return None

    def _read_object(self, plan: PlainLeaf, parent_type: GraphQLObjectType, source: Any,
                     details: FieldDetailsList, path: Path | None, response_name: str,
                     position_context: Any) -> Any:
        """An object read by attribute: checked as complete_object_value checks it, its
        fields executed (collected once per selection, as graphql-core does)."""
        field_path = Path(path, response_name, parent_type.name)
        object_type = plan.object_type
        try:
            result = self._value_of(plan, parent_type, source, details)
            if result is None:
                return None
            if isinstance(result, Exception) or self.is_awaitable(result):
                return self._complete_unusual(plan, parent_type, details, path,
                                              response_name, result, position_context)
            if plan.is_type_of is not None and not plan.is_type_of(result, None):
                raise invalid_return_type_error(object_type, result, details)
            completed = self.collect_and_execute_subfields(
                object_type, details, field_path, result, position_context)
            if self.is_awaitable(completed):
                return self._await_object(completed, plan, details, field_path)
            return completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, plan.return_type, details, field_path)
            return None

    def _read_list(self, plan: PlainLeaf, parent_type: GraphQLObjectType, source: Any,
                   details: FieldDetailsList, path: Path | None, response_name: str,
                   position_context: Any) -> Any:
        """A list (or tuple) of objects read by attribute, completed item by item as
        complete_iterable_value does; anything else (another iterable, an awaitable or an
        exception among the items, @stream) goes through graphql-core."""
        field_path = Path(path, response_name, parent_type.name)
        try:
            result = self._value_of(plan, parent_type, source, details)
            if result is None:
                return None
            is_awaitable = self.is_awaitable
            if result.__class__ not in (list, tuple) or details[0].node.directives or any(
                    isinstance(item, Exception) or is_awaitable(item) for item in result):
                return self._complete_unusual(plan, parent_type, details, path,
                                              response_name, result, position_context)
            completed = self._complete_items(plan, parent_type, details, field_path, result,
                                             position_context)
            if is_awaitable(completed):
                return self._await_object(completed, plan, details, field_path)
            return completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, plan.return_type, details, field_path)
            return None

    def _complete_items(self, plan: PlainLeaf, parent_type: GraphQLObjectType,
                        details: FieldDetailsList, field_path: Path, items: Any,
                        position_context: Any) -> Any:
        item_type, object_type, is_type_of = plan.item_type, plan.object_type, plan.is_type_of
        non_null_items = is_non_null_type(item_type)
        is_awaitable = self.is_awaitable
        execute = self.collect_and_execute_subfields
        completed: list[Any] = []
        pending: list[int] = []
        try:
            for index, item in enumerate(items):
                item_path = field_path.add_key(index, None)
                try:
                    if item is None or item is Undefined:
                        if non_null_items:
                            raise TypeError("Cannot return null for non-nullable field"
                                            f" {parent_type}.{details[0].node.name.value}.")
                        completed.append(None)
                        continue
                    if is_type_of is not None and not is_type_of(item, None):
                        raise invalid_return_type_error(object_type, item, details)
                    value = execute(object_type, details, item_path, item, position_context)
                    if is_awaitable(value):
                        value = self._await_item(value, item_type, details, item_path)
                        pending.append(index)
                    completed.append(value)
                except Exception as raw_error:
                    self.handle_field_error(raw_error, item_type, details, item_path)
                    completed.append(None)
        except Exception:
            if pending:
                self.settle_in_background([completed[index] for index in pending])
            raise
        if not pending:
            return completed
        return self._gather_items(completed, pending)

    async def _await_item(self, value: Any, item_type: GraphQLOutputType,
                          details: FieldDetailsList, item_path: Path) -> Any:
        try:
            return await value
        except Exception as raw_error:
            self.handle_field_error(raw_error, item_type, details, item_path)
            return None

    async def _gather_items(self, completed: list[Any], pending: list[int]) -> list[Any]:
        if len(pending) == 1:
            completed[pending[0]] = await completed[pending[0]]
        else:
            values = await gather_with_cancel(*(completed[index] for index in pending))
            for index, value in zip(pending, values, strict=True):
                completed[index] = value
        return completed

    async def _await_object(self, completed: Any, plan: PlainLeaf,
                            details: FieldDetailsList, field_path: Path) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, plan.return_type, details, field_path)
            return None

    def _complete_unusual(self, plan: PlainLeaf, parent_type: GraphQLObjectType,
                          details: FieldDetailsList, path: Path | None, response_name: str,
                          result: Any, position_context: Any) -> Any:
        field_path = Path(path, response_name, parent_type.name)
        field_def = self.schema.get_field(parent_type, details[0].node.name.value)
        info = self.build_resolve_info(field_def, [d.node for d in details], parent_type,
                                       field_path)
        if self.is_awaitable(result):
            return self.complete_awaitable_value(plan.return_type, details, info, field_path,
                                                 result, position_context)
        return self.complete_value(plan.return_type, details, info, field_path, result,
                                   position_context)
