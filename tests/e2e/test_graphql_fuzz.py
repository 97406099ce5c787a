"""A bounded fuzz of the served GraphQL schema over HTTP: no 5xx, no masked internal
error, no stalled projection.

hypothesis-graphql writes valid queries and mutations from the schema (NUL bytes in
strings included); the JSON scalar gets arbitrary JSON (numbers past 64 bits among it).
Requests go out as well-formed JSON bodies with keys of each role, as clients send them.
"""

from __future__ import annotations

import os
import time
from datetime import timezone

from graphql.language import (
    BooleanValueNode, FloatValueNode, IntValueNode, ListValueNode, NameNode, NullValueNode,
    ObjectFieldNode, ObjectValueNode, StringValueNode,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import from_schema

from taskmarket.graphql.schema import served_sdl

names = st.from_regex(r"[_A-Za-z][_0-9A-Za-z]{0,6}", fullmatch=True)
json_nodes = st.recursive(
    st.none().map(lambda _: NullValueNode()) | st.booleans().map(
        lambda b: BooleanValueNode(value=b))
    | st.integers().map(lambda n: IntValueNode(value=str(n)))
    | st.floats(allow_nan=False, allow_infinity=False).map(
        lambda x: FloatValueNode(value=repr(x)))
    | st.text().map(lambda s: StringValueNode(value=s)),
    lambda inner: st.lists(inner, max_size=3).map(lambda v: ListValueNode(values=v))
    | st.dictionaries(names, inner, max_size=3).map(lambda d: ObjectValueNode(fields=[
        ObjectFieldNode(name=NameNode(value=k), value=v) for k, v in d.items()])),
    max_leaves=8)
SCALARS = {
    "JSON": json_nodes,
    "DateTime": st.datetimes(timezones=st.just(timezone.utc)).map(
        lambda d: StringValueNode(value=d.isoformat())),
}
# Small in the suite; raise it for a deeper run (500 took under a minute here).
EXAMPLES = int(os.environ.get("TASKMARKET_FUZZ_EXAMPLES", "60"))


def wait_for_projections(client, seconds: float = 60.0) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        ready = client.http.get("/readyz")
        body = ready.json()
        assert not body.get("stalled"), body["stalled"]
        if ready.status_code == 200 and all(p["lag"] == 0
                                            for p in body["projections"].values()):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def test_fuzzed_operations_get_no_5xx_and_stall_no_projection(client, market, server):
    acme = market.requester("Acme", deposit=100_000)
    wanda = market.worker("Wanda")
    task = market.task(acme, slots=3)
    claim = market.claim(wanda, task)
    submission = market.submit(wanda, market.claim(wanda, market.task(acme)))
    keys = [server.admin_key, acme.key, wanda.key, market.key("FINANCE"),
            market.key("PARTNER", acme), None]
    # IDs of real objects most of the time, so mutations reach the domain's checks.
    real_ids = st.sampled_from([acme.id, wanda.id, task, claim, submission])
    ids = (real_ids | real_ids | st.text()).map(lambda v: StringValueNode(value=v))
    operations = from_schema(served_sdl(), custom_scalars={**SCALARS, "ID": ids})
    seen_statuses: set[int] = set()

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(query=operations, key=st.sampled_from(keys))
    def send(query, key):
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        answer = client.http.post("/graphql", json={"query": query}, headers=headers)
        seen_statuses.add(answer.status_code)
        assert answer.status_code < 500, (query, answer.text)
        assert "Internal server error" not in answer.text, (query, answer.text)

    send()
    assert 200 in seen_statuses
    wait_for_projections(client)
