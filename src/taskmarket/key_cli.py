"""`taskmarket keys create | list | revoke`: API keys from the command line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from .bootstrap import build_projection_runner
from .domain import DomainError, Role


def keys_group(data_dir_option: Callable, open_services: Callable,
               fail: Callable[..., None]) -> click.Group:
    """The click group; takes the CLI's shared option, service opener and one-line error
    (no import cycle)."""

    @click.group("keys")
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

        database, marketplace = open_services(data_dir)
        # Bring the key list up to date first: no server may be running to do it.
        build_projection_runner(database, ["api_keys"], marketplace).catch_up()
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

    return keys
