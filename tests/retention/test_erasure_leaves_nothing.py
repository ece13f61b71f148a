"""Erasure really erases: a member who used every feature is erased through the
service, then the whole database (every table, as text, and every model row through the ORM,
which decrypts the encrypted columns), the private-file folder and the cache are searched for
anything of theirs: the free text they typed, e-mail, phone, member number, address, names, and
the keyed hashes the project keeps beside them."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from rest_framework.authtoken.models import Token

from consent.enrollment import enroll_face
from justface import crypto, throttle
from justface.models import User
from members import services as member_services
from members.models import DataSubjectRequest, Member, email_hash, member_number_hash, phone_hash
from members.services import carry_out_erasure_request
from tests.access.conftest import consent_to_face_scan
from tests.conftest import face_photo, make_member
from tests.portal_helpers import PASSWORD, api_client, link_in_mail, publish_documents, sign

MARK = "Qzmarker"


def everything_as_text() -> str:
    """Every row of every table, as PostgreSQL prints it, plus every model row's field values
    through the ORM (encrypted columns decrypted)."""
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT t::text FROM "{table}" t')
            parts += [row[0] for row in cursor.fetchall()]
    for model in apps.get_models():
        for row in model._base_manager.all():
            parts += [str(getattr(row, f.attname, "")) for f in model._meta.concrete_fields]
    return "\n".join(parts)


def files_as_text(root) -> str:
    return "\n".join(p.read_bytes().decode("latin-1") for p in root.rglob("*") if p.is_file()) if root.exists() else ""


@pytest.mark.skipif(connection.vendor != "postgresql", reason="dumps tables with PostgreSQL's row-to-text cast")
def test_nothing_of_an_erased_member_remains(
    world, tablet_a, private_root, client, settings, django_capture_on_commit_callbacks
):
    settings.JUSTFACE_PUBLIC_URL = "https://gym.example.com"
    cache.clear()
    chain, centre, manager = world.chain_a, world.centre_a1, world.user("manager_a")
    chain.settings = {"keep_member_photo": True, "denied_frame_hours": 2}
    chain.save()
    publish_documents(chain)
    member = make_member(
        chain,
        centre,
        first_name=f"{MARK}first",
        last_name=f"{MARK}last",
        email=f"{MARK.lower()}@example.com",
        phone="+45 71 72 73 74",
        member_number=f"{MARK}-77",
        address=f"{MARK} street 9, 2200 Copenhagen",
    )
    values = [member.first_name, member.last_name, member.email, "71727374", member.member_number, member.address]
    hashes = [
        member_number_hash(member.member_number),
        email_hash(member.email),
        phone_hash(member.phone),
        *member.name_index.split(),
        crypto.keyed_hash("throttle", member.email.lower()),
    ]

    # Invitation, password, portal session, API token.
    with django_capture_on_commit_callbacks(execute=True):
        member_services.invite_member(member=member, actor=manager)
    token = link_in_mail("/invitation/").rstrip("/").split("/")[-1]
    member = member_services.accept_invitation(token=token, password=PASSWORD)
    client.post("/accounts/login/", {"email": member.email, "password": "wrong"}, REMOTE_ADDR="203.0.113.5")
    assert client.post("/accounts/login/", {"email": member.email, "password": PASSWORD}).status_code == 302
    assert Session.objects.count() >= 1
    api = api_client(member)
    hashes.append(member.user.username)

    # Consents (terms and face scan), a selfie of a real face, PIN.
    sign(member, kind="terms")
    sign(member, kind="biometric")
    consent_to_face_scan(member)
    assert enroll_face(member=member, image=face_photo("Colin_Powell", 1), actor=member.user).ok
    # A photo of someone else waits for staff review: personal data that must go too.
    assert enroll_face(member=member, image=face_photo("George_W_Bush", 1), actor=member.user).pending_review
    member_services.set_pin(member=member, pin="4711", actor=member.user)

    # The door: a granted face scan (a kept door photo, a visit), a denied frame kept for
    # support, a granted PIN entry, then five wrong PINs (a lockout of the member number).
    # (The test runs in one transaction: run what each request left for its commit.)
    with django_capture_on_commit_callbacks(execute=True):
        assert tablet_a.scan(face_photo("Colin_Powell", 2)).json()["status"] == "granted"
    with django_capture_on_commit_callbacks(execute=True):
        assert tablet_a.pin(member.member_number, "4711", direction="out").json()["status"] == "granted"
    with django_capture_on_commit_callbacks(execute=True):
        assert tablet_a.scan(face_photo("Colin_Powell", 3)).json()["status"] == "granted"  # a kept door photo
    for _ in range(5):
        tablet_a.pin(member.member_number, "1357")
    assert tablet_a.pin(member.member_number, "4711").json()["reason"] == "wrong_pin"  # locked

    # Self-service: an e-mail change waiting for its link, an export, an objection and an
    # erasure request with free text.
    new_email = f"{MARK.lower()}-new@example.com"
    values.append(new_email)
    hashes.append(email_hash(new_email))
    with django_capture_on_commit_callbacks(execute=True):
        member_services.request_email_change(member=member, new_email=new_email, actor=member.user)
    assert api.get("/api/v1/me/export/").status_code == 200
    free_text = f"{MARK}-freetext: I am {MARK}first {MARK}last, Nørregade 1, phone 71727374, please forget me"
    values += [f"{MARK}-freetext", f"{MARK}-objection"]
    with django_capture_on_commit_callbacks(execute=True):
        member_services.file_data_subject_request(
            member=member,
            kind="objection",
            objection_to="marketing",
            message=f"{MARK}-objection: no marketing to {member.email}",
            actor=member.user,
        )
        request = member_services.file_data_subject_request(
            member=member, kind="erasure", message=free_text, actor=member.user
        )
    member_id, user_id = member.pk, member.user_id
    assert MARK in everything_as_text() and files_as_text(private_root)  # the search does find them before

    with django_capture_on_commit_callbacks(execute=True):  # files go once the erasure commits
        carry_out_erasure_request(request=request, actor=manager)

    dump = everything_as_text()
    for needle in values + hashes:
        assert needle not in dump, f"{needle!r} is still in the database"
    assert MARK.lower() not in dump.lower()
    on_disk = files_as_text(private_root)
    assert not on_disk, "files are left in the private folder"
    # Nothing points at the member or their login any more (the audit trail and the erasure job
    # keep the ids as proof, by design: ids, no personal data).
    assert not Member.objects.filter(pk=member_id).exists() and not User.objects.filter(pk=user_id).exists()
    assert not Token.objects.filter(user_id=user_id).exists()
    assert not [s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user_id)]
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model in (Member, User):
                ids = member_id if field.related_model is Member else user_id
                assert not model._base_manager.filter(**{field.attname: ids}).exists(), (
                    f"{model._meta.label}.{field.name}"
                )
    # The request stays as proof: answered, without the member or their words.
    request = DataSubjectRequest.objects.get(pk=request.pk)
    assert (request.member_id, request.message, request.status) == (None, "", DataSubjectRequest.Status.DONE)
    # The limiter's count for the e-mail is gone from the cache too.
    assert not any(cache.get(key) for _, key, _ in throttle._keys(throttle.LOGIN, member.email, ""))
