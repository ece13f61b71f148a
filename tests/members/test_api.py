"""Member API (/api/v1/me/): token login (rate-limited), profile, e-mail change, PIN, export,
requests; members only, each sees only themself; in the OpenAPI schema."""

import io
import json
import zipfile

import pytest
from django.core import mail
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from members.models import DataSubjectRequest
from members.services import pin_matches
from tests.portal_helpers import PASSWORD, api_client, commit, fresh_cache, member_with_login, site_url  # noqa: F401

pytestmark = pytest.mark.usefixtures("site_url", "fresh_cache")
ME = "/api/v1/me"


@pytest.fixture
def member(world):
    return member_with_login(world.chain_a, world.centre_a1, first_name="Nora", email="nora@example.com")


def test_token_login_and_logout(member):
    client = APIClient()
    assert client.post(f"{ME}/token/", {"email": "nora@example.com", "password": "wrong"}).status_code == 400
    response = client.post(f"{ME}/token/", {"email": "NORA@example.com", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get(f"{ME}/profile/").json()["first_name"] == "Nora"
    assert client.delete(f"{ME}/token/").status_code == 204
    assert client.get(f"{ME}/profile/").status_code == 401
    assert not Token.objects.exists()


def test_token_login_is_rate_limited(member):
    client = APIClient()
    for _ in range(5):
        client.post(f"{ME}/token/", {"email": "nora@example.com", "password": "wrong"})
    response = client.post(f"{ME}/token/", {"email": "nora@example.com", "password": PASSWORD})
    assert response.status_code == 429 and response.json()["detail"]


def test_bad_input_is_a_400_with_detail(member):
    assert APIClient().post(f"{ME}/token/", {"email": "not-an-email"}).status_code == 400
    client = api_client(member)
    response = client.put(f"{ME}/pin/", {"pin": "1111"}, format="json")
    assert (
        response.status_code == 400
        and "too easy" in response.json()["detail"]
        and response.json()["code"] == "pin_weak"
    )
    assert client.patch(f"{ME}/profile/", {"first_name": ""}, format="json").status_code == 400
    assert client.post(f"{ME}/requests/", {"kind": "objection"}, format="json").json()["code"] == "objection_to"
    assert client.post(f"{ME}/requests/", {"kind": "delete-everything"}, format="json").status_code == 400


def test_api_is_for_members_with_a_token(member, world):
    assert APIClient().get(f"{ME}/profile/").status_code == 401
    staff = APIClient()
    staff.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=world.user('manager_a')).key}")
    assert staff.get(f"{ME}/profile/").status_code == 403


def test_profile_rectification_and_email_change(member, commit):
    client = api_client(member)
    response = client.patch(
        f"{ME}/profile/", {"last_name": "Dahl", "member_number": "X", "email": "x@example.com"}, format="json"
    )
    assert response.status_code == 200 and response.json()["last_name"] == "Dahl"
    member.refresh_from_db()
    assert member.member_number != "X" and member.email == "nora@example.com"  # read-only fields are ignored
    with commit():
        assert (
            client.post(f"{ME}/profile/email/", {"new_email": "nora.dahl@example.com"}, format="json").status_code
            == 202
        )
    assert mail.outbox[-1].to == ["nora.dahl@example.com"]
    member.refresh_from_db()
    assert member.email == "nora@example.com"


def test_pin(member):
    assert api_client(member).put(f"{ME}/pin/", {"pin": "90517"}, format="json").status_code == 204
    member.refresh_from_db()
    assert pin_matches(member=member, pin="90517")
    assert api_client(member).get(f"{ME}/profile/").json()["pin_set"] is True


def test_export(member):
    response = api_client(member).get(f"{ME}/export/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    profile = json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("profile.json"))
    assert profile["email"] == "nora@example.com"


def test_requests_are_the_members_own(member, world):
    client = api_client(member)
    created = client.post(
        f"{ME}/requests/", {"kind": "objection", "objection_to": "statistics", "message": "No stats"}, format="json"
    )
    assert created.status_code == 201 and created.json()["status"] == "received"
    assert (
        client.post(f"{ME}/requests/", {"kind": "objection", "objection_to": "statistics"}, format="json").json()[
            "code"
        ]
        == "duplicate"
    )
    other = member_with_login(world.chain_a, world.centre_a1)
    assert api_client(other).get(f"{ME}/requests/").json() == []
    assert [r["objection_to"] for r in client.get(f"{ME}/requests/").json()] == ["statistics"]
    assert DataSubjectRequest.objects.get().due_at


def test_schema_lists_the_member_api(client):
    schema = client.get("/api/schema/?format=json").json()
    for path in [
        "token/",
        "profile/",
        "profile/email/",
        "pin/",
        "export/",
        "requests/",
        "consents/",
        "consents/documents/",
        "consents/withdraw/",
        "face/",
        "face/photo/",
    ]:
        assert f"{ME}/{path}" in schema["paths"], path
    assert "tokenAuth" in schema["components"]["securitySchemes"]
