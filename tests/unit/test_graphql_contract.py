"""The served schema keeps the published contract, and schema.graphql is its current export."""

from pathlib import Path

import pytest
from click.testing import CliRunner
from graphql import build_schema, find_breaking_changes

from taskmarket.cli import main
from taskmarket.graphql.schema import served_sdl

REPO = Path(__file__).resolve().parents[2]
# In CI the shared contract sits beside the clone; in the workspace too.
CONTRACT = REPO.parent / "shared" / "contract" / "schema.graphql"
# Sections of the contract beside schema.graphql that the served schema builds. Each issue
# that builds a section adds its file here when it lands (scalars.graphql goes with any
# section that uses its scalars).
SECTIONS: list[str] = ["payout-accounts.graphql", "people.graphql", "batches.graphql",
                       "finance.graphql", "scalars.graphql"]


def contract_sdl() -> str:
    return "\n".join([CONTRACT.read_text()] + [(CONTRACT.parent / name).read_text()
                                               for name in SECTIONS])


def test_committed_schema_is_the_served_one():
    committed = (REPO / "schema.graphql").read_text()
    assert committed == served_sdl(), (
        "schema.graphql is stale: run `taskmarket schema > schema.graphql` and commit it")


def test_cli_prints_the_served_schema():
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0
    assert result.output == served_sdl()


@pytest.mark.skipif(not CONTRACT.exists(), reason=f"the shared contract is not at {CONTRACT}")
def test_served_schema_has_no_breaking_change_against_the_contract():
    contract = build_schema(contract_sdl())
    served = build_schema(served_sdl())
    assert find_breaking_changes(contract, served) == []
