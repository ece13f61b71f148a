"""Minors: biometric consent is active only once the named guardian confirms through their own
one-time link."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from consent import selectors, services
from consent.models import ConsentRecord, GuardianConfirmation
from tests.portal_helpers import link_in_mail, member_with_login, publish_documents, sign, site_url  # noqa: F401

pytestmark = pytest.mark.usefixtures("site_url")


def _years_ago(years: int) -> date:
    today = timezone.localdate()
    return today.replace(year=today.year - years) + timedelta(days=1)


@pytest.fixture
def minor(world):
    publish_documents(world.chain_a)
    return member_with_login(world.chain_a, world.centre_a1, birth_date=_years_ago(16))


def test_minor_must_name_a_guardian(minor):
    with pytest.raises(ValidationError) as error:
        sign(minor)
    assert error.value.code == "guardian"


@pytest.fixture
def signed(minor, django_capture_on_commit_callbacks):
    """The minor signs naming a guardian; the e-mail to the guardian goes out (on commit)."""
    with django_capture_on_commit_callbacks(execute=True):
        return sign(minor, guardian_name="Birgit Hansen", guardian_email="birgit@example.com")


def test_consent_waits_for_the_guardians_confirmation(minor, signed, client):
    minor.refresh_from_db()
    assert (minor.guardian_name, minor.guardian_email) == ("Birgit Hansen", "birgit@example.com")
    assert not selectors.biometric_consent_active(minor)
    assert selectors.consent_state(minor, "biometric", "en").awaiting_guardian
    path = link_in_mail("/guardian/", to="birgit@example.com")

    page = client.get(path)
    assert page.status_code == 200 and b"PIN" in page.content
    wrong = client.post(path, {"typed_name": "Someone Else", "agree": "on"})
    assert wrong.status_code == 200 and not selectors.biometric_consent_active(minor)
    done = client.post(path, {"typed_name": "birgit hansen", "agree": "on"}, REMOTE_ADDR="198.51.100.77")
    assert done.status_code == 200
    assert selectors.biometric_consent_active(minor)
    confirmation = ConsentRecord.objects.get(member=minor, action=ConsentRecord.Action.GUARDIAN_CONFIRM)
    assert (confirmation.channel, confirmation.ip_address, confirmation.typed_name) == (
        "guardian_link",
        "198.51.100.77",
        "birgit hansen",
    )
    assert client.get(path).status_code == 404  # one time only


def test_link_expires(signed, client):
    GuardianConfirmation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert client.get(link_in_mail("/guardian/")).status_code == 404


def test_withdrawal_voids_a_pending_guardian_link(minor, signed, client):
    path = link_in_mail("/guardian/")
    services.withdraw(member=minor, kind="biometric", evidence=services.Evidence(channel="portal"), actor=None)
    assert client.post(path, {"typed_name": "Birgit Hansen", "agree": "on"}).status_code == 404
    assert not selectors.biometric_consent_active(minor)


def test_a_confirmation_does_not_carry_over_to_a_new_signature(minor, signed):
    raw_path = link_in_mail("/guardian/")
    services.confirm_as_guardian(
        token=raw_path.rstrip("/").rsplit("/", 1)[1],
        typed_name="Birgit Hansen",
        evidence=services.Evidence(channel="guardian_link"),
    )
    assert selectors.biometric_consent_active(minor)
    services.withdraw(member=minor, kind="biometric", evidence=services.Evidence(channel="portal"), actor=None)
    sign(minor, guardian_name="Birgit Hansen", guardian_email="birgit@example.com")
    assert not selectors.biometric_consent_active(minor)


def test_chain_sets_the_minor_age(world):
    world.chain_a.settings = {"minor_age": 15}
    world.chain_a.save()
    publish_documents(world.chain_a)
    member = member_with_login(world.chain_a, world.centre_a1, birth_date=_years_ago(16))
    sign(member)
    assert selectors.biometric_consent_active(member) and not mail.outbox
