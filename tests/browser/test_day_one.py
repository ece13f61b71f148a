"""Day one, per role and language: a manager, a front desk, a DPO and a member walk
their main pages in Danish, Norwegian and English, on a 1366x768 laptop and a 390x844 phone, in
headless Debian chromium. A page fails on a console error, an HTTP error (any request of the
page, the favicon included), an element wider than the viewport (outside a scrolling box), or,
on a Danish or Norwegian page, an English label of the product's own.

Screenshots of every page go to JUSTFACE_SCREENSHOTS, else <pytest tmp dir>/day-one-screens
(docs/staff-guide.md uses them); the folder is printed."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from access.models import AccessEvent, Door
from tests.browser.test_member_journey import browser  # noqa: F401 (the fixture)
from tests.conftest import make_member
from tests.portal_helpers import member_with_login, publish_documents, sign

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

pytestmark = pytest.mark.browser

VIEWPORTS = {"laptop": (1366, 768), "phone": (390, 844)}

# English labels of the product (and of the admin as the product shows it) that must not appear
# on a Danish or Norwegian page. Whole words or phrases, case-sensitive.
ENGLISH = [
    "Staff desk",
    "Access reports",
    "Download report",
    "Statistics per centre",
    "Failed liveness",
    "Not recognised",
    "Let in",
    "Outside opening hours",
    "Member number",
    "Opening hours",
    "Your consents",
    "Everything we hold",
    "Log out",
    "Granted",
    "Denied",
    "Processing register",
    "Audit trail",
    "Start typing to filter",
    "Show counts",
    "Face scan",
    "My language",
    "My data",
    "Requests",
    "Legal basis",
    "How long",
    "Nothing held",
    "Details",
    "Member portal",
    "Door photo",
    "Data-protection requests",
    "Exclusions",
    "Not for your role",
    "Centres",
    "Doors",
    "From (first day)",
    "To (last day)",
    "Any",
    "Decision",
    "Reason",
    "Method",
    "Direction",
    "Welcome",
    "Change password",
    "View site",
    "Recent actions",
    "access event",
    "members",
    "Signed",
    "Active",
    "Withdraw",
    "Your door PIN",
    "Save PIN",
    "Send request",
    "File a request",
    "Hour",
    "Burst",
    "Passive check",
    "Head-turn challenge",
    "Biometrics DPIA",
    "in force",
]
_ENGLISH = re.compile(r"(?<![\w-])(" + "|".join(re.escape(w) for w in ENGLISH) + r")(?![\w-])")

PAGES = {
    "manager_a": [
        "/admin/",
        "/staff/",
        "/staff/reports/access/",
        "/staff/statistics/{a1}/",
        "/admin/access/accessevent/",
        "/admin/access/accessevent/liveness/",
        "/admin/access/accessevent/{event}/change/",
        "/admin/members/member/",
        "/admin/members/centre/{a1}/change/",
    ],
    "frontdesk_a": [
        "/admin/",
        "/staff/",
        "/staff/front-desk/",
        "/admin/members/member/",
        "/admin/access/accessevent/liveness/",
    ],
    "dpo_a": [
        "/admin/",
        "/staff/",
        "/staff/register/",
        "/staff/dpia/",
        "/admin/justface/auditentry/",
        "/admin/members/datasubjectrequest/",
    ],
    "member": ["/me/", "/me/data/", "/me/pin/", "/me/requests/"],
}

# Visible-element overflow: anything sticking out of the viewport that no scrolling box contains.
OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth, found = [];
  const scrolls = el => { for (let a = el.parentElement; a; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; }
    return false; };
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.height && (r.right > width + 1 || r.left < -1) && !scrolls(el)) {
      const cls = typeof el.className === 'string' && el.className ? '.' + el.className.split(' ')[0] : '';
      found.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls
                 + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
      if (found.length > 5) break; } }
  const page = document.documentElement.scrollWidth;
  if (page > width + 1) found.push('page scrolls sideways: ' + page);
  // A list must show all its columns on a laptop (its box scrolls on a phone).
  const results = document.querySelector('#changelist .results');
  if (width >= 1366 && results && results.scrollWidth > results.clientWidth + 1)
    found.push('list cut: ' + results.scrollWidth + ' in ' + results.clientWidth);
  return found; }"""


