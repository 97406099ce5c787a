"""The taskmarket command: serve | worker | keys | migrate.

Every command takes --data-dir (env TASKMARKET_DATA_DIR) and honours DATABASE_URL, so the
CLI and a running `taskmarket serve` share one database. IDs in and out are the API's
global IDs. Mistakes (a bad option, an unreachable database) end in one `error:` line and
a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
from pathlib import Path

import click

from .bootstrap import (
    build_marketplace, build_projection_runner, build_stripe, run_worker_process,
    start_for_serve, start_projections,
    start_webhooks,
)
from .settings import Settings

LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

data_dir_option = click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path),
    envvar="TASKMARKET_DATA_DIR", default=Path(".taskmarket"), show_default=True,
    help="Where the embedded PostgreSQL keeps its files (ignored with DATABASE_URL).",
)


def open_services(data_dir: Path):
    """The database (embedded or DATABASE_URL), prepared, and the marketplace on it."""
    from .database import open_database
    from .database_setup import prepare_database

    import psycopg

    settings = Settings.from_env(data_dir)
    try:
        database = open_database(settings.data_dir, settings.database_url)
        prepare_database(database)
    except psycopg.OperationalError as error:
        where = ("DATABASE_URL" if settings.database_url
                 else f"the embedded PostgreSQL in {data_dir}")
        first_line = (str(error).strip().splitlines() or ["unreachable"])[0]
        fail(f"cannot reach the database ({where}): {first_line}", status=1)
    return database, build_marketplace(database)


def fail(message: str, status: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(status)


class OneLineErrors(click.Group):
    """Usage mistakes as one `error:` line (exit 2), as the CLI's other errors are."""

    def main(self, *args, **kwargs):  # type: ignore[override]
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.UsageError as error:
            hint = f" (see `{error.ctx.command_path} --help`)" if error.ctx else ""
            fail(f"{error.format_message()}{hint}", status=error.exit_code)
        except click.ClickException as error:
            fail(error.format_message(), status=error.exit_code)
        except click.Abort:
            fail("aborted", status=1)


@click.group(cls=OneLineErrors)
@click.version_option(package_name="taskmarket", message="%(prog)s %(version)s")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(LOG_LEVELS, case_sensitive=False),
              help="Least severe log records to print (to stderr; JSON lines unless a "
                   "terminal).")
def main(log_level: str) -> None:
    """An event-sourced engine for paid-task marketplaces."""
    from .logs import configure_logging

    configure_logging(log_level)  # one JSON object a line unless stderr is a terminal


@main.command()
@data_dir_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="The TCP port to listen on.")
@click.option("--workers/--no-workers", default=True, show_default=True,
              help="Run a Dramatiq worker (off when `taskmarket worker` "
                   "processes do the work).")
@click.option("--projections/--no-projections", "run_projections", default=True,
              show_default=True, help="Keep the read models up to date "
                                      "(off when `taskmarket projections run` does it).")
@click.option("--multi-process/--single-process", default=False, show_default=True,
              help="Run several API processes on the port, the log followers and the "
                   "worker each in processes of their own under one supervisor; or all "
                   "in this one process.")
@click.option("--api-processes", default=None, type=click.IntRange(1, 64),
              help="API processes sharing the port (implies --multi-process) "
                   "[default: the cores, 2 to 4].")
def serve(data_dir: Path, host: str, port: int, workers: bool, run_projections: bool,
          multi_process: bool, api_processes: int | None) -> None:
    """Run the API server (starting the embedded PostgreSQL unless DATABASE_URL is set)."""
    import uvicorn

    from .serve_lock import DataDirInUse, ServeLock
    from .web import create_app

    settings = Settings.from_env(data_dir)
    try:  # before anything starts: a second serve must touch nothing of the first
        lock = ServeLock(settings.data_dir).acquire()
    except DataDirInUse as error:
        fail(str(error), status=3)
    exit_on_sigterm()
    database, marketplace = open_services(data_dir)
    if multi_process or api_processes:
        from .supervisor import ServePlan, default_api_processes, serve_in_processes

        marketplace.close()
        plan = ServePlan(api_processes or default_api_processes(), projections=run_projections,
                         worker=workers)
        status = serve_in_processes(database, settings, host, port, plan,
                                    announce=lambda stripe_setup: click.echo(startup_message(
                                        f"http://{host}:{port}", settings, stripe_setup)))
        lock.release()
        sys.exit(status)
    projections = start_projections(database, marketplace) if run_projections else None
    public_url = f"http://{host}:{port}"
    background, stripe_setup = start_for_serve(database, marketplace, settings, public_url,
                                               run_worker=workers)
    app = create_app(database, marketplace, settings=settings, stripe_setup=stripe_setup)
    webhooks = start_webhooks(database, marketplace)
    click.echo(startup_message(public_url, settings, stripe_setup))
    try:
        # log_config=None: uvicorn logs through our handlers (JSON lines off a terminal)
        uvicorn.run(app, host=host, port=port, log_level="info", log_config=None)
    finally:
        webhooks.stop()
        background.stop()
        stripe_setup.close()
        if projections is not None:
            projections.stop()
        lock.release()


