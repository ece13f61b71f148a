"""The personal-data registry (justface.personal_data): nothing held about a
member can be forgotten, and a new kind of member data is one model plus one registration in its
own app: the export, the "my data" page, the erasure and its receipt, the register and the
retention table all follow it."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.apps import apps
from django.db import models
from django.test.utils import isolate_apps
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from justface import personal_data
from justface.personal_data import (
    HOSTING,
    MEMBERS,
    Activity,
    Category,
    PersonalData,
    ReceiptLine,
    Rule,
    undeclared_models,
)
from members.admin.requests import receipt_lines
from members.models import DataSubjectRequest, Member
from members.services import carry_out_erasure_request, export_member_data, file_data_subject_request, receipt_counts
from retention import register
from retention.services import erase_member
from tests.conftest import make_member
from tests.portal_helpers import member_with_login, site_url  # noqa: F401

PROJECT_APPS = {"justface", "members", "consent", "access", "retention", "webhooks", "imports"}


def models_to_check():
    """Every table of the project's apps, and every other installed model that points at a member."""
    return [
        m
        for m in apps.get_models()
        if not m._meta.proxy
        and (
            m._meta.app_label in PROJECT_APPS
            or any(getattr(f, "related_model", None) is Member for f in m._meta.get_fields() if f.concrete)
        )
    ]


def test_every_table_that_holds_a_members_data_is_registered_or_declared_not_personal(db):
    problems = undeclared_models(models_to_check(), Member)
    assert problems == [], "\n".join(problems)


def test_every_registered_table_exists(db):
    for rule in personal_data.rules():
        app_label, model, *column = rule.table.split(" ")[0].split(".")
        model_class = apps.get_model(app_label, model)
        if column:
            model_class._meta.get_field(column[0])


@isolate_apps("members")
def test_a_new_unregistered_model_is_named_with_what_to_add():
    class Locker(models.Model):  # a new table of member data nobody registered
        member = models.ForeignKey(Member, on_delete=models.CASCADE)
        number = models.CharField(max_length=8)

        class Meta:
            app_label = "members"

    class Gadget(models.Model):  # a new table with no member in it, not declared either
        name = models.CharField(max_length=8)

        class Meta:
            app_label = "members"

    problems = undeclared_models([Locker, Gadget], Member)
    assert len(problems) == 2
    locker, gadget = problems
    assert "members.Locker holds a member's data (field member)" in locker
    assert 'Rule("members.Locker", ...)' in locker and "members/personal_data.py" in locker
    assert 'declare_not_personal("members.Gadget"' in gadget

    personal_data.declare_not_personal("members.Gadget", "a test's table")
    try:
        assert undeclared_models([Gadget], Member) == []
    finally:
        personal_data._not_personal.pop("members.Gadget")


# A throw-away category: the locker a member rents, held here in memory (its "table").
LOCKERS: dict[int, str] = {}
LOCKER_LINE = ReceiptLine("lockers_deleted", _("Lockers"))
LOCKER_ACTIVITY = Activity(
    key="lockers",
    name=_("Locker rental"),
    purpose=_("Renting you a locker."),
    legal_basis=_("Contract (GDPR Art. 6(1)(b))."),
    data_subjects=(MEMBERS,),
    data_categories=(_("Locker number"),),
    recipients=(HOSTING,),
    retention_key="checkins_retention_days",
    retention_words=personal_data.after_end,
    enforced_by=personal_data.MEMBER_ERASURE,
)


def _lockers_held(member) -> list[Category]:
    return [
        Category(
            key="lockers",
            order=55,
            title="Your locker",
            **LOCKER_ACTIVITY.notice(member.chain.policy),
            data={"locker": LOCKERS.get(member.pk)},
            labels={"locker": "Locker number"},
        )
    ]


def _erase_lockers(member, *, actor, reason) -> dict:
    return {LOCKER_LINE: int(LOCKERS.pop(member.pk, None) is not None)}


