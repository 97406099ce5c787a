"""`taskmarket audit verify` and `taskmarket finance reconcile | export`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import click

from ..bootstrap import build_projection_runner, build_read_models, build_stripe

KINDS = ("payouts", "ledger", "events")
DATES = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z",
         "%Y-%m-%dT%H:%M:%S.%f%z"]


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


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def finance_group(data_dir_option: Callable, open_services: Callable) -> click.Group:
    @click.group("finance")
    def finance() -> None:
        """Month-end work: reconcile with Stripe, export the books."""

    @finance.command("reconcile")
    @click.option("--from", "period_from", required=True, type=click.DateTime(DATES),
                  help="Start of the period (UTC unless an offset is given).")
    @click.option("--to", "period_to", required=True, type=click.DateTime(DATES),
                  help="End of the period, exclusive.")
    @data_dir_option
    def reconcile_period(period_from: datetime, period_to: datetime, data_dir: Path) -> None:
        """Compare our payouts with Stripe's transfers over a period; exit 1 when they
        disagree, listing each discrepancy."""
        from ..domain import DomainError
        from ..settings import Settings
        from .reconcile import Reconciler

        database, marketplace = open_services(data_dir)
        reads = build_read_models(database)
        try:
            gateway = build_stripe(Settings.from_env(data_dir), start_emulator=False).gateway
            reconciler = Reconciler(marketplace, reads, lambda: gateway.client)
            # Bring the read models it compares (and then shows) up to date ourselves: a
            # running `serve` may do the same meanwhile, the runners take turns.
            catch_up = build_projection_runner(
                database, ["payouts", "workers", "reconciliations"], marketplace).catch_up
            catch_up()
            run_id = reconciler.reconcile(_utc(period_from), _utc(period_to))
            catch_up()
            run = reads.reconciliation_run(run_id)
        except (DomainError, RuntimeError) as error:
            code = getattr(error, "code", "ERROR")
            click.echo(f"error: {code}: {getattr(error, 'message', error)}", err=True)
            raise SystemExit(2) from None
        finally:
            reads.close()
            marketplace.close()
        click.echo(f"run {run_id}: {run.payouts_compared} payouts, "
                   f"{run.transfers_compared} transfers, "
                   f"{len(run.discrepancies)} discrepancies")
        for found in run.discrepancies:
            click.echo(f"{found['kind']}\tpayout={found['payoutId'] or '-'}\t"
                       f"transfer={found['stripeTransferId'] or '-'}\t{found['detail']}")
        if run.discrepancies:
            raise SystemExit(1)

    @finance.command("export")
    @click.argument("kind", type=click.Choice(KINDS))
    @click.option("--from", "period_from", type=click.DateTime(DATES), default=None,
                  help="Only what happened from this time on (UTC unless an offset is given).")
    @click.option("--to", "period_to", type=click.DateTime(DATES), default=None,
                  help="Only what happened before this time.")
    @click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv",
                  show_default=True, help="CSV (stdlib csv dialect) or Parquet (pyarrow).")
    @click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                  default=None, help="File to write (CSV goes to stdout without one).")
    @data_dir_option
    def export(kind: str, period_from: datetime | None, period_to: datetime | None, fmt: str,
               output: Path | None, data_dir: Path) -> None:
        """Export payouts, ledger entries or events in log order, with global IDs and
        amounts in minor units plus a decimal column. --from/--to select by the time of
        the event: a payout's request, a ledger entry's booking, an event's own."""
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from . import exports

        if fmt == "parquet" and output is None:
            click.echo("error: a Parquet export needs -o FILE", err=True)
            raise SystemExit(2)
        start = _utc(period_from) if period_from else None
        end = _utc(period_to) if period_to else None
        database, marketplace = open_services(data_dir)
        build_projection_runner(database, ["event_log", "payouts", "ledger"],
                                marketplace).catch_up()
        marketplace.close()
        with database.connect() as conn, Progress(
                TextColumn(f"exporting {kind}"), BarColumn(),
                TextColumn("{task.completed:,} of ~{task.total:,} rows"), TimeElapsedColumn(),
                console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task(kind, total=max(1, exports.estimate(conn, kind, start, end)))

            def advance(rows: int) -> None:
                done = bar.tasks[0].completed + rows
                bar.update(task, completed=done, total=max(done, bar.tasks[0].total or 1))

            if fmt == "parquet":
                rows = exports.write_parquet(conn, kind, str(output), start, end, advance)
            else:
                rows = _write_csv(exports.csv_chunks(conn, kind, start, end), output,
                                  advance)
        click.echo(f"exported {rows} {kind} rows" + (f" to {output}" if output else ""),
                   err=True)

    return finance


def _write_csv(chunks, output: Path | None, advance: Callable[[int], None]) -> int:
    """Write the chunks (the header first); returns the number of rows."""
    import contextlib
    import sys

    rows = 0
    target = open(output, "wb") if output else contextlib.nullcontext(sys.stdout.buffer)
    with target as out:
        for number, chunk in enumerate(chunks):
            out.write(chunk)
            if number:  # after the header
                lines = chunk.count(b"\n")
                rows += lines
                advance(lines)
    return rows
