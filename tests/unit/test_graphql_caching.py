"""Repeated operations skip parsing and validation (the caches are keyed stably)."""

import asyncio

from strawberry.extensions.parser_cache import _get_parse_cache
from strawberry.extensions.validation_cache import _get_validate_cache

from taskmarket.domain import Role
from taskmarket.graphql.auth import Viewer
from taskmarket.graphql.context import Context, Services
from taskmarket.graphql.schema import schema


def run(query: str):
    context = Context(Services(None, None), viewer=Viewer(Role.ADMIN, None, "t"))
    return asyncio.run(schema.execute(query, context_value=context))


def test_the_second_run_of_an_operation_hits_both_caches():
    query = "query CacheProbe { __typename }"
    run(query)
    parsed, validated = _get_parse_cache(512).cache_info(), _get_validate_cache(512).cache_info()
    assert run(query).data == {"__typename": "Query"}
    assert _get_parse_cache(512).cache_info().hits == parsed.hits + 1
    assert _get_validate_cache(512).cache_info().hits == validated.hits + 1


def test_limits_still_apply_to_cached_documents():
    nested = "{ tasks { edges { node { submissions { edges { node { task { submissions " \
             "{ edges { node { task { id } } } } } } } } } } } }"
    for _ in range(2):
        result = run(nested)
        assert "exceeds maximum operation depth" in result.errors[0].message
