"""The personal-data registry: everything the project holds about a member, declared once per
category by the app that holds it, and read by every flow that must cover all of it.

Each app declares its categories in its own `<app>/personal_data.py` (imported by the app's
AppConfig.ready) with one `register(PersonalData(...))` per category, in the shape of Sentry's
`deletions` registry:

* `activities`: the processing activities (GDPR Art. 30) the category serves: purpose, legal
  basis, data subjects, recipients and the retention period as a key of the chain's policy;
* `tables`: the retention rule of each table (or column) that holds the category;
* `held_about(member)`: the category as the member's "my data" page and the export show it;
* `erase(member, actor=, reason=)`: erase the category for a whole member's erasure, returning the
  receipt's lines (each `ReceiptLine` carries its own translated label) with their counts;
  `biometric=True` marks a category that is also erased alone when the member withdraws face
  consent or deletes their face (members.faces.erase_biometrics);
* `order`: its place in the erasure: biometrics first, the member's own row last.

The readers loop over the registry: the export and the "my data" page (`held_about`), the
erasure (``erase_member`` here, members.faces.erase_biometrics), the erasure receipt
(`receipt_labels`), the processing register and the DPIA sheet (`activity`, `activities`), the
retention table of docs/retention.md (`retention_table`). A test checks that every model holding
a member's data is in some category's `tables` or declared `not_personal` with a reason.

This module sits in the bottom layer and imports no app: a category's functions receive the
member (members.Member) and a policy (members.policy.ChainPolicy) as plain objects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

# Who the data is about.
MEMBERS = _("Members (and guardians of members under the chain's minor age)")
STAFF = _("Staff of the chain")
VISITORS = _("People at the door (members and anyone who stands in front of the tablet)")

# Who receives it inside the controller, and the processors (the chain's own list: retention.Processor).
CENTRE_STAFF = _("Staff of the member's centres, by role (front desk: their centres only)")
DPO_MANAGERS = _("The chain's managers and data protection officer")
HOSTING = _("The hosting provider running Justface (processor)")

# The job that erases what goes "with the member" (named in the register and the retention table).
MEMBER_ERASURE = "retention.jobs.purge_due → ErasureJob kind 'member' (retention.services.erase_member)"


def days_after_end(days: int) -> str:
    if days == 0:
        return str(_("Deleted when the membership ends."))
    return ngettext(
        "Kept until %(days)d day after the membership ends.",
        "Kept until %(days)d days after the membership ends.",
        days,
    ) % {"days": days}


def after_end(policy) -> str:
    """The period of everything that goes with the member (checkins_retention_days)."""
    return days_after_end(policy.checkins_retention_days)


@dataclass(frozen=True)
class Activity:
    """A processing activity (GDPR Art. 30), as the register, the DPIA sheet and the member's
    notices state it."""

    key: str
    name: Promise
    purpose: Promise
    legal_basis: Promise
    data_subjects: tuple[Promise, ...]
    data_categories: tuple[Promise, ...]
    recipients: tuple[Promise, ...]
    # The ChainPolicy field that sets the period, and its unit; None: no period in the policy.
    retention_key: str | None
    retention_words: Callable[[Any], str]  # ChainPolicy -> the sentence the member reads
    # The job or service that deletes the data when the period is over (named in the register).
    enforced_by: str
    retention_unit: str = "days"
    special_category: bool = False
    stored: tuple[Promise, ...] = field(default=())  # where and how (encrypted columns, private files)

    def retention_value(self, policy) -> int | None:
        return getattr(policy, self.retention_key) if self.retention_key else None

    def retention_days(self, policy) -> int | None:
        """The period in days (a period in hours counts as 0 whole days); None: no period."""
        value = self.retention_value(policy)
        if value is None:
            return None
        return value if self.retention_unit == "days" else value // 24

    def notice(self, policy) -> dict:
        """What the member's "my data" page says about this activity."""
        return {"purpose": self.purpose, "legal_basis": self.legal_basis, "retention": self.retention_words(policy)}


