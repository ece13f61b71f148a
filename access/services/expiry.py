"""Scans nobody finished: a pending scan whose worker died, a grey-zone face whose PIN never
came, a challenge nobody answered. Each is decided (one access event per scan), on the next
look at it or by the sweeper."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from access.messages import Reason
from access.models import Challenge, Method, Scan
from access.services.challenges import expire_challenge, expire_stale_challenges
from access.services.decision import decide
from access.services.verdicts import CONFIRM_WINDOW, DECISION_TIMEOUT, Verdict


def expire_scan_if_stale(scan: Scan, *, at: datetime | None = None) -> Scan:
    at = at or timezone.now()
    if scan.status == Scan.Status.CHALLENGE and Challenge.objects.filter(scan=scan, expires_at__lte=at).exists():
        return expire_challenge(scan)
    # A grey-zone scan whose PIN is being checked is pending again: its clock runs from the window.
    timeout = DECISION_TIMEOUT + (CONFIRM_WINDOW if scan.method == Method.FACE_PIN else timedelta(0))
    if scan.status == Scan.Status.PENDING and scan.created_at <= at - timeout:
        return decide(scan, Verdict(Reason.UNAVAILABLE))
    if scan.status == Scan.Status.CONFIRM and scan.created_at <= at - CONFIRM_WINDOW:
        return decide(scan, Verdict(Reason.NOT_CONFIRMED, score=scan.score, margin=scan.margin))
    return scan


def expire_stale_scans(*, at: datetime | None = None) -> int:
    at = at or timezone.now()
    stale = Scan.objects.select_related("centre__chain", "member").filter(
        Q(status=Scan.Status.PENDING, created_at__lte=at - DECISION_TIMEOUT)
        | Q(status=Scan.Status.CONFIRM, created_at__lte=at - CONFIRM_WINDOW)
    )
    expired = sum(
        1 for scan in stale if expire_scan_if_stale(scan, at=at).reason in (Reason.UNAVAILABLE, Reason.NOT_CONFIRMED)
    )
    return expired + expire_stale_challenges(at=at)  # challenges nobody answered: liveness_failed
