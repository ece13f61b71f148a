"""Retention for every category, from one policy: each rule at its boundary
(the day before the period ends, its last day, the day after), the audit trail's one exception
to its trigger, the end of a membership that has no end date, and the docs table generated from
the personal-data registry (justface.personal_data)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from django_q.models import Schedule

from consent.models import ConsentDocument, ConsentRecord
from justface import audit
from justface.models import AppendOnlyError, AuditEntry
from justface.personal_data import not_personal, retention_table, rules
from members.models import DataSubjectRequest, Member
from members.policy import ChainPolicy
from retention.jobs import purge_due
from retention.models import ErasureJob
from tests.conftest import REPO, make_member
from tests.portal_helpers import publish_documents, sign

TODAY = date(2026, 6, 15)
# (days since the event, kept?) for a period of N days: the day before its last day, its last day, the day after.
BOUNDARY = [(-1, True), (0, True), (1, False)]


def noon(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12)))


def ended_member(world, days_ago: int, **extra) -> Member:
    return make_member(
        world.chain_a, world.centre_a1, status=Member.Status.ENDED, end_date=TODAY - timedelta(days=days_ago), **extra
    )


def with_signatures(member: Member, *kinds: str) -> Member:
    """Sign while the membership runs, then end it (an ended member cannot sign)."""
    Member.objects.filter(pk=member.pk).update(status=Member.Status.ACTIVE)
    member.refresh_from_db()
    for kind in kinds:
        sign(member, kind=kind)
    Member.objects.filter(pk=member.pk).update(status=Member.Status.ENDED)
    return member


@pytest.mark.parametrize("offset,kept", BOUNDARY)
def test_the_pin_hash_goes_the_day_after_the_membership_ends(world, offset, kept):
    member = ended_member(world, 0 + offset, pin_hash=make_password("4711"), pin_set_at=timezone.now())
    purge_due(at=noon(TODAY))
    member.refresh_from_db()
    assert bool(member.pin_hash) is kept and (member.pin_set_at is not None) is kept
    assert Member.objects.filter(pk=member.pk).exists()  # only the PIN went
    assert AuditEntry.objects.filter(action="member.pin_erase", object_id=str(member.pk)).exists() is not kept


@pytest.mark.parametrize("offset,kept", BOUNDARY)
def test_marketing_consent_goes_its_period_after_the_membership_ends(world, offset, kept):
    publish_documents(world.chain_a)
    member = with_signatures(ended_member(world, 180 + offset), "marketing", "terms")
    purge_due(at=noon(TODAY))
    records = ConsentRecord.objects.filter(member=member)
    assert records.filter(document__kind=ConsentDocument.Kind.MARKETING).exists() is kept
    assert records.filter(document__kind=ConsentDocument.Kind.TERMS).exists()  # terms follow the membership's period


def test_the_chain_sets_the_marketing_period(world):
    publish_documents(world.chain_a)
    world.chain_a.settings = {"marketing_retention_days": 30}
    world.chain_a.save()
    kept = with_signatures(ended_member(world, 30), "marketing")
    with_signatures(ended_member(world, 31), "marketing")  # one day past the period: erased
    purge_due(at=noon(TODAY))
    assert set(ConsentRecord.objects.values_list("member_id", flat=True)) == {kept.pk}


def closed_request(world, *, days_ago: int, status=DataSubjectRequest.Status.DONE, member=None) -> DataSubjectRequest:
    return DataSubjectRequest.objects.create(
        chain=world.chain_a,
        member=member,
        kind="erasure",
        message="my own words",
        response="done",
        status=status,
        due_at=noon(TODAY),
        resolved_at=noon(TODAY - timedelta(days=days_ago)),
    )


@pytest.mark.parametrize("offset,kept", BOUNDARY)
def test_closed_requests_go_their_period_after_closing(world, offset, kept):
    n = ChainPolicy().requests_retention_days
    done = closed_request(world, days_ago=n + offset)
    refused = closed_request(world, days_ago=n + offset, status=DataSubjectRequest.Status.REFUSED)
    purge_due(at=noon(TODAY))
    assert DataSubjectRequest.objects.filter(pk__in=[done.pk, refused.pk]).count() == (2 if kept else 0)


def test_open_requests_stay_however_old(world):
    member = make_member(world.chain_a, world.centre_a1)
    old_open = DataSubjectRequest.objects.create(
        chain=world.chain_a, member=member, kind="erasure", due_at=noon(TODAY - timedelta(days=5000))
    )
    world.chain_a.settings = {"requests_retention_days": 1}
    world.chain_a.save()
    purge_due(at=noon(TODAY))
    assert DataSubjectRequest.objects.filter(pk=old_open.pk).exists()


@pytest.mark.parametrize("offset,kept", BOUNDARY)
def test_the_audit_trail_goes_after_its_period_through_the_purge_only(world, offset, kept):
    n = ChainPolicy().audit_retention_days
    entry = audit.record(action="test.old", chain_id=world.chain_a.pk)
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="x")
    # The ORM refuses to change an entry, so the test writes aged rows directly.
    old = AuditEntry.objects.create(
        action="test.aged", chain_id=world.chain_a.pk, at=noon(TODAY - timedelta(days=n + offset))
    )
    other_chain = AuditEntry.objects.create(action="test.aged", chain_id=world.chain_b.pk, at=old.at)
    no_chain = AuditEntry.objects.create(action="test.aged", chain_id=None, at=old.at)
    world.chain_b.settings = {"audit_retention_days": n + 10}
    world.chain_b.save()
    purge_due(at=noon(TODAY))
    assert AuditEntry.objects.filter(pk=old.pk).exists() is kept
    assert AuditEntry.objects.filter(pk=no_chain.pk).exists() is kept  # no chain: the default period
    assert AuditEntry.objects.filter(pk=other_chain.pk).exists()  # chain B keeps longer
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
    assert AuditEntry.objects.filter(action="audit.purge", chain_id=world.chain_a.pk).exists() is not kept


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_the_trigger_refuses_every_other_change(world):
    old = AuditEntry.objects.create(
        action="test.aged", chain_id=world.chain_a.pk, at=noon(TODAY - timedelta(days=4000))
    )
    young = AuditEntry.objects.create(
        action="test.young", chain_id=world.chain_a.pk, at=timezone.now() - timedelta(days=30)
    )

    def refused(sql: str, *params) -> bool:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, params)
        except Exception as error:  # noqa: BLE001
            return "append-only" in str(error)
        return False

    delete = "DELETE FROM justface_auditentry WHERE id = %s"
    assert refused(delete, old.pk)  # without the purge's setting
    assert refused(
        "SET LOCAL justface.audit_purge = 'on'; UPDATE justface_auditentry SET action = 'x' WHERE id = %s", old.pk
    )
    assert refused("SET LOCAL justface.audit_purge = 'on'; DELETE FROM justface_auditentry WHERE id = %s", young.pk)
    with pytest.raises(ValueError):
        audit.purge(chain_id=world.chain_a.pk, before=timezone.now())  # never inside the first year
    audit.purge(chain_id=world.chain_a.pk, before=noon(TODAY - timedelta(days=3000)))
    assert not AuditEntry.objects.filter(pk=old.pk).exists()
    assert refused(delete, young.pk)  # the purge switched its exception off again
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('justface.audit_purge', true)")
        assert cursor.fetchone()[0] == "off"


def test_an_audit_period_under_a_year_is_refused(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        ChainPolicy.from_settings({"audit_retention_days": 364})


@pytest.mark.parametrize("offset,kept", BOUNDARY)
def test_finished_erasure_jobs_go_after_their_period(world, offset, kept):
    n = ChainPolicy().erasure_job_retention_days
    done_at = noon(TODAY - timedelta(days=n + offset))
    job = ErasureJob.objects.create(
        chain=world.chain_a,
        kind="member",
        subject_type="members.member",
        subject_id="1",
        due_at=done_at,
        done_at=done_at,
        outcome="erased",
    )
    open_job = ErasureJob.objects.create(
        chain=world.chain_a,
        kind="member",
        subject_type="members.member",
        subject_id="2",
        due_at=noon(TODAY + timedelta(days=1)),
    )
    purge_due(at=noon(TODAY))
    assert ErasureJob.objects.filter(pk=job.pk).exists() is kept
    assert ErasureJob.objects.filter(pk=open_job.pk).exists()


def test_an_ended_member_without_end_date_is_timed_from_the_end_not_the_last_edit(world):
    world.chain_a.settings = {"checkins_retention_days": 10}
    world.chain_a.save()
    member = make_member(world.chain_a, world.centre_a1)
    assert member.ended_at is None
    member.status = Member.Status.ENDED
    member.save()
    assert member.ended_at is not None
    Member.objects.filter(pk=member.pk).update(ended_at=noon(TODAY - timedelta(days=11)))
    member.refresh_from_db()
    member.phone = "+45 99 99 99 99"  # an edit after the end...
    member.save()
    member.refresh_from_db()
    assert member.ended_at == noon(TODAY - timedelta(days=11))  # ...does not restart the clock
    assert member.membership_end_day() == TODAY - timedelta(days=11)
    purge_due(at=noon(TODAY))
    assert not Member.objects.filter(pk=member.pk).exists()


@pytest.mark.parametrize("offset,kept", BOUNDARY)
def test_ended_at_boundary(world, offset, kept):
    world.chain_a.settings = {"checkins_retention_days": 10}
    world.chain_a.save()
    member = make_member(world.chain_a, world.centre_a1, status=Member.Status.ENDED)
    Member.objects.filter(pk=member.pk).update(ended_at=noon(TODAY - timedelta(days=10 + offset)))
    purge_due(at=noon(TODAY))
    assert Member.objects.filter(pk=member.pk).exists() is kept


def test_reactivating_clears_the_end(world):
    member = make_member(world.chain_a, world.centre_a1, status=Member.Status.ENDED)
    member.status = Member.Status.ACTIVE
    member.save(update_fields=["status"])
    member.refresh_from_db()
    assert member.ended_at is None


def test_bookkeeping_setting_is_gone(world):
    assert not hasattr(ChainPolicy(), "bookkeeping_retention_days")
    # A chain saved before keeps working: the retired key is ignored when read.
    assert ChainPolicy.from_settings({"bookkeeping_retention_days": 1825}) == ChainPolicy()


def test_sessions_are_cleared_daily(db):
    schedule = Schedule.objects.get(name="retention.clear_sessions")
    assert schedule.func == "retention.jobs.clear_sessions" and schedule.schedule_type == Schedule.DAILY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session

    store = SessionStore()
    store.create()
    Session.objects.filter(session_key=store.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    from retention.jobs import clear_sessions

    clear_sessions()
    assert not Session.objects.filter(session_key=store.session_key).exists()


def test_every_table_has_a_period_or_a_reason(db):
    declared = {r.table.split(" ")[0] for r in rules()} | set(not_personal())
    ours = {
        m._meta.label
        for m in apps.get_models()
        if m._meta.app_label in {"members", "consent", "access", "retention", "justface", "webhooks"}
        and not m._meta.proxy
    }
    assert ours - declared == set(), "tables with neither a retention rule nor a reason in the personal-data registry"
    for label in declared:
        app_label, model, *column = label.split(".")
        model_class = apps.get_model(app_label, model)
        if column:
            model_class._meta.get_field(column[0])


def test_the_docs_table_is_the_generated_one():
    text = (REPO / "docs" / "retention.md").read_text()
    assert retention_table() in text, "docs/retention.md is stale: run python manage.py retention_table --write"


def test_the_command_prints_the_table(capsys):
    call_command("retention_table")
    assert capsys.readouterr().out == retention_table()
