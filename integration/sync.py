"""Members kept in step with the chain's membership system: create or update members by the
chain's own member id (the member number), one row or up to 10,000 at a time.

Every row is validated like the admin's member form (the model's field rules, the home centre
of the chain by slug, the end not before the start), checked against the exclusion list when it
creates a member, then all good rows are written together: one query finds the existing members
by the keyed hash of their number, new ones are inserted and changed ones updated in bulk, with
one audit entry per row that changed something (none for an unchanged row). A bad row is
answered with its field and message and never stops, or half-writes, the good ones: the rows are
checked before anything is written, and should the bulk write still fail (two requests creating
the same member at once) the batch is written again row by row, each in its own savepoint.

Ending a membership (status "ended" or an end date) is the same write as in the admin:
Member.refresh_ended_at stamps the day, and the retention job (retention.jobs.purge_due) erases
face data, PIN and at last the member on the chain's schedule, exactly as for an admin edit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from integration import feed
from justface import audit, crypto
from members.models import Centre, Chain, Exclusion, Member, email_hash, member_number_hash, name_birth_hash, phone_hash
from members.services import exclusion_warning

MAX_ROWS = 10_000
MAX_EXTERNAL_ID = 32  # Member.member_number

TEXT_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "address",
    "gender",
    "guardian_name",
    "guardian_email",
    "membership_type",
    "status",
)
DATE_FIELDS = ("birth_date", "start_date", "end_date")
FIELDS = (*TEXT_FIELDS, *DATE_FIELDS, "home_centre")
REQUIRED_ON_CREATE = ("first_name", "last_name", "home_centre")
NULLABLE_DATES = ("birth_date", "end_date")
# Written with every update, as Member.save() would (keyed hashes, the end stamp).
DERIVED = ("member_number_hash", "email_hash", "phone_hash", "name_index", "ended_at")


@dataclass
class Outcome:
    """What became of one row: created, updated, unchanged or error (with field and message)."""

    external_id: str
    outcome: str
    member_id: int | None = None
    changed: list[str] = field(default_factory=list)
    field: str | None = None
    message: str = ""
    warning: str = ""

    def as_dict(self) -> dict:
        answer = {"external_id": self.external_id, "outcome": self.outcome}
        if self.member_id is not None:
            answer["member_id"] = self.member_id
        if self.outcome == "updated":
            answer["changed"] = self.changed
        if self.outcome == "error":
            answer |= {"field": self.field, "message": self.message}
        if self.warning:
            answer["warning"] = self.warning
        return answer


class RowError(Exception):
    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def clean_external_id(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RowError("external_id", _("Give the member's id in your system (external_id) as text."))
    value = value.strip()
    if len(value) > MAX_EXTERNAL_ID or not value.isprintable() or "/" in value:
        raise RowError(
            "external_id",
            _("external_id must be at most %(n)d printable characters, without '/'.") % {"n": MAX_EXTERNAL_ID},
        )
    return value


def _parse_date(name: str, value) -> date | None:
    if value is None and name in NULLABLE_DATES:
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()) if len(value.strip()) == 10 else _bad_date(name)
        except ValueError:
            pass
    _bad_date(name)


def _bad_date(name: str):
    raise RowError(name, _("Give a date as YYYY-MM-DD."))


def _parse(name: str, value, centres: dict[str, Centre]):
    if name in DATE_FIELDS:
        return _parse_date(name, value)
    if name == "home_centre":
        if not isinstance(value, str) or value.strip() not in centres:
            raise RowError("home_centre", _("No centre of this chain has that slug."))
        return centres[value.strip()]
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RowError(name, _("Give this field as text."))
    return value.strip()


class _Plan:
    """The rows of one call, checked, with what each will write."""

    def __init__(self, chain: Chain):
        self.chain = chain
        self.outcomes: list[Outcome] = []
        self.creates: list[tuple[Outcome, Member, list[Exclusion]]] = []
        self.updates: list[tuple[Outcome, Member]] = []


def _apply(member: Member, values: dict) -> list[str]:
    """Set the values on the member; the names of the fields that changed."""
    changed = []
    for name, value in values.items():
        attr = "home_centre_id" if name == "home_centre" else name
        new = value.pk if name == "home_centre" else value
        if getattr(member, attr) != new:
            setattr(member, attr, new)
            if name == "home_centre":
                member.home_centre = value
            changed.append(name)
    return changed


def _validate(member: Member) -> None:
    """The admin form's rules that need no query: each field's own (length, choices, e-mail
    format, required), and the end not before the start (Member.clean)."""
    try:
        member.clean_fields(exclude=["chain", "home_centre", "user", *DERIVED])
    except ValidationError as error:
        name, messages = next(iter(error.message_dict.items()))
        raise RowError(name, " ".join(messages)) from None
    if member.end_date and member.start_date and member.end_date < member.start_date:
        raise RowError("end_date", _("The membership cannot end before it starts."))


class _Exclusions:
    """The chain's exclusions in force today, read once per call, matched by keyed hash."""

    def __init__(self, chain: Chain):
        today = timezone.localdate()
        self.rows = list(
            Exclusion.objects.filter(chain=chain, starts_on__lte=today)
            .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
            .only("pk", "chain_id", "ends_on", "member_number_hash", "email_hash", "phone_hash", "name_birth_hash")
            .order_by("pk")
        )

    def matching(self, member: Member) -> list[Exclusion]:
        if not self.rows:
            return []
        hashes = {("member_number_hash", member_number_hash(member.member_number))}
        if member.email:
            hashes.add(("email_hash", email_hash(member.email)))
        if member.phone:
            hashes.add(("phone_hash", phone_hash(member.phone)))
        if member.birth_date and (member.first_name or member.last_name):
            hashes.add(("name_birth_hash", name_birth_hash(member.first_name, member.last_name, member.birth_date)))
        return [e for e in self.rows if any(getattr(e, column) == value for column, value in hashes)]


