"""Notices that cannot drift: every retention sentence a member reads (the
"my data" page and export, the face-scan facts, the request confirmation), in English, Danish and
Norwegian, is checked against the chain's policy values, and each period it states is checked
against what the purge actually does on the day it ends and the day after."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.utils import timezone, translation

from consent.facts import biometric_facts
from consent.models import ConsentDocument, ConsentRecord
from members.models import DataSubjectRequest, FaceTemplate, Member, add_months
from members.subject_data import held_about
from retention.jobs import purge_due
from tests.conftest import make_member
from tests.portal_helpers import publish_documents, sign
from tests.retention.test_policy_erasure import with_template

TODAY = date(2026, 6, 15)
# Unusual numbers, so a sentence can only contain them if it was rendered from the policy.
POLICY = {
    "checkins_retention_days": 401,
    "biometric_retention_days": 7,
    "pin_retention_days": 3,
    "marketing_retention_days": 59,
    "requests_retention_days": 211,
}
# The "my data" category, the policy key its retention sentence must state.
CLAIMS = {
    "profile": ["checkins_retention_days"],
    "consents": ["checkins_retention_days", "marketing_retention_days"],
    "face": ["biometric_retention_days"],
    # The day a member deleted their face data: with the member, not with the templates.
    "face_history": ["checkins_retention_days"],
    "pin": ["pin_retention_days"],
    "checkins": ["checkins_retention_days"],
    "requests": ["requests_retention_days"],
}


def noon(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12)))


@pytest.fixture
def chain(world):
    world.chain_a.settings = POLICY
    world.chain_a.save()
    return world.chain_a


@pytest.mark.parametrize("language", ["en", "da", "nb"])
def test_every_retention_sentence_states_the_policy(chain, world, language):
    member = make_member(chain, world.centre_a1)
    with translation.override("en"):
        english = {c.key: str(c.retention) for c in held_about(member)}
    with translation.override(language):
        categories = {c.key: str(c.retention) for c in held_about(member)}
        facts = biometric_facts(chain.policy)
    assert set(CLAIMS) == set(categories), "a new member-facing category needs its claims checked here"
    for key, policy_keys in CLAIMS.items():
        text = categories[key]
        for policy_key in policy_keys:
            assert str(POLICY[policy_key]) in text, f"{key} ({language}) does not state {policy_key}: {text}"
        others = {
            str(v)
            for k, v in POLICY.items()
            if k not in policy_keys and str(v) not in {str(POLICY[p]) for p in policy_keys}
        }
        assert not any(f" {n} " in f" {text} " for n in others), f"{key} ({language}) states another period: {text}"
        if language != "en":
            assert text != english[key], f"{key} is not translated to {language}"
    how_long = [f for f in facts if str(POLICY["biometric_retention_days"]) in f]
    assert len(how_long) == 1, "the face-scan facts must state the biometric period once"


def test_the_purge_does_what_the_sentences_say(chain, world):
    """Each stated period, run through the purge: kept on its last day, gone the day after."""
    publish_documents(chain)

    def member_ended(days_before_check: int, **extra) -> Member:
        return make_member(chain, world.centre_a1, end_date=TODAY - timedelta(days=days_before_check), **extra)

    cases = []
    for days, kept in ((0, True), (1, False)):
        # profile, consents and check-ins: the whole member after checkins_retention_days
        whole = member_ended(POLICY["checkins_retention_days"] + days)
        cases.append(("membership", kept, lambda m=whole: Member.objects.filter(pk=m.pk).exists()))
        face = with_template(member_ended(POLICY["biometric_retention_days"] + days))
        cases.append(("face", kept, lambda m=face: FaceTemplate.objects.filter(member=m).exists()))
        deleted_face = TODAY - timedelta(days=500)
        history = member_ended(POLICY["checkins_retention_days"] + days, face_erased_on=deleted_face)
        cases.append(("face_history", kept, lambda m=history: Member.objects.filter(pk=m.pk).exists()))
        # Past the biometric period the day stays: the notice says "with your membership details".
        past_face = member_ended(POLICY["biometric_retention_days"] + days, face_erased_on=deleted_face)
        cases.append(
            ("face_history", True, lambda m=past_face: Member.objects.get(pk=m.pk).face_erased_on == deleted_face)
        )
        pin = member_ended(POLICY["pin_retention_days"] + days, pin_hash=make_password("4711"))
        cases.append(("pin", kept, lambda m=pin: bool(Member.objects.get(pk=m.pk).pin_hash)))
        marketing = member_ended(POLICY["marketing_retention_days"] + days)
        sign(marketing, kind="marketing")
        cases.append(
            (
                "marketing",
                kept,
                lambda m=marketing: ConsentRecord.objects.filter(
                    member=m, document__kind=ConsentDocument.Kind.MARKETING
                ).exists(),
            )
        )
        closed = DataSubjectRequest.objects.create(
            chain=chain,
            kind="access",
            requester_name="X",
            status="done",
            due_at=noon(TODAY),
            resolved_at=noon(TODAY - timedelta(days=POLICY["requests_retention_days"] + days)),
        )
        cases.append(("requests", kept, lambda r=closed: DataSubjectRequest.objects.filter(pk=r.pk).exists()))
    Member.objects.filter(end_date__lt=TODAY).update(status=Member.Status.ENDED)
    purge_due(at=noon(TODAY))
    wrong = [(what, kept) for what, kept, present in cases if present() is not kept]
    assert not wrong, f"the purge disagrees with the notice: {wrong}"


@pytest.mark.parametrize("language", ["en", "da", "nb"])
def test_the_request_deadline_sentence_matches_the_deadline(world, language, client):
    from tests.portal_helpers import member_with_login

    member = member_with_login(world.chain_a, world.centre_a1)
    client.force_login(member.user)
    response = client.post(
        "/me/requests/", {"what": "objection:marketing", "message": ""}, HTTP_ACCEPT_LANGUAGE=language, follow=True
    )
    text = response.content.decode()
    expected = {"en": "within one month", "da": "inden for en måned", "nb": "innen én måned"}[language]
    assert expected in text
    dsr = DataSubjectRequest.objects.get(member=member)
    assert dsr.due_at == add_months(dsr.received_at, 1)
