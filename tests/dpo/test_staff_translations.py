"""Every staff-facing label is translated: the admin in Danish shows no English
Justface label, every label the admin can show is marked and has a Danish and Norwegian
translation, and no catalogue of the project has an empty or fuzzy entry."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import trans_real

from members.models import DataSubjectRequest
from tests.dpo.conftest import desk  # noqa: F401 (the fixture)

ROOT = Path(settings.BASE_DIR)
PROJECT_APPS = ("justface", "members", "consent", "access", "retention", "webhooks")


def _labels_of(model_admin) -> list[tuple[str, object]]:
    """(where, label) for everything the admin shows of a model: model names, fields and their
    help, action descriptions, computed columns and filter titles."""
    opts = model_admin.model._meta
    found = [
        (f"{opts.label} verbose_name", opts.verbose_name),
        (f"{opts.label} verbose_name_plural", opts.verbose_name_plural),
    ]
    for field in [*opts.fields, *opts.many_to_many]:
        if field.auto_created:
            continue
        found.append((f"{opts.label}.{field.name}", field.verbose_name))
        if field.help_text:
            found.append((f"{opts.label}.{field.name} help_text", field.help_text))
        for value, label in (
            field.flatchoices if field.choices and field.model.__module__.split(".")[0] in PROJECT_APPS else []
        ):
            if field.name not in ("language", "default_language"):  # languages are listed by their own names
                found.append((f"{opts.label}.{field.name} choice {value}", label))
    for name in model_admin.actions or []:
        found.append((f"{opts.label} action {name}", getattr(model_admin, name).short_description))
    for name in model_admin.list_display:
        attr = getattr(model_admin, name, None) if isinstance(name, str) else name
        if attr is not None and hasattr(attr, "short_description"):
            found.append((f"{opts.label} column {name}", attr.short_description))
    for item in model_admin.list_filter:
        if isinstance(item, type) and hasattr(item, "title"):
            found.append((f"{opts.label} filter {item.__name__}", item.title))
    if getattr(model_admin, "search_help_text", None):
        found.append((f"{opts.label} search help", model_admin.search_help_text))
    for title, _options in getattr(model_admin, "fieldsets", None) or []:
        if title:
            found.append((f"{opts.label} fieldset", title))
    return found


def _project_admins():
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model.__module__.split(".")[0] in PROJECT_APPS
    ]


@pytest.mark.parametrize("language", ["da", "nb"])
def test_every_admin_label_is_marked_and_translated(language):
    catalog = trans_real.translation(language)._catalog
    problems = []
    for _model, model_admin in _project_admins():
        for where, label in _labels_of(model_admin):
            if not isinstance(label, Promise):
                problems.append(f"{where}: {label!r} is not marked for translation")
                continue
            msgid = str(label._proxy____args[0]) if hasattr(label, "_proxy____args") else None
            if msgid and msgid != "ID" and not catalog.get(msgid):
                problems.append(f"{where}: {msgid!r} has no {language} translation")
    assert not problems, "\n".join(problems)


# Known English labels of the admin and the Danish words that replace them.
ENGLISH_TO_DANISH = {
    "members": [
        ("Export selected members as CSV", "Eksportér valgte medlemmer som CSV"),
        ("Home centre", "Hjemmecenter"),
        ("Start date", "Startdato"),
        ("Member number", "Medlemsnummer"),
    ],
    "member_change": [
        ("Personal data (encrypted at rest)", "Personoplysninger (krypteret ved lagring)"),
        ("First name", "Fornavn"),
        ("Birth date", "Fødselsdato"),
        ("Membership type", "Medlemskabstype"),
    ],
    "doors": [("Issue a new device token (shown once)", "Udsted en ny enhedsnøgle (vises én gang)")],
    "devicetokens": [
        ("Revoke selected tokens (immediately)", "Tilbagekald valgte nøgler (straks)"),
        ("Last seen at", "Sidst set"),
    ],
    "visits": [("Inside right now", "Inde lige nu"), ("Checked in at", "Tjekket ind"), ("By inside now", "inde nu")],
    "accessevents": [("Outcome", "Resultat"), ("How", "Hvordan"), ("Granted", "Godkendt")],
    "dsrs": [("days left", "Dage tilbage"), ("Received at", "Modtaget")],
    "consentdocuments": [
        ("Publish the selected drafts", "Offentliggør de valgte kladder"),
        ("Requires reconsent", "Kræver nyt samtykke"),
    ],
    "processors": [("Agreement signed on", "Databehandleraftale underskrevet")],
}


def test_the_admin_speaks_danish_to_a_danish_manager(desk, login):  # noqa: F811
    from access.models import DeviceToken
    from consent.models import ConsentDocument
    from retention.models import Processor

    DeviceToken.objects.create(door=desk.door_a1, label="Entrance", token_hash="x" * 64)
    DataSubjectRequest.objects.create(chain=desk.chain_a, member=desk.ann, kind="erasure", due_at="2026-04-01T00:00Z")
    ConsentDocument.objects.create(
        chain=desk.chain_a, kind="biometric", language="da", version=1, title="Ansigt", body="..."
    )
    Processor.objects.create(chain=desk.chain_a, name="Host", service="hosting", country="DK")
    user = desk.user("manager_a")
    user.language = "da"
    user.save()
    client = login("manager_a")
    pages = {}
    for model, _model_admin in _project_admins():
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        response = client.get(url)
        if response.status_code in (302, 403):
            continue  # not for managers (the audit trail is the DPO's)
        assert response.status_code == 200, url
        pages[opts.model_name] = response.content.decode()
        obj = model._default_manager.filter(**_chain_a(model, desk)).first()
        if obj is not None:
            change = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
            assert change.status_code == 200, (opts.model_name, change.status_code)
            pages[f"{opts.model_name}_change"] = change.content.decode()
    assert len(pages) >= 15, sorted(pages)
    names = {
        "members": "member",
        "member_change": "member_change",
        "doors": "door",
        "devicetokens": "devicetoken",
        "visits": "visit",
        "accessevents": "accessevent",
        "dsrs": "datasubjectrequest",
        "consentdocuments": "consentdocument",
        "processors": "processor",
    }
    for key, pairs in ENGLISH_TO_DANISH.items():
        page = pages[names[key]]
        for english, danish in pairs:
            assert danish in page, (key, danish)
            assert english not in page, (key, english)
    for name, page in pages.items():  # no English model or app name anywhere
        for english in (
            "Access events",
            "Device tokens",
            "Data-subject requests",
            "Add member",
            "Select member to change",
        ):
            assert english not in page, (name, english)


def _chain_a(model, desk) -> dict:  # noqa: F811
    for path in ("chain", "centre__chain", "door__centre__chain", "member__chain"):
        try:
            model._meta.get_field(path.split("__")[0])
        except Exception:
            continue
        return {path: desk.chain_a}
    return {"pk": desk.chain_a.pk} if model._meta.model_name == "chain" else {}


def _po_entries(path: Path):
    """(msgid, [msgstr...], fuzzy) for each entry of a .po file (not the header, not obsolete)."""
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith("#~")]
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        parts, current = {}, None
        for line in lines:
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d\])?) (".*")$', line)
            if match:
                current = match.group(1)
                parts[current] = [match.group(2)]
            elif line.startswith('"') and current:
                parts[current].append(line)
        text = {key: "".join(ast.literal_eval(piece) for piece in pieces) for key, pieces in parts.items()}
        if text.get("msgid"):
            yield text["msgid"], [v for k, v in text.items() if k.startswith("msgstr")], fuzzy


CATALOGUES = sorted(p for p in ROOT.glob("*/locale/*/LC_MESSAGES/django.po") if p.parts[-3] in ("da", "nb")) + sorted(
    (ROOT / "locale").glob("*/LC_MESSAGES/django.po")
)


def test_the_catalogues_are_where_django_finds_them():
    apps = {p.relative_to(ROOT).parts[0] for p in CATALOGUES}
    assert {"members", "consent", "access", "locale"} <= apps  # justface and retention: the project's locale/
    assert ROOT / "locale" in [Path(p) for p in settings.LOCALE_PATHS]
    for po in CATALOGUES:
        assert po.with_suffix(".mo").exists(), po


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_msgid_has_a_translation(po):
    untranslated = [msgid for msgid, strings, fuzzy in _po_entries(po) if fuzzy or not strings or not all(strings)]
    assert not untranslated, f"{po}: {len(untranslated)} untranslated, e.g. {untranslated[:5]}"
    assert sum(1 for _ in _po_entries(po)) > 50


def test_translations_keep_their_placeholders():
    for po in CATALOGUES:
        for msgid, strings, _fuzzy in _po_entries(po):
            wanted = sorted(re.findall(r"%\(\w+\)[sd]", msgid))
            for s in strings:
                assert sorted(set(re.findall(r"%\(\w+\)[sd]", s))) == sorted(set(wanted)), (po, msgid, s)
