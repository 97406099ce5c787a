"""Oversized documents are refused before any resolver runs."""

import asyncio

from taskmarket.domain import Role
from taskmarket.graphql.auth import Viewer
from taskmarket.graphql.context import Context, Services
from taskmarket.graphql.limits import MAX_TOKENS
from taskmarket.graphql.schema import schema


def run(query: str):
    # No services: a resolver that ran would fail loudly.
    context = Context(Services(None, None), viewer=Viewer(Role.ADMIN, None, "t"))
    return asyncio.run(schema.execute(query, context_value=context))


def test_a_document_over_the_token_limit_is_refused():
    result = run("{ " + "__typename " * (MAX_TOKENS + 1) + "}")
    assert f"more than {MAX_TOKENS} tokens" in result.errors[0].message
    assert result.data is None


def test_a_document_within_the_limits_runs():
    assert run("{ __typename }").data == {"__typename": "Query"}


def test_too_many_aliases_are_refused():
    result = run("{ " + " ".join(f"a{n}: __typename" for n in range(20)) + " }")
    assert "aliases" in result.errors[0].message


def test_operation_labels_are_bounded(monkeypatch):
    from taskmarket.graphql import extensions

    monkeypatch.setattr(extensions, "_labels", set())
    monkeypatch.setattr(extensions, "MAX_OPERATION_LABELS", 3)
    names = [extensions.operation_label(f"Op{n}") for n in range(5)]
    assert names == ["Op0", "Op1", "Op2", "other", "other"]
    assert extensions.operation_label("Op1") == "Op1"
    assert extensions.operation_label("bad name!") == "other"
    assert extensions.operation_label(None) == "anonymous"
