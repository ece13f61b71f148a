"""Member API for consent and face: documents with the key facts, sign, withdraw (receipt),
face upload and delete; the same services and rules as the portal."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from consent import selectors
from consent.models import ConsentRecord
from members.models import FaceTemplate
from tests.conftest import face_photo
from tests.portal_helpers import (  # noqa: F401
    api_client,
    commit,
    document,
    fresh_cache,
    member_with_login,
    private_root,
    publish_documents,
    site_url,
)

pytestmark = pytest.mark.usefixtures("site_url", "fresh_cache", "private_root")
ME = "/api/v1/me"


@pytest.fixture
def member(world):
    publish_documents(world.chain_a)
    publish_documents(world.chain_b)
    return member_with_login(world.chain_a, world.centre_a1)


def test_documents_in_the_asked_language_with_key_facts(member):
    states = api_client(member).get(f"{ME}/consents/documents/", {"language": "da"}).json()
    by_kind = {s["kind"]: s for s in states}
    assert set(by_kind) == {"terms", "biometric", "marketing"}
    bio = by_kind["biometric"]["document"]
    assert bio["language"] == "da" and bio["title"].startswith("Samtykke") and len(bio["text_sha256"]) == 64
    assert len(bio["key_facts"]) == 8 and by_kind["terms"]["document"]["key_facts"] == []
    assert by_kind["biometric"]["active"] is False
    english = api_client(member).get(f"{ME}/consents/documents/", HTTP_ACCEPT_LANGUAGE="nb").json()
    assert {s["document"]["language"] for s in english} == {"nb"}


def test_sign_withdraw_and_records(member, world, commit):
    client = api_client(member)
    doc = document(member.chain)
    assert (
        client.post(
            f"{ME}/consents/", {"document": doc.pk, "typed_name": member.full_name, "agree": False}, format="json"
        ).status_code
        == 400
    )
    assert (
        client.post(
            f"{ME}/consents/",
            {"document": document(world.chain_b).pk, "typed_name": member.full_name, "agree": True},
            format="json",
        ).status_code
        == 404
    )
    wrong_name = client.post(
        f"{ME}/consents/", {"document": doc.pk, "typed_name": "Nobody", "agree": True}, format="json"
    )
    assert wrong_name.status_code == 400 and wrong_name.json()["code"] == "typed_name"
    signed = client.post(
        f"{ME}/consents/",
        {"document": doc.pk, "typed_name": member.full_name, "agree": True},
        format="json",
        HTTP_USER_AGENT="JustfaceApp/1.0",
    )
    assert signed.status_code == 201 and signed.json()["action"] == "sign"
    assert ConsentRecord.objects.get().user_agent == "JustfaceApp/1.0" and ConsentRecord.objects.get().channel == "api"

    image = SimpleUploadedFile("me.jpg", face_photo("Colin_Powell", 1), content_type="image/jpeg")
    enrolled = client.post(f"{ME}/face/", {"image": image}, format="multipart")
    assert enrolled.status_code == 201 and enrolled.json()["enrolled"] is True

    with commit():
        withdrawn = client.post(f"{ME}/consents/withdraw/", {"kind": "biometric"}, format="json")
    assert withdrawn.status_code == 201 and withdrawn.json()["receipt"]["face_templates"] == 1
    assert not FaceTemplate.objects.filter(member=member).exists()
    assert [r["action"] for r in client.get(f"{ME}/consents/").json()] == ["withdraw", "sign"]
    assert client.post(f"{ME}/consents/withdraw/", {"kind": "terms"}, format="json").status_code == 400


def test_face_upload_messages_and_delete(member):
    client = api_client(member)
    image = lambda content: SimpleUploadedFile("me.jpg", content, content_type="image/jpeg")  # noqa: E731
    no_consent = client.post(f"{ME}/face/", {"image": image(face_photo("Colin_Powell", 1))}, format="multipart")
    assert (
        no_consent.status_code == 400
        and no_consent.json()["code"] == "no_consent"
        and "PIN" in no_consent.json()["detail"]
    )
    from tests.portal_helpers import sign

    sign(member)
    bad = client.post(f"{ME}/face/", {"image": image(b"GIF89a not really")}, format="multipart")
    assert bad.status_code == 400 and bad.json()["code"] == "not_an_image"
    assert client.post(f"{ME}/face/", {}, format="multipart").json()["code"] == "missing_image"
    assert (
        client.post(f"{ME}/face/", {"image": image(face_photo("Colin_Powell", 1))}, format="multipart").status_code
        == 201
    )
    assert client.get(f"{ME}/face/photo/").status_code == 404  # chain A keeps no photos by default
    receipt = client.delete(f"{ME}/face/").json()
    assert receipt["face_templates"] == 1 and selectors.biometric_consent_active(member)
    assert client.get(f"{ME}/face/").json() == {
        "enrolled": False,
        "enrolled_at": None,
        "photo_kept": False,
        "consent_active": True,
        "renew_photo": False,
        "pending_review": False,
        "pending_since": None,
    }
