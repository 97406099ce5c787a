"""`taskmarket projections status | rebuild [NAME...] | run [NAME...]`."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path

import click


def projections_group(data_dir_option: Callable, open_services: Callable,
                      build_runner: Callable) -> click.Group:
    """The click group; takes the CLI's shared option, its service opener and the
    composition root's runner builder (``build_runner(database, names, marketplace)``)."""

    @click.group("projections")
    def projections() -> None:
        """Read models: their positions, rebuilding them, keeping them up to date."""

    def chosen(names: tuple[str, ...]):
        from .registry import select

        try:
            return select(list(names))
        except KeyError as error:
            click.echo(f"error: {error.args[0]}", err=True)
            raise SystemExit(2) from None

    @projections.command("status")
    @data_dir_option
    def status(data_dir: Path) -> None:
        """Each projection's position, how many events it lags behind the log, and any
        that cannot apply its next event (then the exit status is 1)."""
        from rich.console import Console
        from rich.table import Table

        from .failures import stalls
        from .tracking import head, positions

        database, marketplace = open_services(data_dir)
        marketplace.close()
        with database.connect(autocommit=True) as conn:
            reached, newest = positions(conn), head(conn)
            stalled = {stall.projection: stall for stall in stalls(conn)}
        table = Table("projection", "position", "lag", "state",
                      title=f"event store head: {newest}")
        for name, position in reached.items():
            stall = stalled.get(name)
            state = (f"STALLED ({stall.failures} failures since "
                     f"{stall.failed_at:%Y-%m-%d %H:%M:%S}): {stall.error}" if stall else "ok")
            table.add_row(name, str(position), str(max(0, newest - position)), state)
        Console(width=160).print(table)
        if stalled:
            raise SystemExit(1)

    @projections.command("rebuild")
    @click.argument("names", nargs=-1)
    @data_dir_option
    def rebuild(names: tuple[str, ...], data_dir: Path) -> None:
        """Empty the projections' tables (all, or NAMES) and replay the whole log."""
        from rich.progress import (
            BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn,
        )

        selected = chosen(names)
        database, marketplace = open_services(data_dir)
        runner = build_runner(database, selected, marketplace)
        marketplace.close()
        with Progress(TextColumn("rebuilding"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn()) as bar:
            task = bar.add_task("rebuild", total=None)
            count = runner.rebuild(
                progress=lambda reached, head: bar.update(task, completed=reached, total=head))
        click.echo(f"rebuilt {', '.join(runner.names)} from {count} events")

    @projections.command("run")
    @click.argument("names", nargs=-1)
    @data_dir_option
    def run(names: tuple[str, ...], data_dir: Path) -> None:
        """Keep the projections (all, or NAMES) up to date until SIGTERM or Ctrl-C."""
        selected = chosen(names)
        database, marketplace = open_services(data_dir)
        runner = build_runner(database, selected, marketplace)
        marketplace.close()
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        click.echo(f"following the log for {', '.join(runner.names)}")
        runner.run_forever(stop)
        click.echo("stopped")

    return projections
