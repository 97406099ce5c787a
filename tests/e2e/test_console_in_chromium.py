"""The console (/console) in a real browser (Debian's headless Chromium through Playwright),
on one server with real activity built through the API: tasks, a PAID and a FAILED payout
(paid by the workers through the Stripe emulator), webhook deliveries, submissions waiting
for review at two requesters. FINANCE and a REQUESTER sign in and the tests check what
they see; every page gets an axe-core check and a screenshot at a 390-px-wide window.

Screenshots go to a temp dir; set TASKMARKET_CONSOLE_SCREENSHOTS=docs/console to refresh
the committed set.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import Actor, GraphQLClient, Market, running_server
from psycopg import sql

sys.path.insert(0, str(Path(__file__).parents[1] / "integration"))
from webhook_harness import Receiver  # noqa: E402
from workers_harness import connected_account, pipeline  # noqa: E402

from taskmarket.bootstrap import build_marketplace  # noqa: E402
from taskmarket.stripe_emulator import start_emulator  # noqa: E402
from taskmarket.webhooks.engine import WebhookEngine  # noqa: E402
from taskmarket.webhooks.policy import DeliveryPolicy  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
NARROW = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install "
    "chromium); .ci/run installs it so CI runs this test")

CREATE_WORKER = """mutation($name: String!, $account: String) {
  createWorker(input: {name: $name, stripeAccountId: $account}) {
    worker { id } apiKey userErrors { code } } }"""
PAYOUTS = """query { payouts(first: 50) { edges { node { id status stripeTransferId
  amount { amount } worker { name } submission { id } } } } }"""
CREATE_BATCH = """mutation($input: CreateBatchInput!) { createBatch(input: $input) {
  batch { id } userErrors { code field message } } }"""
ADD_ITEMS = """mutation($input: AddBatchItemsInput!) { addBatchItems(input: $input) {
  added userErrors { code field message } } }"""
BATCH_PROGRESS = """query($id: ID!) { node(id: $id) { ... on Batch { completedCount } } }"""
BATCH = {"title": "Street sign colours", "instructions": "Red or blue?",
         "answerSchema": {"type": "object", "required": ["label"],
                          "properties": {"label": {"enum": ["red", "blue"]}}},
         "answerPointer": "/label", "reward": {"amount": 100, "currency": "USD"},
         "overlap": 2, "quality": {"goldRatio": 0.5, "minGoldAnswers": 1,
                                   "minGoldAccuracy": 0.5}}
CREATE_ENDPOINT = """mutation($url: String!) { createWebhookEndpoint(input: {url: $url}) {
  endpoint { id } secret userErrors { code message } } }"""
DELIVERIES = """query($id: ID!) { webhookDeliveries(endpointId: $id, first: 50) {
  edges { node { id delivered redelivery } } } }"""
DEPOSIT = """mutation($id: ID!) { depositFunds(input: {requesterId: $id,
  amount: {amount: 25000, currency: "USD"}, reference: "wire-live"}) { userErrors { code } } }"""
SUBMISSION = """query($id: ID!) { node(id: $id) { ... on Submission { status feedback } } }"""


def wait_for(predicate, what: str, seconds: float = 90):
    """A hang guard for what the workers do, not a time budget."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


class Activity:
    """What the fixture made, for the tests to look for."""


@pytest.fixture(scope="module")
def module_database(pg_server):
    """This module's own database (one server for all its tests)."""
    name = f"test_console_{os.getpid()}"
    admin = pg_server.with_dbname("postgres")
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with admin.connect(autocommit=True) as conn:
        conn.execute(drop)
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
            sql.Identifier(name), sql.Identifier("taskmarket_template")))
    yield pg_server.with_dbname(name)
    with admin.connect(autocommit=True) as conn:
        conn.execute(drop)


