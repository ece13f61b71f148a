"""The admin through the permission matrix: chain B's manager sees nothing of chain A anywhere
(lists, detail pages, search, autocomplete, filters, counts, exports), front desk sees their
centre, the DPO reads, and every look at a member is in the audit trail."""

import pytest

from justface.models import AuditEntry
from members.models import Member
from tests.conftest import make_member
from tests.permissions import assert_matrix

LIST = "/admin/members/member/"


@pytest.fixture
def people(world):
    return {
        "a1": make_member(
            world.chain_a, world.centre_a1, first_name="Astrid", last_name="Alfa", email="astrid@a.example"
        ),
        "a2": make_member(
            world.chain_a, world.centre_a2, first_name="Bodil", last_name="Alfa", email="bodil@a.example"
        ),
        "b1": make_member(
            world.chain_b, world.centre_b1, first_name="Bjørn", last_name="Beta", email="bjorn@b.example"
        ),
    }


def detail(member):
    return f"/admin/members/member/{member.pk}/change/"


def test_member_list_matrix(login, people):
    responses = assert_matrix(
        login, "get", LIST, {"manager_a": 200, "frontdesk_a": 200, "dpo_a": 200, "manager_b": 200, "anonymous": 302}
    )
    shown = {name: r.content.decode() for name, r in responses.items() if r.status_code == 200}
    assert "Astrid" in shown["manager_a"] and "Bodil" in shown["manager_a"] and "Bjørn" not in shown["manager_a"]
    assert "Astrid" in shown["frontdesk_a"] and "Bodil" not in shown["frontdesk_a"]
    assert "Astrid" in shown["dpo_a"] and "Bodil" in shown["dpo_a"]
    assert "Astrid" not in shown["manager_b"] and "Bodil" not in shown["manager_b"] and "Bjørn" in shown["manager_b"]
    assert "1 member" in shown["manager_b"]  # the count is scoped too


def test_member_detail_matrix(login, people):
    responses = assert_matrix(
        login,
        "get",
        detail(people["a2"]),
        {"manager_a": 200, "frontdesk_a": 302, "dpo_a": 200, "manager_b": 302, "anonymous": 302},
    )
    for name in ("frontdesk_a", "manager_b"):
        assert responses[name]["Location"] == "/admin/"  # "doesn't exist", never the record
    assert "Bodil" not in responses["manager_b"].content.decode()


def test_dpo_reads_but_cannot_change(login, people):
    dpo = login("dpo_a")
    page = dpo.get(detail(people["a1"])).content.decode()
    assert "Astrid" in page and 'name="_save"' not in page
    response = dpo.post(detail(people["a1"]), {"first_name": "Changed"})
    assert response.status_code == 403
    assert Member.objects.get(pk=people["a1"].pk).first_name == "Astrid"


def test_outsider_cannot_post_into_another_chain(login, people, world):
    response = login("manager_b").post(detail(people["a1"]), {"first_name": "Hijacked"})
    assert response.status_code in (302, 403, 404)
    assert Member.objects.get(pk=people["a1"].pk).first_name == "Astrid"


def test_front_desk_can_only_place_members_in_their_centre(login, world):
    page = login("frontdesk_a").get("/admin/members/member/add/").content.decode()
    assert "Alpha One" in page and "Alpha Two" not in page and "Beta One" not in page and "Beta Gym" not in page


@pytest.mark.parametrize("term", ["astrid@a.example", "Astrid", "alfa astrid"])
def test_search_is_scoped(login, people, term):
    number = people["a1"].member_number  # shown in results, never part of the term echoed back
    assert number in login("manager_a").get(LIST, {"q": term}).content.decode()
    assert number not in login("manager_b").get(LIST, {"q": term}).content.decode()


def test_search_by_email_of_other_chain_finds_nothing(login, people):
    page = login("manager_a").get(LIST, {"q": "bjorn@b.example"}).content.decode()
    assert "Bjørn" not in page and "0 members" in page


def test_filters_list_only_own_centres(login, people):
    page = login("manager_b").get(LIST).content.decode()
    assert "Alpha One" not in page and "Alpha Two" not in page


def test_autocomplete_is_scoped(login, world):
    url = "/admin/autocomplete/"
    params = {"app_label": "access", "model_name": "door", "field_name": "centre", "term": "One"}
    results = login("manager_b").get(url, params).json()["results"]
    assert [r["text"] for r in results] == ["Beta One"]
    assert login("anonymous").get(url, params).status_code == 302


def test_views_and_lists_are_audited(login, people, world):
    manager = login("manager_a")
    manager.get(LIST, {"q": "astrid@a.example"})
    manager.get(detail(people["a1"]))
    entries = list(AuditEntry.objects.order_by("at").values("action", "actor_id", "object_id", "chain_id", "reason"))
    assert entries == [
        {
            "action": "member.list",
            "actor_id": world.user("manager_a").pk,
            "object_id": "",
            "chain_id": world.chain_a.pk,
            "reason": "admin list; search: email",
        },
        {
            "action": "member.view",
            "actor_id": world.user("manager_a").pk,
            "object_id": str(people["a1"].pk),
            "chain_id": world.chain_a.pk,
            "reason": "admin detail",
        },
    ]
    assert "astrid" not in str(entries).lower()  # the search term is personal data: not kept