@dataclass(frozen=True)
class Rule:
    """One row of the retention table: a table (or a column of one) and how long it is kept."""

    table: str  # model label, or a column of one ("members.Member.pin_hash"), or "label (which rows)"
    category: str
    activity: str  # the activity whose notice tells the member
    period: str  # how long, naming the ChainPolicy key in `backticks` (its default follows)
    job: str

    @property
    def model(self) -> str:
        app_label, model = self.table.split(" ")[0].split(".")[:2]
        return f"{app_label}.{model}"


@dataclass(frozen=True)
class Category:
    """One kind of data held, as the member's "my data" page and the export show it: what it is,
    why, on what legal basis, how long, and the data."""

    key: str  # file name in the export
    title: str
    purpose: str
    legal_basis: str
    retention: str
    data: Any  # JSON-ready
    labels: dict[str, str] = field(default_factory=dict)  # data key -> heading on the access page
    photos: tuple[str, ...] = field(default=())  # justface.private_files names, exported as images
    # For the access page only (the export keeps the codes): data key -> justface.display kind of
    # its codes, and the keys shown folded under "Details" (fingerprints, browsers, addresses).
    codes: dict[str, str] = field(default_factory=dict)
    details: tuple[str, ...] = field(default=())
    order: int = 0  # place on the page and in the export


@dataclass(frozen=True)
class ReceiptLine:
    """One line of an erasure's receipt: its key in the stored receipt and its label."""

    key: str
    label: Promise


Erased = dict[ReceiptLine, "int | bool"]


@dataclass(frozen=True)
class PersonalData:
    """One category of personal data and everything the project does with it."""

    key: str
    order: int  # place in the erasure (biometrics first, the member's own row last) and in the register
    activities: tuple[Activity, ...] = ()
    tables: tuple[Rule, ...] = ()
    held_about: Callable[[Any], list[Category]] | None = None  # Member -> what the member sees and exports
    erase: Callable[..., Erased] | None = None  # (member, *, actor, reason) -> counts per receipt line
    receipt: tuple[ReceiptLine, ...] = ()  # every line `erase` may return, in the receipt's order
    biometric: bool = False  # also erased alone (withdrawn face consent, a deleted face)


# Added by the erasure of a request after the erasure itself (retention.services).
CONFIRMATION_SENT = ReceiptLine("confirmation_sent", _("Confirmation e-mailed"))

_registry: dict[str, PersonalData] = {}
_not_personal: dict[str, str] = {}


def register(entry: PersonalData) -> PersonalData:
    if entry.key in _registry and _registry[entry.key] != entry:
        raise ValueError(f"personal data category {entry.key!r} is registered twice")
    keys = {a.key for a in activities()}
    if any(a.key in keys and a is not activity(a.key) for a in entry.activities):
        raise ValueError(f"an activity of {entry.key!r} is already declared by another category")
    _registry[entry.key] = entry
    return entry


def unregister(key: str) -> None:
    """For tests that register a throw-away category."""
    _registry.pop(key, None)


def declare_not_personal(label: str, why: str) -> None:
    """A table of the project that holds nothing about a person, and why."""
    _not_personal[label] = why


def registered() -> list[PersonalData]:
    """Every category, in its order (biometrics first, the member's own row last)."""
    return sorted(_registry.values(), key=lambda entry: entry.order)


def not_personal() -> dict[str, str]:
    return dict(_not_personal)


def activities() -> list[Activity]:
    return [a for entry in registered() for a in entry.activities]


def activity(key: str) -> Activity:
    for a in activities():
        if a.key == key:
            return a
    raise KeyError(f"no processing activity {key!r} is registered (justface.personal_data)")


def rules() -> list[Rule]:
    return [rule for entry in registered() for rule in entry.tables]


def held_about(member) -> list[Category]:
    """Everything held about the member, category by category, in the page's order."""
    held = [c for entry in registered() if entry.held_about for c in entry.held_about(member)]
    return sorted(held, key=lambda c: c.order)


def counts(erased: Erased) -> dict[str, int | bool]:
    """A receipt's lines as stored: key -> count."""
    return {line.key: value for line, value in erased.items()}


def checked(entry: PersonalData, erased: Erased) -> Erased:
    """What a category's eraser returned, refused if it has a line the category did not declare
    (the receipt would show a raw key)."""
    undeclared = [line.key for line in erased if line not in entry.receipt]
    if undeclared:
        raise ValueError(f"{entry.key!r} erased {undeclared} without declaring them in its receipt lines")
    return erased


