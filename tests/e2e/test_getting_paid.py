"""A new user gets a worker paid on the embedded default, over HTTP against `taskmarket
serve`: the payout waits for an account, the worker onboards through the emulator's hosted
page, the payout goes out by itself; after a restart the emulator still has the account
and the transfer, and the next payout goes to the same account. A second serve on the same
data dir is refused and leaves the first alone."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urljoin

import httpx
from test_cli import COMMAND, clean_env, data_dir, free_port, postmasters  # noqa: F401

sys.path.insert(0, str(Path(__file__).parents[1] / "integration"))
from onboarding_form import read_form  # noqa: E402

RETURN_URL = "https://app.example/payouts/ready"
REFRESH_URL = "https://app.example/payouts/again"


class Serve:
    """`taskmarket serve` in a child process; what it prints on stdout is kept."""

    def __init__(self, data_dir: Path, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [*COMMAND, "serve", "--port", str(self.port), "--data-dir", str(data_dir)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env())
        self.lines: list[str] = []
        self.errors: list[str] = []
        for stream, sink in ((self.process.stdout, self.lines),
                             (self.process.stderr, self.errors)):
            threading.Thread(target=lambda s=stream, k=sink: k.extend(iter(s.readline, "")),
                             daemon=True).start()

    def printed(self, prefix: str, seconds: float = 60) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if prefix in line:
                    return line.strip()
            assert self.process.poll() is None, "".join(self.errors)[-3000:]
            time.sleep(0.1)
        raise AssertionError(f"serve did not print {prefix!r}: {self.lines}")

    def wait_healthy(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "".join(self.errors)[-3000:]
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError("serve did not become healthy")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        status = self.process.wait(timeout=60)
        print("".join(self.errors)[-3000:])
        return status




def gql(url: str, key: str, query: str, **variables) -> dict:
    answer = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables},
                        headers={"Authorization": f"Bearer {key}"}, timeout=60)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert not body.get("errors"), body["errors"]
    (payload,) = body["data"].values()
    if isinstance(payload, dict) and "userErrors" in payload:
        assert payload["userErrors"] == [], payload
    return payload


def poll(read, until, seconds: float = 30):
    """Read until ``until(value)`` holds, within a bounded deadline; the last value."""
    deadline = time.monotonic() + seconds
    value = read()
    while not until(value):
        assert time.monotonic() < deadline, f"still {value!r} after {seconds} s"
        time.sleep(0.25)
        value = read()
    return value


PAYOUTS = """query($w: ID) { payouts(workerId: $w, first: 10) { edges { node {
  id status failureReason stripeTransferId kind amount { amount } } } } }"""
WORKER = """query($id: ID!) { node(id: $id) { ... on Worker {
  payoutAccount { stripeAccountId status requirementsDue } } } }"""


def first_key(serve: Serve) -> str:
    command = serve.printed("First ADMIN key:").split("First ADMIN key:", 1)[1].split()
    assert command[:3] == ["taskmarket", "keys", "create"]
    made = subprocess.run([*COMMAND, *command[1:]], capture_output=True, text=True,
                          timeout=60, env=clean_env())
    assert made.returncode == 0, made.stderr
    return made.stdout.strip().splitlines()[-1]


def accepted_work(url: str, admin: str, requester: dict, worker: dict, reward: int) -> str:
    task = gql(url, requester["key"], """mutation($r: Int!) { postTask(input: {
        title: "Label", instructions: "label it", reward: {amount: $r, currency: "USD"}}) {
        task { id } userErrors { code } } }""", r=reward)["task"]["id"]
    claim = gql(url, worker["key"], """mutation($t: ID!) { claimTask(input: {taskId: $t}) {
        claim { id } userErrors { code } } }""", t=task)["claim"]["id"]
    submission = gql(url, worker["key"], """mutation($c: ID!) { submitWork(input: {
        claimId: $c, result: {label: "cat"}}) { submission { id } userErrors { code } } }""",
                     c=claim)["submission"]["id"]
    review = gql(url, requester["key"], """mutation($s: ID!) { reviewSubmission(input: {
        submissionId: $s, decision: ACCEPT}) { payout { id } userErrors { code } } }""",
                 s=submission)
    return review["payout"]["id"]


def payout_of(url: str, key: str, worker_id: str, payout_id: str) -> dict:
    edges = gql(url, key, PAYOUTS, w=worker_id)["edges"]
    return next(e["node"] for e in edges if e["node"]["id"] == payout_id)


def test_a_new_worker_onboards_is_paid_and_stays_paid_across_a_restart(data_dir):  # noqa: F811
    serve = Serve(data_dir)
    try:
        serve.wait_healthy()
        assert serve.printed("GraphQL at").endswith(f"{serve.url}/graphql")
        emulator_url = re.search(r"(http://\S+)$", serve.printed("Stripe emulator")).group(1)
        assert re.search(r"signing secret whsec_\w+", serve.printed("Stripe webhooks"))
        admin = first_key(serve)

        made = gql(serve.url, admin, """mutation { createRequester(input: {name: "Acme"}) {
            requester { id } apiKey userErrors { code } } }""")
        requester = {"id": made["requester"]["id"], "key": made["apiKey"]}
        gql(serve.url, admin, """mutation($id: ID!) { depositFunds(input: {requesterId: $id,
            amount: {amount: 10000, currency: "USD"}, reference: "wire-1"}) {
            userErrors { code } } }""", id=requester["id"])
        made = gql(serve.url, admin, """mutation { createWorker(input: {name: "Ada"}) {
            worker { id payoutAccount { status } } apiKey userErrors { code } } }""")
        assert made["worker"]["payoutAccount"] is None
        worker = {"id": made["worker"]["id"], "key": made["apiKey"]}

        first = accepted_work(serve.url, admin, requester, worker, 700)
        waiting = poll(lambda: payout_of(serve.url, admin, worker["id"], first),
                       lambda p: p["failureReason"] == "NO_PAYOUT_ACCOUNT")
        assert waiting["status"] == "REQUESTED"

        started = gql(serve.url, worker["key"], """mutation($ret: String!, $ref: String!) {
            startPayoutOnboarding(input: {returnUrl: $ret, refreshUrl: $ref}) {
            onboardingUrl worker { payoutAccount { stripeAccountId status requirementsDue } }
            userErrors { code field message } } }""", ret=RETURN_URL, ref=REFRESH_URL)
        account = started["worker"]["payoutAccount"]
        assert account["status"] == "ONBOARDING" and account["requirementsDue"]
        link = started["onboardingUrl"]
        assert link.startswith(emulator_url)

        # The worker opens the link, fills in the form and lands back on the return URL.
        page = httpx.get(link)
        assert page.status_code == 200
        form = read_form(page.text)
        assert form.method == "post"
        landed = httpx.post(urljoin(link, form.action), data=form.fields)
        assert landed.status_code == 303 and landed.headers["location"] == RETURN_URL

        paid = poll(lambda: payout_of(serve.url, admin, worker["id"], first),
                    lambda p: p["status"] == "PAID")
        first_transfer = paid["stripeTransferId"]
        shown = gql(serve.url, worker["key"], WORKER, id=worker["id"])["payoutAccount"]
        assert shown == {"stripeAccountId": account["stripeAccountId"], "status": "ENABLED",
                         "requirementsDue": []}
    finally:
        assert serve.stop() == 0

    serve = Serve(data_dir)
    try:
        serve.wait_healthy()
        emulator_url = re.search(r"(http://\S+)$", serve.printed("Stripe emulator")).group(1)
        second = accepted_work(serve.url, admin, requester, worker, 300)
        paid_again = poll(lambda: payout_of(serve.url, admin, worker["id"], second),
                          lambda p: p["status"] == "PAID")
        stripe_api = httpx.Client(base_url=emulator_url,
                                  headers={"Authorization": "Bearer sk_test_story"})
        listed = stripe_api.get("/v1/transfers", params={
            "destination": account["stripeAccountId"]}).json()["data"]
        assert [(t["id"], t["amount"]) for t in listed] == [
            (paid_again["stripeTransferId"], 300), (first_transfer, 700)]
        stripe_api.close()
    finally:
        assert serve.stop() == 0


def test_a_second_serve_on_a_data_dir_in_use_is_refused_and_the_first_is_unharmed(
        data_dir):  # noqa: F811
    first = Serve(data_dir)
    try:
        first.wait_healthy()
        url_file = data_dir / "stripe-emulator.url"
        emulator_url = url_file.read_text()
        second = subprocess.run(
            [*COMMAND, "serve", "--port", str(free_port()), "--data-dir", str(data_dir)],
            capture_output=True, text=True, timeout=60, env=clean_env())
        assert second.returncode == 3
        assert "in use by a running `taskmarket serve`" in second.stderr
        assert f"pid {first.process.pid}" in second.stderr
        assert "GraphQL at" not in second.stdout
        # Nothing of the first was touched: its emulator address is still there, it answers.
        assert url_file.read_text() == emulator_url
        assert httpx.get(f"{emulator_url}/_emulator/health").json() == {"ok": True}
        first.wait_healthy()
        assert len(postmasters((data_dir / "pgdata").resolve())) == 1
    finally:
        assert first.stop() == 0