def _plan(*, chain: Chain, rows: list[tuple[object, dict]]) -> _Plan:
    plan = _Plan(chain)
    centres = {c.slug: c for c in Centre.objects.filter(chain=chain)}
    parsed: list[tuple[Outcome, str, dict]] = []
    seen: set[str] = set()
    for raw_id, data in rows:
        outcome = Outcome(external_id=raw_id if isinstance(raw_id, str) else "", outcome="error")
        plan.outcomes.append(outcome)
        try:
            external_id = clean_external_id(raw_id)
            outcome.external_id = external_id
            if not isinstance(data, dict):
                raise RowError(None, _("Each member must be a JSON object."))
            unknown = sorted(set(data) - set(FIELDS) - {"external_id"})
            if unknown:
                raise RowError(unknown[0], _("Unknown field."))
            values = {name: _parse(name, data[name], centres) for name in FIELDS if name in data}
            key = member_number_hash(external_id)
            if key in seen:
                raise RowError("external_id", _("This external_id comes twice in the request."))
            seen.add(key)
        except RowError as error:
            outcome.field, outcome.message = error.field, error.message
            continue
        parsed.append((outcome, key, values))
    existing = _existing(chain, [key for _o, key, _v in parsed])
    exclusions = _Exclusions(chain) if any(key not in existing for _o, key, _v in parsed) else None
    for outcome, key, values in parsed:
        try:
            member = existing.get(key)
            if member is None:
                missing = [name for name in REQUIRED_ON_CREATE if not values.get(name)]
                if missing:
                    raise RowError(missing[0], _("This field is required for a new member."))
                member = Member(chain=chain, member_number=outcome.external_id)
                _apply(member, values)
                _validate(member)
                found = exclusions.matching(member)
                if found and chain.policy.exclusion_refuses_membership:
                    plan.creates.append((outcome, None, found))  # audited as a match, not written
                    raise RowError(None, exclusion_warning(found, refused=True))
                outcome.warning = exclusion_warning(found) if found else ""
                plan.creates.append((outcome, member, found))
            else:
                changed = _apply(member, values)
                _validate(member)
                outcome.member_id = member.pk
                if not changed:
                    outcome.outcome = "unchanged"
                    continue
                outcome.changed = changed
                plan.updates.append((outcome, member))
        except RowError as error:
            outcome.field, outcome.message = error.field, error.message
    return plan


def _existing(chain: Chain, keys: list[str]) -> dict[str, Member]:
    found: dict[str, Member] = {}
    for start in range(0, len(keys), 5000):
        chunk = keys[start : start + 5000]
        for member in Member.objects.filter(chain=chain, member_number_hash__in=chunk).select_related("home_centre"):
            found[member.member_number_hash] = member
    return found


# The derived columns a changed field moves (Member.refresh_lookup_hashes, refresh_ended_at).
DERIVED_BY = {
    "email": ("email_hash",),
    "phone": ("phone_hash",),
    "first_name": ("name_index",),
    "last_name": ("name_index",),
    "status": ("ended_at",),
}


