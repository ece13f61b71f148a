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
