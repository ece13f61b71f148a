"""The member's consent and face pages: plain facts before agreeing, nothing pre-ticked, a
one-click withdrawal with a receipt; and the front desk's enrollment page, through tenancy."""

import re

import pytest
from django.urls import reverse

from consent import selectors
from consent.models import ConsentRecord
from justface.models import AuditEntry
from members.models import FaceTemplate
from tests.conftest import face_photo
from tests.permissions import assert_matrix
from tests.portal_helpers import (  # noqa: F401
    PASSWORD,
    commit,
    fresh_cache,
    member_with_login,
    private_root,
    publish_documents,
    sign,
    site_url,
)

pytestmark = pytest.mark.usefixtures("site_url", "fresh_cache", "private_root")
BIOMETRIC = reverse("portal:consent", args=["biometric"])


@pytest.fixture
def member(world, client):
    world.chain_a.settings = {"keep_member_photo": True}
    world.chain_a.save()
    publish_documents(world.chain_a)
    member = member_with_login(world.chain_a, world.centre_a2)
    client.force_login(member.user)
    return member


def test_biometric_page_states_the_facts_before_the_form_and_ticks_nothing(member, client):
    page = client.get(BIOMETRIC).content.decode()
    facts, form = page.index("Before you decide"), page.index('name="agree"')
    assert facts < form
    for fact in [
        "Your PIN works instead at every door",
        "What we store",
        "How long",
        "Withdrawing is one click",
        "Your photo is also kept",
    ]:
        assert page.index(fact) < form, fact
    assert not re.search(r"<input[^>]*checked", page)
    assert "No, thanks" in page


def test_sign_in_the_portal_records_request_evidence(member, client):
    missing_tick = client.post(BIOMETRIC, {"typed_name": member.full_name})
    assert missing_tick.status_code == 200 and not ConsentRecord.objects.exists()
    response = client.post(
        BIOMETRIC,
        {"typed_name": member.full_name, "agree": "on"},
        HTTP_USER_AGENT="Mozilla/5.0 (Phone)",
        REMOTE_ADDR="198.51.100.23",
    )
    assert response["Location"] == reverse("portal:face")
    record = ConsentRecord.objects.get(member=member)
    assert (record.channel, record.ip_address, record.user_agent) == ("portal", "198.51.100.23", "Mozilla/5.0 (Phone)")
    assert selectors.biometric_consent_active(member)


def test_page_shows_the_members_language(member, client):
    client.post(reverse("portal:set_language"), {"language": "nb", "next": BIOMETRIC})
    assert "Samtykke til ansiktsskanning" in client.get(BIOMETRIC).content.decode()
    client.post(BIOMETRIC, {"typed_name": member.full_name, "agree": "on"})
    assert ConsentRecord.objects.get(member=member).document.language == "nb"


def test_face_upload_then_one_click_withdrawal_with_receipt(member, client, commit, private_root):  # noqa: F811
    assert b"explicit consent first" in client.get(reverse("portal:face")).content
    sign(member)
    refused = client.post(reverse("portal:face"), {"photo": _upload(b"not an image")})
    assert refused.status_code == 200 and b"not a photo" in refused.content
    assert client.post(reverse("portal:face"), {"photo": _upload(face_photo("Colin_Powell", 1))}).status_code == 302
    page = client.get(reverse("portal:face")).content.decode()
    assert "Your face is enrolled" in page and reverse("portal:face-photo") in page
    photo = client.get(reverse("portal:face-photo"))
    assert photo.content == face_photo("Colin_Powell", 1) and photo["Cache-Control"] == "no-store"

    assert client.get(reverse("portal:withdraw", args=["biometric"])).status_code == 405  # a click is a POST
    with commit():
        response = client.post(reverse("portal:withdraw", args=["biometric"]))
    record = ConsentRecord.objects.get(member=member, action="withdraw")
    assert response["Location"] == reverse("portal:receipt", args=[record.pk])
    receipt = client.get(response["Location"]).content.decode()
    assert "1 face template" in receipt and "1 photo of you" in receipt and "PIN keeps working" in receipt
    assert not FaceTemplate.objects.filter(member=member).exists() and not any(private_root.rglob("*.bin"))
    assert client.get(reverse("portal:face-photo")).status_code == 404


