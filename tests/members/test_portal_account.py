"""Portal login by e-mail (rate-limited), logout, password reset, members only."""

import pytest
from django.core import mail
from django.urls import reverse

from tests.portal_helpers import PASSWORD, commit, fresh_cache, link_in_mail, member_with_login, site_url  # noqa: F401

pytestmark = pytest.mark.usefixtures("site_url", "fresh_cache")
LOGIN = reverse("portal:login")


@pytest.fixture
def member(world):
    return member_with_login(world.chain_a, world.centre_a1, email="Maja.Holm@Example.com")


def test_login_with_email_in_any_case(member, client):
    response = client.post(LOGIN, {"email": " maja.holm@example.COM ", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    assert client.get(reverse("portal:home")).status_code == 200


def test_next_is_followed_only_within_the_site(member, client):
    assert (
        client.post(LOGIN, {"email": member.email, "password": PASSWORD, "next": "/me/pin/"})["Location"] == "/me/pin/"
    )
    client.logout()
    assert client.post(LOGIN, {"email": member.email, "password": PASSWORD, "next": "https://evil.example/"})[
        "Location"
    ] == reverse("portal:home")


def test_wrong_password_and_unknown_email_look_the_same(member, client):
    wrong = client.post(LOGIN, {"email": member.email, "password": "nope"})
    unknown = client.post(LOGIN, {"email": "nobody@example.com", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 200
    assert b"do not match" in wrong.content and b"do not match" in unknown.content


def test_login_is_rate_limited_per_account(member, client):
    for _ in range(5):
        client.post(LOGIN, {"email": member.email, "password": "wrong"})
    blocked = client.post(LOGIN, {"email": member.email, "password": PASSWORD})
    assert blocked.status_code == 200 and b"Too many attempts" in blocked.content
    assert "_auth_user_id" not in client.session


def test_login_is_rate_limited_per_address(world, client):
    for n in range(30):
        client.post(LOGIN, {"email": f"guess{n}@example.com", "password": "wrong"}, REMOTE_ADDR="203.0.113.5")
    other = member_with_login(world.chain_a, world.centre_a1)
    blocked = client.post(LOGIN, {"email": other.email, "password": PASSWORD}, REMOTE_ADDR="203.0.113.5")
    assert b"Too many attempts" in blocked.content
    assert (
        client.post(LOGIN, {"email": other.email, "password": PASSWORD}, REMOTE_ADDR="203.0.113.6").status_code == 302
    )


def test_portal_pages_need_a_member_login(member, client, login):
    home = reverse("portal:home")
    assert client.get(home)["Location"].startswith(LOGIN)
    assert login("manager_a").get(home).status_code == 403  # staff are not members


def test_logout_needs_post(member, client):
    client.force_login(member.user)
    assert client.get(reverse("portal:logout")).status_code == 405
    assert client.post(reverse("portal:logout")).status_code == 302
    assert client.get(reverse("portal:home")).status_code == 302


def test_password_reset(member, client, commit):
    with commit():
        response = client.post(reverse("portal:password-reset"), {"email": "maja.holm@example.com"})
    assert response["Location"] == reverse("portal:password-reset-sent")
    assert mail.outbox[-1].to == [member.email]
    path = link_in_mail("/accounts/reset/")
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200 and b"new_password1" in form_page.content
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "blue-violin-meadow-7", "new_password2": "blue-violin-meadow-7"},
    )
    assert done["Location"] == reverse("portal:password-reset-complete")
    member.user.refresh_from_db()
    assert member.user.check_password("blue-violin-meadow-7")
    assert b"does not work" in client.get(path, follow=True).content  # used once


def test_password_reset_tells_nobody_who_is_a_member(member, client, commit):
    with commit():
        response = client.post(reverse("portal:password-reset"), {"email": "stranger@example.com"})
    assert response["Location"] == reverse("portal:password-reset-sent") and not mail.outbox


def test_pages_are_translated(member, client):
    client.force_login(member.user)
    home = reverse("portal:home")
    assert b"Your consents" in client.get(home).content
    for language, words in [("da", ["Dine samtykker", "Log ud"]), ("nb", ["Dine samtykker", "Logg ut"])]:
        client.post(reverse("portal:set_language"), {"language": language, "next": home})
        content = client.get(home).content.decode()
        assert f'lang="{language}"' in content and all(w in content for w in words), language
