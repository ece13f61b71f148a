"""Response headers on every page (from an outside probe): a Content-Security-Policy with no inline
script anywhere, Permissions-Policy giving the camera only to the kiosk and the selfie pages,
Cache-Control: no-store on the member's pages and APIs and the door API, and the language
cookie Secure, SameSite=Lax and HttpOnly."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.access.conftest import tablet_a  # noqa: F401
from tests.conftest import make_member
from tests.portal_helpers import api_client, fresh_cache, member_with_login, publish_documents, site_url  # noqa: F401

pytestmark = pytest.mark.usefixtures("site_url", "fresh_cache")
NO_CAMERA = "camera=(), microphone=(), geolocation=()"
CAMERA = "camera=(self), microphone=(), geolocation=()"


@pytest.fixture
def member(world):
    publish_documents(world.chain_a)
    return member_with_login(world.chain_a, world.centre_a1, email="nora@example.com")


def directives(response) -> dict:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def assert_strict_csp(response):
    csp = directives(response)
    assert csp["default-src"] == ["'self'"] and csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    # Nothing the policy would block: no inline script, handler or style attribute in the page.
    html = response.content.decode()
    for script in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in script or 'type="application/json"' in script, script
    assert not re.search(r"\son[a-z]+=", html) and " style=" not in html and "<style" not in html


def test_portal_pages(client, member):
    client.force_login(member.user)
    for url in (
        "/me/",
        "/me/profile/",
        "/me/pin/",
        "/me/password/",
        "/me/data/",
        "/me/requests/",
        "/me/consents/biometric/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict_csp(response)
        assert response["Permissions-Policy"] == NO_CAMERA, url
        assert "no-store" in response["Cache-Control"], url
    response = client.get("/me/face/")
    assert_strict_csp(response)
    assert response["Permissions-Policy"] == CAMERA and "no-store" in response["Cache-Control"]
    login_page = Client().get("/accounts/login/")
    assert_strict_csp(login_page)
    assert login_page["Permissions-Policy"] == NO_CAMERA


def test_kiosk_and_desk_may_use_the_camera(client, login, world):
    response = client.get("/kiosk/")
    assert_strict_csp(response)
    assert response["Permissions-Policy"] == CAMERA
    desk = login("frontdesk_a")
    assert desk.get("/staff/front-desk/")["Permissions-Policy"] == NO_CAMERA
    member = make_member(world.chain_a, world.centre_a1)
    response = desk.get(reverse("staff:front-desk-member", args=[member.pk]))
    assert response.status_code == 200 and response["Permissions-Policy"] == CAMERA
    assert_strict_csp(response)
    assert "no-store" in response["Cache-Control"]


def test_admin_pages(login, world):
    admin = login("manager_a")
    for url in ("/admin/", "/admin/members/member/", "/admin/members/member/add/", "/admin/access/accessevent/"):
        response = admin.get(url)
        assert response.status_code == 200, url
        assert_strict_csp(response)
        assert response["Permissions-Policy"] == NO_CAMERA


def test_apis_are_not_cached(member, tablet_a):  # noqa: F811
    for response in (
        api_client(member).get("/api/v1/me/profile/"),
        api_client(member).get("/api/v1/me/consents/"),
        tablet_a.heartbeat(),
        tablet_a.pin("M404", "4711"),
    ):
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"] and response["Permissions-Policy"] == NO_CAMERA
        assert "Content-Security-Policy" in response


def test_api_docs_load_nothing_from_another_host(client):
    """Swagger UI comes from our own static files (drf-spectacular-sidecar), not from
    a CDN without integrity, and the page runs under the site's strict policy (no 'unsafe-inline')."""
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert_strict_csp(response)
    html = response.content.decode()
    sources = re.findall(r"<(?:script|link|img)\b[^>]*?\s(?:src|href)=\"([^\"]*)\"", html)
    assert len(sources) >= 4, sources  # the CSS, our CSS, the two bundles, the start-up script
    foreign = [url for url in sources if re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", url, re.I)]
    assert not foreign, foreign
    assert not re.search(r"https?://", html)
    for url in sources:
        if "?" not in url:
            assert client.get(url).status_code == 200, url  # served by the site itself
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "javascript" in script["Content-Type"]
    assert not re.search(r"https?://", script.content.decode())
    assert "cdn" not in response["Content-Security-Policy"]


def test_language_cookie_is_secure_lax_and_http_only(client, world):
    response = client.post(reverse("portal:set_language"), {"language": "da", "next": "/me/"})
    cookie = response.cookies["django_language"]
    assert cookie.value == "da" and cookie["secure"] and cookie["samesite"] == "Lax" and cookie["httponly"]
