"""justface.rest: the project's JSON parser and DRF exception handler, for every API view. A body
nested 100,000 deep, a NUL character or bytes that are not UTF-8 are a 400 with `detail`,
never a 500 (from an outside probe)."""

import pytest
from rest_framework.test import APIClient

from tests.access.conftest import tablet_a  # noqa: F401
from tests.portal_helpers import api_client, fresh_cache, member_with_login, site_url  # noqa: F401

pytestmark = pytest.mark.usefixtures("site_url", "fresh_cache")

DEEP = "[" * 100_000 + "]" * 100_000
BAD_BODIES = {
    "deeply nested": DEEP.encode(),
    "nested deeper than the bound": ('{"a": ' * 40 + "1" + "}" * 40).encode(),
    "a raw NUL": b'{"email": "a\x00@example.com", "password": "x"}',
    "an escaped NUL": b'{"email": "a@example.com", "password": "x\\u0000"}',
    "an escaped NUL in a key": b'{"\\u0000": 1}',
    "not UTF-8": b'{"email": "\xff\xfe@example.com", "password": "x"}',
}


@pytest.fixture
def member(world):
    return member_with_login(world.chain_a, world.centre_a1, email="nora@example.com")


def _assert_refused(response):
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("application/json") and response.json()["detail"]


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_json_bodies_are_400_on_every_api(body, member, tablet_a):  # noqa: F811
    _assert_refused(APIClient().post("/api/v1/me/token/", body, content_type="application/json"))
    _assert_refused(api_client(member).patch("/api/v1/me/profile/", body, content_type="application/json"))
    _assert_refused(api_client(member).post("/api/v1/me/requests/", body, content_type="application/json"))
    for path in ("pin/", "heartbeat/"):
        _assert_refused(
            tablet_a.client.post(f"/api/v1/door/{path}", body, content_type="application/json", **tablet_a.auth)
        )


def test_nested_json_posted_to_a_get_only_view_is_not_a_500(member):
    response = api_client(member).post("/api/v1/me/profile/", DEEP, content_type="application/json")
    assert response.status_code in (400, 405) and response.json()["detail"]


def test_ordinary_json_still_parses(member, tablet_a):  # noqa: F811
    assert tablet_a.heartbeat(app_version="kiosk-1", camera="ok").status_code == 200
    response = api_client(member).patch("/api/v1/me/profile/", {"first_name": "Nora"}, format="json")
    assert response.status_code == 200 and response.json()["first_name"] == "Nora"


def test_too_many_multipart_fields_on_the_api_is_json_400(settings, tablet_a):  # noqa: F811
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    fields = {f"f{i}": "x" for i in range(20)}
    for path in ("pin/", "scans/"):
        response = tablet_a.client.post(f"/api/v1/door/{path}", fields, **tablet_a.auth)  # multipart by default
        assert response.status_code == 400 and "too many fields" in response.json()["detail"], response.content
    response = tablet_a.client.post(
        "/api/v1/door/pin/",
        "&".join(f"f{i}=x" for i in range(20)),
        content_type="application/x-www-form-urlencoded",
        **tablet_a.auth,
    )
    assert response.status_code == 400 and "too many fields" in response.json()["detail"]


def test_too_many_query_fields_on_the_api_is_json_400(settings, member):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    response = api_client(member).get("/api/v1/me/consents/documents/?" + "&".join(f"f{i}=x" for i in range(20)))
    assert response.status_code == 400 and response.json()["detail"]
