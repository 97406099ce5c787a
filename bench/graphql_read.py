"""Figure 2: ``tasks(first: 50)`` over HTTP vs a plain Starlette endpoint of the same rows.

Subject: POST /graphql with the query below (task fields and each task's requester, which
a DataLoader fetches in one query), authenticated with an API key.
Baseline: GET /plain/tasks on the same server process (``bench.server``): the same key
check, the same two read-model queries, the same fields as JSON, no GraphQL.
1 and 16 client threads (httpx, keep-alive) in the benchmark process; p50 / p99 latency
and requests per second; rounds interleaved, ratio = GraphQL p50 / plain p50.
"""

from __future__ import annotations

from contextlib import ExitStack

from taskmarket.bootstrap import build_marketplace
from taskmarket.domain import Role
from taskmarket.projections.runner import ProjectionRunner
from taskmarket.projections.sample_log import write_sample_log

from .http_load import load, server_process
from .infra import Postgres, use_postgres
from .report import row
from .stats import Spread, interleave, percentile, ratios

QUERY = """query Board($first: Int) { tasks(first: $first) { edges { cursor node {
  id title reward { amount currency } openSlots status requester { id name } } } } }"""
TARGET = 2.0


def graphql_request(key: str):
    def send(http, client: int, n: int):
        return http.post("/graphql", json={"query": QUERY, "variables": {"first": 50}},
                         headers={"Authorization": f"Bearer {key}"})
    return send


def plain_request(key: str):
    def send(http, client: int, n: int):
        return http.get("/plain/tasks", params={"first": 50},
                        headers={"Authorization": f"Bearer {key}"})
    return send


def prepared_database(stack: ExitStack, pg: Postgres, tasks: int):
    """A database with a sample log, its read models caught up, and an ADMIN key."""
    database = stack.enter_context(pg.database("http"))
    app = build_marketplace(database)
    stack.callback(app.close)
    write_sample_log(app, tasks)
    ProjectionRunner(database, mapper=app.mapper).catch_up()
    _, key = app.issue_api_key(Role.ADMIN, "bench")
    return database, app, key


def measure(url: str, clients: int, per_client: int, send, samples: list[float]):
    latencies, rate = load(url, clients, per_client, send)
    samples.extend(latencies)
    return percentile(latencies, 0.5), rate


def run(quick: bool = False, postgres: Postgres | None = None) -> list[dict]:
    rounds, requests = (3, 60) if quick else (5, 400)
    rows = []
    with ExitStack() as stack:
        pg = stack.enter_context(use_postgres(postgres))
        database, _, key = prepared_database(stack, pg, 100 if quick else 400)
        url, _ = stack.enter_context(server_process(database))
        for clients in (1, 16):
            per_client = max(4, requests // clients)
            samples: dict[str, list[float]] = {"graphql": [], "plain": []}
            rates: dict[str, list[float]] = {"graphql": [], "plain": []}
            sends = {"graphql": graphql_request(key), "plain": plain_request(key)}

            def one(name: str, clients=clients, per_client=per_client, samples=samples,
                    rates=rates, sends=sends) -> float:
                p50, rate = measure(url, clients, per_client, sends[name], samples[name])
                rates[name].append(rate)
                return p50

            p50s = interleave(rounds, {name: (lambda n=name: one(n)) for name in sends})
            gql, plain = samples["graphql"], samples["plain"]
            rows.append(row(
                "2", f"tasks(first: 50) over HTTP, {clients} client{'s' * (clients > 1)}",
                f"p50 {percentile(gql, .5):.1f} / p99 {percentile(gql, .99):.1f} ms, "
                f"{Spread.of(rates['graphql']).median:,.0f} req/s",
                f"plain JSON p50 {percentile(plain, .5):.1f} / p99 "
                f"{percentile(plain, .99):.1f} ms, {Spread.of(rates['plain']).median:,.0f} req/s",
                ratios(p50s["graphql"], p50s["plain"]), f"p50 <= {TARGET}x",
                ratios(p50s["graphql"], p50s["plain"]).median <= TARGET))
    return rows
