import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from justface import audit
from justface.models import AppendOnlyError, AuditEntry
from tests.conftest import make_member


def test_record_holds_ids_only(world):
    member = make_member(world.chain_a, world.centre_a1, first_name="Gudrun")
    entry = audit.record(action="member.view", actor=world.user("dpo_a"), obj=member, reason="test")
    assert (entry.actor_kind, entry.actor_id, entry.object_type, entry.object_id, entry.chain_id) == (
        "staff",
        world.user("dpo_a").pk,
        "members.member",
        str(member.pk),
        world.chain_a.pk,
    )
    assert "Gudrun" not in str([getattr(entry, f.attname) for f in AuditEntry._meta.fields])


def test_entries_cannot_be_changed_or_deleted_through_the_orm(world):
    entry = audit.record(action="x", reason="r")
    entry.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(reason="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger is PostgreSQL's; SQLite relies on the ORM guard"
)
def test_database_refuses_raw_updates_and_deletes(world):
    entry = audit.record(action="x", reason="r")
    for sql in ("UPDATE justface_auditentry SET reason = 'rewritten'", "DELETE FROM justface_auditentry"):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
    entry.refresh_from_db()
    assert entry.reason == "r"


def test_request_id_is_recorded(client, world):
    member = make_member(world.chain_a, world.centre_a1)
    client.force_login(world.user("manager_a"))
    response = client.get(f"/admin/members/member/{member.pk}/change/", HTTP_X_REQUEST_ID="req-123")
    assert response["X-Request-ID"] == "req-123"
    assert AuditEntry.objects.get(action="member.view").request_id == "req-123"
