"""A real server for end-to-end tests: uvicorn on a free loopback port, on the test's
database, with the projections running, and a small GraphQL client over httpx."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.sync.client import connect

from taskmarket.bootstrap import build_marketplace, build_read_models, start_projections
from taskmarket.domain import Role
from taskmarket.web import create_app


@dataclass
class Server:
    url: str
    admin_key: str
    database: Any

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/graphql"


def wait_for(condition, seconds: float = 60, every: float = 0.1):
    """The first true value of ``condition()`` within ``seconds``; fails the test otherwise."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not within {seconds} s")


WRITTEN_AT = "X-Taskmarket-Position"
READ_AFTER = "X-Taskmarket-After-Position"


class GraphQLClient:
    """Speaks GraphQL over HTTP as a front end would: it keeps the newest log position
    its mutations handed back and reads after it (read-your-writes across requests),
    unless a test passes its own ``X-Taskmarket-After-Position``."""

    def __init__(self, server: Server):
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=30)
        self.written_up_to = 0

    def post(self, key: str | None, query: str, variables: dict | None = None,
             **headers: str) -> httpx.Response:
        if key:
            headers["Authorization"] = f"Bearer {key}"
        if self.written_up_to and READ_AFTER not in headers:
            headers[READ_AFTER] = str(self.written_up_to)
        response = self.http.post("/graphql", json={"query": query,
                                                    "variables": variables or {}},
                                  headers=headers)
        written = response.headers.get(WRITTEN_AT)
        if written and written.isdigit():
            self.written_up_to = max(self.written_up_to, int(written))
        return response

    def run(self, key: str | None, query: str, variables: dict | None = None) -> dict:
        """The whole response body (data and errors) of a 200 answer."""
        response = self.post(key, query, variables)
        assert response.status_code == 200, response.text
        return response.json()

    def data(self, key: str | None, query: str, variables: dict | None = None) -> dict:
        body = self.run(key, query, variables)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def close(self) -> None:
        self.http.close()


def serve_in_thread(app) -> tuple[uvicorn.Server, threading.Thread, int]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                            ws="websockets-sansio", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        assert thread.is_alive(), "server thread died"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, port


@contextlib.contextmanager
def running_server(database, configure=None):
    """The API in a thread on ``database``; ``configure(app, marketplace)`` may add
    services before it starts (a Stripe connection, say)."""
    marketplace = build_marketplace(database)
    reads = build_read_models(database)
    projections = start_projections(database, marketplace)
    with pytest.MonkeyPatch.context() as env:
        # A loaded CI machine can starve the projection thread for a while; a payload
        # must still show its own writes, so wait longer than production's 5 s.
        env.setenv("TASKMARKET_READ_YOUR_WRITES_SECONDS", "60")
        app = create_app(database, marketplace, reads)
    if configure is not None:
        configure(app, marketplace)
    _, admin_key = marketplace.issue_api_key(Role.ADMIN, "e2e admin")
    uv, thread, port = serve_in_thread(app)
    try:
        yield Server(url=f"http://127.0.0.1:{port}", admin_key=admin_key, database=database)
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        projections.stop()
        reads.close()
        marketplace.close()


@pytest.fixture
def server(database):
    with running_server(database) as running:
        yield running


@pytest.fixture
def second_server(server):
    """Another server on the same database, with its own application, projections and
    connections, as a second `taskmarket serve` process would be."""
    with running_server(server.database) as other:
        yield other


@pytest.fixture
def start_server(database):
    """For a test that wants a server for a while only:
    ``with start_server() as (server, client)``."""

    @contextlib.contextmanager
    def start():
        with running_server(database) as running:
            api = GraphQLClient(running)
            try:
                yield running, api
            finally:
                api.close()

    return start


@pytest.fixture
def browser_server(database, monkeypatch):
    """A server that lets pages on https://app.example call it (CORS and WebSocket)."""
    monkeypatch.setenv("TASKMARKET_CORS_ORIGINS", "https://app.example")
    with running_server(database) as running:
        yield running


@pytest.fixture
def client(server):
    api = GraphQLClient(server)
    yield api
    api.close()


CREATE_REQUESTER = """mutation($name: String!) {
  createRequester(input: {name: $name}) {
    requester { id name balance { amount currency } } apiKey
    userErrors { code field message } } }"""
CREATE_WORKER = """mutation($name: String!, $skills: [String!]) {
  createWorker(input: {name: $name, skills: $skills, stripeAccountId: "acct_e2e"}) {
    worker { id name skills } apiKey userErrors { code field message } } }"""
DEPOSIT = """mutation($id: ID!, $amount: Int!, $ref: String!) {
  depositFunds(input: {requesterId: $id, amount: {amount: $amount, currency: "USD"},
                       reference: $ref}) {
    requester { balance { amount currency } escrow { amount } }
    userErrors { code field message } } }"""
POST_TASK = """mutation($title: String!, $reward: Int!, $slots: Int, $skills: [String!]) {
  postTask(input: {title: $title, instructions: "label it", payload: {image: "a.png"},
                   reward: {amount: $reward, currency: "USD"}, assignments: $slots,
                   requiredSkills: $skills}) {
    task { id title status openSlots assignments reward { amount currency }
           requester { id name } }
    userErrors { code field message } } }"""