@pytest.fixture(scope="module")
def console(module_database):
    """A server with real activity, and what was made (keys, names, IDs)."""
    with contextlib.ExitStack() as stack:
        env = stack.enter_context(pytest.MonkeyPatch.context())
        env.setenv("TASKMARKET_WEBHOOK_ALLOW_PRIVATE", "1")
        emulator = start_emulator()
        stack.callback(emulator.stop)
        env.setenv("STRIPE_API_BASE", emulator.url)  # what reconcile compares with
        stack.enter_context(pipeline(module_database, emulator))
        server = stack.enter_context(running_server(module_database))
        receiver, globex_receiver = Receiver().start(), Receiver().start()
        stack.callback(receiver.stop)
        stack.callback(globex_receiver.stop)
        hooks_app = build_marketplace(module_database)
        stack.callback(hooks_app.close)
        engine = WebhookEngine(module_database, hooks_app, DeliveryPolicy.from_env(
            base_delay=0.02, max_delay=0.1, poll_interval=0.02, workers=2))
        engine.start()
        stack.callback(engine.stop)
        api = GraphQLClient(server)
        stack.callback(api.close)
        yield build_activity(server, api, emulator, receiver, globex_receiver)


def build_activity(server, api: GraphQLClient, emulator, receiver,
                   globex_receiver) -> Activity:
    market = Market(api, server.admin_key)
    made = Activity()
    made.url = server.url
    made.api = api
    acme = market.requester("Acme Labeling", deposit=500_000)
    globex = market.requester("Globex Surveys", deposit=300_000)
    made.acme, made.globex = acme, globex
    made.finance_key = market.key("FINANCE")

    def worker(name, account):
        answer = api.data(server.admin_key, CREATE_WORKER, {"name": name, "account": account})
        return answer["createWorker"]

    made.ada_account = connected_account(emulator)
    ada = worker("Ada", made.ada_account)
    bo = worker("Bo", "acct_ClosedLongAgo")  # Stripe has no such account: FAILED
    ada, bo = Actor(ada["worker"]["id"], ada["apiKey"]), Actor(bo["worker"]["id"], bo["apiKey"])

    endpoint = api.data(acme.key, CREATE_ENDPOINT, {"url": receiver.url})
    receiver.secret = endpoint["createWebhookEndpoint"]["secret"]
    made.endpoint_id = endpoint["createWebhookEndpoint"]["endpoint"]["id"]
    other = api.data(globex.key, CREATE_ENDPOINT, {"url": f"{globex_receiver.url}?from=globex"})
    assert other["createWebhookEndpoint"]["userErrors"] == []
    globex_receiver.secret = other["createWebhookEndpoint"]["secret"]

    paid_task = market.task(acme, reward=1250, title="Outline the cats")
    made.paid_submission = market.submit(ada, market.claim(ada, paid_task))
    market.review(acme, made.paid_submission)
    failed_task = market.task(acme, reward=730, title="Count the boats")
    market.review(acme, market.submit(bo, market.claim(bo, failed_task)))
    queued_task = market.task(acme, reward=400, title="Tag the street signs")
    made.queued_submission = market.submit(ada, market.claim(ada, queued_task))
    market.task(acme, reward=300, title="Transcribe the receipts", slots=3)
    market.submit(ada, market.claim(ada, market.task(acme, reward=600,
                                                     title="Check the translations")))
    made.batch = build_batch(api, market, acme, ada, worker)
    made.globex_batch = "Globex secret batch"
    made_batch = api.data(globex.key, CREATE_BATCH,
                          {"input": {**BATCH, "title": made.globex_batch}})
    assert made_batch["createBatch"]["userErrors"] == []
    made.globex_title = "Globex secret survey"
    globex_task = market.task(globex, reward=900, title=made.globex_title)
    made.globex_submission = market.submit(bo, market.claim(bo, globex_task))

    def payouts():
        return [edge["node"] for edge in
                api.data(made.finance_key, PAYOUTS)["payouts"]["edges"]]

    settled = wait_for(lambda: (lambda found: found if len(found) == 3 and "REQUESTED" not in
                                {p["status"] for p in found} else None)(payouts()),
                       "PAID and FAILED payouts")
    made.payouts = settled
    made.paid = next(p for p in settled if p["submission"]["id"] == made.paid_submission)
    made.failed = next(p for p in settled if p["status"] == "FAILED")
    # A transfer made at Stripe behind our back: reconciliation's discrepancy.
    made.rogue_transfer = emulator.stripe_client().v1.transfers.create({
        "amount": 700, "currency": "usd", "destination": made.ada_account,
        "metadata": {"payout_id": "not-one-of-ours"}}).id
    wait_for(lambda: api.data(acme.key, DELIVERIES, {"id": made.endpoint_id})[
        "webhookDeliveries"]["edges"], "a webhook delivery")
    return made


