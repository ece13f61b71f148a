"""The bodies the bulk endpoint takes: JSON (a list, or {"members": [...]}) or NDJSON (one member
per line), read up to JUSTFACE_INTEGRATION_MAX_BODY_MB and checked like every JSON body of the
project (justface.rest: nesting depth, NUL characters)."""

from __future__ import annotations

import json

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from justface import rest


def max_body_bytes() -> int:
    return getattr(settings, "JUSTFACE_INTEGRATION_MAX_BODY_MB", 16) * 1024 * 1024


class BodyTooLarge(ParseError):
    status_code = 413
    default_detail = "The request body is too large."


def read_limited(stream, parser_context) -> bytes:
    request = (parser_context or {}).get("request")
    declared = request.META.get("CONTENT_LENGTH") if request is not None else None
    limit = max_body_bytes()
    try:
        if declared and int(declared) > limit:
            raise BodyTooLarge(f"The request body is too large (at most {limit // (1024 * 1024)} MB).")
    except ValueError:
        raise ParseError("Content-Length is not a number.") from None
    raw = stream.read(limit + 1) if stream is not None else b""
    if len(raw) > limit:
        raise BodyTooLarge(f"The request body is too large (at most {limit // (1024 * 1024)} MB).")
    return raw


class _Stream:
    def __init__(self, raw: bytes):
        self.raw = raw

    def read(self, *args) -> bytes:
        return self.raw


class LimitedJSONParser(parsers.BaseParser):
    """rest.JSONParser's checks on a body read up to max_body_bytes(). Not a subclass of DRF's
    JSONParser on purpose: DRF hands such a parser request.body, where Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) refuses a 10,000-member request with 413 long before
    this limit; any other parser gets the request's stream."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        raw = _Stream(read_limited(stream, parser_context))
        return rest.JSONParser().parse(raw, media_type, parser_context)


class BadLine:
    """An NDJSON line that is not JSON: answered as that row's error, the other rows go on."""

    def __init__(self, number: int, message: str):
        self.number, self.message = number, message


class NDJSONParser(parsers.BaseParser):
    media_type = "application/x-ndjson"

    def parse(self, stream, media_type=None, parser_context=None):
        raw = read_limited(stream, parser_context)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("NDJSON parse error - the body is not valid utf-8.") from None
        if "\x00" in text:
            raise ParseError("NDJSON parse error - the body contains a NUL character.")
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line, parse_constant=rest._refuse_constant)
                rest._check(row, depth=1)
            except RecursionError:
                row = BadLine(number, f"Line {number} is nested too deeply.")
            except (ValueError, ParseError) as exc:
                row = BadLine(number, f"Line {number} is not JSON: {exc}")
            rows.append(row)
        return rows
