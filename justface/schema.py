"""OpenAPI post-processing (drf-spectacular): the error answers every API operation can give,
written once instead of on each view. Views still describe their own special cases (413, 415,
429, ...); this fills in what they leave out, with the shared `Error` shape ({"detail": ...})."""

from __future__ import annotations

ERROR_SCHEMA = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
_ERROR_REF = {"$ref": "#/components/schemas/Error"}

COMMON = {
    "400": "Bad input (a field, the query string, a malformed or too deeply nested body); `detail` says what.",
    "503": "The service is temporarily unavailable (its database); retry after `Retry-After` seconds.",
}
AUTHENTICATED = {
    "401": "Missing, unknown or revoked token.",
}
WITH_BODY = {
    "415": "The body's media type is not one the operation takes.",
}
MEMBER_ONLY = {
    "403": "The token is not a member's.",
}


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {}).setdefault("Error", ERROR_SCHEMA)
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            wanted = dict(COMMON)
            if "requestBody" in operation:  # DRF's parser negotiation answers any other type 415
                wanted.update(WITH_BODY)
            if operation.get("security") and {} not in operation["security"]:
                wanted.update(AUTHENTICATED)
                if path.startswith("/api/v1/me/"):
                    wanted.update(MEMBER_ONLY)
            responses = operation["responses"]
            for code, description in wanted.items():
                responses.setdefault(code, {"description": description})
            for code, response in responses.items():
                # An error answer documented by words alone still has the Error body.
                if code.startswith(("4", "5")) and "content" not in response:
                    response["content"] = {"application/json": {"schema": _ERROR_REF}}
    return result