CLAIM = """mutation($task: ID!) { claimTask(input: {taskId: $task}) {
  claim { id status task { id openSlots } worker { id } } userErrors { code field message } } }"""
SUBMIT = """mutation($claim: ID!, $result: JSON!) {
  submitWork(input: {claimId: $claim, result: $result}) {
    submission { id status result claim { id status } } userErrors { code field message } } }"""
REVIEW = """mutation($sub: ID!, $decision: ReviewDecision!) {
  reviewSubmission(input: {submissionId: $sub, decision: $decision, feedback: "thanks"}) {
    submission { id status feedback }
    payout { id status amount { amount currency } worker { id } }
    userErrors { code field message } } }"""


@dataclass
class Actor:
    id: str
    key: str


class Market:
    """Sets a market up through the API, as an operator's tooling would."""

    def __init__(self, client: GraphQLClient, admin_key: str):
        self.client = client
        self.admin = admin_key

    def requester(self, name: str = "Acme", deposit: int = 100_000) -> Actor:
        made = self.client.data(self.admin, CREATE_REQUESTER, {"name": name})
        made = made["createRequester"]
        assert made["userErrors"] == []
        actor = Actor(made["requester"]["id"], made["apiKey"])
        if deposit:
            paid = self.client.data(self.admin, DEPOSIT, {"id": actor.id, "amount": deposit,
                                                          "ref": f"wire-{name}"})
            assert paid["depositFunds"]["userErrors"] == []
        return actor

    def worker(self, name: str = "Wanda", skills: list[str] | None = None) -> Actor:
        made = self.client.data(self.admin, CREATE_WORKER, {"name": name,
                                                            "skills": skills or []})
        made = made["createWorker"]
        assert made["userErrors"] == []
        return Actor(made["worker"]["id"], made["apiKey"])

    def key(self, role: str, requester: Actor | None = None) -> str:
        made = self.client.data(self.admin, """mutation($role: Role!, $req: ID) {
          createApiKey(input: {role: $role, requesterId: $req, name: "k"}) {
            apiKey userErrors { code } } }""", {"role": role,
                                                "req": requester.id if requester else None})
        assert made["createApiKey"]["userErrors"] == []
        return made["createApiKey"]["apiKey"]

    def task(self, requester: Actor, reward: int = 500, slots: int = 1,
             skills: list[str] | None = None, title: str = "Label images") -> str:
        posted = self.client.data(requester.key, POST_TASK, {
            "title": title, "reward": reward, "slots": slots, "skills": skills or []})
        assert posted["postTask"]["userErrors"] == []
        return posted["postTask"]["task"]["id"]

    def claim(self, worker: Actor, task_id: str) -> str:
        claimed = self.client.data(worker.key, CLAIM, {"task": task_id})["claimTask"]
        assert claimed["userErrors"] == [], claimed
        return claimed["claim"]["id"]

    def submit(self, worker: Actor, claim_id: str, result: Any = None) -> str:
        done = self.client.data(worker.key, SUBMIT, {"claim": claim_id,
                                                     "result": result or {"label": "cat"}})
        assert done["submitWork"]["userErrors"] == [], done
        return done["submitWork"]["submission"]["id"]

    def review(self, requester: Actor, submission_id: str, decision: str = "ACCEPT") -> dict:
        done = self.client.data(requester.key, REVIEW, {"sub": submission_id,
                                                        "decision": decision})
        assert done["reviewSubmission"]["userErrors"] == [], done
        return done["reviewSubmission"]


@pytest.fixture
def market(client, server) -> Market:
    return Market(client, server.admin_key)


class Subscriber:
    """A graphql-transport-ws client, as a partner integration would run one."""

    def __init__(self, ws_url: str, key: str | None):
        connection = connect(ws_url, subprotocols=["graphql-transport-ws"], open_timeout=10)
        self.ws = connection.__enter__()  # closed by close(), which every test calls
        payload = {"authorization": f"Bearer {key}"} if key else {}
        self.ws.send(json.dumps({"type": "connection_init", "payload": payload}))

    def acknowledged(self) -> bool:
        return json.loads(self.ws.recv(timeout=10))["type"] == "connection_ack"

    def subscribe(self, query: str, variables: dict | None = None) -> None:
        assert self.acknowledged()
        self.ws.send(json.dumps({"id": "1", "type": "subscribe",
                                 "payload": {"query": query, "variables": variables or {}}}))

    def take(self, count: int) -> list[dict]:
        got = []
        while len(got) < count:
            message = json.loads(self.ws.recv(timeout=15))
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message
            got.append(message["payload"]["data"]["events"])
        return got

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def subscribe_as(server):
    """Open graphql-transport-ws connections with a key; all are closed after the test."""
    opened = []

    def open_with(key):
        subscriber = Subscriber(server.ws_url, key)
        opened.append(subscriber)
        return subscriber

    yield open_with
    for subscriber in opened:
        subscriber.close()
