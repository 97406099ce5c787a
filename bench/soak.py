"""Figure 11: a soak under mixed load, as a platform would load ``taskmarket serve``.

``taskmarket serve`` itself (its default layout; ``BENCH_SOAK_SERVE`` adds options, e.g.
``--multi-process`` for API processes, followers and worker apart, or is ``single`` for
``--single-process``) on a fresh database, with the Stripe emulator it starts (no
STRIPE_API_KEY; ``BENCH_SOAK_EMULATOR=process`` runs the emulator in a process of its
own instead, outside serve's RSS). For 10 minutes (1 in ``--quick``; ``BENCH_SOAK_SECONDS`` sets it):
3 requester clients post tasks and review the work sent to them (ACCEPT, every fourth
REJECT), the accepted work is paid through the emulator by the worker; 8 worker clients
(each with an onboarded Stripe account) loop on ``claimNextTask`` + ``submitWork``; one
reader pages ``tasks(first: 50)``; a finance client pages ``payouts`` to the end over and
over; a partner of the first requester is subscribed to ``events`` over WebSocket.
Measured: successful mutations per second in the first and the last sixth of the run
(a minute each in the full run) and over the whole run (against the issue's 25/s: 4x is
the target); RSS of serve and all its processes sampled every 2 s: growth after warm-up
(the first sixth) in MB per minute. Checked after the load stops: every accepted
submission's payout is PAID, and the partner's subscription received exactly the events
its key can read (the ``events`` query), in order, none twice.
"""

from __future__ import annotations

import collections
import itertools
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import psutil

from taskmarket.bootstrap import build_marketplace
from taskmarket.domain import Role
from taskmarket.global_ids import parse_global_id, to_global_id

from .infra import Postgres, free_port, use_postgres
from .report import row
from .stats import Spread

REQUESTERS, WORKERS = 3, 8
TARGET_RATIO = 0.9
ISSUE_RATE = 25.0  # mutations/s of the issue's soak on this box
TARGET_RATE = 4 * ISSUE_RATE
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
PAYOUTS = """query($after: String, $status: PayoutStatus) {
  payouts(first: 50, after: $after, status: $status) {
  edges { node { id status } } pageInfo { hasNextPage endCursor } } }"""
EVENTS = """query($after: String) { events(first: 100, after: $after) {
  edges { node { position } } pageInfo { hasNextPage endCursor } } }"""
SUBSCRIBE = "subscription { events { position } }"
OPERATION = {POST: "postTask", CLAIM_NEXT: "claimNextTask", SUBMIT: "submitWork",
             REVIEW: "reviewSubmission", READ: "tasks", PAYOUTS: "payouts"}


class Soak:
    def __init__(self, url: str, requester_keys: list[str], worker_keys: list[str]):
        self.url = url
        self.requester_keys = requester_keys
        self.worker_keys = worker_keys
        self.owner: dict[str, int] = {}  # task global id -> requester index
        self.inbox = [collections.deque() for _ in requester_keys]
        self.done: list[float] = []  # monotonic time of each successful mutation
        self.kinds: list[str] = []  # and which mutation it was
        self.failures: list[str] = []
        self.accepted = 0
        self.latency: dict[str, list[float]] = collections.defaultdict(list)
        self.finance_pages = 0
        self.received: list[int] = []  # positions the partner's subscription delivered
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def call(self, http: httpx.Client, key: str, query: str, variables=None) -> dict:
        started = time.perf_counter()
        answer = http.post("/graphql", json={"query": query, "variables": variables or {}},
                           headers={"Authorization": f"Bearer {key}"})
        self.latency[OPERATION[query]].append(time.perf_counter() - started)
        body = answer.json()
        if answer.status_code != 200 or body.get("errors"):
            with self.lock:
                self.failures.append(answer.text[:200])
            return {}
        return next(iter(body["data"].values()))

    def counted(self, payload: dict, kind: str) -> bool:
        ok = bool(payload) and not payload.get("userErrors")
        if ok:
            with self.lock:
                self.done.append(time.monotonic())
                self.kinds.append(kind)
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
                    if self.counted(self.call(http, key, REVIEW, {"sub": submission,
                                                                 "decision": decision}),
                                    "reviewSubmission"):
                        with self.lock:
                            self.accepted += decision == "ACCEPT"
                    continue
                posted = self.call(http, key, POST, {"title": f"soak {next(titles)}"})
                if self.counted(posted, "postTask"):
                    with self.lock:
                        self.owner[posted["task"]["id"]] = index
                time.sleep(0.05)  # a requester posts at a human pace

    def worker(self, index: int) -> None:
        key = self.worker_keys[index]
        sent = itertools.count()
        with httpx.Client(base_url=self.url, timeout=60) as http:
            while not self.stop.is_set():
                claimed = self.call(http, key, CLAIM_NEXT)
                if not self.counted(claimed, "claimNextTask") or not claimed.get("claim"):
                    time.sleep(0.05)
                    continue
                claim = claimed["claim"]["id"]
                submitted = self.call(http, key, SUBMIT, {"claim": claim})
                if self.counted(submitted, "submitWork"):
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



    def finance(self, key: str) -> None:
        """Pages every payout, again and again, as a finance team's reconciliation does."""
        with httpx.Client(base_url=self.url, timeout=60) as http:
            while not self.stop.is_set():
                after = None
                while not self.stop.is_set():
                    page = self.call(http, key, PAYOUTS, {"after": after})
                    self.finance_pages += 1
                    if not page or not page["pageInfo"]["hasNextPage"]:
                        break
                    after = page["pageInfo"]["endCursor"]
                time.sleep(0.5)

    def partner(self, key: str, ready: threading.Event, done: threading.Event) -> None:
        """A partner's integration on the events subscription; keeps every position."""
        from websockets.sync.client import connect

        ws_url = self.url.replace("http://", "ws://") + "/graphql"
        with connect(ws_url, subprotocols=["graphql-transport-ws"], open_timeout=30) as ws:
            ws.send(json.dumps({"type": "connection_init",
                                "payload": {"authorization": f"Bearer {key}"}}))
            assert json.loads(ws.recv(timeout=30))["type"] == "connection_ack"
            ws.send(json.dumps({"id": "1", "type": "subscribe",
                                "payload": {"query": SUBSCRIBE}}))
            ready.set()
            while not done.is_set():
                try:
                    message = json.loads(ws.recv(timeout=0.5))
                except TimeoutError:
                    continue
                if message["type"] != "next" or "errors" in message["payload"]:
                    with self.lock:
                        self.failures.append(json.dumps(message)[:200])
                    continue
                self.received.append(int(message["payload"]["data"]["events"]["position"]))


