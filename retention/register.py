"""The processing register (GDPR Art. 30) and the biometrics DPIA fact sheet of a chain,
generated from the same declarations that drive the retention jobs and the member's "my data"
page (the personal-data registry, justface.personal_data), the chain's policy, its own list of processors (retention.Processor),
and the measures the settings actually put in force. Nothing here is typed in twice."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from access import services as door
from justface import audit, personal_data, throttle
from justface.tenancy import Role
from members.models import Chain
from retention.models import Processor

ERROR_RATES_FILE = Path(settings.BASE_DIR) / "docs" / "face-error-rates.json"


def measures() -> list[dict]:
    """The technical and organisational measures in force, read from the settings and the code."""
    postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    https = bool(getattr(settings, "SECURE_SSL_REDIRECT", False))
    hsts = getattr(settings, "SECURE_HSTS_SECONDS", 0) or 0
    secure_cookies = bool(
        getattr(settings, "SESSION_COOKIE_SECURE", False) and getattr(settings, "CSRF_COOKIE_SECURE", False)
    )
    keys = len(settings.FIELD_ENCRYPTION_KEY)
    return [
        {
            "key": "encryption_at_rest",
            "in_force": keys > 0,
            "title": _("Encryption at rest"),
            "detail": _(
                "Personal columns, consent evidence and face templates are encrypted (Fernet: AES-128-CBC with HMAC-SHA256); %(n)d key(s) configured, rotation supported."
            )
            % {"n": keys},
        },
        {
            "key": "encrypted_files",
            "in_force": True,
            "title": _("Encrypted photo files"),
            "detail": _(
                "Member and door photos and report files are encrypted files outside any public folder, served only after a scope check."
            ),
        },
        {
            "key": "keyed_lookups",
            "in_force": bool(settings.FIELD_HASH_KEY),
            "title": _("Keyed look-ups"),
            "detail": _(
                "E-mail, phone, member number and name words are found by keyed hashes (HMAC-SHA256), never by decrypting a whole table."
            ),
        },
        {
            "key": "role_scoping",
            "in_force": True,
            "title": _("Need-to-know access"),
            "detail": _(
                "Each staff login has one role in one chain; front desk sees only its centres; every read goes through one scope (justface.tenancy)."
            ),
        },
        {
            "key": "audit_of_reads",
            "in_force": True,
            "title": _("Audit of reads"),
            "detail": (
                _(
                    "Every staff look at personal data, every export and every erasure is an audit entry (ids only); append-only, and a PostgreSQL trigger refuses changes."
                )
                if postgres
                else _(
                    "Every staff look at personal data, every export and every erasure is an audit entry (ids only); append-only in the application (no database trigger on this database)."
                )
            ),
        },
        {
            "key": "https",
            "in_force": https and hsts > 0 and secure_cookies,
            "title": _("HTTPS"),
            "detail": _("Redirect to HTTPS: %(redirect)s; HSTS: %(hsts)d seconds; secure cookies: %(cookies)s.")
            % {
                "redirect": _("yes") if https else _("no"),
                "hsts": hsts,
                "cookies": _("yes") if secure_cookies else _("no"),
            },
        },
        {
            "key": "csp",
            "in_force": True,
            "title": _("Content-Security-Policy"),
            "detail": _("Scripts, styles and connections from the site itself only; no framing."),
        },
        {
            "key": "staff_login_lockout",
            "in_force": True,
            "title": _("Staff login lockout"),
            "detail": _("%(user)d failed logins per username or %(addr)d per address lock for %(minutes)d minutes.")
            % {
                "user": throttle.STAFF_LOGIN.per_identifier,
                "addr": throttle.STAFF_LOGIN.per_address,
                "minutes": throttle.WINDOW_SECONDS // 60,
            },
        },
        {
            "key": "pin_lockout",
            "in_force": True,
            "title": _("Door PIN lockout"),
            "detail": _(
                "%(number)d wrong PINs per member number or %(device)d per tablet lock for 15 minutes; a daily cap per tablet."
            )
            % {"number": door.PIN_FAILURES_PER_NUMBER, "device": door.PIN_FAILURES_PER_DEVICE},
        },
        {
            "key": "device_tokens",
            "in_force": True,
            "title": _("Door tablet credentials"),
            "detail": _("Each tablet has its own token, stored hashed and revocable at once."),
        },
        {
            "key": "automatic_erasure",
            "in_force": True,
            "title": _("Automatic erasure"),
            "detail": _(
                "A job every minute erases what the chain's policy makes due (templates, photos, members), each erasure audited."
            ),
        },
    ]


def transfers(chain: Chain) -> list[dict]:
    """Transfers outside the EU/EEA: none unless the installation or the chain configured one."""
    out = [
        {"recipient": _("The installation (operator's setting)"), "country": c, "safeguard": ""}
        for c in settings.JUSTFACE_TRANSFERS_OUTSIDE_EU
    ]
    out += [
        {"recipient": p.name, "country": p.country, "safeguard": p.safeguard}
        for p in Processor.objects.filter(chain=chain, outside_eu=True)
    ]
    return out


def processing_register(*, chain: Chain) -> dict:
    """The register as plain data (JSON-ready); the page, Markdown and the command render it."""
    policy = chain.policy
    processors = [
        {
            "name": p.name,
            "service": p.service,
            "country": p.country,
            "outside_eu": p.outside_eu,
            "safeguard": p.safeguard,
            "agreement_signed_on": p.agreement_signed_on.isoformat() if p.agreement_signed_on else None,
        }
        for p in Processor.objects.filter(chain=chain)
    ]
    if settings.JUSTFACE_HOSTING:
        processors.insert(
            0,
            {
                "name": settings.JUSTFACE_HOSTING,
                "service": str(_("Hosting of Justface")),
                "country": "",
                "outside_eu": False,
                "safeguard": "",
                "agreement_signed_on": None,
            },
        )
    return {
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "controller": {
            "name": chain.name,
            "organisation_number": chain.organisation_number,
            "country": chain.country,
            "dpo_name": chain.dpo_name,
            "dpo_email": chain.dpo_email,
        },
        "activities": [
            {
                "key": a.key,
                "name": str(a.name),
                "purpose": str(a.purpose),
                "legal_basis": str(a.legal_basis),
                "special_category": a.special_category,
                "data_subjects": [str(s) for s in a.data_subjects],
                "data_categories": [str(d) for d in a.data_categories],
                "recipients": [str(r) for r in a.recipients],
                "retention_days": a.retention_days(policy),
                "retention_policy_key": a.retention_key,
                **({"retention_hours": a.retention_value(policy)} if a.retention_unit == "hours" else {}),
                "retention": a.retention_words(policy),
                "enforced_by": a.enforced_by,
            }
            for a in personal_data.activities()
        ],
        "processors": processors,
        "transfers_outside_eu": transfers(chain),
        "measures": [{**m, "title": str(m["title"]), "detail": str(m["detail"])} for m in measures()],
    }


def error_rates() -> dict:
    """The face model's measured error rates: docs/face-error-rates.json, which the team
    updates from `evaluate_faces` (the figures of docs/face-engine.md's SFace section)."""
    data = json.loads(ERROR_RATES_FILE.read_text())
    data["source_file"] = str(ERROR_RATES_FILE.relative_to(settings.BASE_DIR))
    # "../shared/faces/calib: 1,000 people..." names a folder on the team's machine: a person reads
    # what the set is, not where it lay.
    where, sep, what = data.get("data_set", "").partition(": ")
    if sep and "/" in where:
        data["data_set"] = what

    # The file is the team's, in English; its texts are in the catalogues (a new measurement's
    # new wording reads in English until translated: a browser test notices).
    def tr(text: str) -> str:
        return _(text) if text else text  # gettext("") is the catalogue's header

    data["data_set"], data["note"] = tr(data.get("data_set", "")), tr(data.get("note", ""))
    data["figures"] = [{**f, "what": tr(f["what"]), "value": tr(f["value"])} for f in data.get("figures", [])]
    data["model_in_use"] = settings.FACE_MODEL
    data["applies"] = data.get("model") == settings.FACE_MODEL
    return data


def dpia_facts(*, chain: Chain) -> dict:
    """The biometrics DPIA fact sheet: the starting point of the chain's own impact assessment."""
    policy = chain.policy
    face, photos = personal_data.activity("face"), personal_data.activity("door_photos")
    # Every special-category (biometric) activity the registry holds: a new one shows here too.
    special = [a for a in personal_data.activities() if a.special_category]
    return {
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "controller": {"name": chain.name, "dpo_email": chain.dpo_email},
        "what": [str(d) for a in special for d in a.data_categories]
        + [
            str(
                _("The member's photo is kept: %(kept)s (the chain's setting keep_member_photo).")
                % {"kept": _("yes") if policy.keep_member_photo else _("no")}
            )
        ],
        # The controller's words (the fact sheet is theirs), not the member notice's "you".
        "why": str(
            _(
                "Recognising members at the door by their face, only for members who gave their explicit "
                "consent; every member can use a PIN instead, at every door."
            )
        ),
        "legal_basis": str(face.legal_basis),
        "where": [str(s) for a in special for s in a.stored]
        + [
            str(
                _("In this installation's database and data folder (%(hosting)s).")
                % {"hosting": settings.JUSTFACE_HOSTING or _("hosting not named yet: set JUSTFACE_HOSTING")}
            )
        ],
        "how_long": {
            "face": face.retention_words(policy),
            "door_photos": photos.retention_words(policy),
            "face_retention_days": face.retention_days(policy),
            "door_photo_max_hours": policy.door_photo_max_hours,
        },
        "who_can_see": [
            str(_("Nobody sees a template: it is a list of numbers the door compares itself.")),
            str(
                _("%(role)s: the kept photo and door photos of members of their centres.")
                % {"role": Role.FRONT_DESK.label}
            ),
            str(
                _("%(role)s and %(dpo)s: the same for the whole chain; every look is audited.")
                % {"role": Role.MANAGER.label, "dpo": Role.DPO.label}
            ),
        ],
        "alternative": [
            str(
                _(
                    "A PIN works at every door, always, whatever the member's face consent; the tablet shows 'Use PIN instead' on every screen."
                )
            ),
            str(_("Shortest PIN: %(n)d digits (the chain's setting pin_min_length).") % {"n": policy.pin_min_length}),
            str(
                _(
                    "Consent is explicit and separate, withdrawn in one click; members under %(age)d need a guardian's confirmation."
                )
                % {"age": policy.minor_age}
            ),
        ],
        "error_rates": error_rates(),
        "measures": [{**m, "title": str(m["title"]), "detail": str(m["detail"])} for m in measures()],
    }


def record_export(*, chain: Chain, actor, what: str, fmt: str) -> None:
    audit.record(
        action=f"{what}.export",
        actor=actor,
        object_type="members.chain",
        object_id=chain.pk,
        chain_id=chain.pk,
        reason=fmt,
    )


def _cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def register_markdown(data: dict) -> str:
    c = data["controller"]
    lines = [
        f"# {_('Processing register (GDPR Art. 30)')}: {c['name']}",
        "",
        f"- {_('Controller')}: {c['name']} ({c['organisation_number']}, {c['country']})",
        f"- {_('Data protection officer')}: {c['dpo_name'] or '–'} <{c['dpo_email']}>",
        f"- {_('Generated')}: {data['generated_at']}",
        "",
    ]
    for a in data["activities"]:
        lines += [
            f"## {a['name']}",
            "",
            f"- **{_('Purpose')}**: {a['purpose']}",
            f"- **{_('Legal basis')}**: {a['legal_basis']}",
            f"- **{_('Data subjects')}**: {'; '.join(a['data_subjects'])}",
            f"- **{_('Data')}**: {'; '.join(a['data_categories'])}"
            + (f" ({_('special category, Art. 9')})" if a["special_category"] else ""),
            f"- **{_('Recipients')}**: {'; '.join(a['recipients'])}",
            f"- **{_('Retention')}**: {a['retention']}"
            + (
                f" (`{a['retention_policy_key']}` = {a.get('retention_hours', a['retention_days'])})"
                if a["retention_policy_key"]
                else ""
            ),
            f"- **{_('Enforced by')}**: `{a['enforced_by']}`",
            "",
        ]
    lines += [
        f"## {_('Processors and recipients')}",
        "",
        f"| {_('Name')} | {_('Service')} | {_('Country')} | {_('Outside the EU/EEA')} |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {_cell(p['name'])} | {_cell(p['service'])} | {p['country']} | {_('yes') if p['outside_eu'] else _('no')} |"
        for p in data["processors"]
    ]
    lines += ["", f"## {_('Transfers outside the EU/EEA')}", ""]
    lines += [
        f"- {t['recipient']}: {t['country']} ({t['safeguard'] or '–'})" for t in data["transfers_outside_eu"]
    ] or [f"- {_('None.')}"]
    lines += ["", f"## {_('Technical and organisational measures in force')}", ""]
    lines += [
        f"- **{m['title']}** ({_('in force') if m['in_force'] else _('NOT in force')}): {m['detail']}"
        for m in data["measures"]
    ]
    return "\n".join(lines) + "\n"