def _update_rows(updates: list[tuple[Outcome, Member]]) -> None:
    """Write only the columns each row changed (and what they derive), so a staff member's edit of
    another field at the same moment is not overwritten with what was read; rows that changed the
    same fields go in one batch (executemany). Not QuerySet.bulk_update: its CASE expression
    reaches the encrypted fields, which would encrypt the expression's text instead of the value."""
    now = timezone.now()
    groups: dict[tuple[str, ...], list[Member]] = {}
    for outcome, member in updates:
        names = {*outcome.changed, *(d for n in outcome.changed for d in DERIVED_BY.get(n, ()))}
        member.updated_at = now
        groups.setdefault(tuple(sorted(names)) + ("updated_at",), []).append(member)
    table = connection.ops.quote_name(Member._meta.db_table)
    for names, members in groups.items():
        fields = [Member._meta.get_field(n) for n in names]
        assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
        params = [[f.get_db_prep_save(getattr(m, f.attname), connection) for f in fields] + [m.pk] for m in members]
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", params)


def _write(plan: _Plan, *, actor, how: str) -> None:
    """Insert and update in bulk, with the audit entries and the member feed's marks."""
    chain = plan.chain
    creates = [(o, m) for o, m, _found in plan.creates if m is not None]
    for _outcome, member in creates:
        member.refresh_lookup_hashes()
        member.refresh_ended_at()
    for _outcome, member in plan.updates:
        member.refresh_lookup_hashes()
        member.refresh_ended_at()
    Member.objects.bulk_create([m for _o, m in creates], batch_size=1000)
    _update_rows(plan.updates)
    rows = []
    for outcome, member, found in plan.creates:
        for exclusion in found:
            reason = f"create; member {member.pk if member else 'new'}; {how}"
            rows.append(("exclusion.match", "members.exclusion", exclusion.pk, reason))
    for outcome, member in creates:
        outcome.outcome, outcome.member_id = "created", member.pk
        rows.append(("member.add", "members.member", member.pk, how))
    for outcome, member in plan.updates:
        outcome.outcome = "updated"
        rows.append(("member.change", "members.member", member.pk, f"{how}; fields: {', '.join(outcome.changed)}"))
    audit.record_rows(actor=actor, rows=rows, chain_id=chain.pk)
    feed.mark_members_changed(chain_id=chain.pk, member_ids=[m.pk for _o, m in creates + plan.updates])


def _write_one_by_one(plan: _Plan, *, actor, how: str) -> None:
    """The bulk write failed (a member created by someone else meanwhile): each row alone, in
    its own savepoint, so the others still land and the failed one is answered as an error."""
    for outcome, member, found in list(plan.creates):
        if member is None:
            continue
        member.pk = None
        single = _Plan(plan.chain)
        single.creates = [(outcome, member, found)]
        _try_single(single, outcome, actor=actor, how=how)
    for outcome, member in plan.updates:
        single = _Plan(plan.chain)
        single.updates = [(outcome, member)]
        _try_single(single, outcome, actor=actor, how=how)


def _try_single(single: _Plan, outcome: Outcome, *, actor, how: str) -> None:
    try:
        with transaction.atomic():
            _write(single, actor=actor, how=how)
    except IntegrityError:
        outcome.outcome, outcome.member_id = "error", None
        outcome.field = "external_id"
        outcome.message = _("Another request wrote this member at the same time; send it again.")


def upsert_members(*, chain: Chain, rows: list[tuple[object, dict]], actor, how: str = "integration") -> list[Outcome]:
    """Create or update up to MAX_ROWS members of `chain`: `rows` are (external id, fields)
    pairs; returns one Outcome per row, in order. `how` goes into each audit entry's reason
    ("integration key #3", "import"); `actor` is the integration key or the staff login."""
    if len(rows) > MAX_ROWS:
        raise ValidationError(_("At most %(n)d members in one request.") % {"n": MAX_ROWS}, code="too_many")
    plan = _plan(chain=chain, rows=rows)
    if not plan.creates and not plan.updates:
        return plan.outcomes
    try:
        with transaction.atomic():
            _write(plan, actor=actor, how=how)
    except IntegrityError:
        for outcome, member, _found in plan.creates:
            if member is not None:
                member.pk = None
        with transaction.atomic():
            _write_one_by_one(plan, actor=actor, how=how)
    return plan.outcomes


def upsert_member(*, chain: Chain, external_id: str, data: dict, actor, how: str = "integration") -> Outcome:
    """Create or update one member by the chain's own id; the same data twice changes nothing
    the second time and writes no audit entry."""
    data = {k: v for k, v in data.items() if k != "external_id"} if isinstance(data, dict) else data
    return upsert_members(chain=chain, rows=[(external_id, data)], actor=actor, how=how)[0]


def normalised_external_id(value: str) -> str:
    """How external ids compare (case and surrounding spaces ignored), as member numbers do."""
    return crypto.normalise_member_number(value)
