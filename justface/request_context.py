"""The id of the request being served, so that audit entries can name it without a request."""

import contextvars
import re
import uuid

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("justface_request_id", default="")
_VALID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def new_request_id(offered: str | None = None) -> str:
    """Keep a well-formed id from a proxy (X-Request-ID) so logs line up; otherwise mint one."""
    if offered and _VALID.match(offered):
        return offered
    return uuid.uuid4().hex


def set_request_id(value: str) -> contextvars.Token:
    return _request_id.set(value)


def reset_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)


def current_request_id() -> str:
    return _request_id.get()


# The chain, centre and door a request or task is about (ids only), for its log line and metrics.
_ids: contextvars.ContextVar[dict | None] = contextvars.ContextVar("justface_log_ids", default=None)


def start_ids() -> contextvars.Token:
    return _ids.set({})


def reset_ids(token: contextvars.Token) -> None:
    _ids.reset(token)


def annotate(**ids: int | None) -> None:
    """Name what the request is about (chain=, centre=, door=): ids, never personal data."""
    current = _ids.get()
    if current is not None:
        current.update({k: v for k, v in ids.items() if v is not None})


def current_ids() -> dict:
    return dict(_ids.get() or {})
