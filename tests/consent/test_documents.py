"""Consent documents in the admin: a chain's manager writes drafts per language, publishes them
(then they are frozen) and starts new versions; other roles and chains cannot."""

import pytest
from django.urls import reverse

from consent.models import ConsentDocument, ImmutableError
from tests.permissions import assert_matrix
from tests.portal_helpers import document, publish_documents


@pytest.fixture
def published(world):
    publish_documents(world.chain_a)
    return document(world.chain_a)


def test_published_documents_cannot_change_or_go(published):
    published.body = "something else"
    with pytest.raises(ImmutableError):
        published.save()
    with pytest.raises(ImmutableError):
        ConsentDocument.objects.get(pk=published.pk).delete()


def test_manager_adds_a_draft_with_the_next_version(world, login):
    client = login("manager_a")
    response = client.post(
        reverse("admin:consent_consentdocument_add"),
        {"kind": "marketing", "language": "nb", "title": "Nyhetsbrev", "body": "Tekst"},
    )
    assert response.status_code == 302, response.content[:2000]
    draft = ConsentDocument.objects.get(chain=world.chain_a, kind="marketing", language="nb")
    assert (draft.version, draft.published_at) == (1, None)


def test_published_document_is_read_only_in_the_admin(published, login):
    url = reverse("admin:consent_consentdocument_change", args=[published.pk])
    assert_matrix(
        login, "get", url, {"manager_a": 200, "frontdesk_a": 200, "dpo_a": 200, "manager_b": 302, "anonymous": 302}
    )
    response = login("manager_a").post(url, {"title": "changed", "body": "changed"})
    assert response.status_code == 403
    published.refresh_from_db()
    assert published.title != "changed"


def test_publish_and_new_version_actions(published, login, world):
    changelist = reverse("admin:consent_consentdocument_changelist")
    client = login("manager_a")
    client.post(changelist, {"action": "make_new_version", "_selected_action": [published.pk]})
    draft = ConsentDocument.objects.get(chain=world.chain_a, kind="biometric", language="en", version=2)
    assert not draft.is_published and draft.body == published.body
    login("dpo_a").post(changelist, {"action": "publish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert not draft.is_published  # the DPO changes nothing
    login("manager_b").post(changelist, {"action": "publish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert not draft.is_published  # another chain's manager cannot even see it
    login("manager_a").post(changelist, {"action": "publish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.is_published


def test_consent_records_are_read_only_and_scoped(world, login):
    from tests.portal_helpers import member_with_login, sign

    member = member_with_login(world.chain_a, world.centre_a2)
    publish_documents(world.chain_a)
    record = sign(member)
    url = reverse("admin:consent_consentrecord_change", args=[record.pk])
    # front desk works at A1; the member's home centre is A2
    assert_matrix(
        login, "get", url, {"manager_a": 200, "frontdesk_a": 302, "dpo_a": 200, "manager_b": 302, "anonymous": 302}
    )
    assert login("manager_a").post(url, {"typed_name": "x"}).status_code == 403