def test_receipts_are_the_members_own(member, world, client):
    sign(member)
    from consent import services

    record = services.withdraw(
        member=member, kind="biometric", evidence=services.Evidence(channel="portal"), actor=None
    )
    other = member_with_login(world.chain_a, world.centre_a2)
    client.force_login(other.user)
    assert client.get(reverse("portal:receipt", args=[record.pk])).status_code == 404


def test_delete_face_keeps_the_consent(member, client):
    sign(member)
    client.post(reverse("portal:face"), {"photo": _upload(face_photo("Colin_Powell", 1))})
    client.post(reverse("portal:face-delete"))
    assert not FaceTemplate.objects.filter(member=member).exists() and selectors.biometric_consent_active(member)


def test_marketing_consent_and_withdrawal(member, client):
    url = reverse("portal:consent", args=["marketing"])
    client.post(url, {"typed_name": member.full_name, "agree": "on"})
    assert selectors.consent_state(member, "marketing", "en").active
    client.post(reverse("portal:withdraw", args=["marketing"]))
    assert not selectors.consent_state(member, "marketing", "en").active
    assert client.get(reverse("portal:consent", args=["nonsense"])).status_code == 404


def _upload(content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("selfie.jpg", content, content_type="image/jpeg")


# Front desk --------------------------------------------------------------------------------


def test_desk_page_is_scoped(member, login, world):
    url = reverse("staff:front-desk-member", args=[member.pk])  # the member's home centre is A2
    assert_matrix(
        login, "get", url, {"manager_a": 200, "frontdesk_a": 404, "dpo_a": 403, "manager_b": 404, "anonymous": 302}
    )
    a1_member = member_with_login(world.chain_a, world.centre_a1)
    assert login("frontdesk_a").get(reverse("staff:front-desk-member", args=[a1_member.pk])).status_code == 200
    assert AuditEntry.objects.filter(action="member.view", reason="desk enrollment").exists()


def test_desk_signing_needs_the_members_own_password_then_staff_enroll(member, login, world):
    client = login("manager_a")
    url = reverse("staff:front-desk-member", args=[member.pk])
    page = client.get(url).content.decode()
    assert "Turn the screen to the member" in page and "Your PIN works instead at every door" in page
    wrong = client.post(url, {"action": "sign", "typed_name": member.full_name, "agree": "on", "password": "guess"})
    assert wrong.status_code == 200 and not ConsentRecord.objects.exists()
    client.post(url, {"action": "sign", "typed_name": member.full_name, "agree": "on", "password": PASSWORD})
    record = ConsentRecord.objects.get(member=member)
    assert record.channel == "desk" and selectors.biometric_consent_active(member)
    assert AuditEntry.objects.get(action="consent.sign").actor_id == member.user.pk  # the member signed, not staff
    assert client.session["_auth_user_id"] == str(world.user("manager_a").pk)  # staff stay logged in
    response = client.post(url, {"action": "photo", "photo": _upload(face_photo("Colin_Powell", 1))})
    assert response.status_code == 302 and FaceTemplate.objects.filter(member=member).exists()
    assert AuditEntry.objects.get(action="face.enroll").actor_id == world.user("manager_a").pk
    assert client.get(reverse("staff:front-desk-photo", args=[member.pk])).content == face_photo("Colin_Powell", 1)
    assert login("manager_b").get(reverse("staff:front-desk-photo", args=[member.pk])).status_code == 404


def test_desk_cannot_enroll_without_consent(member, login):
    client = login("manager_a")
    response = client.post(
        reverse("staff:front-desk-member", args=[member.pk]),
        {"action": "photo", "photo": _upload(face_photo("Colin_Powell", 1))},
    )
    assert response.status_code == 200 and not FaceTemplate.objects.exists()


def test_desk_search_finds_only_scoped_members(member, login, world):
    found = login("frontdesk_a").get(reverse("staff:front-desk"), {"q": member.member_number})
    assert found.context["found"] == []  # A2 is not the front desk's centre
    assert login("manager_a").get(reverse("staff:front-desk"), {"q": member.member_number}).context["found"] == [member]
    assert login("manager_b").get(reverse("staff:front-desk"), {"q": member.member_number}).context["found"] == []