def build_batch(api, market, acme, ada, worker) -> str:
    """Acme's batch of four items (one gold): both workers answer item 0 alike (its
    consensus), Ada is right on the gold item (paid), Cy wrong (rejected, blocked)."""
    batch = api.data(acme.key, CREATE_BATCH, {"input": BATCH})["createBatch"]["batch"]["id"]
    items = [{"payload": {"sign": n}} for n in range(3)]
    items.append({"payload": {"sign": 99}, "goldAnswer": "red"})
    added = api.data(acme.key, ADD_ITEMS, {"input": {"batchId": batch, "items": items,
                                                     "idempotencyKey": "signs-0"}})
    assert added["addBatchItems"]["added"] == 4
    made = worker("Cy", None)
    cy = Actor(made["worker"]["id"], made["apiKey"])
    board = api.data(cy.key, "{ tasks(first: 50) { edges { node { id payload } } } }")
    by_sign = {e["node"]["payload"]["sign"]: e["node"]["id"] for e in board["tasks"]["edges"]
               if isinstance(e["node"]["payload"], dict) and "sign" in e["node"]["payload"]}
    for who in (ada, cy):
        market.submit(who, market.claim(who, by_sign[0]), {"label": "blue"})
    market.submit(ada, market.claim(ada, by_sign[99]), {"label": "red"})
    market.submit(cy, market.claim(cy, by_sign[99]), {"label": "blue"})
    wait_for(lambda: api.data(acme.key, BATCH_PROGRESS, {"id": batch})["node"][
        "completedCount"] == 1, "the consensus of item 0")
    return batch


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    """Screenshots: every page, full length, to a temp dir; the README's set (what the
    window shows) to TASKMARKET_CONSOLE_SCREENSHOTS when that is set."""
    every = tmp_path_factory.mktemp("console-screenshots")
    docs = os.environ.get("TASKMARKET_CONSOLE_SCREENSHOTS")

    def take(page, name: str, readme: bool = False) -> None:
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(every / f"{name}.png"), full_page=True)
        if readme and docs:
            Path(docs).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(docs) / f"{name}.png"))

    take.every = every
    return take


def zone_at_noon() -> str:
    """A time zone where it is about noon now: "today" and "yesterday" in the browser
    cannot change between building the market and looking at it."""
    offset = 12 - datetime.now(timezone.utc).hour  # -11..12 hours from UTC
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # POSIX signs are reversed


def open_page(browser, url: str, viewport=WIDE, zone: str | None = None):
    """A tab that reaches the console's server and nothing else (no CDN: it works
    offline); what it tried elsewhere, its script errors and failed loads are problems."""
    # The console's CSP admits only its own scripts; the test injects axe-core itself.
    context = browser.new_context(viewport=viewport, bypass_csp=True, locale="en-US",
                                  timezone_id=zone or zone_at_noon())
    page = context.new_page()
    page.problems = []

    def only_the_server(route):
        if route.request.url.startswith((f"{url}/", "data:")):
            route.continue_()
        else:
            page.problems.append(f"tried to reach {route.request.url}")
            route.abort()

    page.route("**/*", only_the_server)
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    return page


def sign_in(page, url: str, key: str) -> None:
    page.goto(f"{url}/console")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()


def go(page, route: str, heading: str) -> None:
    page.evaluate("route => { location.hash = route }", route)
    page.get_by_role("heading", name=heading, level=1).wait_for()
    page.wait_for_load_state("networkidle")


