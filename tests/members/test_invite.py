"""Invitation: staff (admin action or command) send a one-time, expiring link; the member sets a
password and lands in the portal; logins hold no personal data."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from justface.models import AuditEntry
from members.models import Invitation, Member
from tests.conftest import make_member
from tests.portal_helpers import PASSWORD, commit, link_in_mail, site_url  # noqa: F401

pytestmark = pytest.mark.usefixtures("site_url")


def test_command_sends_a_link_that_sets_the_password_once(world, client, commit):
    member = make_member(world.chain_a, world.centre_a1, member_number="A-77", email="ida@example.com")
    with commit():
        call_command("invite_member", "--chain", "alpha", "--member-number", "a-77", stdout=open("/dev/null", "w"))
    assert mail.outbox[0].to == ["ida@example.com"]
    assert "Alpha Fitness" in mail.outbox[0].subject or "Alpha Fitness" in mail.outbox[0].body
    path = link_in_mail("/invitation/")
    assert mail.outbox[0].body.count("https://gym.example.com/invitation/") == 1

    page = client.get(path)
    assert page.status_code == 200
    weak = client.post(path, {"password1": "testesen", "password2": "testesen"})
    assert weak.status_code == 200 and not Member.objects.get(pk=member.pk).user_id
    response = client.post(path, {"password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    member.refresh_from_db()
    user = member.user
    assert (
        user.check_password(PASSWORD)
        and user.username == f"member-{member.pk}"
        and user.email == ""
        and not user.is_staff
    )
    assert client.get(reverse("portal:home")).status_code == 200  # logged in
    client.logout()
    assert client.get(path).status_code == 404  # one time only


def test_expired_link_is_refused(world, client, commit):
    member = make_member(world.chain_a, world.centre_a1)
    with commit():
        call_command(
            "invite_member", "--chain", "alpha", "--member-number", member.member_number, stdout=open("/dev/null", "w")
        )
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.post(link_in_mail("/invitation/"), {"password1": PASSWORD, "password2": PASSWORD}).status_code == 404


def test_a_new_invitation_replaces_the_old_link(world, client, commit):
    member = make_member(world.chain_a, world.centre_a1)
    with commit():
        call_command(
            "invite_member", "--chain", "alpha", "--member-number", member.member_number, stdout=open("/dev/null", "w")
        )
    first = link_in_mail("/invitation/")
    with commit():
        call_command(
            "invite_member", "--chain", "alpha", "--member-number", member.member_number, stdout=open("/dev/null", "w")
        )
    assert client.get(first).status_code == 404 and client.get(link_in_mail("/invitation/")).status_code == 200


@pytest.mark.parametrize(
    "args, message",
    [
        (["--chain", "nope", "--member-number", "1"], "No chain"),
        (["--chain", "beta", "--member-number", "M-1"], "No member number"),
    ],
)
def test_command_fails_with_one_line(world, args, message):
    make_member(world.chain_a, world.centre_a1, member_number="M-1")  # chain A's member is not chain B's
    with pytest.raises(CommandError, match=message):
        call_command("invite_member", *args)


def test_command_refuses_member_without_email_or_with_login(world):
    make_member(world.chain_a, world.centre_a1, member_number="NOMAIL", email="")
    with pytest.raises(CommandError, match="no e-mail"):
        call_command("invite_member", "--chain", "alpha", "--member-number", "NOMAIL")
    assert not Invitation.objects.exists()


def test_admin_action_is_scoped(world, login, commit):
    own = make_member(world.chain_a, world.centre_a1)
    other_centre = make_member(world.chain_a, world.centre_a2)
    other_chain = make_member(world.chain_b, world.centre_b1)
    url = reverse("admin:members_member_changelist")
    data = {"action": "send_invitation", "_selected_action": [own.pk, other_centre.pk, other_chain.pk]}
    with commit():
        login("frontdesk_a").post(url, data)
    assert set(Invitation.objects.values_list("member_id", flat=True)) == {own.pk}  # front desk: their centre only
    with commit():
        login("dpo_a").post(url, data)
        login("manager_b").post(url, {"action": "send_invitation", "_selected_action": [own.pk, other_centre.pk]})
    assert Invitation.objects.count() == 1  # the DPO changes nothing; another chain sees nothing
    with commit():
        login("manager_a").post(url, data)
    assert set(Invitation.objects.filter(used_at=None).values_list("member_id", flat=True)) == {own.pk, other_centre.pk}
    assert AuditEntry.objects.filter(action="member.invite").count() == 3
    assert [m.to for m in mail.outbox].count([other_chain.email]) == 0
