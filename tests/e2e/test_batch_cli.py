"""`taskmarket batch upload` (JSONL and CSV, chunked, resumable) and `batch results`."""

import csv
import io
import json

from click.testing import CliRunner

from taskmarket.batch_cli import progress_path
from taskmarket.cli import main

CREATE = """mutation { createBatch(input: {title: "Animals", instructions: "Which?",
  answerSchema: {type: "object"}, answerPointer: "/label",
  reward: {amount: 1, currency: "USD"}, overlap: 1}) { batch { id } userErrors { code } } }"""


def run(args, key, url):
    return CliRunner().invoke(main, ["--log-level", "WARNING", "batch", *args, "--url", url,
                                     "--api-key", key])


def test_upload_resumes_and_results_download(client, market, server, tmp_path):
    lab = market.requester("Lab", deposit=100_000)
    batch_id = client.data(lab.key, CREATE)["createBatch"]["batch"]["id"]
    items = tmp_path / "items.jsonl"
    lines = [json.dumps({"payload": {"n": n}}) for n in range(2300)]
    lines[5] = json.dumps({"payload": {"n": 5}, "goldAnswer": "cat"})
    items.write_text("\n".join(lines) + "\n")
    first = run(["upload", batch_id, str(items)], lab.key, server.url)
    assert first.exit_code == 0, first.output
    assert "2300 items" in first.output and "2300 added" in first.output
    # Resumed after an interruption: chunks recorded as done are not sent again.
    state = json.loads(progress_path(items, batch_id).read_text())
    assert state["done"] == [0, 1, 2]
    again = run(["upload", batch_id, str(items)], lab.key, server.url)
    assert again.exit_code == 0 and "0 added" in again.output
    # A lost progress file: every chunk is sent again, and every one is a replay.
    progress_path(items, batch_id).unlink()
    replay = run(["upload", batch_id, str(items)], lab.key, server.url)
    assert replay.exit_code == 0
    count = client.data(lab.key, """query($id: ID!) { node(id: $id) { ... on Batch {
        itemCount } } }""", {"id": batch_id})["node"]["itemCount"]
    assert count == 2300

    table = tmp_path / "more.csv"
    table.write_text("image,gold_answer\na.png,\nb.png,\"\"\"dog\"\"\"\n")
    added = run(["upload", batch_id, str(table)], lab.key, server.url)
    assert added.exit_code == 0 and "2 added" in added.output

    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"payload": 1}\nnot json\n')
    failed = run(["upload", batch_id, str(broken)], lab.key, server.url)
    assert failed.exit_code != 0 and "broken.jsonl:2" in failed.output

    out = run(["results", batch_id, "--format", "csv"], lab.key, server.url)
    assert out.exit_code == 0, out.output
    rows = list(csv.reader(io.StringIO(out.output)))
    assert rows[0] == ["task_id", "payload", "answer", "confidence", "method", "answers"]
    assert len(rows) == 1 + 2300 + 2 - 2  # the two gold items are controls, not results
    jsonl = run(["results", batch_id], lab.key, server.url)
    payloads = [json.loads(line)["payload"] for line in jsonl.output.splitlines()]
    assert len(payloads) == 2300 - 1 + 1 and {"n": 0} in payloads and {"n": 5} not in payloads
