"""One visibility rule for the events query, the subscription and webhook deliveries."""

import ast
from pathlib import Path
from uuid import uuid4

import pytest

import taskmarket.webhooks
from taskmarket.domain import DomainError, Role
from taskmarket.event_visibility import endpoint_visibility, visibility_of
from taskmarket.graphql.auth import Viewer
from taskmarket.graphql.events import event_scope
from taskmarket.webhooks.catalog import deliverable_types, visible_types

ACME, RIVAL = uuid4(), uuid4()


def test_each_role_reads_its_own_slice_of_the_log():
    partner, requester = visibility_of(Role.PARTNER, ACME), visibility_of(Role.REQUESTER, ACME)
    assert partner.shows("Task", ACME) and not partner.shows("Task", RIVAL)
    assert not partner.shows("Requester", ACME)  # deposits and wire references
    assert requester.shows("Requester", ACME) and not requester.shows("ApiKey", ACME)
    assert visibility_of(Role.FINANCE, None).shows("Requester", RIVAL)
    assert not visibility_of(Role.FINANCE, None).shows("ApiKey", None)
    assert visibility_of(Role.ADMIN, None).shows("ApiKey", None)
    with pytest.raises(DomainError) as refused:
        visibility_of(Role.WORKER, uuid4())
    assert refused.value.code == "FORBIDDEN"


def test_the_events_query_and_webhooks_use_the_same_rule():
    viewer = Viewer(Role.PARTNER, ACME, "feed")
    assert event_scope(viewer).visibility == visibility_of(Role.PARTNER, ACME)
    assert endpoint_visibility(Role.PARTNER, ACME) == visibility_of(Role.PARTNER, ACME)
    assert endpoint_visibility(Role.REQUESTER, ACME) == visibility_of(Role.REQUESTER, ACME)
    # An ADMIN's endpoint is still one requester's: everything of that requester.
    admin = endpoint_visibility(Role.ADMIN, ACME)
    assert admin.shows("Requester", ACME) and not admin.shows("Task", RIVAL)


def test_a_partner_endpoint_may_ask_for_task_and_payout_events_only():
    partner = visible_types(endpoint_visibility(Role.PARTNER, ACME))
    requester = visible_types(endpoint_visibility(Role.REQUESTER, ACME))
    assert "RequesterFundsDeposited" in requester and "RequesterFundsDeposited" not in partner
    assert {"TaskPosted", "PayoutRequested"} <= partner
    assert requester == deliverable_types()
    assert not any(name.startswith("Requester") for name in partner)


def test_webhooks_do_not_import_the_graphql_layer():
    package = Path(taskmarket.webhooks.__file__).parent
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                module = "." * node.level + (node.module or "")
                assert "graphql" not in module.split("."), (path.name, module)