@pytest.fixture
def lockers():
    personal_data.register(
        PersonalData(
            key="lockers",
            order=50,
            activities=(LOCKER_ACTIVITY,),
            tables=(Rule("members.Locker", "rented lockers", "lockers", "with the member", "a test's eraser"),),
            held_about=_lockers_held,
            erase=_erase_lockers,
            receipt=(LOCKER_LINE,),
        )
    )
    yield LOCKERS
    personal_data.unregister("lockers")
    LOCKERS.clear()


def test_a_new_category_is_one_registration_everywhere(world, client, lockers, site_url):  # noqa: F811
    member = member_with_login(world.chain_a, world.centre_a1)
    lockers[member.pk] = "B-17"

    # The "my data" page and the export.
    client.force_login(member.user)
    page = client.get(reverse("portal:my-data")).content.decode()
    assert "Your locker" in page and "B-17" in page and "Renting you a locker." in page
    archive = zipfile.ZipFile(io.BytesIO(export_member_data(member=member, actor=None)))
    assert json.loads(archive.read("lockers.json")) == {"locker": "B-17"}
    index = json.loads(archive.read("index.json"))
    assert "lockers.json" in [c["file"] for c in index["categories"]]

    # The register (Art. 30) and the retention table.
    data = register.processing_register(chain=world.chain_a)
    assert "lockers" in [a["key"] for a in data["activities"]]
    assert "## Locker rental" in register.register_markdown(data)
    assert (
        "| rented lockers | `members.Locker` | with the member | a test's eraser |" in personal_data.retention_table()
    )

    # The erasure, and its receipt with the category's own label.
    dsr = file_data_subject_request(member=member, kind="erasure", actor=None)
    receipt = carry_out_erasure_request(request=dsr, actor=None)
    assert receipt["lockers_deleted"] == 1 and member.pk not in lockers
    dsr.refresh_from_db()
    assert dsr.status == DataSubjectRequest.Status.DONE and dsr.erasure_receipt["lockers_deleted"] == 1
    assert ("Lockers", "1") in receipt_lines(receipt_counts(receipt=receipt))


def test_an_eraser_cannot_return_a_line_it_did_not_declare(world):
    def sloppy(member, *, actor, reason):
        return {ReceiptLine("mystery_rows", _("Mystery")): 3}

    personal_data.register(PersonalData(key="sloppy", order=50, erase=sloppy))
    try:
        member = make_member(world.chain_a, world.centre_a1)
        with pytest.raises(ValueError, match="mystery_rows"):
            erase_member(member=member, actor=None, reason="test")
        assert Member.objects.filter(pk=member.pk).exists()  # nothing half-done
    finally:
        personal_data.unregister("sloppy")


def test_biometrics_are_erased_first_and_the_member_row_last():
    order = [entry.key for entry in personal_data.registered() if entry.erase]
    biometric = [entry.key for entry in personal_data.registered() if entry.biometric]
    assert order[: len(biometric)] == biometric == ["face", "door_photos"]
    assert order[-1] == "member"
    assert [e.order for e in personal_data.registered()] == sorted(e.order for e in personal_data.registered())


def test_a_biometric_category_goes_with_a_withdrawal_too(world):
    """A category marked biometric is erased by members.faces.erase_biometrics (withdrawn face
    consent, a deleted face, the biometric retention job) as well as with the whole member."""
    from members.faces import erase_biometrics

    scans = {}
    line = ReceiptLine("vein_scans", _("Palm vein scans"))
    personal_data.register(
        PersonalData(
            key="veins",
            order=15,
            biometric=True,
            erase=lambda member, *, actor, reason: {line: int(scans.pop(member.pk, None) is not None)},
            receipt=(line,),
        )
    )
    try:
        member = make_member(world.chain_a, world.centre_a1)
        scans[member.pk] = "scan"
        receipt = erase_biometrics(member=member, actor=None, reason="withdrawn")
        assert receipt["vein_scans"] == 1 and receipt["face_templates"] == 0 and not scans
        assert Member.objects.filter(pk=member.pk).exists()  # only the biometric categories went
        scans[member.pk] = "again"
        assert erase_member(member=member, actor=None, reason="test")["vein_scans"] == 1
    finally:
        personal_data.unregister("veins")
