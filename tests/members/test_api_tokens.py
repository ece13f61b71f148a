"""API tokens: a token works JUSTFACE_API_TOKEN_DAYS after it was issued and then
answers 401 saying it expired; a password reset, a password change and the member's erasure end
every token of the login at once; the purge deletes expired ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from justface.models import AuditEntry, User
from retention.jobs import purge_due
from retention.services import erase_member
from tests.portal_helpers import PASSWORD, commit, fresh_cache, link_in_mail, member_with_login, site_url  # noqa: F401

pytestmark = pytest.mark.usefixtures("site_url", "fresh_cache")
ME = "/api/v1/me"


@pytest.fixture(autouse=True)
def english_after():
    """Pages asked for in Danish or Norwegian leave that language active in the test's thread:
    back to the default, so that later tests read English messages."""
    yield
    translation.deactivate()


T0 = datetime(2026, 2, 27, 9, 0, tzinfo=UTC)  # the term is 30 × 24 hours, whatever the clocks do


@pytest.fixture
def member(world):
    return member_with_login(world.chain_a, world.centre_a1, first_name="Nora", email="nora@example.com")


def log_in(email: str = "nora@example.com", password: str = PASSWORD) -> tuple[APIClient, dict]:
    client = APIClient()
    response = client.post(f"{ME}/token/", {"email": email, "password": password}, format="json")
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client, response.json()


def test_a_token_expires_after_its_term_with_a_clear_401(member):
    with time_machine.travel(T0, tick=False) as clock:
        client, answer = log_in()
        assert datetime.fromisoformat(answer["expires_at"]) == T0 + timedelta(days=30)
        clock.move_to(T0 + timedelta(days=30) - timedelta(seconds=1))
        assert client.get(f"{ME}/profile/").status_code == 200  # using it does not extend it
        clock.move_to(T0 + timedelta(days=30))
        expired = client.get(f"{ME}/profile/")
        assert expired.status_code == 401
        assert expired.json()["detail"] == "This token has expired. Log in again to get a new one."
        assert expired["WWW-Authenticate"] == "Token"
        danish = client.get(f"{ME}/profile/", HTTP_ACCEPT_LANGUAGE="da").json()["detail"]
        norwegian = client.get(f"{ME}/profile/", HTTP_ACCEPT_LANGUAGE="nb").json()["detail"]
        assert "expired" not in danish and "expired" not in norwegian and danish != norwegian
        # Logging in again gives a new token, good for another term; the old key is gone.
        again, answer = log_in()
        assert answer["token"] != expired.request["HTTP_AUTHORIZATION"].split()[1]
        assert again.get(f"{ME}/profile/").status_code == 200
        assert Token.objects.count() == 1
        assert datetime.fromisoformat(answer["expires_at"]) == T0 + timedelta(days=60)


def test_the_term_is_a_setting(member, settings):
    settings.JUSTFACE_API_TOKEN_DAYS = 1
    with time_machine.travel(T0, tick=False) as clock:
        client, answer = log_in()
        assert datetime.fromisoformat(answer["expires_at"]) == T0 + timedelta(days=1)
        clock.move_to(T0 + timedelta(days=1))
        assert client.get(f"{ME}/profile/").status_code == 401


def test_logging_in_again_keeps_a_working_token(member):
    first, one = log_in()
    second, two = log_in()  # the phone and the tablet
    assert one["token"] == two["token"] and first.get(f"{ME}/profile/").status_code == 200


def test_a_password_reset_ends_every_token(member, client, commit):
    api, _answer = log_in()
    with commit():
        client.post(reverse("portal:password-reset"), {"email": "nora@example.com"})
    form_page = client.get(link_in_mail("/accounts/reset/"), follow=True)
    new = "blue-violin-meadow-7"
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert done["Location"] == reverse("portal:password-reset-complete")
    assert not Token.objects.exists()
    assert api.get(f"{ME}/profile/").status_code == 401
    assert log_in(password=new)[0].get(f"{ME}/profile/").status_code == 200


def test_a_password_change_in_the_portal_ends_every_token(member, client):
    api, _answer = log_in()
    client.force_login(member.user)
    page = client.get("/me/password/")
    assert page.status_code == 200 and b"old_password" in page.content
    wrong = client.post("/me/password/", {"old_password": "nope", "new_password1": "x", "new_password2": "x"})
    assert wrong.status_code == 200 and Token.objects.exists()
    new = "blue-violin-meadow-7"
    done = client.post(
        "/me/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}, follow=True
    )
    assert "Your password is changed" in done.content.decode()
    assert client.get("/me/profile/").status_code == 200  # this browser stays signed in
    assert not Token.objects.exists() and api.get(f"{ME}/profile/").status_code == 401
    assert AuditEntry.objects.filter(action="member.password_change", object_id=str(member.pk)).exists()


def test_guessing_the_old_password_in_the_portal_is_limited(member, client):
    client.force_login(member.user)
    for _ in range(5):
        client.post("/me/password/", {"old_password": "nope", "new_password1": "x", "new_password2": "x"})
    new = "blue-violin-meadow-7"
    blocked = client.post("/me/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert blocked.status_code == 200 and b"Too many attempts" in blocked.content
    member.user.refresh_from_db()
    assert member.user.check_password(PASSWORD)


def test_the_portal_page_in_danish_and_norwegian(member, client):
    client.force_login(member.user)
    assert "Skift din adgangskode" in client.get("/me/password/", HTTP_ACCEPT_LANGUAGE="da").content.decode()
    assert "Endre passordet ditt" in client.get("/me/password/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()


def test_any_new_password_ends_every_token(member):
    api, _answer = log_in()
    user = User.objects.get(pk=member.user_id)
    user.set_password("another-long-password-9")  # e.g. `manage.py changepassword`
    user.save()
    assert api.get(f"{ME}/profile/").status_code == 401 and not Token.objects.exists()


def test_saving_the_login_without_a_new_password_keeps_its_token(member):
    api, _answer = log_in()
    user = User.objects.get(pk=member.user_id)
    user.language = "da"
    user.save()
    assert user.check_password(PASSWORD)
    assert api.get(f"{ME}/profile/").status_code == 200


def test_a_staff_password_change_in_the_admin_ends_their_token(world, login):
    manager = world.user("manager_a")
    token = Token.objects.create(user=manager)
    bi_tool = APIClient()
    bi_tool.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert bi_tool.get("/api/v1/statistics/centres/").status_code == 200
    new = "another-long-password-9"
    response = login("manager_a").post(
        "/admin/password_change/",
        {"old_password": "pw-manager_a", "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302 and response["Location"].endswith("/admin/password_change/done/")
    assert not Token.objects.exists()
    assert bi_tool.get("/api/v1/statistics/centres/").status_code == 401


def test_a_staff_token_expires_too(world):
    with time_machine.travel(T0, tick=False) as clock:
        token = Token.objects.create(user=world.user("manager_a"))
        bi_tool = APIClient()
        bi_tool.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        assert bi_tool.get("/api/v1/statistics/centres/").status_code == 200
        clock.move_to(T0 + timedelta(days=31))
        response = bi_tool.get("/api/v1/statistics/centres/")
        assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_the_members_erasure_ends_every_token(member):
    api, _answer = log_in()
    erase_member(member=member, actor=None, reason="test")
    assert not Token.objects.exists()
    assert api.get(f"{ME}/profile/").status_code == 401


def test_the_purge_deletes_expired_tokens(member, world):
    with time_machine.travel(T0, tick=False) as clock:
        log_in()
        clock.move_to(T0 + timedelta(days=10))
        staff = Token.objects.create(user=world.user("manager_a"))
        clock.move_to(T0 + timedelta(days=30))
        assert purge_due()["api_tokens_deleted"] == 1
        assert list(Token.objects.all()) == [staff]
