"""Signing a member in by e-mail and password, with the guessing limiter in front.

Member logins hold no personal data (username member-<id>, no e-mail): the e-mail typed is
looked up through the member's keyed e-mail hash."""

from __future__ import annotations

from enum import Enum

from django.contrib.auth import authenticate

from justface import throttle
from members.models import Member, email_hash


class LoginResult(Enum):
    OK = "ok"
    INVALID = "invalid"
    THROTTLED = "throttled"


def members_for_email(email: str) -> list[Member]:
    # The same address can be a member of several chains on one installation; newest first.
    # Former members keep their login: access and portability outlive the membership.
    return list(
        Member.objects.filter(email_hash=email_hash(email), user__isnull=False)
        .select_related("user")
        .order_by("-created_at")
    )


def authenticate_member(request, *, email: str, password: str) -> tuple[LoginResult, Member | None]:
    address = throttle.client_address(request)
    if throttle.blocked(throttle.LOGIN, identifier=email, address=address):
        return LoginResult.THROTTLED, None
    candidates = members_for_email(email)
    for member in candidates:
        user = authenticate(request, username=member.user.username, password=password)
        if user is not None:
            throttle.succeeded(throttle.LOGIN, identifier=email)
            member.user = user  # the instance the backend annotated, ready for login()
            return LoginResult.OK, member
    if not candidates:
        # Unknown e-mail: the backend still runs the hasher, so the answer takes as long as for a wrong password.
        authenticate(request, username="", password=password)
    throttle.failed(throttle.LOGIN, identifier=email, address=address)
    return LoginResult.INVALID, None
