"""A member's admin page says where the member stands: consents, face, PIN and
visits, in the staff member's language; the member's access report is titled by member number."""

from access.models import AccessEvent
from tests.portal_helpers import member_with_login, publish_documents, sign


def test_member_page_shows_consent_face_pin_and_visits(clock, world, login):
    publish_documents(world.chain_a)
    member = member_with_login(world.chain_a, world.centre_a1, member_number="A-777")
    sign(member)
    for _ in range(3):
        AccessEvent.objects.create(centre=world.centre_a1, member=member, method="pin", decision="granted", reason="ok")
    manager = world.user("manager_a")
    manager.language = "da"
    manager.save(update_fields=["language"])
    html = login("manager_a").get(f"/admin/members/member/{member.pk}/change/").content.decode()
    assert "Samtykke, ansigt, pinkode og besøg" in html
    assert "Ansigtsscanning: Underskrevet" in html
    assert "Ingen ansigtsskabelon" in html and "Ingen pinkode endnu" in html
    assert "Besøg de seneste 30 dage: 3" in html
    report = login("manager_a").get(f"/staff/reports/access/member/{member.pk}/").content.decode()
    assert "Adgangsrapport for medlem A-777" in report and f"medlem #{member.pk}" not in report