def all_pages(url: str, key: str, query: str, field: str, variables=None) -> list[dict]:
    nodes, after = [], None
    with httpx.Client(base_url=url, timeout=60) as http:
        while True:
            body = http.post("/graphql", headers={"Authorization": f"Bearer {key}"},
                             json={"query": query,
                                   "variables": {**(variables or {}), "after": after}}).json()
            connection = body["data"][field]
            nodes += [edge["node"] for edge in connection["edges"]]
            if not connection["pageInfo"]["hasNextPage"]:
                return nodes
            after = connection["pageInfo"]["endCursor"]


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return condition()


@contextmanager
def serve(database, single: bool, options: list[str]):
    """``taskmarket serve`` on ``database`` (default layout, or one process); yields its
    URL, its process and its data dir (where it writes the emulator's address)."""
    data_dir = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("STRIPE_API_KEY", "STRIPE_API_BASE", "REDIS_URL",
                        "TASKMARKET_DATA_DIR")}
    env.update(DATABASE_URL=database.url, TASKMARKET_READ_YOUR_WRITES_SECONDS="30")
    emulator = None
    if os.environ.get("BENCH_SOAK_EMULATOR") == "process":  # Stripe's stand-in apart
        emulator_port = free_port()
        emulator = subprocess.Popen(
            [sys.executable, "-m", "taskmarket.stripe_emulator", "--port", str(emulator_port),
             "--log-level", "warning"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env["STRIPE_API_BASE"] = f"http://127.0.0.1:{emulator_port}"
        (data_dir / "stripe-emulator.url").write_text(env["STRIPE_API_BASE"])

        def emulator_up() -> bool:
            try:
                return httpx.get(env["STRIPE_API_BASE"] + "/_emulator/health").is_success
            except httpx.HTTPError:
                return False
        wait_until(emulator_up, 60)
    command = [sys.executable, "-m", "taskmarket.cli", "--log-level", "WARNING", "serve",
               "--port", str(port), "--data-dir", str(data_dir)]
    log_file = (data_dir / "serve.log").open("w")
    process = subprocess.Popen(command + (["--single-process"] if single else options), env=env,
                               stdout=subprocess.PIPE, stderr=log_file, text=True)
    url = f"http://127.0.0.1:{port}"
    printed: list[str] = []  # serve says "GraphQL at" once every process of it runs
    threading.Thread(target=lambda: printed.extend(iter(process.stdout.readline, "")),
                     daemon=True).start()
    try:
        def healthy() -> bool:
            if process.poll() is not None:
                raise RuntimeError("taskmarket serve did not start")
            if not any("GraphQL at" in line for line in printed):
                return False
            try:
                return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False
        try:
            if not wait_until(healthy, 180):
                raise RuntimeError("taskmarket serve did not answer in time")
        except RuntimeError:
            print((data_dir / "serve.log").read_text()[-3000:], file=sys.stderr)
            raise
        yield url, process, data_dir
    finally:
        process.terminate()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log_file.close()
        if emulator is not None:
            emulator.terminate()
            emulator.wait(30)
        if os.environ.get("BENCH_SOAK_LOG"):  # keep serve's log to look into
            shutil.copy(data_dir / "serve.log", os.environ["BENCH_SOAK_LOG"])
        shutil.rmtree(data_dir, ignore_errors=True)


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and all its descendants so far."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def rss_by_process_mb(pid: int) -> dict[int, float]:
    """RSS of a process and each of its descendants, in MB."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return {}
    sizes = {}
    for process in processes:
        try:
            sizes[process.pid] = process.memory_info().rss / 2**20
        except psutil.NoSuchProcess:
            pass
    return sizes


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and all its descendants, in MB."""
    return sum(rss_by_process_mb(pid).values())


def onboarded_accounts(emulator_url: str, count: int) -> list[str]:
    """Stripe connected accounts the emulator has finished onboarding."""
    import stripe

    client = stripe.StripeClient("sk_test_bench", base_addresses={"api": emulator_url})
    accounts = []
    for _ in range(count):
        account = client.v1.accounts.create({"type": "express"}).id
        httpx.post(f"{emulator_url}/_emulator/accounts/{account}/onboard").raise_for_status()
        accounts.append(account)
    return accounts


def run(quick: bool = False, postgres: Postgres | None = None) -> list[dict]:
    seconds = int(os.environ.get("BENCH_SOAK_SECONDS") or (60 if quick else 600))
    # BENCH_SOAK_SERVE: "single" for serve --single-process, or serve's options to add
    # ("--api-processes 1").
    chosen = os.environ.get("BENCH_SOAK_SERVE", "")
    single = chosen == "single"
    options = [] if single else shlex.split(chosen)
    with ExitStack() as stack:
        pg = stack.enter_context(use_postgres(postgres))
        database = stack.enter_context(pg.database("soak"))
        url, process, data_dir = stack.enter_context(serve(database, single, options))
        app = build_marketplace(database)
        stack.callback(app.close)
        emulator_url = (data_dir / "stripe-emulator.url").read_text().strip()
        worker_keys = []
        for n, account in enumerate(onboarded_accounts(emulator_url, WORKERS)):
            worker = app.register_worker(f"w{n}", [], account)
            worker_keys.append(app.issue_api_key(Role.WORKER, f"w{n}", worker)[1])
        requester_keys, requesters = [], []
        for n in range(REQUESTERS):
            requester = app.create_requester(f"soak requester {n}")
            app.deposit_funds(requester, 10**9, "USD", f"wire-soak-{n}")
            requesters.append(requester)
            requester_keys.append(app.issue_api_key(Role.REQUESTER, f"r{n}", requester)[1])
        finance_key = app.issue_api_key(Role.FINANCE, "finance")[1]
        partner_key = app.issue_api_key(Role.PARTNER, "partner", requesters[0])[1]
        soak = Soak(url, requester_keys, worker_keys)
        subscribed, unsubscribe = threading.Event(), threading.Event()
        partner = threading.Thread(target=soak.partner,
                                   args=(partner_key, subscribed, unsubscribe))
        partner.start()
        subscribed.wait(30)
        threads = ([threading.Thread(target=soak.requester, args=(i,))
                    for i in range(REQUESTERS)]
                   + [threading.Thread(target=soak.worker, args=(i,)) for i in range(WORKERS)]
                   + [threading.Thread(target=soak.reader),
                      threading.Thread(target=soak.finance, args=(finance_key,))])
        began = time.monotonic()
        cpu_before = tree_cpu_seconds(process.pid)
        for thread in threads:
            thread.start()
        rss: list[tuple[float, float]] = []
        warmed: dict[int, float] = {}  # each process's RSS when the warm-up ended
        load: list[float] = []
        while time.monotonic() - began < seconds:
            rss.append((time.monotonic() - began, tree_rss_mb(process.pid)))
            if not warmed and rss[-1][0] >= seconds / 6:
                warmed = rss_by_process_mb(process.pid)
            load.append(os.getloadavg()[0])
            time.sleep(2)
        cpu_used = tree_cpu_seconds(process.pid) - cpu_before
        ended = rss_by_process_mb(process.pid)
        mutations = len(soak.done)
        soak.stop.set()
        for thread in threads:
            thread.join()
        # Settled: every accepted submission paid, the partner has what it may read.
        deadline = time.monotonic() + 120
        while True:
            paid = all_pages(url, finance_key, PAYOUTS, "payouts", {"status": "PAID"})
            if len(paid) >= soak.accepted or time.monotonic() > deadline:
                break
            time.sleep(1)
        settled = len(paid) == soak.accepted
        visible = [int(node["position"])
                   for node in all_pages(url, partner_key, EVENTS, "events")]
        wait_until(lambda: len(soak.received) >= len(visible), 60)
        unsubscribe.set()
        partner.join()
        idle_mb = tree_rss_mb(process.pid)
    sixth = seconds / 6
    first = sum(1 for t in soak.done if t - began < sixth) / sixth
    last = sum(1 for t in soak.done if seconds - sixth <= t - began < seconds) / sixth
    warm = [mb for t, mb in rss if t >= sixth]
    growth = (warm[-1] - warm[0]) / ((seconds - sixth) / 60) if len(warm) > 1 else 0.0
    total = len(soak.done) / seconds
    lossless = soak.received == visible
    layout = ("serve --single-process" if single else
              f"serve {chosen}" if chosen else "serve (default)")
    loads = f"load avg {min(load):.1f}-{max(load):.1f}" if load else ""
    return [
        row("11", f"soak {seconds // 60} min, {layout}: mutations/s, last vs first "
                  f"{sixth:.0f} s",
            f"last {last:.1f}/s, whole run {total:.1f}/s, {len(soak.failures)} errors, "
            f"{loads}", f"first {first:.1f}/s", Spread.of([last / first if first else 0.0]),
            f">= {TARGET_RATIO}x", first > 0 and last / first >= TARGET_RATIO),
        row("11", "soak: mutations/s over the whole run vs the issue's soak",
            f"{total:.1f}/s", f"{ISSUE_RATE:.0f}/s (issue 14, serve of 27 Nov)",
            Spread.of([total / ISSUE_RATE]), f">= {TARGET_RATE / ISSUE_RATE:.0f}x",
            total >= TARGET_RATE),
        row("11", "soak: RSS of serve and its processes after warm-up",
            f"{warm[-1]:.0f} MB at the end, {growth:+.2f} MB/min; {idle_mb:.0f} MB idle after"
            if warm else "no samples",
            f"{warm[0]:.0f} MB after {sixth:.0f} s" if warm else "",
            note="flat means growth near 0"),
        row("11", "soak: RSS of serve and its processes at each sixth of the run (MB)",
            " / ".join(f"{sample_at(rss, seconds * n / 6):.0f}" for n in range(1, 7))),
        row("11", "soak: RSS growth after warm-up by process (MB)", ", ".join(
            f"{'serve' if pid == process.pid else f'child {pid}'} "
            f"{ended[pid] - warmed[pid]:+.1f} (to {ended[pid]:.0f})"
            for pid in sorted(ended, key=lambda p: (p != process.pid, p)) if pid in warmed),
            note="serve: the one process, or the supervisor (with the Stripe emulator)"),
        row("11", "soak: payouts and the partner's subscription",
            f"{len(paid)} PAID of {soak.accepted} accepted"
            f"{'' if settled else ' (NOT all paid once in 120 s)'}; {soak.finance_pages} finance "
            f"pages; partner received {len(soak.received)} of {len(visible)} visible events"
            f"{', lossless, in order' if lossless else ', NOT the same'}", "",
            note="every accepted paid once; subscription lossless"),
        row("11", "soak: CPU time of serve's processes (not PostgreSQL's) per mutation",
            f"{1000 * cpu_used / max(1, mutations):.1f} ms "
            f"({cpu_used:.0f} s over {seconds} s: {cpu_used / seconds:.2f} cores)",
            note="reads, payouts and the subscription included"),
        row("11", "soak: mutations/s per operation, first / last sixth", "; ".join(
            f"{kind} {per_second(soak, began, 0, sixth, kind):.1f} / "
            f"{per_second(soak, began, seconds - sixth, seconds, kind):.1f}"
            for kind in sorted(set(soak.kinds)))),
        row("11", "soak: latency p50 / p99 per operation (ms)", "; ".join(
            f"{name} {percentile(times, 50):.0f} / {percentile(times, 99):.0f}"
            for name, times in sorted(soak.latency.items()))),
    ]


def per_second(soak: Soak, began: float, start: float, end: float, kind: str) -> float:
    """Successful ``kind`` mutations per second between ``start`` and ``end`` s into the run."""
    return sum(1 for t, each in zip(soak.done, soak.kinds)
               if each == kind and start <= t - began < end) / (end - start)


def sample_at(samples: list[tuple[float, float]], t: float) -> float:
    """The last sample taken at or before ``t`` seconds."""
    before = [value for at, value in samples if at <= t]
    return before[-1] if before else 0.0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] if ordered else 0