def lines(declared: tuple[ReceiptLine, ...], counted: dict[str, int | bool]) -> Erased:
    """A service's counts (key -> count) as the receipt lines a category declared."""
    by_key = {line.key: line for line in declared}
    return {by_key[key]: value for key, value in counted.items()}


def receipt_labels() -> dict[str, Promise]:
    """Every line an erasure's receipt may hold (key -> label), in the registry's order."""
    lines = [line for entry in registered() for line in entry.receipt] + [CONFIRMATION_SENT]
    return {line.key: line.label for line in lines}


def retention_table() -> str:
    """The Markdown table of docs/retention.md (`python manage.py retention_table`)."""
    lines = ["| category | table | kept (policy key, default) | enforced by |", "|---|---|---|---|"]
    lines += [f"| {r.category} | `{r.table}` | {r.period} | {r.job} |" for r in rules()]
    lines += [
        "",
        "¹ The membership ends on its end date; without one, on the day staff set the status to ended "
        "(`Member.ended_at`: later edits do not move it). Counted in whole days: kept through the last day "
        "of the period, deleted the day after.",
        "",
        "Tables that hold no personal data:",
        "",
    ]
    lines += [f"* `{table}`: {why}." for table, why in _not_personal.items()]
    return "\n".join(lines) + "\n"


def undeclared_models(models, member_model) -> list[str]:
    """What is missing for each model of `models` that holds data about a member (a foreign key or
    one-to-one to `member_model`, or named in a retention rule) or is a project table at all:
    a registered category's retention rule, or a reason in declare_not_personal. One sentence each,
    saying what to add."""
    declared = {rule.model for rule in rules()}
    problems = []
    for model in models:
        label = model._meta.label
        if label in declared or label in _not_personal:
            continue
        to_member = [
            f.name
            for f in model._meta.get_fields()
            if getattr(f, "related_model", None) is member_model and (f.many_to_one or f.one_to_one) and f.concrete
        ]
        if to_member:
            problems.append(
                f"{label} holds a member's data (field {', '.join(to_member)}) but no category registers it: add "
                f'Rule("{label}", ...) to the `tables` of a register(PersonalData(...)) in '
                f"{model._meta.app_label}/personal_data.py (with its held_about and erase)"
            )
        else:
            problems.append(
                f"{label} is neither in a registered category's `tables` nor declared not personal: add "
                f'Rule("{label}", ...) to a register(PersonalData(...)) in {model._meta.app_label}/personal_data.py, '
                f'or declare_not_personal("{label}", "why it holds nothing about a person") there'
            )
    return problems


def policy_key(name: str, defaults) -> str:
    """A policy key as the retention table names it: `key` (its default)."""
    return f"`{name}` ({getattr(defaults, name)})"


def erase_member(*, member, actor, reason: str) -> dict:
    """Erase the member and everything about them, in one transaction: every category of the
    registry, each erased by the app that holds it, in the registry's order: the biometrics first
    (face templates and photos, so every worker's gallery drops them, then door photos), then
    check-ins, visits and scans (access), consents (consent), and last the member's own records,
    the member and their login (members). Check-ins stay, without the member, as the anonymous
    counts the statistics use; data-subject requests stay, without the member and their words,
    as proof; exclusions stay until the quarantine ends. The receipt counts every line each
    category declared (ids and counts only). Callers: a data-subject request's erasure
    (members.services.carry_out_erasure_request), the retention job and the operator's command
    (retention.services)."""
    from justface import audit  # it loads justface.models: this module is imported before the app registry

    with transaction.atomic():
        member = type(member).objects.select_for_update().get(pk=member.pk)
        member_id, chain_id = member.pk, member.chain_id
        receipt: dict = {"erased_at": timezone.now().isoformat(), "reason": reason}
        for category in registered():
            if category.erase is not None:
                receipt |= counts(checked(category, category.erase(member, actor=actor, reason=reason)))
        audit.record(
            action="member.erase",
            actor=actor,
            object_type="members.member",
            object_id=member_id,
            chain_id=chain_id,
            reason=reason,
        )
    return {**receipt, "member_id": member_id}