def serious_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact,
            nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)})); }""")
    return [f"{v['id']} ({v['impact']}): {v['nodes']}" for v in result
            if v["impact"] in ("serious", "critical")]


def no_horizontal_overflow(page) -> bool:
    """Nothing but the tables' own scroll regions is wider than the window."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_finance_sees_the_overview_and_why_a_payout_was_paid(console, browser, shots):
    page = open_page(browser, console.url)
    sign_in(page, console.url, console.finance_key)
    main = page.locator("main")
    assert page.get_by_role("heading", name="Overview", level=1).is_visible()
    main.get_by_text("Status: ok").wait_for()
    today = page.get_by_role("table", name="Payouts requested today, by status")
    today.wait_for()
    rows = {row.locator("td").nth(0).inner_text(): (row.locator("td").nth(1).inner_text(),
                                                   row.locator("td").nth(2).inner_text())
            for row in today.locator("tbody tr").all()}
    # Money in the currency's format (decimal), not minor units; as the API counts them.
    assert rows == expected_today(console.payouts)
    assert rows["FAILED"] == ("1", "$7.30") and rows["PAID"] == ("2", "$13.50")
    tasks = page.get_by_role("table", name="Tasks by status")
    assert "OPEN" in tasks.inner_text()
    assert page.get_by_role("img", name="Payouts per day (USD)").count() == 1
    feed = page.get_by_role("list", name="Latest events")
    feed.locator("li").first.wait_for()  # replayed over the WebSocket subscription
    assert "RequesterFundsDeposited" not in feed.inner_text()  # the deposits came first
    console.api.data(console.api.server.admin_key, DEPOSIT, {"id": console.globex.id})
    feed.get_by_text("RequesterFundsDeposited").wait_for()  # and live ones as they happen
    shots(page, "overview", readme=True)

    go(page, "#/payouts", "Payouts")
    page.get_by_label("Status").select_option("FAILED")
    page.get_by_role("button", name="Show").click()
    listed = page.get_by_role("table", name="Payouts, newest first")
    from playwright.sync_api import expect

    listed.get_by_text("PAYOUT_ACCOUNT_NOT_FOUND").wait_for()
    expect(listed).not_to_contain_text("Ada")  # waits for the filtered page to replace the list
    assert "Bo" in listed.inner_text()
    assert "$7.30" in listed.inner_text() and "PAYOUT_ACCOUNT_NOT_FOUND" in listed.inner_text()
    page.get_by_label("Status").select_option("PAID")
    page.get_by_role("button", name="Show").click()
    listed.get_by_text("$12.50").wait_for()
    shots(page, "payouts")
    listed.locator("tr", has_text="$12.50").get_by_role("link", name="Payout").click()

    page.get_by_role("heading", name="Payout of $12.50 to Ada").wait_for()
    details = main.inner_text()
    transfer = console.paid["stripeTransferId"]
    assert transfer.startswith("tr_") and transfer in details
    assert "ACCEPTED for “Outline the cats”" in details
    # Its trace: why it was paid (the submission and its review) and from which money.
    trace = page.get_by_role("region", name="Trace")
    traced = trace.inner_text()
    assert console.paid_submission in traced and transfer in traced
    assert "Outline the cats" in traced and "Acme Labeling" in traced  # who accepted it
    funding = trace.get_by_role("table", name="Funding: the escrow reservation and the "
                                "deposits it drew on")
    assert [row.locator("td").nth(1).inner_text() for row in funding.locator("tbody tr").all()
            ] == ["RequesterEscrowReserved", "RequesterFundsDeposited"]
    assert "wire-Acme Labeling" in funding.inner_text()
    history = page.get_by_role("table", name="Events of this payout, oldest first")
    kinds = [row.locator("td").nth(1).inner_text() for row in history.locator("tbody tr").all()]
    assert kinds[0] == "PayoutRequested" and kinds[-1] == "PayoutPaid", kinds
    shots(page, "payout", readme=True)
    assert page.problems == []


def test_finance_reconciles_and_reads_balances_as_of_yesterday(console, browser, shots):
    page = open_page(browser, console.url)
    sign_in(page, console.url, console.finance_key)
    go(page, "#/reconciliation", "Reconciliation")
    page.get_by_text("No reconciliation has run yet.").wait_for()
    page.get_by_role("button", name="Run reconciliation").click()
    page.get_by_role("status").get_by_text("Reconciliation finished: 1 discrepancies.").wait_for()
    found = page.get_by_role("table", name="Discrepancies of run 1")
    found.wait_for()
    cells = [found.locator("tbody td").nth(i).inner_text() for i in range(3)]
    assert cells == ["TRANSFER_WITHOUT_PAYOUT", "—", console.rogue_transfer]
    shots(page, "reconciliation", readme=True)
    go(page, "#/overview", "Overview")
    page.get_by_text("1 open").wait_for()
    assert "TRANSFER_WITHOUT_PAYOUT" in page.get_by_role(
        "table", name="Open discrepancies by kind").inner_text()

    go(page, "#/balances", "Balances")  # as of the end of today, compared with yesterday
    table = page.get_by_role("table", name="Ledger balances")
    table.wait_for()
    rows = {row.locator("td").nth(0).inner_text(): [row.locator("td").nth(i).inner_text()
                                                    for i in (1, 2, 3)]
            for row in table.locator("tbody tr").all()}
    # Everything happened today (after a deposit today): yesterday's books were empty.
    assert rows and all(yesterday == "$0.00" for _, yesterday, _ in rows.values()), rows
    acme_available = rows[f"requester:{console.acme.id}:available"]
    assert acme_available[0] != "$0.00"
    assert acme_available[0] == acme_available[2]  # the change since yesterday
    shots(page, "balances", readme=True)
    assert serious_violations(page) == []
    assert page.problems == []


