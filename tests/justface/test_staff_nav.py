"""The staff navigation offers each role only what it may open: every link of the
admin's front page and the staff desk answers 200 for that user, the desk (/staff/front-desk/) and the
failed-liveness page are linked, and a page the role may not open answers a friendly 403 in the
user's language with the way back, not a bare "403 Forbidden"."""

from __future__ import annotations

import re

import pytest

NAV = re.compile(r'<ul class="desk-links" id="staff-nav">(.*?)</ul>', re.S)
HREF = re.compile(r'href="([^"]+)"')


def _nav_links(html: str) -> list[str]:
    block = NAV.search(html)
    assert block, "no staff navigation on the page"
    return HREF.findall(block.group(1))


@pytest.mark.parametrize("who", ["manager_a", "frontdesk_a", "dpo_a", "operator"])
@pytest.mark.parametrize("page", ["/admin/", "/staff/"])
def test_every_link_of_the_navigation_opens(world, login, who, page):
    client = login(who)
    links = _nav_links(client.get(page).content.decode())
    assert "/staff/language/" in links
    for url in links:
        assert client.get(url).status_code == 200, f"{who} is offered {url}"


def test_front_desk_is_offered_the_desk_and_door_failures_but_no_chain_wide_page(world, login):
    links = _nav_links(login("frontdesk_a").get("/staff/").content.decode())
    assert "/staff/front-desk/" in links and "/admin/access/accessevent/liveness/" in links
    for forbidden in ("/staff/reports/access/", "/staff/register/", "/staff/dpia/", "datasubjectrequest", "exclusion"):
        assert not any(forbidden in url for url in links), forbidden
    manager_links = _nav_links(login("manager_a").get("/staff/").content.decode())
    assert "/staff/reports/access/" in manager_links and "/staff/front-desk/" in manager_links


@pytest.mark.parametrize(
    "language, words", [("da", "Ikke for din rolle"), ("nb", "Ikke for din rolle"), ("en", "Not for your role")]
)
def test_a_forbidden_page_says_so_in_the_users_language_with_a_way_back(world, login, language, words):
    user = world.user("frontdesk_a")
    user.language = language
    user.save(update_fields=["language"])
    for url in ("/staff/reports/access/", "/staff/register/", "/staff/dpia/"):
        response = login("frontdesk_a").get(url)
        html = response.content.decode()
        assert response.status_code == 403 and words in html, url
        assert 'href="/admin/"' in html and "/staff/front-desk/" in html  # the way back, and what the role can open


def test_desk_breadcrumb_is_not_doubled_and_view_site_is_gone(world, login):
    html = login("manager_a").get("/staff/").content.decode()
    crumbs = re.search(r'<div class="breadcrumbs">(.*?)</div>', html, re.S).group(1)
    assert crumbs.count("Staff desk") == 1
    admin = login("manager_a").get("/admin/").content.decode()
    assert "View site" not in admin and 'href="/staff/"' in admin
