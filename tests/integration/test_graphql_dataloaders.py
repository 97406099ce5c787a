"""A page of tasks with their requesters costs the same few SQL queries at any size."""

import asyncio
import threading

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from taskmarket.domain import Money, Role
from taskmarket.domain.task import TaskSpec
from taskmarket.graphql.auth import Viewer
from taskmarket.graphql.context import Context, Services
from taskmarket.graphql.schema import schema
from taskmarket.projections.reads import ReadModels
from taskmarket.projections.runner import ProjectionRunner

PAGE = """query($n: Int) { tasks(first: $n) { edges { node { id title
  requester { name balance { amount } } } } } }"""


class QueryCounter:
    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()

    def cursor_class(self):
        counter = self

        class CountingCursor(psycopg.Cursor):
            def execute(self, query, params=None, **kwargs):
                with counter.lock:
                    counter.count += 1
                return super().execute(query, params, **kwargs)

        return CountingCursor


@pytest.fixture
def counted_reads(database):
    counter = QueryCounter()
    cursor_class = counter.cursor_class()

    def configure(conn):
        conn.cursor_factory = cursor_class

    pool = ConnectionPool(database.conninfo, min_size=1, max_size=4,
                          kwargs={"autocommit": True}, configure=configure, open=True)
    yield ReadModels(pool), counter
    pool.close()


def post_tasks(app, count: int, requesters: int) -> None:
    owners = [app.create_requester(f"R{n}") for n in range(requesters)]
    for owner in owners:
        app.deposit_funds(owner, 1_000_000, "USD", f"wire-{owner}")
    for n in range(count):
        spec = TaskSpec(title=f"task {n}", instructions="i", reward=Money(100, "USD"))
        app.post_task(owners[n % requesters], spec)


def run_page(reads, app, first: int) -> dict:
    context = Context(Services(app, reads), viewer=Viewer(Role.ADMIN, None, "admin"))
    result = asyncio.run(schema.execute(PAGE, variable_values={"n": first},
                                        context_value=context))
    assert result.errors is None, result.errors
    return result.data


def queries_for_page(reads, counter, app, first: int) -> int:
    before = counter.count
    data = run_page(reads, app, first)
    assert len(data["tasks"]["edges"]) == first
    return counter.count - before


def test_a_page_of_tasks_with_requesters_is_a_constant_number_of_queries(
        app, database, counted_reads):
    reads, counter = counted_reads
    post_tasks(app, 50, requesters=25)
    ProjectionRunner(database, mapper=app.mapper).catch_up()

    small = queries_for_page(reads, counter, app, 5)
    large = queries_for_page(reads, counter, app, 50)

    assert large == small == 2  # the page, then every requester on it in one batch


FRAGMENT_PAGE = """query { tasks(first: 10) { edges { node { ...Card } } } }
fragment Card on Task { title requester { name } }"""


def test_requesters_named_in_a_fragment_come_with_the_page_and_are_skipped_when_unasked(
        app, database, counted_reads):
    reads, counter = counted_reads
    post_tasks(app, 6, requesters=3)
    ProjectionRunner(database, mapper=app.mapper).catch_up()
    context = Context(Services(app, reads), viewer=Viewer(Role.ADMIN, None, "admin"))

    before = counter.count
    result = asyncio.run(schema.execute(FRAGMENT_PAGE, context_value=context))
    assert result.errors is None, result.errors
    cards = {(e["node"]["title"], e["node"]["requester"]["name"])
             for e in result.data["tasks"]["edges"]}
    assert cards == {(f"task {n}", f"R{n % 3}") for n in range(6)}
    assert counter.count - before == 2

    before = counter.count
    bare = asyncio.run(schema.execute("{ tasks(first: 10) { edges { node { title } } } }",
                                      context_value=context))
    assert bare.errors is None, bare.errors
    assert len(bare.data["tasks"]["edges"]) == 6
    assert counter.count - before == 1  # no requester asked, none read
