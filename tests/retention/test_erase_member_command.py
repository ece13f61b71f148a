"""`manage.py erase_member`: the operator's erasure through the same service, audit and receipt."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from justface.models import AuditEntry
from members.models import DataSubjectRequest, Member
from members.services import file_data_subject_request
from tests.conftest import make_member


def run(**options) -> str:
    out = StringIO()
    call_command("erase_member", stdout=out, **options)
    return out.getvalue()


def test_erases_prints_the_receipt_and_answers_an_open_request(world):
    member = make_member(world.chain_a, world.centre_a1, member_number="Z-1")
    twin = make_member(world.chain_b, world.centre_b1, member_number="Z-1")  # same number, other chain
    dsr = file_data_subject_request(member=member, kind="erasure", actor=None)
    receipt = json.loads(run(chain="alpha", member_number="Z-1", reason="ticket 4711"))
    assert (
        receipt["member_id"] == member.pk and receipt["chain"] == "alpha" and receipt["requests_answered"] == [dsr.pk]
    )
    assert {"face_templates", "check_ins_anonymised", "login_deleted", "sessions_deleted", "erased_at"} <= set(receipt)
    assert not Member.objects.filter(pk=member.pk).exists() and Member.objects.filter(pk=twin.pk).exists()
    entry = AuditEntry.objects.get(action="member.erase", object_id=str(member.pk))
    assert entry.reason == "command line: ticket 4711" and entry.chain_id == world.chain_a.pk
    dsr.refresh_from_db()
    assert dsr.status == DataSubjectRequest.Status.DONE and dsr.member_id is None


@pytest.mark.parametrize(
    "options,message",
    [
        ({"chain": "nope", "member_number": "Z-1", "reason": "x"}, "No chain with the slug 'nope'."),
        ({"chain": "alpha", "member_number": "NOPE", "reason": "x"}, "No member number 'NOPE' in Alpha Fitness."),
        ({"chain": "alpha", "member_number": "Z-1", "reason": "  "}, "Give a reason"),
    ],
)
def test_bad_input_is_one_clear_line_and_erases_nothing(world, options, message):
    member = make_member(world.chain_a, world.centre_a1, member_number="Z-1")
    with pytest.raises(CommandError) as error:
        run(**options)
    assert message in str(error.value) and "\n" not in str(error.value)
    assert Member.objects.filter(pk=member.pk).exists()
    assert not AuditEntry.objects.filter(action="member.erase").exists()


def test_the_arguments_are_required(world):
    with pytest.raises(CommandError):
        run(chain="alpha", member_number="Z-1")
