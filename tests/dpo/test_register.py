"""The processing register and the DPIA fact sheet (3-5): one source with the member
notice and the purge, every role, the downloads and the command."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command

from justface.models import AuditEntry
from members.subject_data import held_about
from retention import register
from retention.models import Processor
from retention.services import members_due_biometric_erasure, members_due_erasure
from tests.conftest import make_member
from tests.permissions import assert_matrix


@pytest.mark.parametrize(
    "url",
    [
        "/staff/register/",
        "/staff/register/register.json",
        "/staff/register/register.md",
        "/staff/dpia/",
        "/staff/dpia/dpia.json",
    ],
)
def test_matrix(world, login, url):
    responses = assert_matrix(
        login, "get", url, {"manager_a": 200, "dpo_a": 200, "frontdesk_a": 403, "manager_b": 200, "anonymous": 302}
    )
    assert "Alpha" in responses["dpo_a"].content.decode()
    assert "Alpha" not in responses["manager_b"].content.decode()  # the outsider sees their own chain only


def test_operator_names_the_chain(world, login):
    client = login("operator")
    assert client.get("/staff/register/").status_code == 404
    assert "Beta Gym" in client.get("/staff/register/?chain=beta").content.decode()


def test_one_source_change_the_policy_and_register_notice_and_purge_follow(world):
    chain = world.chain_a
    ended = make_member(chain, world.centre_a1, end_date=date.today() - timedelta(days=40), status="ended")
    from members.models import FaceTemplate

    FaceTemplate.objects.create(member=ended, template="x", model_name="sface")

    def figures():
        chain.refresh_from_db()
        data = {a["key"]: a for a in register.processing_register(chain=chain)["activities"]}
        notice = {c.key: c.retention for c in held_about(ended)}
        return data, notice, ended in members_due_erasure(), ended in members_due_biometric_erasure()

    data, notice, erase, erase_face = figures()
    assert data["membership"]["retention_days"] == 1095 and data["checkins"]["retention_days"] == 1095
    assert "1095 days" in notice["profile"] and "1095 days" in notice["checkins"] and not erase
    assert data["face"]["retention_days"] == 0 and erase_face

    chain.settings = {"checkins_retention_days": 30, "biometric_retention_days": 60}
    chain.save()
    data, notice, erase, erase_face = figures()
    assert data["membership"]["retention_days"] == 30 and data["checkins"]["retention_days"] == 30
    assert data["consents"]["retention_days"] == 30 and data["face"]["retention_days"] == 60
    assert "30 days" in notice["profile"] and "30 days" in notice["checkins"] and "30 days" in notice["consents"]
    assert "60 days" in notice["face"]
    assert erase and not erase_face  # ended 40 days ago: past 30, not past 60

    # Every activity with a policy key shows exactly the policy's value.
    policy = chain.policy
    for a in data.values():
        if a["retention_policy_key"]:
            assert a.get("retention_hours", a["retention_days"]) == getattr(policy, a["retention_policy_key"])


def test_processors_transfers_and_measures(world, settings):
    Processor.objects.create(chain=world.chain_a, name="Hostly", service="hosting", country="DK")
    data = register.processing_register(chain=world.chain_a)
    assert [p["name"] for p in data["processors"]] == ["Hostly"] and data["transfers_outside_eu"] == []
    Processor.objects.create(
        chain=world.chain_a,
        name="MailCo",
        service="e-mail",
        country="US",
        outside_eu=True,
        safeguard="EU-US Data Privacy Framework",
    )
    Processor.objects.create(chain=world.chain_b, name="OtherChainCo", service="x", country="NO")
    data = register.processing_register(chain=world.chain_a)
    assert [t["recipient"] for t in data["transfers_outside_eu"]] == ["MailCo"]
    assert "OtherChainCo" not in json.dumps(data)
    measures = {m["key"]: m for m in data["measures"]}
    assert measures["encryption_at_rest"]["in_force"] and measures["audit_of_reads"]["in_force"]
    settings.SECURE_SSL_REDIRECT = False
    assert not {m["key"]: m for m in register.measures()}["https"]["in_force"]


def test_processor_admin_scoped(world, login):
    Processor.objects.create(chain=world.chain_a, name="Hostly", service="hosting", country="DK")
    assert_matrix(
        login,
        "get",
        "/admin/retention/processor/",
        {"manager_a": 200, "dpo_a": 200, "frontdesk_a": 200, "manager_b": 200, "anonymous": 302},
    )
    assert "Hostly" not in login("manager_b").get("/admin/retention/processor/").content.decode()
    response = login("manager_a").post(
        "/admin/retention/processor/add/", {"name": "MailCo", "service": "mail", "country": "DE"}
    )
    assert response.status_code == 302 and Processor.objects.get(name="MailCo").chain == world.chain_a
    assert (
        login("dpo_a")
        .post("/admin/retention/processor/add/", {"name": "X", "service": "y", "country": "DE"})
        .status_code
        == 403
    )


def test_downloads_and_audit(world, login):
    client = login("dpo_a")
    data = client.get("/staff/register/register.json").json()
    assert {a["key"] for a in data["activities"]} >= {"membership", "checkins", "face", "door_photos", "statistics"}
    md = client.get("/staff/register/register.md").content.decode()
    assert md.startswith("# Processing register") and "checkins_retention_days" in md
    assert "print" in client.get("/staff/register/?print=1").content.decode()
    assert AuditEntry.objects.filter(action="register.export", chain_id=world.chain_a.pk).count() == 3


def test_dpia_facts(world, login):
    page = login("manager_a").get("/staff/dpia/").content.decode()
    assert "PIN works at every door" in page and "1.40%" in page
    # Written for the controller, without the team's file paths.
    assert "Recognising members at the door" in page and "Recognising you" not in page
    assert "face-error-rates.json" not in page and "../shared" not in page
    facts = register.dpia_facts(chain=world.chain_a)
    assert facts["how_long"]["face_retention_days"] == 0 and facts["error_rates"]["model"] == "sface"


def test_command(world, tmp_path, capsys):
    world.chain_a.settings = {"checkins_retention_days": 200}
    world.chain_a.save()
    out = tmp_path / "r.json"
    call_command("processing_register", "--chain", "alpha", "--format", "json", "--output", str(out))
    data = json.loads(out.read_text())
    assert {a["key"]: a["retention_days"] for a in data["activities"]}["membership"] == 200
    call_command("processing_register", "--chain", "alpha", "--format", "md")
    assert "# Processing register" in capsys.readouterr().out
    with pytest.raises(CommandError, match="No chain"):
        call_command("processing_register", "--chain", "nope", "--format", "md")


def test_register_page_reads_without_code_paths_or_setting_names(world, login):
    """Code paths and setting names are folded under "Technical detail (for IT)"."""
    import re

    page = login("manager_a").get("/staff/register/").content.decode()
    assert "purge_due" in page  # still there for IT...
    shown = re.sub(r"<details.*?</details>", "", page, flags=re.S)
    assert "purge_due" not in shown and "_retention_days" not in shown  # ...but not in what a person reads
