"""`taskmarket audit verify` and `taskmarket finance reconcile | export`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click


def audit_group(data_dir_option: Callable, open_services: Callable) -> click.Group:
    """The click group; takes the CLI's shared option and service opener (no import cycle)."""

    @click.group("audit")
    def audit() -> None:
        """Tamper evidence: the hash chain over the event log."""

    @audit.command("verify")
    @click.option("--from", "start", type=click.IntRange(min=1), default=1, show_default=True,
                  help="First log position to check (the link before it is trusted).")
    @data_dir_option
    def verify(start: int, data_dir: Path) -> None:
        """Recompute the hash chain from the event store; exit 1 naming the first event
        that does not match its stored hash."""
        from .audit import verify as run

        database, marketplace = open_services(data_dir)
        mapper = marketplace.mapper
        marketplace.close()
        try:
            verdict = run(database, mapper, start)
        except LookupError as error:
            click.echo(f"error: {error}", err=True)
            raise SystemExit(2) from None
        if not verdict.ok:
            click.echo(f"MISMATCH: {verdict.mismatch.description}", err=True)
            click.echo(f"first bad position: {verdict.mismatch.position}")
            raise SystemExit(1)
        click.echo(f"ok: {verdict.checked} events verified; head position "
                   f"{verdict.head_position} hash {verdict.head_hash}")

    return audit


def finance_group(data_dir_option: Callable, open_services: Callable) -> click.Group:
    @click.group("finance")
    def finance() -> None:
        """Month-end work: reconcile with Stripe, export the books."""

    return finance
