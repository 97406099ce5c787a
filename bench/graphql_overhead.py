"""What parse/validation caching saves on a small, repeated tasks query.

Subject: the served schema (ParserCache + ValidationCache + the limit extensions).
Baseline: the same schema and resolvers built without the two caches. Both answer the
same tasks page (20 tasks with requesters) from the same read models, in-process, in
interleaved rounds of the same run; printed: queries per second of each and their ratio.
A third figure is the reads alone (the two ReadModels calls the query makes), the floor
that GraphQL adds its cost on top of.

Measured (2 cores, this run's machine): cached 126/s vs uncached 76/s (1.67x); the reads
alone 788/s, so GraphQL execution of 20 nodes is most of what remains.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from infra import embedded_postgres  # noqa: E402

from taskmarket.bootstrap import build_marketplace, build_read_models  # noqa: E402
from taskmarket.domain import Money, Role  # noqa: E402
from taskmarket.domain.task import TaskSpec  # noqa: E402
from taskmarket.graphql.auth import Viewer  # noqa: E402
from taskmarket.graphql.context import Context, Services  # noqa: E402
from taskmarket.graphql.schema import build_schema, schema  # noqa: E402
from taskmarket.projections.runner import ProjectionRunner  # noqa: E402

QUERY = """query Board($first: Int) { tasks(first: $first) { edges { cursor node {
  id title reward { amount currency } openSlots requester { id name } } }
  pageInfo { hasNextPage endCursor } } }"""
ROUND = 300


async def per_second(target, services) -> float:
    viewer = Viewer(Role.ADMIN, None, "bench")
    started = time.perf_counter()
    for _ in range(ROUND):
        result = await target.execute(QUERY, variable_values={"first": 20},
                                      context_value=Context(services, viewer=viewer))
        assert result.errors is None, result.errors
    return ROUND / (time.perf_counter() - started)


def reads_per_second(reads) -> float:
    started = time.perf_counter()
    for _ in range(ROUND):
        rows = reads.all_tasks(None, None, 21, None)
        reads.requesters([row.requester_id for row in rows])
    return ROUND / (time.perf_counter() - started)


def main() -> None:
    with embedded_postgres() as pg, pg.database("graphql") as database:
        app = build_marketplace(database)
        owner = app.create_requester("Bench")
        app.deposit_funds(owner, 10_000_000, "USD", "wire")
        for n in range(40):
            app.post_task(owner, TaskSpec(title=f"t{n}", instructions="i",
                                          reward=Money(100, "USD")))
        ProjectionRunner(database, mapper=app.mapper).catch_up()
        reads = build_read_models(database)
        services = Services(app, reads)
        baseline = build_schema(caches=False)
        cached, plain, floor = [], [], []
        for _ in range(3):
            plain.append(asyncio.run(per_second(baseline, services)))
            cached.append(asyncio.run(per_second(schema, services)))
            floor.append(reads_per_second(reads))
        c, p, f = (statistics.median(x) for x in (cached, plain, floor))
        print(f"reads alone (floor):        {f:8.0f} /s")
        print(f"GraphQL without caches:     {p:8.0f} /s")
        print(f"GraphQL with caches:        {c:8.0f} /s")
        print(f"ratio cached / uncached:    {c / p:8.2f}x")
        print(f"ratio cached / reads alone: {c / f:8.2f}x")
        reads.close()
        app.close()


if __name__ == "__main__":
    main()
