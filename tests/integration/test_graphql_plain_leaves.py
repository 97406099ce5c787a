"""The served executor (plain leaf fields read directly, graphql/execution.py) answers
every query exactly as graphql-core's general execution does: same data, same nulls,
same errors with the same paths, byte for byte once encoded.

Both schemas run the same generated queries against the same read models (a sample log
of tasks, claims, submissions, reviews and payouts), with a key of each role, so
forbidden fields, missing nodes and nulls are among the answers.

Two things make an answer differ between two runs whichever executor runs them, and are
held still here: "now" (``accountBalances(asOf: "0")`` is as of the clock) and the order
in which the thread pool finishes sibling reads (when several fail under a non-null
parent, only the first error is reported, with its path). Both were found as
"divergences" of the plain-leaf executor; graphql-core's own execution shows them too.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import orjson
import pytest
from graphql import get_named_type, is_abstract_type, is_leaf_type, is_non_null_type
from graphql.language import StringValueNode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries

from taskmarket.bootstrap import build_read_models
from taskmarket.domain import Role
from taskmarket.global_ids import to_global_id
from taskmarket.graphql.auth import Viewer
from taskmarket.graphql.context import Context, Services
from taskmarket.graphql.execution import PlainLeafExecutor
from taskmarket.graphql.schema import build_schema, schema, served_sdl
from taskmarket.projections.runner import ProjectionRunner
from taskmarket.projections.sample_log import write_sample_log

STANDARD = build_schema(plain_leaves=False)
FROZEN_NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)

# Global ids of the other node types in the sample, from their read models.
GLOBAL_IDS = {
    "Claim": "SELECT task_id, id FROM claims ORDER BY id",
    "Submission": "SELECT task_id, id FROM submissions ORDER BY id",
    "Payout": "SELECT id FROM payouts ORDER BY id",
    "Batch": "SELECT id FROM batches ORDER BY id",
    "WebhookEndpoint": "SELECT id FROM webhook_endpoints ORDER BY id",
    "ApiKey": "SELECT id FROM api_keys ORDER BY id",
}

HANDWRITTEN = [
    # figure 2's page
    """query Board($first: Int) { tasks(first: $first) { edges { cursor node {
      id title reward { amount currency } openSlots status requester { id name } } } } }""",
    # aliases, one field twice, __typename, fragments on the type and on the interface
    """{ tasks(first: 5) { edges { node { a: id b: id id title title ...F ... on Node { id }
      __typename reward { c: amount amount currency __typename } } } pageInfo {
      hasNextPage endCursor } } } fragment F on Task { status openSlots createdAt payload }""",
    # @skip / @include on leaves and objects
    """query($yes: Boolean = true, $no: Boolean = false) { tasks(first: 3) { edges {
      node { id @skip(if: $yes) title @include(if: $yes) status @include(if: $no)
      reward @skip(if: $no) { amount @include(if: $no) currency } } } } }""",
    # money a worker may not read: FORBIDDEN errors next to plain leaves
    """{ tasks(first: 5) { edges { node { title requester { name currency
      balance { amount } escrow { amount currency } } } } } }""",
    """{ me { role keyName } payouts(first: 10) { edges { node { id amount status } } } }""",
    """{ reviewQueue(first: 5) { edges { node { id status } } } }""",
    # one response name twice with different sub-selections (merged), enums, custom
    # scalars (DateTime, JSON, BigInt), a list of leaves, an argument's default
    """{ tasks(first: 4) { edges { node { reward { amount } status } } edges { node {
      reward { currency } requiredSkills createdAt payload } cursor } } t: tasks {
      pageInfo { hasNextPage } } }""",
    # every node type through node(id:), on the interface and on each type
    """query($yes: Boolean = true) { node(id: "%s") { __typename id ... on Task { title
      status } ... on Claim { status expiresAt } ... on Submission { status }
      ... on Payout { amount status } ... on Worker { skills } ... on Node @include(if:
      $yes) { id } } }""",
    # regressions: "as of now" (the clock is frozen here); siblings failing under a
    # non-null parent (only the first one's error is reported)
    """{ accountBalances(asOf: "0") { asOf position balances { amount currency } } }""",
    """{ tasks(skill: "vision") { edges { node { id submissions(after: "x") {
      __typename } } } } }""",
]


def run(target, query: str, viewer: Viewer, services: Services,
        variables: dict | None = None) -> bytes:
    context = Context(services, viewer=viewer)
    result = asyncio.run(target.execute(query, variable_values=variables,
                                        context_value=context))
    return orjson.dumps({"data": result.data,
                         "errors": [e.formatted for e in result.errors or ()],
                         "extensions": result.extensions})


async def in_order(fn, *args):
    return fn(*args)


@pytest.fixture
def sample(app, database, monkeypatch):
    # accountBalances(asOf: "0") is "as of now": with the clock left running, two runs of
    # the same query differ by microseconds whichever executor runs them.
    monkeypatch.setattr("taskmarket.graphql.books.utc_now", lambda: FROZEN_NOW)
    # Reads run one after the other, in the order they were asked for. In the thread
    # pool, sibling fields that fail under a non-null parent race, and the error reported
    # (its path) is whichever thread lost: graphql-core's own execution alternates
    # between runs of the same query, so only a deterministic order can be compared.
    monkeypatch.setattr("taskmarket.graphql.context.run_in_threadpool", in_order)
    write_sample_log(app, 30)
    ProjectionRunner(database, mapper=app.mapper).catch_up()
    reads = build_read_models(database)
    services = Services(app, reads)
    tasks = reads.all_tasks(None, None, 30, None)
    requester_id = tasks[0].requester_id
    with database.connect() as conn:
        # a worker with claims, so that myClaims and its nodes are not empty
        worker_id = conn.execute("SELECT worker_id FROM claims ORDER BY worker_id "
                                 "LIMIT 1").fetchone()[0]
        ids = [to_global_id("Task", row.id) for row in tasks[:5]] + [
            to_global_id("Requester", requester_id), to_global_id("Worker", worker_id)]
        for type_name, select in GLOBAL_IDS.items():
            ids += [to_global_id(type_name, *row)
                    for row in conn.execute(select + " LIMIT 2").fetchall()]
    viewers = [Viewer(Role.ADMIN, None, "admin"), Viewer(Role.FINANCE, None, "finance"),
               Viewer(Role.REQUESTER, requester_id, "requester"),
               Viewer(Role.WORKER, worker_id, "worker"),
               Viewer(Role.PARTNER, requester_id, "partner")]
    yield services, viewers, ids
    reads.close()


def test_the_served_schema_uses_the_plain_leaf_executor():
    assert schema.execution_context_class is PlainLeafExecutor
    assert STANDARD.execution_context_class is not PlainLeafExecutor


def test_handwritten_queries_answer_the_same_for_every_role(sample):
    services, viewers, ids = sample
    answered_with_errors = 0
    queries_ = [q for q in HANDWRITTEN if "%s" not in q] + [
        q % node_id for q in HANDWRITTEN if "%s" in q for node_id in ids]
    for query in queries_:
        for viewer in viewers:
            served = run(schema, query, viewer, services, {"first": 50})
            assert served == run(STANDARD, query, viewer, services, {"first": 50}), (
                query, viewer.role)
            answered_with_errors += b'"errors":[]' not in served
    assert answered_with_errors > 0  # the comparison covered failing fields too


def test_generated_queries_answer_the_same(sample):
    services, viewers, ids = sample
    id_nodes = (st.sampled_from(ids) | st.text(max_size=8)).map(
        lambda value: StringValueNode(value=value))
    scalars = {
        "ID": id_nodes,
        "DateTime": st.datetimes(timezones=st.just(timezone.utc)).map(
            lambda moment: StringValueNode(value=moment.isoformat())),
        "JSON": st.just(StringValueNode(value="x")),
        "BigInt": st.integers(0, 10**6).map(lambda n: StringValueNode(value=str(n))),
    }

    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(query=queries(served_sdl(), custom_scalars=scalars),
           viewer=st.sampled_from(viewers))
    def same(query, viewer):
        assert run(schema, query, viewer, services) == run(STANDARD, query, viewer,
                                                           services), query

    same()


# --- queries over the whole served schema ----------------------------------------------
# hypothesis-graphql's queries (above) give random values to every argument, so most of
# them fail at their root field (malformed ids, `first` out of range) and rarely reach the
# leaves of a page. These are valid queries built from the served schema itself, with
# the sample's own ids and sensible arguments, and with what field merging and
# collection must get right: aliases, a response name selected twice with different
# sub-selections, named and inline fragments (on the interface and on its types),
# __typename, @skip/@include with variables and literals.

GRAPHQL = schema._schema
DIRECTIVES = ["", "", "", " @skip(if: $yes)", " @include(if: $yes)", " @skip(if: $no)",
              " @include(if: $no)", " @include(if: true)"]
MAX_DEPTH = 4
PAGES = {"tasks", "myClaims", "payouts", "workers", "edges", "node"}


def argument_values(ids: list[str]) -> dict[str, st.SearchStrategy[str]]:
    """GraphQL literals for each argument the Query side of the schema takes."""
    def quoted(values):
        return st.sampled_from([orjson.dumps(v).decode() for v in values])
    every_id = quoted(ids + ["bm90IGFuIGlk", ""])
    return {
        "first": st.sampled_from(["1", "2", "3", "50", "null"] * 3 + ["0", "101"]),
        "after": quoted(["", "x"]) | st.just("null"),
        "asOf": quoted(["0", "1", "5", "999999", "x"]),
        "at": quoted(["2000-01-01T00:00:00+00:00", "2100-01-01T00:00:00+00:00"]),
        "id": every_id, "endpointId": every_id, "workerId": every_id,
        "skill": quoted(["vision", "audio", "nothing"]),
        "account": quoted(["x", ""]),
        "types": st.sampled_from(['["TaskPosted"]', "[]"]),
        "status": None,  # an enum: its values, from the schema
    }


def leaf(type_, name: str) -> bool:
    return is_leaf_type(get_named_type(type_.fields[name].type))


def mergeable(abstract) -> set[str]:
    """Field names every possible type of ``abstract`` gives the same type: under it,
    others are aliased by type (fields of one response name must have one type)."""
    types = GRAPHQL.get_possible_types(abstract)
    names = set.intersection(*(set(t.fields) for t in types))
    return {n for n in names if len({str(t.fields[n].type) for t in types}) == 1}


@st.composite
def served_queries(draw, ids: list[str]) -> str:
    values = argument_values(ids)
    fragments: dict[str, str] = {}
    used: set[str] = set()
    aliases: list[str] = []
    # (type, response name) -> the field and arguments it stands for: fields of one
    # response name merge (in the selection, its inline fragments and the named fragments
    # spread there), so they must be the same field with the same arguments.
    chosen: dict[tuple[str, str], tuple[str, str]] = {}

    def arguments(field) -> str:
        given = []
        for name, argument in field.args.items():
            if not is_non_null_type(argument.type) and not draw(st.booleans()):
                continue
            named = get_named_type(argument.type)
            strategy = values[name] if values[name] is not None else st.sampled_from(
                list(named.values))
            given.append(f"{name}: {draw(strategy)}")
        return f"({', '.join(given)})" if given else ""

    def directive() -> str:
        picked = draw(st.sampled_from(DIRECTIVES))
        used.update(name for name in ("yes", "no") if f"${name}" in picked)
        return picked

    def abstract_selection(type_, depth: int) -> str:
        members = draw(st.lists(st.sampled_from(GRAPHQL.get_possible_types(type_)),
                                min_size=1, max_size=3))
        shared = mergeable(type_)
        parts = [f"... on {member.name}{directive()} "
                 f"{object_selection(member, depth, shared)}" for member in members]
        parts += draw(st.lists(st.sampled_from(sorted(n for n in type_.fields
                                                      if leaf(type_, n))), max_size=2))
        if draw(st.booleans()):
            parts.append("__typename")
        return "{ " + " ".join(parts) + " }"

    def object_selection(type_, depth: int, shared: set[str] | None = None) -> str:
        names = list(type_.fields)
        if depth >= MAX_DEPTH:
            names = [n for n in names if leaf(type_, n)]
            if not names:
                return "{ __typename }"
        parts = []
        objects = 0  # at most two object fields a selection: queries stay under the limits
        # pages more often than not: the path the plain leaves are for
        names += [name for name in names if name in PAGES] * 4
        for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=5)):
            if not leaf(type_, name):
                objects += 1
                if objects > (2 if depth else 1):  # one root field: its errors alone
                    continue
            alias = f"{name}A" if draw(st.integers(0, 5)) == 0 else ""
            if shared is not None and name not in shared:
                alias = f"{name}On{type_.name}"
            if alias and len(aliases) >= 14:  # aliases are limited to 15 a query
                if shared is not None and name not in shared:
                    continue
                alias = ""
            if alias:
                aliases.append(alias)
            response = alias or name
            field = type_.fields[name]
            if (type_.name, response) not in chosen:
                chosen[type_.name, response] = (name, arguments(field))
            args = chosen[type_.name, response][1]
            named = get_named_type(field.type)
            sub = "" if is_leaf_type(named) else (
                abstract_selection(named, depth + 1) if is_abstract_type(named)
                else object_selection(named, depth + 1))
            parts.append(f"{alias + ': ' if alias else ''}{name}{args}{directive()} {sub}")
        extra = draw(st.sampled_from(["", "", "__typename", "inline", "fragment", "node"]))
        if extra == "__typename":
            parts.append("__typename" + directive())
        elif extra == "inline" and depth < MAX_DEPTH and shared is None:
            parts.append(f"... on {type_.name}{directive()} "
                         f"{object_selection(type_, depth + 1)}")
        elif extra == "fragment" and depth < MAX_DEPTH and shared is None \
                and len(fragments) < 3:
            fragment = f"F{len(fragments)}"
            fragments[fragment] = ""  # the name is taken before its body is drawn
            fragments[fragment] = f"fragment {fragment} on {type_.name} " + \
                object_selection(type_, depth + 1)
            parts.append(f"...{fragment}{directive()}")
        elif extra == "node" and "Node" in [i.name for i in type_.interfaces]:
            parts.append("... on Node { id __typename }")
        return "{ " + " ".join(parts or ["__typename"]) + " }"

    body = object_selection(GRAPHQL.query_type, 0)
    declared = ", ".join(f"${name}: Boolean = {'true' if name == 'yes' else 'false'}"
                         for name in sorted(used))
    header = f"query Generated({declared}) " if declared else "query Generated "
    return header + body + "".join(" " + text for text in fragments.values())


def test_queries_over_the_whole_served_schema_answer_the_same_for_every_role(sample):
    services, viewers, ids = sample
    seen = {"valid": 0, "pages": 0, "errors": 0}

    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(query=served_queries(ids))
    def same(query):
        for viewer in viewers:
            served = run(schema, query, viewer, services)
            assert served == run(STANDARD, query, viewer, services), (query, viewer.role)
            errors = orjson.loads(served)["errors"]
            seen["valid"] += all("path" in error for error in errors)
            seen["pages"] += b'":[{"' in served.split(b'"errors":')[0]  # a list of objects
            seen["errors"] += bool(errors)

    same()
    # every query was valid; many reached lists of nodes; many had field errors
    assert seen["valid"] == 5 * 60 and seen["pages"] > 10 and seen["errors"] > 30, seen
