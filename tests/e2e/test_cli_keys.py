"""The CLI as a new operator meets it: global IDs in and out, keys list/revoke, clear errors."""

from __future__ import annotations

import shutil
import signal
import tempfile
from pathlib import Path

import click
import httpx
from test_cli import Server, clean_env, data_dir, postmasters, taskmarket  # noqa: F401

from taskmarket.cli import main

REVOKE = """mutation($id: ID!) { revokeApiKey(input: {apiKeyId: $id}) {
  revoked userErrors { code field message } } }"""


def cli(server, *args):
    return taskmarket(*args, env={**clean_env(), "DATABASE_URL": server.database.url})


def one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_a_key_made_on_the_cli_is_revoked_through_the_api_with_the_printed_id(
        server, client, market):
    acme = market.requester("Acme", deposit=0)
    made = cli(server, "keys", "create", "--role", "requester", "--name", "acme backend",
               "--requester-id", acme.id)
    assert made.returncode == 0, made.stderr
    key_line, secret = made.stdout.strip().splitlines()
    key_id = key_line.removeprefix("key id: ")
    assert client.data(secret, "{ me { requester { id } } }")["me"]["requester"] == {
        "id": acme.id}

    revoked = client.data(server.admin_key, REVOKE, {"id": key_id})["revokeApiKey"]
    assert revoked == {"revoked": True, "userErrors": []}
    assert client.post(secret, "{ me { role } }").status_code == 401

    listed = cli(server, "keys", "list")
    assert listed.returncode == 0, listed.stderr
    row = next(line.split("\t") for line in listed.stdout.splitlines()
               if line.startswith(key_id))
    assert row[1:4] == ["REQUESTER", "acme backend", acme.id] and row[5] != "-"


def test_keys_revoke_on_the_cli_takes_the_id_the_api_shows(server, client, market):
    made = client.data(server.admin_key, """mutation { createApiKey(input: {role: FINANCE,
      name: "books"}) { apiKey apiKeyId } }""")["createApiKey"]
    revoked = cli(server, "keys", "revoke", made["apiKeyId"])
    assert revoked.returncode == 0, revoked.stderr
    assert made["apiKeyId"] in revoked.stdout
    assert client.post(made["apiKey"], "{ me { role } }").status_code == 401


def test_wrong_ids_and_options_are_one_line_errors(server, market):
    acme = market.requester("Acme", deposit=0)
    raw_uuid = "6f1c2f5e-8d3a-4b7e-9a51-0c2d4e6f8a10"
    for args, status in [
        (("keys", "create", "--role", "REQUESTER", "--name", "x", "--requester-id",
          raw_uuid), 2),
        (("keys", "create", "--role", "WORKER", "--name", "x", "--worker-id", acme.id), 2),
        (("keys", "create", "--role", "boss", "--name", "x"), 2),
        (("--log-level", "loud", "keys", "list"), 2),
        (("keys", "revoke", "not-an-id"), 2),
    ]:
        result = cli(server, *args)
        assert result.returncode == status, (args, result.stderr)
        one_error_line(result)
        assert "tm_" not in result.stdout


def test_an_unreachable_database_is_one_line_and_a_failure_status():
    result = taskmarket("keys", "list", env={
        **clean_env(), "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none"})
    assert result.returncode == 1
    assert "cannot reach the database" in one_error_line(result)


def test_version_and_help_for_every_option():
    version = taskmarket("--version")
    assert version.returncode == 0 and version.stdout.startswith("taskmarket ")

    def commands(group: click.Group, path: str):
        for name, command in group.commands.items():
            yield f"{path} {name}", command
            if isinstance(command, click.Group):
                yield from commands(command, f"{path} {name}")

    missing = [f"{path} {param.opts[0]}" for path, command in [("taskmarket", main),
                                                                *commands(main, "taskmarket")]
               for param in command.params
               if isinstance(param, click.Option) and not param.help]
    assert missing == []


def test_a_fresh_embedded_database_starts_quietly():
    root = Path(tempfile.mkdtemp(prefix="taskmarket-cli-quiet-"))
    try:
        made = taskmarket("keys", "create", "--role", "admin", "--name", "ops",
                          "--data-dir", str(root / "data"))
        assert made.returncode == 0, made.stderr
        lines = made.stderr.strip().splitlines()
        # Where the data lives, the database created, the migrations applied: one each.
        assert len(lines) <= 3, made.stderr
        assert sum(str((root / "data" / "pgdata").resolve()) in line for line in lines) == 1
        for noise in ("Warning", "initdb", "pg_ctl", "applying step"):
            assert noise not in made.stderr
    finally:
        for process in postmasters((root / "data" / "pgdata").resolve()):
            process.terminate()
            process.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


def test_serve_says_it_finished_once_and_its_front_page_points_onwards(data_dir):
    server = Server(data_dir)
    try:
        assert server.wait_healthy().status_code == 200
        front = httpx.get(f"http://127.0.0.1:{server.port}/", timeout=5)
        assert front.status_code == 200
        assert 'href="/graphql"' in front.text and 'href="/docs"' in front.text
    finally:
        server.process.send_signal(signal.SIGTERM)
        _, stderr = server.process.communicate(timeout=30)
    assert server.process.returncode == 0
    finished = [line for line in stderr.decode().splitlines()
                if "Finished server process" in line]
    assert len(finished) == 1, stderr.decode()[-3000:]
    assert "RuntimeDirWarning" not in stderr.decode()
