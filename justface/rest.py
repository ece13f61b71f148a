"""The project's DRF pieces, set for every API view in settings.REST_FRAMEWORK: a JSON parser
that refuses what would crash or poison the database, and the exception handler that answers
database and request-level faults as JSON (justface.errors)."""

from __future__ import annotations

import json

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.views import exception_handler as drf_exception_handler

from justface.errors import response_for_exception

# Far more than any request of ours nests (2-3 levels), far less than Python's recursion limit.
MAX_JSON_DEPTH = 32


class JSONParser(parsers.JSONParser):
    """DRF's parser, plus: deep nesting (a RecursionError in json) and NUL characters (escaped as
    \\u0000: PostgreSQL stores none in text or jsonb) are a 400, never a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise ParseError(f"JSON parse error - the body is not valid {encoding}.") from None
        if "\x00" in text:
            raise ParseError("JSON parse error - the body contains a NUL character.")
        try:
            data = json.loads(text, parse_constant=_refuse_constant)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.") from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        _check(data, depth=1)
        return data


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _check(value, *, depth: int) -> None:
    if isinstance(value, dict | list):
        if depth > MAX_JSON_DEPTH:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and "\x00" in key:
                raise ParseError("JSON parse error - a key contains a NUL character.")
            _check(item, depth=depth + 1)
    elif isinstance(value, str) and "\x00" in value:
        raise ParseError("JSON parse error - a value contains a NUL character.")


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is not None:
        _ensure_detail(response)
        return response
    answer = response_for_exception(context["request"], exc)
    if answer is None:
        return None  # a bug: Django logs it and answers with handler500
    # DRF's Response machinery is not needed for these: hand back Django's JSON as it is.
    return answer


def _ensure_detail(response) -> None:
    """A serializer's field errors come as {"field": ["..."]}: kept as they are, plus the `detail`
    every API error has (the schema's Error shape; a schema fuzz found 400s without it), which is
    the first message with its field's name."""
    data = response.data
    if isinstance(data, dict) and "detail" not in data:
        response.data = {"detail": _first_message(data), **data}
    elif isinstance(data, list):
        response.data = {"detail": _first_message(data), "errors": data}


def _first_message(errors, field: str = "") -> str:
    if isinstance(errors, dict):
        for key, value in errors.items():
            return _first_message(value, key if key != "non_field_errors" else field)
    elif isinstance(errors, list) and errors:
        return _first_message(errors[0], field)
    elif errors not in (None, [], {}):
        return f"{field}: {errors}" if field else str(errors)
    return "Invalid input."
