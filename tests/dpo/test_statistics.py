"""Hourly statistics: counted with each event, no member id, kept after erasure,
the staff page per centre with its CSV numbers, and the API for BI tools."""

from __future__ import annotations

from datetime import datetime

import pytest
from rest_framework.authtoken.models import Token

from access import stats
from access.models import HourlyStat
from retention.services import erase_member
from tests.dpo.conftest import CPH, event
from tests.permissions import assert_matrix

Q = "?from=2026-03-01&to=2026-03-31&day=2026-03-02"


def test_counts_per_hour(desk):
    a1 = {
        (r.hour.astimezone(CPH).day, r.hour.astimezone(CPH).hour): r
        for r in HourlyStat.objects.filter(centre=desk.centre_a1)
    }
    assert a1[(2, 7)].check_ins == 1 and a1[(2, 7)].peak_inside == 1
    assert a1[(2, 8)].check_outs == 1 and a1[(3, 7)].denied == 1
    assert not [f.name for f in HourlyStat._meta.get_fields() if "member" in f.name]


def test_peak_counts_people_inside_at_once(desk):
    for minute in (10, 20, 30):
        event(
            desk.centre_a2,
            member=desk.bo if minute == 10 else None,
            at=datetime(2026, 3, 4, 18, minute, tzinfo=CPH),
            count=False,
        )
    from access.models import Visit
    from tests.conftest import make_member

    others = [make_member(desk.chain_a, desk.centre_a2) for _ in range(2)]
    for i, m in enumerate(others):
        at = datetime(2026, 3, 4, 18, 40 + i, tzinfo=CPH)
        e = event(desk.centre_a2, member=m, at=at)
    row = HourlyStat.objects.get(centre=desk.centre_a2, hour=stats.hour_of(e.at))
    assert row.peak_inside == 3 and Visit.objects.filter(centre=desk.centre_a2).count() >= 3


def test_statistics_survive_erasure(desk):
    before = list(HourlyStat.objects.values_list("centre", "hour", "check_ins", "check_outs", "peak_inside"))
    erase_member(member=desk.ann, actor=None, reason="test")
    assert list(HourlyStat.objects.values_list("centre", "hour", "check_ins", "check_outs", "peak_inside")) == before


def test_hour_start_sampling_fills_hours_without_events(desk):
    at = datetime(2026, 3, 2, 10, 2, tzinfo=CPH)  # ann checked in 07:05, checked out 08:40; bo still inside
    assert stats.sample_hour_starts(at=at) >= 1
    assert (
        HourlyStat.objects.get(
            centre=desk.centre_a2, hour=stats.hour_of(datetime(2026, 3, 2, 10, 0, tzinfo=CPH))
        ).peak_inside
        == 1
    )
    assert stats.sample_hour_starts(at=at) >= 1  # idempotent: the peak does not grow
    assert (
        HourlyStat.objects.get(
            centre=desk.centre_a2, hour=stats.hour_of(datetime(2026, 3, 2, 10, 0, tzinfo=CPH))
        ).peak_inside
        == 1
    )


def test_schedule_exists(db):
    from django_q.models import Schedule

    assert Schedule.objects.get(name="access.sample_hour_starts").func == "access.stats.sample_hour_starts"


def test_page_matrix(desk, login):
    url = f"/staff/statistics/{desk.centre_a1.pk}/{Q}"
    responses = assert_matrix(
        login, "get", url, {"manager_a": 200, "dpo_a": 200, "frontdesk_a": 200, "manager_b": 404, "anonymous": 302}
    )
    page = responses["manager_a"].content.decode()
    assert page.count('class="cell"') == 7 * 24 and 'class="series"' in page
    assert login("frontdesk_a").get(f"/staff/statistics/{desk.centre_a2.pk}/").status_code == 404
    assert "Beta" not in login("manager_a").get("/staff/statistics/").content.decode()


@pytest.mark.parametrize(
    "chart, first", [("heatmap", "weekday"), ("day", "hour"), ("month", "day"), ("hourly", "hour")]
)
def test_numbers_behind_each_chart_as_csv(desk, login, chart, first):
    response = login("dpo_a").get(f"/staff/statistics/{desk.centre_a1.pk}/{chart}.csv{Q}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0].startswith(first)
    if chart == "day":
        assert lines[1 + 7] == "7,1,0,1"  # 07:00: one check-in, one inside
    assert login("manager_b").get(f"/staff/statistics/{desk.centre_a1.pk}/{chart}.csv{Q}").status_code == 404


def test_bad_period(desk, login):
    response = login("manager_a").get(f"/staff/statistics/{desk.centre_a1.pk}/?from=2026-03-31&to=2026-03-01")
    assert "ends before it starts" in response.content.decode()
    assert login("manager_a").get(f"/staff/statistics/{desk.centre_a1.pk}/day.csv?from=x").status_code == 400


def test_api_scoped_with_session_and_staff_token(desk, login, client):
    url = f"/api/v1/statistics/centres/{desk.centre_a1.pk}/hourly/?from=2026-03-01&to=2026-03-31"
    assert_matrix(
        login, "get", url, {"manager_a": 200, "dpo_a": 200, "frontdesk_a": 200, "manager_b": 404, "anonymous": 401}
    )
    token = Token.objects.create(user=desk.user("manager_b"))
    client.logout()
    centres = client.get("/api/v1/statistics/centres/", HTTP_AUTHORIZATION=f"Token {token.key}").json()
    assert [c["slug"] for c in centres] == ["b1"]
    token = Token.objects.create(user=desk.user("dpo_a"))
    rows = client.get(url, HTTP_AUTHORIZATION=f"Token {token.key}").json()
    assert {"hour", "check_ins", "check_outs", "denied", "peak_inside"} == set(rows[0]) and sum(
        r["check_ins"] for r in rows
    ) == 1
    assert (
        client.get(
            url.replace("from=2026-03-01", "from=2026-04-01"), HTTP_AUTHORIZATION=f"Token {token.key}"
        ).status_code
        == 400
    )


def test_api_in_openapi_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/v1/statistics/centres/{centre_id}/hourly/" in schema["paths"]
