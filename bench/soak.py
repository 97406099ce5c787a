"""Figure 11: a soak under mixed load, as a platform would load ``taskmarket serve``.

``bench.server`` (the serve app with its projections, in a child process) on a fresh
database; for 10 minutes (1 in ``--quick``) 3 requester clients post tasks and review the
work sent to them (ACCEPT, every fourth REJECT), 8 worker clients loop on
``claimNextTask`` + ``submitWork``, and one reader pages ``tasks(first: 50)``.
Measured: successful mutations per second in the first and the last sixth of the run
(a minute each in the full run), and the server's RSS sampled every 2 s: growth after
warm-up (the first sixth) in MB per minute. Ratio: last / first mutations/s.
"""

from __future__ import annotations

import collections
import itertools
import threading
import time
from contextlib import ExitStack

import httpx

from taskmarket.bootstrap import build_marketplace
from taskmarket.domain import Role
from taskmarket.global_ids import parse_global_id, to_global_id

from .http_load import server_process
from .infra import Postgres, use_postgres, workers_with_keys
from .memory import status_kb
from .report import row
from .stats import Spread

REQUESTERS, WORKERS = 3, 8
TARGET_RATIO = 0.9
POST = """mutation($title: String!) { postTask(input: {title: $title, instructions: "label",
  reward: {amount: 100, currency: "USD"}, assignments: 2}) {
  task { id } userErrors { code } } }"""
CLAIM_NEXT = """mutation { claimNextTask(input: {}) { claim { id } userErrors { code } } }"""
SUBMIT = """mutation($claim: ID!) { submitWork(input: {claimId: $claim, result: {label: "cat"}})
  { submission { id } userErrors { code } } }"""
REVIEW = """mutation($sub: ID!, $decision: ReviewDecision!) {
  reviewSubmission(input: {submissionId: $sub, decision: $decision}) {
  submission { id status } userErrors { code } } }"""
READ = "{ tasks(first: 50) { edges { node { id title openSlots requester { name } } } } }"


class Soak:
    def __init__(self, url: str, requester_keys: list[str], worker_keys: list[str]):
        self.url = url
        self.requester_keys = requester_keys
        self.worker_keys = worker_keys
        self.owner: dict[str, int] = {}  # task global id -> requester index
        self.inbox = [collections.deque() for _ in requester_keys]
        self.done: list[float] = []  # monotonic time of each successful mutation
        self.failures: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def call(self, http: httpx.Client, key: str, query: str, variables=None) -> dict:
        answer = http.post("/graphql", json={"query": query, "variables": variables or {}},
                           headers={"Authorization": f"Bearer {key}"})
        body = answer.json()
        if answer.status_code != 200 or body.get("errors"):
            with self.lock:
                self.failures.append(answer.text[:200])
            return {}
        return next(iter(body["data"].values()))

    def counted(self, payload: dict) -> bool:
        ok = bool(payload) and not payload.get("userErrors")
        if ok:
            with self.lock:
                self.done.append(time.monotonic())
        return ok

    def requester(self, index: int) -> None:
        key = self.requester_keys[index]
        titles = itertools.count()
        with httpx.Client(base_url=self.url, timeout=60) as http:
            while not self.stop.is_set():
                inbox = self.inbox[index]
                if inbox:
                    submission, n = inbox.popleft()
                    decision = "REJECT" if n % 4 == 3 else "ACCEPT"
                    self.counted(self.call(http, key, REVIEW, {"sub": submission,
                                                              "decision": decision}))
                    continue
                posted = self.call(http, key, POST, {"title": f"soak {next(titles)}"})
                if self.counted(posted):
                    with self.lock:
                        self.owner[posted["task"]["id"]] = index
                time.sleep(0.05)  # a requester posts at a human pace

    def worker(self, index: int) -> None:
        key = self.worker_keys[index]
        sent = itertools.count()
        with httpx.Client(base_url=self.url, timeout=60) as http:
            while not self.stop.is_set():
                claimed = self.call(http, key, CLAIM_NEXT)
                if not self.counted(claimed) or not claimed.get("claim"):
                    time.sleep(0.05)
                    continue
                claim = claimed["claim"]["id"]
                submitted = self.call(http, key, SUBMIT, {"claim": claim})
                if self.counted(submitted):
                    task = to_global_id("Task", parse_global_id(claim)[1][0])
                    with self.lock:
                        owner = self.owner.get(task)
                    if owner is not None:
                        self.inbox[owner].append((submitted["submission"]["id"], next(sent)))

    def reader(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as http:
            while not self.stop.is_set():
                self.call(http, self.requester_keys[0], READ)
                time.sleep(0.2)


def run(quick: bool = False, postgres: Postgres | None = None) -> list[dict]:
    seconds = 60 if quick else 600
    with ExitStack() as stack:
        pg = stack.enter_context(use_postgres(postgres))
        database = stack.enter_context(pg.database("soak"))
        app = build_marketplace(database)
        stack.callback(app.close)
        _, worker_keys = workers_with_keys(app, WORKERS)
        requester_keys = []
        for n in range(REQUESTERS):
            requester = app.create_requester(f"soak requester {n}")
            app.deposit_funds(requester, 10**9, "USD", f"wire-soak-{n}")
            requester_keys.append(app.issue_api_key(Role.REQUESTER, f"r{n}", requester)[1])
        url, process = stack.enter_context(server_process(database))
        soak = Soak(url, requester_keys, worker_keys)
        threads = ([threading.Thread(target=soak.requester, args=(i,))
                    for i in range(REQUESTERS)]
                   + [threading.Thread(target=soak.worker, args=(i,)) for i in range(WORKERS)]
                   + [threading.Thread(target=soak.reader)])
        began = time.monotonic()
        for thread in threads:
            thread.start()
        rss: list[tuple[float, float]] = []
        while time.monotonic() - began < seconds:
            rss.append((time.monotonic() - began, status_kb(process.pid, "VmRSS") / 1024))
            time.sleep(2)
        soak.stop.set()
        for thread in threads:
            thread.join()
    sixth = seconds / 6
    first = sum(1 for t in soak.done if t - began < sixth) / sixth
    last = sum(1 for t in soak.done if seconds - sixth <= t - began < seconds) / sixth
    warm = [mb for t, mb in rss if t >= sixth]
    growth = (warm[-1] - warm[0]) / ((seconds - sixth) / 60) if len(warm) > 1 else 0.0
    total = len(soak.done) / seconds
    return [
        row("11", f"soak {seconds // 60} min: mutations/s, last vs first {sixth:.0f} s",
            f"last {last:.1f}/s, whole run {total:.1f}/s, {len(soak.failures)} errors",
            f"first {first:.1f}/s", Spread.of([last / first if first else 0.0]),
            f">= {TARGET_RATIO}x", first > 0 and last / first >= TARGET_RATIO),
        row("11", "soak: server RSS after warm-up",
            f"{warm[-1]:.0f} MB at the end, {growth:+.2f} MB/min" if warm else "no samples",
            f"{warm[0]:.0f} MB after {sixth:.0f} s" if warm else "",
            note="flat means growth near 0"),
    ]