def startup_message(public_url: str, settings: Settings, stripe_setup) -> str:
    """Where things are, said once when serve starts."""
    lines = [f"taskmarket serve: GraphQL at {public_url}/graphql"]
    emulator = stripe_setup.emulator
    if emulator is not None:
        lines += [
            f"  Stripe emulator (no real money moves): {emulator.url}",
            f"  Stripe webhooks: {public_url}/webhooks/stripe, signing secret "
            f"{stripe_setup.webhook_secret}",
        ]
    elif settings.stripe_api_key:
        lines.append(f"  Stripe: live API. Send account.updated and transfer.reversed events "
                     f"to {public_url}/webhooks/stripe (STRIPE_WEBHOOK_SECRET signs them)")
    else:
        lines.append(f"  Stripe emulator: {os.environ.get('STRIPE_API_BASE')}")
    lines.append("  First ADMIN key: taskmarket keys create --role ADMIN --name admin "
                 f"--data-dir {shlex.quote(str(settings.data_dir))}")
    return "\n".join(lines)


@main.command("schema")
def print_schema() -> None:
    """Print the served GraphQL schema (SDL); committed as schema.graphql."""
    from .graphql.schema import served_sdl

    click.echo(served_sdl(), nl=False)


def exit_on_sigterm() -> None:
    """Turn SIGTERM into a normal exit, so exit hooks stop the embedded PostgreSQL.

    uvicorn shuts down gracefully on SIGTERM and then re-raises it to the previous handler;
    with the default handler the process would die without running its exit hooks.
    """
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


@main.command()
@data_dir_option
@click.option("--processes", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes to start.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Threads per worker process.")
def worker(data_dir: Path, processes: int, threads: int) -> None:
    """Run Dramatiq workers (payouts, lease expiry, auto-approval) for a running server."""
    import logging
    import multiprocessing

    open_services(data_dir)  # migrations applied before any worker starts
    try:
        build_stripe(Settings.from_env(data_dir), start_emulator=False)
    except RuntimeError as error:  # no STRIPE_API_KEY and no emulator to pay into
        fail(str(error))
    if processes == 1:
        run_worker_process(data_dir, threads)
        return
    context = multiprocessing.get_context("spawn")
    level = logging.getLevelName(logging.getLogger().getEffectiveLevel())
    children = [context.Process(target=run_worker_process, args=(data_dir, threads, level),
                                name=f"taskmarket-worker-{n}") for n in range(processes)]
    for child in children:
        child.start()
    signal.signal(signal.SIGTERM, lambda *_: [c.terminate() for c in children])
    try:
        for child in children:
            child.join()
    except KeyboardInterrupt:
        for child in children:
            child.terminate()
            child.join()


@main.command()
@data_dir_option
def migrate(data_dir: Path) -> None:
    """Create the event store and apply the read-model migrations."""
    open_services(data_dir)
    click.echo("database is up to date")


from .projections.cli import projections_group  # noqa: E402

main.add_command(projections_group(data_dir_option, open_services, build_projection_runner))
from .finance.commands import audit_group, finance_group  # noqa: E402

main.add_command(audit_group(data_dir_option, open_services))
main.add_command(finance_group(data_dir_option, open_services))

from .batch_cli import batch_group  # noqa: E402
from .key_cli import keys_group  # noqa: E402

main.add_command(batch_group)
main.add_command(keys_group(data_dir_option, open_services, fail))

if __name__ == "__main__":
    main()
