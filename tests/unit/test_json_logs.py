"""Logs are one JSON object a line, carrying the request id and extra fields."""

import io
import json
import logging

from taskmarket.logs import JsonFormatter, configure_logging, request_id


def test_a_record_becomes_one_json_line_with_the_request_id():
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging("INFO", stream)  # a StringIO is not a terminal
    token = request_id.set("req-42")
    try:
        logging.getLogger("taskmarket.test").info("command done",
                                                  extra={"command": "postTask",
                                                         "positions": [7, 8]})
    finally:
        request_id.reset(token)
        root.handlers[:], level = saved
        root.setLevel(level)
    entry = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert entry["message"] == "command done"
    assert entry["request_id"] == "req-42"
    assert entry["command"] == "postTask" and entry["positions"] == [7, 8]
    assert entry["level"] == "INFO" and "time" in entry


def test_exceptions_are_kept_in_the_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("x").makeRecord("x", logging.ERROR, "f", 1, "failed", (),
                                                   __import__("sys").exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert "ValueError: boom" in entry["exception"]
