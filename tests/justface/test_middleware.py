"""justface.middleware.RequestGuardMiddleware: a NUL character in the path, the query string or
a form field is a 400 before any view runs (PostgreSQL cannot compare one: it was a 500 in
every view that filtered on it, found by an outside probe). JSON with `detail` on /api/, a short plain
page elsewhere."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.access.conftest import tablet_a  # noqa: F401
from tests.portal_helpers import api_client, fresh_cache, member_with_login, site_url  # noqa: F401

pytestmark = pytest.mark.usefixtures("site_url", "fresh_cache")

ADMIN_FILTERS = [
    "/admin/members/member/?status=%00",
    "/admin/access/accessevent/?reason=%00",
    "/admin/justface/auditentry/?action=%00",
    "/admin/members/member/?q=%00",
    "/admin/members/member/?%00=1",
]


@pytest.fixture
def member(world):
    return member_with_login(world.chain_a, world.centre_a1, email="nora@example.com")


def _plain_400(response):
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("text/plain") and b"NUL" in response.content


def _json_400(response):
    assert response.status_code == 400, response.content[:300]
    assert "NUL" in response.json()["detail"]


def test_nul_in_an_api_query_parameter(member, tablet_a):  # noqa: F811
    _json_400(api_client(member).get("/api/v1/me/consents/documents/?language=%00"))
    _json_400(tablet_a.client.get("/api/v1/door/scans/x/?wait=%00", **tablet_a.auth))


@pytest.mark.parametrize("user", ["manager_a", "dpo_a", "frontdesk_a", "manager_b", "operator"])
@pytest.mark.parametrize("url", ADMIN_FILTERS)
def test_nul_in_admin_filters(login, user, url):
    _plain_400(login(user).get(url))


def test_nul_for_anonymous_and_in_the_path(client, world):
    _plain_400(client.get("/admin/members/member/?status=%00"))
    _plain_400(client.get("/me/%00/"))
    _json_400(client.get("/api/v1/me/%00/"))


def test_nul_in_form_fields(client, login, world, tablet_a):  # noqa: F811
    _plain_400(client.post("/accounts/login/", {"username": "a\x00", "password": "x"}))
    _plain_400(login("manager_a").post("/admin/members/member/", {"action": "x\x00", "_selected_action": ["1"]}))
    # multipart field values, beside a file too
    _json_400(tablet_a.client.post("/api/v1/door/pin/", {"member_number": "M1\x00", "pin": "4711"}, **tablet_a.auth))
    image = SimpleUploadedFile("frame.jpg", b"\xff\xd8\xff", content_type="image/jpeg")
    _json_400(tablet_a.client.post("/api/v1/door/scans/", {"image": image, "direction": "in\x00"}, **tablet_a.auth))


def test_ordinary_requests_pass(login, member):
    assert login("manager_a").get("/admin/members/member/?status=active").status_code == 200
    assert api_client(member).get("/api/v1/me/consents/documents/?language=da").status_code == 200
