"""The receiver in the README accepts what the deliverer sends and refuses a tampered body."""

import re
import time
from datetime import datetime, timezone
from pathlib import Path
from uuid import uuid4

from starlette.testclient import TestClient

from taskmarket.projections.rows import EventRow
from taskmarket.webhooks.deliverer import body_of
from taskmarket.webhooks.signing import sign

README = Path(__file__).parents[2] / "README.md"
SECRET = "whsec_readme-test"


def readme_receiver():
    text = README.read_text()
    code = re.search(r"<!-- webhook-receiver -->\n```python\n(.*?)```", text, re.S).group(1)
    assert len(code.strip().splitlines()) <= 20
    scope: dict = {}
    exec(code.replace('b"whsec_..."', repr(SECRET.encode())), scope)
    return TestClient(scope["app"])


def test_the_readme_receiver_verifies_real_signatures():
    event = EventRow(position=7, type="TaskPosted", aggregate_id=uuid4(),
                     aggregate_kind="Task", aggregate_version=1,
                     occurred_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
                     requester_id=uuid4(), data={"title": "Label cats"})
    body = body_of(event)
    header = sign(SECRET, body, int(time.time()))
    with readme_receiver() as client:
        ok = client.post("/hook", content=body, headers={"Taskmarket-Signature": header})
        tampered = client.post("/hook", content=body.replace(b"cats", b"dogs"),
                               headers={"Taskmarket-Signature": header})
        unsigned = client.post("/hook", content=body)
        stale = client.post("/hook", content=body, headers={
            "Taskmarket-Signature": sign(SECRET, body, int(time.time()) - 3600)})
    assert ok.status_code == 204
    assert (tampered.status_code, unsigned.status_code, stale.status_code) == (400, 400, 400)
