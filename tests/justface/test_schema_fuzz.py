"""A schema fuzz of the door and member APIs: schemathesis generates requests from the
OpenAPI schema at /api/schema/ and sends them to the whole WSGI application (every middleware,
the real error handlers) with a paired tablet's token on the door API and a signed-in member's
token on the member API. Every answer must be no 5xx, conform to the schema (status code,
content type, body, headers) and, for 4xx, be JSON with `detail`.

The suite runs a small seeded fuzz (30 cases per operation, valid and invalid ones mixed: ~400
requests, ~15 s); `make fuzz` runs the release check with JUSTFACE_FUZZ_EXAMPLES=300 (~3,900
requests, ~80 s). Figures: README, Hardening."""

from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import checks
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi import checks as oa

from tests.access.conftest import open_around_the_clock, pair_tablet
from tests.portal_helpers import fresh_cache, member_with_login, private_root, publish_documents  # noqa: F401

EXAMPLES = int(os.environ.get("JUSTFACE_FUZZ_EXAMPLES", "30"))
MEMBER_TOKEN = "f" * 40


@pytest.fixture
def api(world, private_root, fresh_cache):
    """The schema, loaded from the application itself, and the tokens with data behind them."""
    open_around_the_clock(world.centre_a1, world.centre_a2, world.centre_b1)
    publish_documents(world.chain_a)
    tablet = pair_tablet(world.centre_a1)
    member = member_with_login(world.chain_a, world.centre_a1, first_name="Fuzz")
    Token.objects.create(user=member.user, key=MEMBER_TOKEN)
    # A real WSGI handler closes the connection after each request (CONN_MAX_AGE=0), which would
    # end the test's transaction; Django's own test client disconnects the same signal.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        # The fuzz sends real tokens (below), not generated Authorization values.
        config = SchemathesisConfig()
        config.projects.default.generation.update(with_security_parameters=False)
        schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=config)
        yield schema, tablet.token, member
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def detail_on_client_errors(ctx, response, case):
    """Every 4xx of the APIs is JSON with a `detail` a tablet or app can show."""
    if 400 <= response.status_code < 500:
        assert response.headers.get("content-type", [""])[0].startswith("application/json"), (
            f"{response.status_code} is not JSON"
        )
        assert "detail" in response.json(), f"{response.status_code} has no detail: {response.text[:200]}"


CHECKS = [
    checks.not_a_server_error,
    detail_on_client_errors,
    oa.status_code_conformance,
    oa.content_type_conformance,
    oa.response_schema_conformance,
    oa.response_headers_conformance,
]


@pytest.mark.parametrize("prefix", ["/api/v1/door/", "/api/v1/me/"])
def test_api_answers_by_its_schema(api, prefix):
    """Valid and invalid requests (schemathesis's positive and negative modes) for every operation
    under `prefix`, seeded: the same cases every run."""
    schema, device_token, member = api
    operations = [r.ok() for r in schema.get_all_operations() if r.ok().path.startswith(prefix)]
    assert len(operations) >= 4
    statuses = Counter()
    for operation in operations:
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
        )

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def one(case):
            if prefix == "/api/v1/door/":
                auth = f"Device {device_token}"
            else:  # a fuzzed DELETE token/ logs out: sign in again
                Token.objects.get_or_create(key=MEMBER_TOKEN, defaults={"user": member.user})
                auth = f"Token {MEMBER_TOKEN}"
            for name in [h for h in (case.headers or {}) if h.lower() == "authorization"]:
                del case.headers[name]  # a generated one, in whatever case, would be sent beside ours
            response = case.call_and_validate(headers={"Authorization": auth}, checks=CHECKS)
            statuses[response.status_code] += 1

        try:
            one()
        except Exception as exc:
            exc.add_note(f"operation: {operation.label}")
            raise
    # The figures for README (pytest -s shows them).
    print(
        f"\n{prefix}: {len(operations)} operations, {sum(statuses.values())} requests, "
        f"status codes {dict(sorted(statuses.items()))}"
    )
