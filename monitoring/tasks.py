"""Each background task's metrics and log line (django-q2's post_execute, sent by the cluster's
monitor process, or in-process when tasks run synchronously)."""

from __future__ import annotations

import logging

from justface import metrics
from justface.request_context import current_request_id

logger = logging.getLogger("justface.task")


def task_name(func) -> str:
    """The task's dotted name (a closed set: the functions the code enqueues)."""
    if callable(func):
        return f"{getattr(func, '__module__', '')}.{getattr(func, '__qualname__', getattr(func, '__name__', ''))}"
    return str(func)


REQUEST_ID = "justface_request_id"


def task_enqueued(sender, task: dict, **kwargs) -> None:
    """The request that queued a task: its id goes with the task into the worker's log line."""
    if request_id := current_request_id():
        task[REQUEST_ID] = request_id


def task_finished(sender, task: dict, **kwargs) -> None:
    name = task_name(task.get("func"))
    started, stopped = task.get("started"), task.get("stopped")
    seconds = (stopped - started).total_seconds() if started and stopped else None
    success = bool(task.get("success"))
    metrics.task_finished(task=name, success=success, seconds=seconds)
    # The task's result is not logged: it may hold whatever the task returned.
    logger.log(
        logging.INFO if success else logging.ERROR,
        "task %s %s",
        name,
        "success" if success else "failure",
        extra={
            "request_id": task.get(REQUEST_ID),
            "task": name,
            "task_id": task.get("id"),
            "route": name,
            "outcome": "success" if success else "failure",
            "duration_ms": round(seconds * 1000, 1) if seconds is not None else None,
        },
    )
