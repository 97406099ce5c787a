"""docs/errors.md and docs/events.md are what the generator writes from the code."""

from pathlib import Path

from taskmarket.docs import all_event_classes, errors_markdown, events_markdown, main
from taskmarket.error_codes import SourceIndex
from taskmarket.events import event_type

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_committed_docs_are_the_generated_ones():
    assert (DOCS / "errors.md").read_text() == errors_markdown(), (
        "docs/errors.md is stale: run `python -m taskmarket.docs`")
    assert (DOCS / "events.md").read_text() == events_markdown(), (
        "docs/events.md is stale: run `python -m taskmarket.docs`")


def test_every_code_and_every_event_type_is_documented():
    errors, events = (DOCS / "errors.md").read_text(), (DOCS / "events.md").read_text()
    codes = SourceIndex().all_codes()
    assert {"INVALID_INPUT", "LEASE_EXPIRED", "CURRENCY_MISMATCH"} <= codes
    assert [code for code in codes if f"| `{code}` |" not in errors] == []
    types = {event_type(cls.__qualname__) for cls in all_event_classes()}
    assert {"TaskClaimed", "PayoutPaid", "ApiKeyRevoked"} <= types
    assert [name for name in types if f"### {name}\n" not in events] == []


def test_the_errors_name_the_mutations_that_return_them():
    table = {line.split("|")[1].strip(" `"): line.split("|")[3]
             for line in errors_markdown().splitlines() if line.startswith("| `")}
    assert "`submitWork`" in table["LEASE_EXPIRED"] and "`releaseClaim`" in table["LEASE_EXPIRED"]
    assert "`depositFunds`" in table["CURRENCY_MISMATCH"]
    assert "`claimTask`" in table["NO_OPEN_SLOTS"]


def test_check_mode_reports_stale_files(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--check"]) == 1
    assert "stale" in capsys.readouterr().err
    assert main(["--out", str(tmp_path)]) == 0
    assert main(["--out", str(tmp_path), "--check"]) == 0
