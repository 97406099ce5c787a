"""`taskmarket batch upload|results`: a requester's batch through the GraphQL API.

upload: a JSONL or CSV file of items (100k+), sent in calls of 1,000 with an idempotency key
per chunk derived from the file's content and the chunk's number. A progress file beside
the input records the chunks done, so an interrupted upload resumes where it stopped; a
chunk sent twice (the interruption fell between the call and the record) is a replay the
server answers without adding anything.

JSONL lines are ``{"payload": ..., "goldAnswer": ...}`` (goldAnswer optional) or any other
JSON value, taken as the payload. CSV rows become payload objects of their columns; a
``gold_answer`` column (JSON text, or plain text) makes a row a control item.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import httpx

CHUNK = 1000
ADD = """mutation($input: AddBatchItemsInput!) { addBatchItems(input: $input) {
  added userErrors { code field message } } }"""
RESULTS = """query($id: ID!, $after: String) { node(id: $id) { ... on Batch {
  results(first: 100, after: $after) { edges { node { task { id payload }
    consensus { answer confidence method answers } } }
  pageInfo { hasNextPage endCursor } } } } }"""


class ApiError(Exception):
    pass


def api_options(command: Any) -> Any:
    command = click.option("--url", envvar="TASKMARKET_URL", default="http://127.0.0.1:8000",
                           show_default=True, help="The server (env TASKMARKET_URL).")(command)
    return click.option("--api-key", envvar="TASKMARKET_API_KEY", required=True,
                        help="A REQUESTER key (env TASKMARKET_API_KEY).")(command)


def call(http: httpx.Client, query: str, variables: dict) -> dict:
    response = http.post("/graphql", json={"query": query, "variables": variables})
    body = response.json() if response.headers.get("content-type", "").startswith(
        "application/json") else {}
    if response.status_code != 200 or body.get("errors"):
        messages = [e.get("message") for e in body.get("errors", [])] or [response.text[:200]]
        raise ApiError("; ".join(map(str, messages)))
    return body["data"]


def _item_of_json(value: Any) -> dict:
    if isinstance(value, dict) and "payload" in value:
        item = {"payload": value["payload"]}
        if "goldAnswer" in value:
            item["goldAnswer"] = value["goldAnswer"]
        return item
    return {"payload": value}


def _gold_of_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def read_items(path: Path) -> Iterator[dict]:
    """The file's items, in order; a malformed line raises ClickException naming it."""
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                gold = row.pop("gold_answer", None)
                item: dict[str, Any] = {"payload": row}
                if gold not in (None, ""):
                    item["goldAnswer"] = _gold_of_text(gold)
                yield item
        return
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield _item_of_json(json.loads(line))
            except ValueError as error:
                raise click.ClickException(f"{path}:{number}: not JSON ({error})") from None


def chunks(items: Iterator[dict], size: int = CHUNK) -> Iterator[list[dict]]:
    chunk: list[dict] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def progress_path(path: Path, batch_id: str) -> Path:
    safe = hashlib.sha256(batch_id.encode()).hexdigest()[:12]
    return path.with_name(f"{path.name}.upload-{safe}.json")


@click.group("batch")
def batch_group() -> None:
    """Labeling batches: upload items, download results."""


@batch_group.command("upload")
@click.argument("batch_id")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@api_options
def upload(batch_id: str, file: Path, url: str, api_key: str) -> None:
    """Add FILE's items (JSONL or CSV) to BATCH_ID, 1,000 a call; rerun to resume."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    digest = file_digest(file)
    state_file = progress_path(file, batch_id)
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    if state.get("digest") != digest:
        state = {"digest": digest, "done": []}
    done = set(state["done"])
    total = sum(1 for _ in read_items(file))
    added = 0
    headers = {"Authorization": f"Bearer {api_key}"}
    columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())
    with httpx.Client(base_url=url, headers=headers, timeout=120) as http, \
            Progress(*columns, console=None, transient=False, disable=not sys.stderr.isatty()
                     ) as progress:
        bar = progress.add_task("uploading", total=total)
        for number, chunk in enumerate(chunks(read_items(file))):
            if number in done:
                progress.advance(bar, len(chunk))
                continue
            key = f"upload:{digest}:{number}"
            try:
                answer = call(http, ADD, {"input": {"batchId": batch_id, "items": chunk,
                                                    "idempotencyKey": key}})["addBatchItems"]
            except (ApiError, httpx.HTTPError) as error:
                raise click.ClickException(f"chunk {number}: {error} (rerun to resume)")
            if answer["userErrors"]:
                error = answer["userErrors"][0]
                field = ".".join(error.get("field") or [])
                raise click.ClickException(
                    f"chunk {number} (items {number * CHUNK}..): {error['code']} {field}: "
                    f"{error['message']}")
            added += answer["added"]
            done.add(number)
            state["done"] = sorted(done)
            state_file.write_text(json.dumps(state))
            progress.advance(bar, len(chunk))
    click.echo(f"{total} items in {file.name}; {added} added by this run")


@batch_group.command("results")
@click.argument("batch_id")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"], case_sensitive=False),
              default="jsonl", show_default=True,
              help="JSON lines (one object an item) or CSV with a header row.")
@api_options
def results(batch_id: str, fmt: str, url: str, api_key: str) -> None:
    """Print each item's consensus (items without one yet have empty fields)."""
    headers = {"Authorization": f"Bearer {api_key}"}
    writer = None
    if fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(["task_id", "payload", "answer", "confidence", "method", "answers"])
    after = None
    with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
        while True:
            try:
                node = call(http, RESULTS, {"id": batch_id, "after": after})["node"]
            except (ApiError, httpx.HTTPError) as error:
                raise click.ClickException(str(error))
            if node is None:
                raise click.ClickException(f"no batch {batch_id} visible to this key")
            page = node["results"]
            for edge in page["edges"]:
                task, agreed = edge["node"]["task"], edge["node"]["consensus"] or {}
                if writer is None:
                    click.echo(json.dumps({"taskId": task["id"], "payload": task["payload"],
                                           **({"consensus": agreed} if agreed else {})}))
                else:
                    writer.writerow([task["id"], json.dumps(task["payload"]),
                                     json.dumps(agreed["answer"]) if agreed else "",
                                     agreed.get("confidence", ""), agreed.get("method", ""),
                                     agreed.get("answers", "")])
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