def test_changes_are_audited_without_values(login, people):
    manager = login("manager_a")
    form = manager.get(detail(people["a1"])).context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items()}
    data.update(
        chain=people["a1"].chain_id,
        home_centre=people["a1"].home_centre_id,
        first_name="Astri",
        start_date="2025-01-01",
        birth_date="1990-05-17",
        end_date="",
    )
    data["initial-start_date"] = "2025-01-01"  # fields with a callable default carry their initial value
    response = manager.post(detail(people["a1"]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="member.change")
    assert entry.reason == "fields: First name" and "Astri" not in entry.reason


def test_export_matrix_and_audit(login, people, world):
    payload = {"action": "export_csv", "_selected_action": [people["a1"].pk, people["a2"].pk]}
    csv = login("manager_a").post(LIST, payload)
    assert csv["Content-Type"].startswith("text/csv")
    assert "Astrid" in csv.content.decode() and "Bjørn" not in csv.content.decode()
    exported = set(AuditEntry.objects.filter(action="member.export").values_list("object_id", flat=True))
    assert exported == {str(people["a1"].pk), str(people["a2"].pk)}

    refused = login("frontdesk_a").post(LIST, payload, follow=True)
    assert "text/csv" not in refused["Content-Type"]
    outsider = login("manager_b").post(LIST, payload, follow=True)
    assert "Astrid" not in outsider.content.decode()


def test_export_neutralises_formulas(login, world):
    make_member(world.chain_a, world.centre_a1, first_name="=HYPERLINK(1)")
    member = Member.objects.get()
    body = login("manager_a").post(LIST, {"action": "export_csv", "_selected_action": [member.pk]}).content.decode()
    assert "'=HYPERLINK(1)" in body


def test_audit_trail_is_read_only_and_for_the_dpo(login, world):
    AuditEntry.objects.create(action="member.view", actor_kind="staff", chain_id=world.chain_a.pk)
    AuditEntry.objects.create(action="member.view", actor_kind="staff", chain_id=world.chain_b.pk)
    url = "/admin/justface/auditentry/"
    responses = assert_matrix(
        login, "get", url, {"manager_a": 403, "frontdesk_a": 403, "dpo_a": 200, "manager_b": 403, "anonymous": 302}
    )
    assert "1 audit entry" in responses["dpo_a"].content.decode()
    entry = AuditEntry.objects.get(chain_id=world.chain_a.pk)
    change = login("dpo_a").post(f"{url}{entry.pk}/change/", {"reason": "x"})
    assert change.status_code == 403
    assert login("dpo_a").post(f"{url}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk, reason="").exists()


def test_outsider_cannot_see_or_edit_other_chain_setup(login, world):
    assert login("manager_b").get(f"/admin/members/centre/{world.centre_a1.pk}/change/").status_code == 302
    assert "Alpha" not in login("manager_b").get("/admin/members/centre/").content.decode()
    assert "Alpha" not in login("manager_b").get("/admin/members/chain/").content.decode()
    response = login("manager_b").post(
        "/admin/members/centre/add/",
        {
            "chain": world.chain_a.pk,
            "name": "Sneaky",
            "slug": "sneaky",
            "time_zone": "Europe/Oslo",
        },
    )
    assert not world.chain_a.centres.filter(slug="sneaky").exists()
    assert response.status_code in (200, 403)


def test_manager_adds_centre_to_own_chain_with_validation(login, world):
    manager = login("manager_a")
    bad = manager.post(
        "/admin/members/centre/add/",
        {
            "chain": world.chain_a.pk,
            "name": "New",
            "slug": "new",
            "time_zone": "Mars/Olympus",
            "opening_hours_0": "22:00–22:00",
        },
    )
    assert bad.status_code == 200
    errors = str(bad.context["adminform"].form.errors)
    assert "not a known time zone" in errors and "is not an opening time" in errors
    good = manager.post(
        "/admin/members/centre/add/",
        {
            "chain": world.chain_a.pk,
            "name": "New",
            "slug": "new",
            "time_zone": "Europe/Copenhagen",
            "opening_hours_0": "06:00-22:00",
            "liveness": "challenge_in_doubt",
            "liveness_challenge_percent": 5,
        },
    )
    assert good.status_code == 302 and world.chain_a.centres.filter(slug="new").exists()
    assert AuditEntry.objects.filter(action="centre.add", chain_id=world.chain_a.pk).exists()


def test_front_desk_cannot_change_chain_setup(login, world):
    response = login("frontdesk_a").post(f"/admin/members/centre/{world.centre_a1.pk}/change/", {"name": "Renamed"})
    assert response.status_code == 403
