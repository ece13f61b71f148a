"""JSON log lines: a door request's line names its route, status, duration and the door's ids and
carries the request id the tablet gets back; a task queued by a request logs that request's id."""

from __future__ import annotations

import json
import logging

import pytest
from django_q.tasks import async_task

from justface.log_json import JsonFormatter
from justface.request_context import reset_request_id, set_request_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def lines():
    captured: list[dict] = []

    class Handler(logging.Handler):
        def emit(self, record):
            captured.append(json.loads(JsonFormatter(node="node-7").format(record)))

    handler = Handler(level=logging.INFO)
    logging.getLogger().addHandler(handler)
    yield captured
    logging.getLogger().removeHandler(handler)


def test_a_door_request_is_one_line_with_its_ids(world, tablet_a, lines):
    answer = tablet_a.pin("123456", "0000", key="k-1")
    assert answer.status_code == 200
    door = tablet_a.device.door
    (line,) = [line for line in lines if line["logger"] == "justface.request"]
    assert line["route"] == "api/v1/door/pin/" and line["method"] == "POST" and line["status"] == 200
    assert (line["chain"], line["centre"], line["door"]) == (door.centre.chain_id, door.centre_id, door.pk)
    assert line["request_id"] == answer["X-Request-ID"] and line["node"] == "node-7"
    assert line["duration_ms"] >= 0 and "123456" not in json.dumps(line)


def test_a_proxy_request_id_is_kept_and_returned(client, lines):
    answer = client.get("/livez", HTTP_X_REQUEST_ID="from-nginx-42")
    assert answer["X-Request-ID"] == "from-nginx-42"
    answer = client.get("/", HTTP_X_REQUEST_ID="from-nginx-43")
    assert any(line["request_id"] == "from-nginx-43" for line in lines if line["logger"] == "justface.request")


def test_a_task_logs_the_id_of_the_request_that_queued_it(lines):
    """Queued in a request (pre_enqueue), finished later in a worker with no request of its own."""
    from datetime import timedelta

    from django.utils import timezone

    from monitoring import tasks

    task = {"id": "t1", "func": "math.floor", "success": True}
    token = set_request_id("req-abc")
    try:
        tasks.task_enqueued(None, task)
    finally:
        reset_request_id(token)
    task["started"] = timezone.now()
    task["stopped"] = task["started"] + timedelta(milliseconds=250)
    tasks.task_finished(None, task)
    (line,) = [line for line in lines if line["logger"] == "justface.task"]
    assert line["request_id"] == "req-abc" and line["task"] == "math.floor" and line["outcome"] == "success"
    assert line["duration_ms"] == 250.0


def test_every_task_run_sends_its_line(lines):
    async_task("math.floor", 2.5)  # the tests' cluster runs it here, at once
    assert [line["task"] for line in lines if line["logger"] == "justface.task"] == ["math.floor"]
