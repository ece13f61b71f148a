"""A consent version that requires re-consent: the affected members are
e-mailed in their language with a link, the door says why face entry is paused (the PIN still
works), and staff see how many have re-consented."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from consent import selectors, services
from consent.models import ConsentDocument
from tests.access.conftest import colin, private_root, tablet_a  # noqa: F401 (door fixtures)
from tests.access.test_scans import decided
from tests.conftest import face_photo, make_member
from tests.portal_helpers import publish_documents, sign


def reconsent_version(chain, language: str, kind: str = "biometric") -> ConsentDocument:
    current = ConsentDocument.objects.filter(chain=chain, kind=kind, language=language).order_by("-version").first()
    draft = services.new_version(document=current, actor=None)
    draft.body += "\nNow also at the exit."
    draft.requires_reconsent = True
    draft.save()
    return draft


def test_publishing_e_mails_the_affected_members_in_their_language(world, settings, django_capture_on_commit_callbacks):
    settings.JUSTFACE_PUBLIC_URL = "https://gym.example.com"
    publish_documents(world.chain_a)
    danish, danish2, english, withdrawn = (make_member(world.chain_a, world.centre_a1) for _ in range(4))
    never = make_member(world.chain_a, world.centre_a1)
    sign(danish, language="da")
    sign(danish2, language="da")
    sign(english, language="en")
    sign(withdrawn, language="da")
    services.withdraw(member=withdrawn, kind="biometric", evidence=services.Evidence(channel="portal"), actor=None)
    draft = reconsent_version(world.chain_a, "da")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_document(document=draft, actor=world.user("manager_a"))
    assert sorted(m.to[0] for m in mail.outbox) == sorted([danish.email, danish2.email])
    message = mail.outbox[0]
    assert "https://gym.example.com/me/consents/biometric/" in message.body
    assert "PIN-kode virker" in message.body and "sat på pause" in message.body  # Danish, says what is paused
    assert never.email not in [m.to[0] for m in mail.outbox] and english.email not in [m.to[0] for m in mail.outbox]
    assert selectors.reconsent_progress(draft) == (0, 2)
    sign(danish, language="da")
    assert selectors.reconsent_progress(draft) == (1, 2)


def test_without_a_site_address_nothing_is_published(world, settings):
    settings.JUSTFACE_PUBLIC_URL = ""
    publish_documents(world.chain_a)
    sign(make_member(world.chain_a, world.centre_a1), language="da")
    draft = reconsent_version(world.chain_a, "da")
    with pytest.raises(ValidationError, match="JUSTFACE_PUBLIC_URL"):
        services.publish_document(document=draft, actor=None)
    draft.refresh_from_db()
    assert not draft.is_published


def test_the_door_says_why_face_entry_is_paused_and_the_pin_works(world, settings, tablet_a, colin):
    settings.JUSTFACE_PUBLIC_URL = "https://gym.example.com"
    draft = reconsent_version(world.chain_a, "en")
    services.publish_document(document=draft, actor=None)
    body = decided(tablet_a.scan(face_photo("Colin_Powell", 2)), "denied", "reconsent_needed")
    assert "ansigtsscanning" in body["message"] and "PIN" in body["message"]  # chain A's doors speak Danish
    decided(tablet_a.pin(colin.member_number, "4711"))


def test_staff_see_the_count(world, settings, login):
    settings.JUSTFACE_PUBLIC_URL = "https://gym.example.com"
    publish_documents(world.chain_a)
    members = [make_member(world.chain_a, world.centre_a1) for _ in range(3)]
    for m in members:
        sign(m, language="en")
    draft = reconsent_version(world.chain_a, "en")
    services.publish_document(document=draft, actor=None)
    sign(members[0], language="en")
    page = login("manager_a").get("/admin/consent/consentdocument/")
    assert "1 of 3" in page.content.decode()
