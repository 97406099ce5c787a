"""GraphiQL as a person meets it: offline, in a real browser, with an API key."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason="Debian's chromium is not installed (.ci/run does it)")


@pytest.fixture
def page(server):
    """A headless Chromium tab that can reach the server and nothing else."""
    host = urlsplit(server.url).netloc
    elsewhere: list[str] = []

    def only_the_server(route):
        if urlsplit(route.request.url).netloc == host:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox"])
        tab = browser.new_page()
        tab.route("**/*", only_the_server)
        tab.set_default_timeout(20_000)
        yield tab
        browser.close()
    assert elsewhere == [], f"the page tried to reach {elsewhere}"


def run_in_graphiql(page, query: str) -> None:
    editor = page.locator(".graphiql-query-editor .CodeMirror").first
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(query)
    # GraphiQL parses the editor's text a moment after typing; run what was typed.
    kind = query.split()[0] if query.split()[0] in ("subscription", "mutation") else "query"
    page.wait_for_function("""kind => {
        const cm = document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror;
        const ast = cm && cm.documentAST;
        return !!ast && ast.definitions.length > 0 && ast.definitions[0].operation === kind;
    }""", arg=kind)
    page.locator(".graphiql-execute-button").click()


def test_graphiql_runs_a_query_with_the_key_entered_on_the_page(page, server, market):
    market.requester("Acme Labs", deposit=0)
    page.goto(server.url + "/graphql")
    page.fill("#api-key", server.admin_key)
    page.click("text=Use key")
    run_in_graphiql(page, "{ requesters { edges { node { name currency } } } }")
    response = page.locator(".graphiql-response")
    sync_api.expect(response).to_contain_text("Acme Labs")
    sync_api.expect(response).to_contain_text("USD")


def test_a_subscription_from_the_page_authenticates_with_the_key(page, server, market):
    acme = market.requester("Acme", deposit=0)
    page.goto(server.url + "/graphql")
    page.fill("#api-key", server.admin_key)
    page.click("text=Use key")
    run_in_graphiql(page, '{ me { role } }')
    sync_api.expect(page.locator(".graphiql-response")).to_contain_text("ADMIN")
    run_in_graphiql(page, 'subscription { events(types: ["RequesterFundsDeposited"]) '
                          '{ type data } }')
    market.client.data(market.admin, """mutation($id: ID!) { depositFunds(input: {
      requesterId: $id, amount: {amount: 777, currency: "USD"}, reference: "from-page"}) {
      userErrors { code } } }""", {"id": acme.id})
    response = page.locator(".graphiql-response")
    sync_api.expect(response).to_contain_text("RequesterFundsDeposited")
    sync_api.expect(response).to_contain_text("from-page")


def test_without_a_key_the_page_says_unauthorized(page, server):
    page.goto(server.url + "/graphql")
    run_in_graphiql(page, "{ me { role } }")
    sync_api.expect(page.locator(".graphiql-response")).to_contain_text("Unauthorized")


def test_the_front_page_points_to_graphiql_and_the_docs(page, server):
    page.goto(server.url + "/")
    page.click("text=/graphql")
    sync_api.expect(page.locator("#api-key")).to_be_visible()
    page.goto(server.url + "/")
    page.click("a[href='/docs']")
    page.click("text=errors.md")
    sync_api.expect(page.locator("body")).to_contain_text("INVALID_INPUT")
