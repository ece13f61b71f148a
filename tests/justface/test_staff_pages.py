"""One way to build a staff page: every page under /staff/ (namespace "staff") is a
justface.staff_pages.staff_page, and no page of the member portal is one."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.permissions import assert_matrix
from tests.portal_helpers import member_with_login


def views_under(patterns, namespace: str | None, prefix: str = "", ns: str | None = None):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from views_under(entry.url_patterns, namespace, prefix + str(entry.pattern), entry.namespace or ns)
        elif ns == namespace:
            yield prefix + str(entry.pattern), entry


def test_every_staff_url_is_a_staff_page():
    staff = list(views_under(get_resolver().url_patterns, "staff"))
    assert len(staff) > 10 and all(route.startswith("staff/") for route, _ in staff)
    not_built = [route for route, entry in staff if not getattr(entry.callback, "staff_page", False)]
    assert not not_built, f"build these with justface.staff_pages.staff_page: {not_built}"


def test_no_portal_url_is_a_staff_page():
    portal = list(views_under(get_resolver().url_patterns, "portal"))
    assert portal and all(isinstance(entry, URLPattern) for _, entry in portal)
    assert not [route for route, entry in portal if getattr(entry.callback, "staff_page", False)]


def test_staff_pages_answer_alike(world, login, client):
    """The front desk and the reports share the checks: the staff login for anonymous users and
    members, 403 for staff without the page's permission."""
    member = member_with_login(world.chain_a, world.centre_a1, first_name="Maja")
    for url in (reverse("staff:front-desk"), reverse("staff:language"), reverse("staff:statistics")):
        client.force_login(member.user)
        assert client.get(url).url.startswith(reverse("admin:login")), url
    assert_matrix(
        login,
        "get",
        reverse("staff:front-desk"),
        {"manager_a": 200, "frontdesk_a": 200, "dpo_a": 403, "manager_b": 200, "anonymous": 302},
    )
    assert_matrix(
        login,
        "get",
        reverse("staff:language"),
        {"manager_a": 200, "frontdesk_a": 200, "dpo_a": 200, "manager_b": 200, "anonymous": 302},
    )


def test_old_front_desk_addresses_lead_to_the_staff_pages(world, login):
    desk = login("frontdesk_a")
    assert desk.get("/desk/").url == reverse("staff:front-desk")
    assert desk.get("/desk/reviews/7/").url == reverse("staff:front-desk-review", args=[7])
