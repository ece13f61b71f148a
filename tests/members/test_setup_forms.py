"""Setting a centre and a chain up without typing JSON: opening hours one line per
day, overnight hours allowed (and honoured at the door), the chain's policy as form fields."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from access import rules
from members.models import Centre

CPH = ZoneInfo("Europe/Copenhagen")
DAYS = {f"opening_hours_{i}": "" for i in range(7)}


def _centre(**hours) -> dict:
    return {
        "name": "Night",
        "slug": "night",
        "time_zone": "Europe/Copenhagen",
        "liveness": "off",
        "liveness_challenge_percent": 5,
        **DAYS,
        **hours,
    }


def test_manager_sets_overnight_hours_with_form_fields(world, login):
    client = login("manager_a")
    page = client.get("/admin/members/centre/add/").content.decode()
    assert 'name="opening_hours_0"' in page and "Monday" in page and 'name="opening_hours"' not in page
    response = client.post(
        "/admin/members/centre/add/",
        _centre(chain=world.chain_a.pk, opening_hours_0="22:00–06:00", opening_hours_1="06.00-12:00, 14:00-23:00"),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    centre = Centre.objects.get(slug="night")
    assert centre.opening_hours == {"mon": [["22:00", "06:00"]], "tue": [["06:00", "12:00"], ["14:00", "23:00"]]}
    # The door honours it: Monday 23:00 and Tuesday 02:00 are open (overnight), Tuesday 13:00 closed.
    assert rules.is_open(centre, datetime(2026, 12, 7, 23, 0, tzinfo=CPH))
    assert rules.is_open(centre, datetime(2026, 12, 8, 2, 0, tzinfo=CPH))
    assert not rules.is_open(centre, datetime(2026, 12, 9, 3, 0, tzinfo=CPH))  # Tuesday: not overnight
    assert not rules.is_open(centre, datetime(2026, 12, 8, 13, 0, tzinfo=CPH))
    assert rules.open_interval(centre, datetime(2026, 12, 8, 2, 0, tzinfo=CPH))[1] == datetime(
        2026, 12, 8, 6, 0, tzinfo=CPH
    )
    # And the form shows it back as lines.
    again = client.get(f"/admin/members/centre/{centre.pk}/change/").content.decode()
    assert 'value="22:00–06:00"' in again


@pytest.mark.parametrize(
    "line, language, message",
    [
        ("25:00-06:00", "en", "is not a time of day"),
        ("morning", "da", "mandag"),
        ("06:00-06:00", "nb", "er ikke en åpningstid"),
    ],
)
def test_bad_hours_are_a_translated_form_error(world, login, line, language, message):
    manager = world.user("manager_a")
    manager.language = language
    manager.save(update_fields=["language"])
    response = login("manager_a").post(
        "/admin/members/centre/add/", _centre(chain=world.chain_a.pk, opening_hours_0=line)
    )
    assert response.status_code == 200
    assert message in str(response.context["adminform"].form.errors).lower()


def test_chain_policy_is_form_fields_and_stores_what_differs(world, login):
    client = login("manager_a")
    url = f"/admin/members/chain/{world.chain_a.pk}/change/"
    page = client.get(url).content.decode()
    assert 'name="settings"' not in page and 'name="policy_checkins_retention_days"' in page
    form = client.get(url).context["adminform"].form
    values = {name: form.initial.get(name, field.initial) for name, field in form.fields.items()}
    data = {k: ("on" if v is True else v) for k, v in values.items() if v is not None and v is not False}
    data.update(policy_checkins_retention_days=400, policy_keep_member_photo="on")
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    world.chain_a.refresh_from_db()
    assert world.chain_a.settings == {"checkins_retention_days": 400, "keep_member_photo": True}
    bad = client.post(url, {**data, "policy_audit_retention_days": 100})
    assert bad.status_code == 200 and "policy_audit_retention_days" in bad.context["adminform"].form.errors


def test_dpo_reads_the_policy_in_words(world, login):
    page = login("dpo_a").get(f"/admin/members/chain/{world.chain_a.pk}/change/")
    assert page.status_code == 200 and "Longest exclusion (days)" in page.content.decode()
