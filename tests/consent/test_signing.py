"""Signing: what a record proves (version, text hash, who, when, where), that it is append-only,
and which signatures are refused."""

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from consent import selectors, services
from consent.models import ConsentDocument, ConsentRecord, ImmutableError
from justface.models import AuditEntry
from tests.conftest import make_member
from tests.portal_helpers import document, member_with_login, publish_documents, sign


@pytest.fixture
def member(world):
    publish_documents(world.chain_a)
    return member_with_login(world.chain_a, world.centre_a1, first_name="Søren", last_name="Østergaard")


def test_signature_records_version_text_hash_and_evidence(member):
    doc = document(member.chain)
    record = services.sign(
        member=member,
        document=doc,
        typed_name="  søren  ØSTERGAARD ",
        actor=member.user,
        evidence=services.Evidence(channel="portal", ip_address="198.51.100.4", user_agent="Firefox/140"),
    )
    record.refresh_from_db()
    assert record.document == doc and record.action == ConsentRecord.Action.SIGN
    assert record.text_sha256 == hashlib.sha256(f"{doc.title}\n\n{doc.body}".encode()).hexdigest()
    assert (record.ip_address, record.user_agent, record.typed_name) == (
        "198.51.100.4",
        "Firefox/140",
        "søren  ØSTERGAARD",
    )
    assert abs((timezone.now() - record.at).total_seconds()) < 5
    assert selectors.biometric_consent_active(member)
    entry = AuditEntry.objects.get(action="consent.sign")
    assert entry.object_id == str(record.pk) and entry.chain_id == member.chain_id and "Søren" not in entry.reason


def test_evidence_is_encrypted_at_rest(member):
    sign(member)
    with connection.cursor() as cursor:
        cursor.execute("SELECT ip_address, user_agent, typed_name FROM consent_consentrecord")
        ip, agent, name = cursor.fetchone()
    assert "192.0.2.7" not in ip and "pytest" not in agent and "Østergaard" not in name


@pytest.mark.parametrize("typed", ["", "Søren", "Soren Ostergaard Jensen", "Anne Østergaard"])
def test_typed_name_must_be_the_members_full_name(member, typed):
    with pytest.raises(ValidationError) as error:
        services.sign(
            member=member,
            document=document(member.chain),
            typed_name=typed,
            actor=member.user,
            evidence=services.Evidence(channel="portal"),
        )
    assert error.value.code == "typed_name"
    assert not ConsentRecord.objects.exists()


def test_accents_and_case_do_not_matter(member):
    assert sign(member) and services.sign(
        member=member,
        document=document(member.chain, "terms"),
        typed_name="soren ostergaard",
        actor=member.user,
        evidence=services.Evidence(channel="portal"),
    )


def test_refuses_drafts_other_chains_and_outdated_versions(member, world):
    draft = ConsentDocument.objects.create(
        chain=member.chain, kind="biometric", language="en", version=2, title="v2", body="new"
    )
    publish_documents(world.chain_b)
    other = document(world.chain_b)
    for doc, code in [(draft, "document"), (other, "document")]:
        with pytest.raises(ValidationError) as error:
            services.sign(
                member=member,
                document=doc,
                typed_name=member.full_name,
                actor=None,
                evidence=services.Evidence(channel="api"),
            )
        assert error.value.code == code
    services.publish_document(document=draft, actor=None)
    with pytest.raises(ValidationError) as error:
        services.sign(
            member=member,
            document=document(member.chain),
            typed_name=member.full_name,
            actor=None,
            evidence=services.Evidence(channel="api"),
        )
    assert error.value.code == "outdated"


def test_signing_the_same_version_twice_is_refused(member):
    sign(member)
    with pytest.raises(ValidationError) as error:
        sign(member)
    assert error.value.code == "already_signed"


def test_ended_membership_cannot_sign(member):
    member.status = "ended"
    member.save()
    with pytest.raises(ValidationError):
        sign(member)


def test_records_are_append_only(member):
    record = sign(member)
    record.typed_name = "Someone Else"
    with pytest.raises(ImmutableError):
        record.save()
    with pytest.raises(ImmutableError):
        ConsentRecord.objects.filter(pk=record.pk).update(action="withdraw")


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_database_refuses_rewriting_evidence_but_allows_key_rotation(member):
    record = sign(member)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE consent_consentrecord SET action = 'withdraw' WHERE id = %s", [record.pk])
    with connection.cursor() as cursor:  # what rotate_field_keys does: rewrite ciphertext only
        cursor.execute("UPDATE consent_consentrecord SET typed_name = typed_name WHERE id = %s", [record.pk])


def test_new_version_requiring_reconsent_suspends_consent_until_signed_again(member, settings):
    settings.JUSTFACE_PUBLIC_URL = "https://gym.example.com"  # the re-consent e-mail links to the portal
    sign(member)
    draft = services.new_version(document=document(member.chain), actor=None)
    assert (draft.version, draft.is_published) == (2, False)
    services.publish_document(document=draft, actor=None)
    assert selectors.biometric_consent_active(member)  # a new version alone does not ask for re-consent
    draft3 = services.new_version(document=draft, actor=None)
    draft3.body += "\nNow also at the exit."
    draft3.requires_reconsent = True
    draft3.save()
    services.publish_document(document=draft3, actor=None)
    state = selectors.consent_state(member, "biometric", "en")
    assert not selectors.biometric_consent_active(member) and state.reconsent_needed and state.document == draft3
    sign(member)
    assert selectors.biometric_consent_active(member)


def test_declining_changes_nothing_about_the_pin(member):
    from members.services import pin_matches, set_pin

    set_pin(member=member, pin="4711", actor=None)
    assert pin_matches(member=member, pin="4711") and not selectors.biometric_consent_active(member)


def test_documents_fall_back_to_the_chains_language(world):
    publish_documents(world.chain_a)
    ConsentDocument.objects.filter(chain=world.chain_a, language="en").delete()
    member = make_member(world.chain_a, world.centre_a1)
    assert selectors.current_document(member.chain, "biometric", "en").language == "da"  # chain A speaks Danish
