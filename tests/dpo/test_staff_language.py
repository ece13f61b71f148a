"""Staff read the desk and the admin in the language they chose."""

import pytest

from tests.permissions import assert_matrix


@pytest.mark.parametrize(
    "language, words",
    [
        ("da", ["Adgangsrapport", "Medlemsnummer", "Download rapport", "Perioden slutter, før den begynder."]),
        ("nb", ["Adgangsrapport", "Medlemsnummer", "Last ned rapport", "Perioden slutter før den begynner."]),
        ("en", ["Access report", "Member number", "Download report", "The period ends before it starts."]),
    ],
)
def test_report_page_in_the_users_language(world, login, language, words):
    user = world.user("manager_a")
    user.language = language
    user.save()
    page = (
        login("manager_a")
        .post("/staff/reports/access/", {"date_from": "2026-03-31", "date_to": "2026-03-01", "file_format": "csv"})
        .content.decode()
    )
    for word in words:
        assert word in page


def test_language_page_saves_the_choice_and_the_admin_follows(world, login):
    assert_matrix(
        login,
        "get",
        "/staff/language/",
        {"manager_a": 200, "dpo_a": 200, "frontdesk_a": 200, "manager_b": 200, "anonymous": 302},
    )
    client = login("frontdesk_a")
    assert client.post("/staff/language/", {"language": "nb"}).status_code == 302
    world.user("frontdesk_a").refresh_from_db()
    assert world.user("frontdesk_a").language == "nb"
    admin = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="da").content.decode()
    assert "Medlemmer" in admin and "Ansattside" in admin
    stats = client.get("/staff/statistics/").content.decode()
    assert "Anonyme tellinger per senter og time" in stats