def screenshots_dir(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("JUSTFACE_SCREENSHOTS") or tmp_path_factory.getbasetemp() / "day-one-screens")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def day_one(world, settings, tmp_path):
    """The cast's chain A with what a first day shows: a door, events of every kind, a burst of
    failed liveness checks, a member with a login who signed the consents."""
    settings.MEDIA_ROOT = tmp_path / "private"
    publish_documents(world.chain_a)
    door = Door.objects.create(centre=world.centre_a1, name="Hovedindgang")
    member = member_with_login(world.chain_a, world.centre_a1, first_name="Freja", last_name="Lund")
    sign(member, kind="terms", language="da")
    sign(member, language="da")
    others = [make_member(world.chain_a, world.centre_a1) for _ in range(3)]
    now = timezone.now()
    rows = []
    for i, (who, decision, reason) in enumerate(
        [(member, "granted", "ok"), (others[0], "granted", "ok"), (None, "denied", "not_recognised")]
        + [(others[1], "denied", "outside_opening_hours")]
        + [(None, "denied", "liveness_failed")] * 6
    ):
        rows.append(
            AccessEvent(centre=world.centre_a1, door=door, member=who, method="face", decision=decision,
                        reason=reason, score=0.8123456789012345,
                        liveness_layer="passive" if reason == "liveness_failed" else "")
        )  # fmt: skip
    created = AccessEvent.objects.bulk_create(rows)
    for i, event in enumerate(created):
        event.at = now - timedelta(minutes=5 * (len(created) - i))
    AccessEvent.objects.bulk_update(created, ["at"])
    world.member, world.event = member, created[0]
    return world


def _session_cookie(user, live_url: str) -> dict:
    client = Client()
    client.force_login(user)
    return {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_url}


@pytest.mark.parametrize("language", ["da", "nb", "en"])
@pytest.mark.parametrize("role", list(PAGES))
def test_main_pages_per_role_and_language(live_server, browser, day_one, tmp_path_factory, role, language):  # noqa: F811
    if role == "member":
        user, cookies = day_one.member.user, [{"name": "django_language", "value": language, "url": live_server.url}]
    else:
        user, cookies = day_one.user(role), []
        user.language = language
        user.save(update_fields=["language"])
    cookies.append(_session_cookie(user, live_server.url))
    folder = screenshots_dir(tmp_path_factory)
    problems: list[str] = []
    for device, (width, height) in VIEWPORTS.items():
        context = browser.new_context(viewport={"width": width, "height": height}, locale=language)
        context.add_cookies(cookies)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m, e=errors: e.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda exc, e=errors: e.append(f"script error: {exc}"))
        page.on("response", lambda r, e=errors: e.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
        for template in PAGES[role]:
            url = template.format(a1=day_one.centre_a1.pk, event=day_one.event.pk)
            errors.clear()
            response = page.goto(live_server.url + url, wait_until="load")
            where = f"{role} {language} {device} {url}"
            if response is None or response.status != 200:
                problems.append(f"{where}: status {response and response.status}")
            page_name = template.strip("/").replace("/", "_").replace("{a1}", "centre").replace("{event}", "event")
            name = f"{role.split('_')[0]}-{language}-{device}-{page_name or 'home'}.png"
            page.screenshot(path=str(folder / name), full_page=True)
            problems += [f"{where}: {e}" for e in errors]
            problems += [f"{where}: too wide: {o}" for o in page.evaluate(OVERFLOW_JS)]
            if language != "en":
                text = page.inner_text("body")
                problems += [f"{where}: English {w!r}" for w in sorted(set(_ENGLISH.findall(text)))]
        context.close()
    print(f"screenshots: {folder}")
    assert not problems, "\n".join(problems)