def test_a_requester_reviews_from_its_queue_and_sees_only_its_own(console, browser, shots):
    page = open_page(browser, console.url)
    sign_in(page, console.url, console.acme.key)
    assert "REQUESTER" in page.locator("#who").inner_text()
    nav = page.get_by_role("navigation", name="Console pages").inner_text()
    assert "Review queue" in nav and "Payouts" not in nav
    page.get_by_role("table", name="Funds of Acme Labeling").wait_for()
    shots(page, "overview-requester")

    go(page, "#/reviews", "Review queue")
    item = page.get_by_role("article", name="Submission for Tag the street signs")
    item.wait_for()
    # Globex's submission waits in Globex's queue, never in Acme's.
    assert console.globex_title not in page.content()
    shots(page, "review-queue", readme=True)
    item.get_by_label("Feedback to the worker").fill("Please include the stop signs too")
    item.get_by_role("button", name="Request revision").click()
    item.get_by_role("status").get_by_text("Submission is now REVISION_REQUESTED.").wait_for()
    # Refreshed at once, the queue reads after that write (read-your-writes): it is gone.
    page.get_by_role("button", name="Refresh").click()
    item.wait_for(state="detached")
    assert page.get_by_role("article", name="Submission for Check the translations").count() == 1
    seen = console.api.data(console.acme.key, SUBMISSION, {"id": console.queued_submission})
    assert seen["node"] == {"status": "REVISION_REQUESTED",
                            "feedback": "Please include the stop signs too"}

    # What the requester's overview counts is what the API gives its key: its own tasks.
    go(page, "#/overview", "Overview")
    tasks = page.get_by_role("table", name="Tasks by status")
    tasks.wait_for()
    counted = {row.locator("td").nth(0).inner_text(): int(row.locator("td").nth(1).inner_text())
               for row in tasks.locator("tbody tr").all()}
    assert counted == task_counts(console.api, console.acme.key)
    assert sum(counted.values()) < sum(task_counts(console.api, console.finance_key).values())

    go(page, "#/batches", "Batches")
    batches = page.get_by_role("table", name="Batches, newest first")
    batches.wait_for()
    assert console.globex_batch not in page.content()
    row = batches.locator("tr", has_text="Street sign colours")
    assert "1 / 4" in row.inner_text() and "$1.00" in row.inner_text()
    assert page.get_by_role("img", name="Batch progress (items)").count() == 1
    shots(page, "batches", readme=True)
    row.get_by_role("link").click()
    page.get_by_role("heading", name="Street sign colours", level=1).wait_for()
    results = page.get_by_role("table", name="Consensus results")
    results.wait_for()
    agreed = results.locator("tr", has_text='{"sign":0}')
    assert [agreed.locator("td").nth(i).inner_text() for i in (1, 2, 3)] == [
        "blue", "100.0 %", "2"]
    quality = page.get_by_role("table", name="Worker quality")
    quality.wait_for()
    by_worker = {r.locator("td").nth(0).inner_text(): [
        r.locator("td").nth(i).inner_text() for i in (1, 2, 3, 4)]
        for r in quality.locator("tbody tr").all()}
    assert by_worker == {"Ada": ["1", "1", "100.0 %", "—"], "Cy": ["1", "0", "0.0 %", "blocked"]}
    assert page.get_by_role("img", name="Worker accuracy on gold items").count() == 1
    assert "Cy (0.0 % on 1 gold items)" in page.locator("main").inner_text()
    shots(page, "batch", readme=True)

    go(page, "#/webhooks", "Webhooks")
    endpoints = page.get_by_role("table", name="Webhook endpoints")
    assert "from=globex" not in endpoints.inner_text()
    endpoints.get_by_role("link").click()
    page.get_by_role("heading", name="Webhook endpoint", level=1).wait_for()
    deliveries = page.get_by_role("table", name="Deliveries, newest first")
    deliveries.wait_for()
    before = len(console.api.data(console.acme.key, DELIVERIES, {"id": console.endpoint_id})[
        "webhookDeliveries"]["edges"])
    deliveries.get_by_role("button", name="Redeliver").last.click()
    page.get_by_role("status").get_by_text("queued").wait_for()
    after = console.api.data(console.acme.key, DELIVERIES, {"id": console.endpoint_id})[
        "webhookDeliveries"]["edges"]
    assert len(after) == before + 1 and any(e["node"]["redelivery"] for e in after)
    shots(page, "webhook-deliveries", readme=True)

    # Pages of other roles are not offered, and the API refuses what the key may not read.
    go(page, "#/payouts", "Not here")
    page.evaluate("id => { location.hash = '#/payouts/' + id }", console.failed["id"])
    page.get_by_role("heading", name="Not here").wait_for()
    refused = console.api.run(console.acme.key, PAYOUTS)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert page.problems == []


