"""The member's "My data" page reads as a short, plain page: local times in the
reader's language, translated words for every code, no 12-column table, technical facts folded."""

import re

import pytest
from django.urls import reverse

from access.models import AccessEvent
from tests.conftest import make_member  # noqa: F401
from tests.portal_helpers import (  # noqa: F401
    fresh_cache,
    member_with_login,
    private_root,
    publish_documents,
    sign,
    site_url,
)

pytestmark = pytest.mark.usefixtures("site_url", "fresh_cache")

RAW_CODES = ("terms", "biometric", "sign", "unspecified", "active", "granted", "pin", "ok", "in", "portal")


@pytest.fixture
def page(clock, world, client, private_root):  # noqa: F811
    def _page(language: str) -> str:
        publish_documents(world.chain_a)
        member = member_with_login(world.chain_a, world.centre_a1, first_name="Freja", gender="unspecified")
        sign(member, kind="terms")
        sign(member)
        for _ in range(12):
            AccessEvent.objects.create(
                centre=world.centre_a1, member=member, method="pin", decision="granted", reason="ok"
            )
        client.force_login(member.user)
        client.cookies["django_language"] = language
        response = client.get(reverse("portal:my-data"))
        assert response.status_code == 200
        return response.content.decode()

    return _page


@pytest.mark.parametrize(
    "language, words, local_time",
    [
        ("da", ["Underskrevet", "Aktiv", "Ansigtsscanning", "Lukket ind", "Detaljer"], "5. december 2026 kl. 11:00"),
        ("nb", ["Signert", "Aktiv", "Sluppet inn", "Detaljer"], "5. desember 2026 kl. 11:00"),
        ("en", ["Signed", "Active", "Face scan", "Let in", "Details"], "11:00"),
    ],
)
def test_my_data_reads_in_plain_words_and_local_time(page, language, words, local_time):
    html = page(language)
    assert "<table" not in html  # records are short cards, not a 12-column table
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", html), "a raw ISO timestamp is shown"
    cells = re.findall(r"<dd>([^<]*)</dd>", html)
    assert cells and not set(cells) & set(RAW_CODES), sorted(set(cells) & set(RAW_CODES))
    for word in words:
        assert word in html, word
    assert local_time in html  # 10:00 UTC is 11:00 in Copenhagen
    assert "all are in the download" in html or language != "en"  # 12 check-ins: 10 shown, 2 in the ZIP


def test_danish_page_has_none_of_the_english_labels(page):
    html = page("da")
    for english in ("When", "Signed", "Membership status", "Your consents", "Nothing held", "Reason", "Legal basis"):
        assert english not in html, english


def test_pin_page_shows_the_member_number_and_24_hour_times(clock, world, client, private_root):  # noqa: F811
    from django.utils import timezone

    member = member_with_login(world.chain_a, world.centre_a1)
    member.pin_set_at = timezone.now().replace(hour=23, minute=20)  # 00:20 in Copenhagen
    member.save(update_fields=["pin_set_at"])
    client.force_login(member.user)
    html = client.get(reverse("portal:pin")).content.decode()
    assert member.member_number in html
    assert "00:20" in html and "a.m." not in html


def test_requests_page_and_its_message_say_one_month(clock, world, client, private_root):  # noqa: F811
    member = member_with_login(world.chain_a, world.centre_a1)
    client.force_login(member.user)
    html = client.get(reverse("portal:requests")).content.decode()
    assert "30 days" not in html and "within one month" in html
