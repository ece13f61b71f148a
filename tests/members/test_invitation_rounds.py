"""Invitations at scale: a manager invites every member of the chain (or a centre) with an e-mail
address and no login; the background worker sends them at JUSTFACE_INVITE_RATE per minute to a
real SMTP server on loopback, which refuses some addresses; counts, bounces and expiries are
shown to staff, and chain B's manager sees none of it."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django_q.tasks import async_task

from justface.models import AuditEntry
from members import invitation_rounds
from members.models import Exclusion, Invitation, InvitationRound, Member
from tests.conftest import make_member
from tests.portal_helpers import PASSWORD, member_with_login, site_url  # noqa: F401
from tests.smtp_receiver import smtp_receiver

pytestmark = pytest.mark.usefixtures("site_url")

ROUNDS = "/admin/members/invitationround/"
INVITATIONS = "/admin/members/invitation/"


@pytest.fixture
def cast(clock, world):
    """Chain A: five to invite (two refused by the mail server), and four who are not; chain B: one."""
    a1, a2 = world.centre_a1, world.centre_a2
    to_invite = [
        make_member(world.chain_a, a1, email="ok1@example.com"),
        make_member(world.chain_a, a1, email="gone@example.com"),  # 550: bounced
        make_member(world.chain_a, a2, email="busy@example.com"),  # 451: failed (temporary)
        make_member(world.chain_a, a2, email="ok2@example.com"),
        make_member(world.chain_a, a2, email="ok3@example.com"),
    ]
    not_invited = [
        make_member(world.chain_a, a1, email=""),
        member_with_login(world.chain_a, a1, email="has-login@example.com"),
        make_member(world.chain_a, a1, email="ended@example.com", status=Member.Status.ENDED),
    ]
    return {"to_invite": to_invite, "not_invited": not_invited, "b": make_member(world.chain_b, world.centre_b1)}


REFUSE = {"gone@example.com": 550, "busy@example.com": 451}


def start(login, **data):
    return login("manager_a").post(ROUNDS + "add/", data, follow=True)


def test_a_round_is_sent_at_the_configured_rate_and_counted(clock, cast, login, settings, world):
    settings.JUSTFACE_INVITE_RATE = 2
    page = start(login)
    assert page.status_code == 200
    round_ = InvitationRound.objects.get()
    assert round_.chain == world.chain_a and round_.total == 5 and round_.created_by == world.user("manager_a")
    assert "5 members will be invited, 2 per minute" in page.content.decode()
    with smtp_receiver(settings, REFUSE) as server:
        assert invitation_rounds.send_due() == 2
        assert invitation_rounds.send_due() == 0  # the rate holds within the minute, however often it runs
        assert invitation_rounds.counts(round_).to_send == 3
        clock.shift(timedelta(seconds=61))
        assert invitation_rounds.send_due() == 2
        clock.shift(timedelta(seconds=61))
        assert invitation_rounds.send_due() == 1
        clock.shift(timedelta(seconds=61))
        assert invitation_rounds.send_due() == 0
    round_.refresh_from_db()
    assert round_.finished_at is not None
    delivered = sorted(rcpt[0] for rcpt, _body in server.received)
    assert delivered == ["ok1@example.com", "ok2@example.com", "ok3@example.com"]
    by_email = {i.member.email: i for i in Invitation.objects.select_related("member")}
    assert set(by_email) == {m.email for m in cast["to_invite"]}  # nobody else, chain B's least of all
    assert by_email["gone@example.com"].delivery == "bounced" and "550" in by_email["gone@example.com"].delivery_error
    assert by_email["busy@example.com"].delivery == "failed" and "451" in by_email["busy@example.com"].delivery_error
    assert "@" not in by_email["gone@example.com"].delivery_error  # the server's text quoted the address
    counts = invitation_rounds.counts(round_)
    assert (counts.to_send, counts.sent, counts.failed, counts.bounced, counts.expired) == (0, 3, 1, 1, 0)
    assert counts.done_percent == 100

    # A delivered link works: the member chooses a password.
    body = next(body for rcpt, body in server.received if rcpt == ["ok1@example.com"])
    path = re.search(r"https://gym\.example\.com(/invitation/\S+/)", body.replace("=\r\n", "")).group(1)
    client = login("anonymous")
    assert client.post(path, {"password1": PASSWORD, "password2": PASSWORD}).status_code == 302
    assert invitation_rounds.counts(round_).accepted == 1

    # A week later the unused ones have expired: staff see it on the round and in the list.
    clock.shift(timedelta(days=Invitation.LIFETIME_DAYS, seconds=1))
    assert invitation_rounds.counts(round_).expired == 2
    detail = login("manager_a").get(f"{ROUNDS}{round_.pk}/change/").content.decode()
    assert "expired: 2" in detail and "bounced: 1" in detail and "failed: 1" in detail and "sent: 3" in detail
    expired = login("manager_a").get(INVITATIONS, {"state": "expired"}).content.decode()
    assert cast["to_invite"][3].member_number in expired and cast["to_invite"][0].member_number not in expired
    assert AuditEntry.objects.filter(action="invitation.list", actor_id=world.user("manager_a").pk).exists()


def test_the_worker_runs_the_schedule_and_a_second_round_skips_the_invited(cast, login, settings):
    settings.JUSTFACE_INVITE_RATE = 100
    start(login)
    with smtp_receiver(settings, REFUSE):
        async_task("members.invitation_rounds.send_due", sync=True)  # django-q2 runs the scheduled job
    assert InvitationRound.objects.get().finished_at is None  # the last run sees nothing left, and closes it
    invitation_rounds.send_due()
    assert InvitationRound.objects.get().finished_at is not None
    # Who got a usable link is not invited again; the bounced and the failed are.
    start(login)
    assert InvitationRound.objects.order_by("-pk").first().total == 2


def test_one_centre_only_and_one_round_at_a_time(cast, login, world):
    start(login, centre=world.centre_a1.pk)
    assert InvitationRound.objects.get().total == 2
    page = start(login, centre=world.centre_a2.pk)
    assert "still being sent" in page.content.decode() and InvitationRound.objects.count() == 1
    invitation_rounds.cancel_round(round_=InvitationRound.objects.get(), actor=world.user("manager_a"))
    assert invitation_rounds.send_due() == 0 and not Invitation.objects.exists()
    start(login, centre=world.centre_a2.pk)
    assert InvitationRound.objects.filter(centre=world.centre_a2, total=3).exists()


def test_nobody_to_invite_and_no_public_url_are_refused(world, login, settings):
    assert "Nobody to invite" in start(login).content.decode()
    settings.JUSTFACE_PUBLIC_URL = ""
    make_member(world.chain_a, world.centre_a1)
    assert "JUSTFACE_PUBLIC_URL" in start(login).content.decode()
    assert not InvitationRound.objects.exists()


def test_the_exclusion_list_passes_a_member_over_where_the_chain_refuses(cast, login, settings, world):
    world.chain_a.settings = {**world.chain_a.settings, "exclusion_refuses_membership": True}
    world.chain_a.save()
    Exclusion.objects.create(chain=world.chain_a, member=cast["to_invite"][0], full_name="x", ends_on=None)
    Exclusion.objects.filter(member=cast["to_invite"][0]).update(member_number=cast["to_invite"][0].member_number)
    excluded = Exclusion.objects.get()
    excluded.save()  # its member-number hash
    start(login)
    with smtp_receiver(settings, REFUSE):
        invitation_rounds.send_due()
    round_ = InvitationRound.objects.get()
    assert invitation_rounds.counts(round_).skipped == 1
    assert not Invitation.objects.filter(member=cast["to_invite"][0]).exists()


def test_the_providers_bounce_report_marks_invitations(cast, login, settings, tmp_path, world):
    start(login)
    with smtp_receiver(settings):
        invitation_rounds.send_due()
    report = tmp_path / "bounces.csv"
    report.write_text("\ufeffrecipient;status\nOK1@example.com;5.1.1\nnobody@example.com;5.1.1\n", encoding="utf-8")
    out = io.StringIO()
    call_command("invitation_bounces", str(report), "--chain", "alpha", stdout=out)
    assert "1 invitation(s) marked as bounced; 1 address(es)" in out.getvalue()
    bounced = Invitation.objects.get(delivery="bounced")
    assert bounced.member == cast["to_invite"][0] and bounced.delivery_error == invitation_rounds.PROVIDER_REPORT
    # Chain B's report cannot touch chain A's invitations.
    (tmp_path / "b.txt").write_text("ok2@example.com\n")
    call_command("invitation_bounces", str(tmp_path / "b.txt"), "--chain", "beta", stdout=out)
    assert Invitation.objects.filter(delivery="bounced").count() == 1
    # The admin action does the same for a staff member holding the report.
    invitation = Invitation.objects.get(member=cast["to_invite"][3])
    login("manager_a").post(INVITATIONS, {"action": "mark_bounced", "_selected_action": [invitation.pk]})
    assert Invitation.objects.get(pk=invitation.pk).delivery == "bounced"
    with pytest.raises(CommandError, match="No chain"):
        call_command("invitation_bounces", str(report), "--chain", "nope")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("invitation_bounces", str(tmp_path / "missing.txt"), "--chain", "alpha")


def test_chain_b_and_the_front_desk_cannot_start_or_see_chain_a_rounds(cast, login, settings, world):
    start(login)
    with smtp_receiver(settings):
        invitation_rounds.send_due()
    round_ = InvitationRound.objects.get()
    outsider = login("manager_b")
    assert "Invitation round of" not in outsider.get(ROUNDS).content.decode()
    assert outsider.get(f"{ROUNDS}{round_.pk}/change/").status_code in (302, 404)
    listing = outsider.get(INVITATIONS).content.decode()
    assert not any(m.member_number in listing for m in cast["to_invite"])
    invitation = Invitation.objects.filter(round=round_).first()
    outsider.post(INVITATIONS, {"action": "mark_bounced", "_selected_action": [invitation.pk]})
    outsider.post(ROUNDS, {"action": "cancel_rounds", "_selected_action": [round_.pk]})
    assert Invitation.objects.get(pk=invitation.pk).delivery == "sent" and InvitationRound.objects.get().is_open
    # manager B's own round invites chain B's member only.
    outsider.post(ROUNDS + "add/", {"centre": world.centre_a1.pk})  # another chain's centre: not a choice
    outsider.post(ROUNDS + "add/", {})
    assert InvitationRound.objects.get(chain=world.chain_b).total == 1

    desk = login("frontdesk_a")
    assert desk.get(ROUNDS).status_code == 403 and desk.post(ROUNDS + "add/", {}).status_code == 403
    seen = desk.get(INVITATIONS).content.decode()  # the front desk sees its centre's invitations
    assert cast["to_invite"][0].member_number in seen and cast["to_invite"][3].member_number not in seen
    assert login("anonymous").get(ROUNDS).status_code == 302