def expected_today(payouts) -> dict[str, tuple[str, str]]:
    """The overview's table of today's payouts, as the API's payouts add up (USD)."""
    rows = {}
    for status in ("REQUESTED", "PAID", "FAILED"):
        mine = [p["amount"]["amount"] for p in payouts if p["status"] == status]
        rows[status] = (str(len(mine)), f"${sum(mine) / 100:,.2f}" if mine else "—")
    return rows


TASKS = """query($status: TaskStatus, $after: String) { tasks(first: 100, status: $status,
  after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }"""


def task_counts(api, key) -> dict[str, int]:
    counts = {}
    for status in ("OPEN", "FILLED", "COMPLETED", "CANCELLED"):
        page = api.data(key, TASKS, {"status": status})["tasks"]
        assert not page["pageInfo"]["hasNextPage"]
        counts[status] = len(page["edges"])
    return counts


def test_a_wrong_key_is_the_apis_error_and_nothing_is_stored(console, browser):
    page = open_page(browser, console.url)
    page.goto(f"{console.url}/console")
    page.get_by_label("API key").fill("tm_not_a_key")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").get_by_text("UNAUTHENTICATED").wait_for()
    assert page.evaluate("sessionStorage.length") == 0
    assert "tm_not_a_key" not in page.url


def test_money_takes_its_currencys_exponent_and_times_the_browsers_zone(console, browser):
    page = open_page(browser, console.url, zone="America/New_York")
    page.goto(f"{console.url}/console")
    shown = page.evaluate("""async () => {
        const f = await import('/console/static/js/format.js');
        return [f.money(1250, 'USD'), f.money(1250, 'JPY'), f.money(1234, 'KWD'),
                f.money(5, 'EUR'), f.money('-123456789012345678901', 'USD'),
                f.time('2026-01-15T17:30:00+00:00')]; }""")
    assert [text.replace("\xa0", " ") for text in shown] == [
        "$12.50", "¥1,250", "KWD 1.234", "€0.05", "-$1,234,567,890,123,456,789.01",
        "Jan 15, 2026, 12:30:00 PM EST"]


README_NARROW = {"finance-overview-390", "requester-reviews-390"}
PAGES_OF = {
    "finance": [("#/overview", "Overview"), ("#/payouts", "Payouts"),
                ("#/balances", "Balances"), ("#/reconciliation", "Reconciliation")],
    "requester": [("#/overview", "Overview"), ("#/reviews", "Review queue"),
                  ("#/webhooks", "Webhooks"), ("#/batches", "Batches")],
}


@pytest.mark.parametrize("who", ["finance", "requester"])
def test_every_page_passes_axe_and_fits_a_390_px_window(console, browser, shots, who):
    key = console.finance_key if who == "finance" else console.acme.key
    page = open_page(browser, console.url, NARROW)
    sign_in(page, console.url, key)
    pages = list(PAGES_OF[who])
    if who == "finance":
        pages.append((f"#/payouts/{console.paid['id']}", "Payout of $12.50 to Ada"))
    else:
        pages.append((f"#/webhooks/{console.endpoint_id}", "Webhook endpoint"))
        pages.append((f"#/batches/{console.batch}", "Street sign colours"))
    for route, heading in pages:
        go(page, route, heading)
        assert serious_violations(page) == [], route
        assert no_horizontal_overflow(page), route
        name = route.strip("#/").split("/")[0]
        name = f"{who}-{name}{'-detail' if route.count('/') > 1 else ''}-390"
        shots(page, name, readme=name in README_NARROW)
    assert page.problems == []
