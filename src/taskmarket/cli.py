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
    build_marketplace, build_stripe, run_worker_process, start_for_serve, start_projections,
    start_webhooks,
)
from .domain import DomainError, Role
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
              help="Run a Dramatiq worker in this process (off when `taskmarket worker` "
                   "processes do the work).")
@click.option("--projections/--no-projections", "run_projections", default=True,
              show_default=True, help="Keep the read models up to date in this process "
                                      "(off when `taskmarket projections run` does it).")
def serve(data_dir: Path, host: str, port: int, workers: bool, run_projections: bool) -> None:
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


@main.group()
def keys() -> None:
    """API keys."""


def subject_of(requester_id: str | None, worker_id: str | None):
    """The global id given for the key's subject -> its UUID; a one-line error otherwise."""
    from .global_ids import decode_one

    if requester_id and worker_id:
        fail("give --requester-id or --worker-id, not both")
    try:
        if requester_id:
            return decode_one(requester_id, "Requester", "requesterId")
        if worker_id:
            return decode_one(worker_id, "Worker", "workerId")
    except DomainError as error:
        option = "--requester-id" if requester_id else "--worker-id"
        fail(f"{option}: {error.message} (use the id the API shows, e.g. Requester.id)")
    return None


@keys.command("create")
@data_dir_option
@click.option("--role", required=True, help="What the key may do.",
              type=click.Choice([r.value for r in Role], case_sensitive=False))
@click.option("--name", required=True, help="A label to recognise the key by.")
@click.option("--requester-id", default=None, metavar="ID",
              help="The requester (its global id) a REQUESTER or PARTNER key acts for.")
@click.option("--worker-id", default=None, metavar="ID",
              help="The worker (its global id) a WORKER key acts for.")
def create_key(data_dir: Path, role: str, name: str, requester_id: str | None,
               worker_id: str | None) -> None:
    """Issue an API key; the secret is printed once, as the last line."""
    from .global_ids import to_global_id

    subject_id = subject_of(requester_id, worker_id)
    _, marketplace = open_services(data_dir)
    try:
        key_id, secret = marketplace.issue_api_key(Role(role.upper()), name, subject_id)
    except DomainError as error:
        fail(f"{error.code}: {error.message}")
    click.echo(f"key id: {to_global_id('ApiKey', key_id)}")
    click.echo(secret)


@keys.command("list")
@data_dir_option
def list_keys(data_dir: Path) -> None:
    """Every API key: id, role, name, whom it acts for, issued and revoked times."""
    from .global_ids import to_global_id
    from .projections.api_keys import page
    from .projections.runner import ProjectionRunner

    database, marketplace = open_services(data_dir)
    # Bring the key list up to date first: no server may be running to do it.
    ProjectionRunner(database, ["api_keys"], mapper=marketplace.mapper).catch_up()
    marketplace.close()
    click.echo("id\trole\tname\tacts for\tcreated\trevoked")
    after = None
    with database.connect() as conn:
        while rows := page(conn, 100, after):
            for row in rows:
                kind = "Worker" if row.role == Role.WORKER.value else "Requester"
                subject = to_global_id(kind, row.subject_id) if row.subject_id else "-"
                revoked = row.revoked_at.isoformat() if row.revoked_at else "-"
                click.echo(f"{to_global_id('ApiKey', row.id)}\t{row.role}\t{row.name}\t"
                           f"{subject}\t{row.created_at.isoformat()}\t{revoked}")
            after = rows[-1].cursor


@keys.command("revoke")
@data_dir_option
@click.argument("key_id", metavar="KEY_ID")
def revoke_key(data_dir: Path, key_id: str) -> None:
    """Revoke the API key KEY_ID (as `keys create` and `keys list` print it)."""
    from .global_ids import decode_one

    try:
        raw = decode_one(key_id, "ApiKey", "apiKeyId")
    except DomainError as error:
        fail(f"KEY_ID: {error.message}")
    _, marketplace = open_services(data_dir)
    try:
        marketplace.revoke_api_key(raw)
    except DomainError as error:
        fail(f"{error.code}: {error.message}")
    click.echo(f"revoked {key_id}")


from .projections.cli import projections_group  # noqa: E402

main.add_command(projections_group(data_dir_option, open_services))
from .finance.commands import audit_group, finance_group  # noqa: E402

main.add_command(audit_group(data_dir_option, open_services))
main.add_command(finance_group(data_dir_option, open_services))

from .batch_cli import batch_group  # noqa: E402

main.add_command(batch_group)

if __name__ == "__main__":
    main()
