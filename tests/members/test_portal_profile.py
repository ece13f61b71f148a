"""Rectification (a changed e-mail is used only once verified) and the PIN, from the portal."""

import pytest
from django.core import mail
from django.urls import reverse

from justface.models import AuditEntry
from members.models import EmailChange, email_hash
from members.services import pin_matches
from tests.portal_helpers import PASSWORD, commit, fresh_cache, link_in_mail, member_with_login, site_url  # noqa: F401

pytestmark = pytest.mark.usefixtures("site_url", "fresh_cache")


@pytest.fixture
def member(world, client):
    member = member_with_login(world.chain_a, world.centre_a1, email="old@example.com")
    client.force_login(member.user)
    return member


def test_rectify_name_phone_and_address(member, client):
    response = client.post(
        reverse("portal:profile"),
        {
            "form": "profile",
            "first_name": "Annette",
            "last_name": "Berg",
            "phone": "+45 11 22 33 44",
            "address": "Ny vej 2",
            "gender": "female",
        },
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.first_name, member.last_name, member.phone, member.gender) == (
        "Annette",
        "Berg",
        "+45 11 22 33 44",
        "female",
    )
    entry = AuditEntry.objects.get(action="member.rectify")
    assert entry.reason == "fields: address, first_name, gender, last_name, phone" and "Annette" not in entry.reason


def test_member_cannot_rectify_number_or_birth_date_through_the_form(member, client):
    number, birth = member.member_number, member.birth_date
    client.post(
        reverse("portal:profile"),
        {
            "form": "profile",
            "first_name": "A",
            "last_name": "B",
            "gender": "other",
            "member_number": "HACK",
            "birth_date": "2015-01-01",
        },
    )
    member.refresh_from_db()
    assert (member.member_number, member.birth_date) == (number, birth)


def test_email_change_is_used_only_after_the_link(member, client, commit):
    with commit():
        response = client.post(reverse("portal:profile"), {"form": "email", "new_email": "new@example.com"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.email == "old@example.com"  # not yet
    assert mail.outbox[-1].to == ["new@example.com"]
    path = link_in_mail("/email/confirm/", to="new@example.com")
    client.logout()
    assert client.get(path).status_code == 302
    member.refresh_from_db()
    assert member.email == "new@example.com" and member.email_hash == email_hash("NEW@example.com")
    assert client.get(path).status_code == 404  # once
    # and the member now logs in with the new address
    assert client.post(reverse("portal:login"), {"email": "new@example.com", "password": PASSWORD}).status_code == 302


def test_email_change_to_the_same_address_is_refused(member, client):
    response = client.post(reverse("portal:profile"), {"form": "email", "new_email": "OLD@example.com"})
    assert response.status_code == 200 and b"already your e-mail" in response.content
    assert not EmailChange.objects.exists()


def test_set_pin(member, client):
    assert client.post(reverse("portal:pin"), {"pin": "1234", "pin2": "1234"}).status_code == 200  # too easy
    assert client.post(reverse("portal:pin"), {"pin": "48213", "pin2": "48219"}).status_code == 200  # differ
    assert client.post(reverse("portal:pin"), {"pin": "12a4", "pin2": "12a4"}).status_code == 200
    assert client.post(reverse("portal:pin"), {"pin": "48213", "pin2": "48213"}).status_code == 302
    member.refresh_from_db()
    assert pin_matches(member=member, pin="48213") and "48213" not in member.pin_hash
