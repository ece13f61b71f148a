"""Every code a person reads has a label in en, da and nb: access reasons, liveness
layers, statuses and the other choices registered with justface.display, and every audit action
the code writes (found in the source, so an action added later without a label fails here)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.utils import translation

from access.messages import Reason
from justface import display
from retention.models import ErasureJob

ROOT = Path(settings.BASE_DIR)
APPS = ("justface", "members", "consent", "access", "retention", "integration", "webhooks", "imports")
# Words that are the same in Danish or Norwegian as in English.
SAME_WORD = {"PIN", "Status", "Member", "Medlem", "E-mail", "Version", "Score", "Centre", "Visit", "System"}


def _in(language: str, fn):
    with translation.override(language):
        return str(fn())


def _assert_translated(where: str, fn) -> None:
    english = _in("en", fn)
    for language in ("da", "nb"):
        other = _in(language, fn)
        assert other != english or english in SAME_WORD, f"{where}: {english!r} is not translated into {language}"


def test_every_reason_code_and_liveness_layer_has_a_label():
    reasons = display.labels("access.reason")
    assert set(reasons) == {r.value for r in Reason}
    assert set(display.labels("access.liveness_layer")) >= {"passive", "challenge"}


@pytest.mark.parametrize("kind", [k for k in display.kinds() if k not in ("language", "audit.action", "audit.object")])
def test_every_registered_code_reads_in_en_da_and_nb(kind):
    for code in display.labels(kind):
        assert _in("en", lambda: display.label(kind, code)) != code or code in SAME_WORD, f"{kind}.{code}: no label"
        _assert_translated(f"{kind}.{code}", lambda: display.label(kind, code))


def audit_actions_in_the_code() -> set[str]:
    found = set()
    literal = re.compile(
        r'action="([a-z_]+\.[a-z_]+)"|_action = "([a-z_.]+)", "([a-z_.]+)"|^\s+"([a-z_]+\.purge)",', re.M
    )
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for groups in literal.findall(path.read_text()):
                found.update(g for g in groups if g)
    # Composed ones: justface/admin_scoping.py (admin add/change/delete of every registered model),
    # retention/register.py (register and DPIA exports), retention/jobs.py (erasures by job kind).
    for model in admin.site._registry:
        if model._meta.app_label not in APPS:
            continue  # django_q's task pages are not written through the audited admin
        found.update(f"{model._meta.model_name}.{verb}" for verb in ("add", "change", "delete"))
    found.update({"register.export", "dpia.export"})
    found.update(f"{kind}.erase" for kind in ErasureJob.Kind.values)
    return found


def test_the_source_scan_finds_the_audit_actions():
    actions = audit_actions_in_the_code()
    assert {"member.view", "dsr.list", "consent.sign", "access.report", "dsr.purge", "member.change"} <= actions
    assert len(actions) > 60


def test_every_audit_action_reads_in_en_da_and_nb():
    for action in sorted(audit_actions_in_the_code()):
        assert _in("en", lambda: display.audit_action(action)) != action, f"audit action {action}: no label"
        _assert_translated(f"audit action {action}", lambda: display.audit_action(action))


def test_a_title_reads_in_words_and_local_time(world):
    from datetime import UTC, datetime

    from django.utils import timezone

    from access.models import AccessEvent

    event = AccessEvent.objects.create(
        centre=world.centre_a1, method="face", decision="denied", reason="liveness_failed"
    )
    AccessEvent.objects.filter(pk=event.pk).update(at=datetime(2026, 12, 5, 23, 26, tzinfo=UTC))
    event.refresh_from_db()
    with translation.override("da"), timezone.override("Europe/Copenhagen"):
        assert str(event) == "Afvist: Ikke et levende ansigt, 6. december 2026 kl. 00:26"


def _as(world, login, who: str, language: str):
    user = world.user(who)
    user.language = language
    user.save(update_fields=["language"])
    return login(who)


@pytest.mark.parametrize("language", ["da", "nb"])
def test_failed_liveness_page_is_translated(world, login, language):
    html = _as(world, login, "manager_a", language).get("/admin/access/accessevent/liveness/").content.decode()
    for english in ("Face scans refused", "Failed liveness checks", ">Hour<", ">Passive<", "No failed liveness checks"):
        assert english not in html, english


def test_audit_trail_shows_actions_objects_and_actors_in_words(world, login):
    from justface import audit
    from tests.conftest import make_member

    member = make_member(world.chain_a, world.centre_a1)
    audit.record(action="member.view", actor=world.user("manager_a"), obj=member)
    html = _as(world, login, "dpo_a", "da").get("/admin/justface/auditentry/").content.decode()
    assert "Medlem: vist" in html and "manager_a" in html
    assert "member.view" not in html.replace('value="member.view"', "").replace("action__exact=member.view", "")
