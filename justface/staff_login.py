"""Staff sign in through the admin's login form only; this is that form, with the password
guessing limiter in front (justface.throttle: 5 failures per username, 30 per client address,
in 15 minutes). While a username or address is locked nothing is checked, not even the right
password. Each lock is an audit entry (ids only: never the username typed, it may be a name)."""

from __future__ import annotations

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import ngettext

from justface import audit, throttle
from justface.models import AuditEntry


class StaffAuthenticationForm(AdminAuthenticationForm):
    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = throttle.client_address(self.request)
        wait = throttle.retry_after(throttle.STAFF_LOGIN, identifier=username, address=address)
        if wait:
            raise self.too_many_attempts(wait)
        try:
            cleaned = super().clean()  # authenticates; refuses non-staff and inactive accounts too
        except ValidationError:
            for what in throttle.failed(throttle.STAFF_LOGIN, identifier=username, address=address):
                self._audit_lockout(username, what)
            raise
        throttle.succeeded(throttle.STAFF_LOGIN, identifier=username)
        return cleaned

    @staticmethod
    def too_many_attempts(seconds: int) -> ValidationError:
        n = throttle.minutes(seconds)
        return ValidationError(
            ngettext(
                "Too many attempts, try again in %(n)d minute.", "Too many attempts, try again in %(n)d minutes.", n
            ),
            code="throttled",
            params={"n": n},
        )

    @staticmethod
    def _audit_lockout(username: str, what: str) -> None:
        user = get_user_model()._default_manager.filter(username=username).first() if what == "identifier" else None
        role = getattr(user, "staff_role", None)
        audit.record(
            action="staff.login_lockout",
            actor_kind=AuditEntry.ActorKind.SYSTEM,
            object_type="justface.user" if user else "",
            object_id=user.pk if user else "",
            chain_id=getattr(role, "chain_id", None),
            reason=f"{what}: "
            f"{throttle.STAFF_LOGIN.per_identifier if what == 'identifier' else throttle.STAFF_LOGIN.per_address}"
            f" failed logins in 15 minutes" + ("" if user or what == "address" else " (no such account)"),
        )
