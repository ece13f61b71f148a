"""What a door decision ends in (a Verdict), what it is not (ChallengeIssued: the scan waits),
the features a tablet may declare, and the time limits every part of the decision shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from access.messages import Reason
from access.models import Challenge, Scan
from members.models import Member

# A scan still pending after this long was orphaned (its worker died): it is decided
# `unavailable`, so every scan ends with exactly one access event.
DECISION_TIMEOUT = timedelta(seconds=30)
# How long a face in the grey zone waits for the proposed member's PIN.
CONFIRM_WINDOW = timedelta(seconds=60)

# What a tablet may declare it handles: in its heartbeat (`supports`) or with a scan. A tablet
# that has not declared a feature never gets its status: where the door would ask a challenge or
# a grey-zone PIN of it, it gets a final refusal that offers the PIN pad (`use_pin`).
FEATURE_CHALLENGE, FEATURE_CONFIRM = "challenge", "confirm"
ALL_FEATURES = frozenset({FEATURE_CHALLENGE, FEATURE_CONFIRM})


@dataclass(frozen=True)
class Verdict:
    reason: Reason
    member: Member | None = None
    score: float | None = None
    margin: float | None = None
    # The access event's reason where staff must see more than the tablet may (a locked member
    # number is `pin_locked` for staff, `wrong_pin` at the door); None: the same as `reason`.
    recorded: Reason | None = None

    @property
    def granted(self) -> bool:
        """A member is let through (or checked out): the event names them, presence changes."""
        return self.reason is Reason.OK

    @property
    def status(self) -> str:
        # A neutral goodbye (check-out that names no one) is not a refusal: leaving is never refused.
        return Scan.Status.GRANTED if self.reason in (Reason.OK, Reason.GOODBYE) else Scan.Status.DENIED


@dataclass(frozen=True)
class ChallengeIssued:
    """Not a verdict: the scan waits (status `challenge`) for the answer to this challenge, and
    is decided when the burst comes or when the challenge expires."""

    challenge: Challenge


def reloaded(scan: Scan) -> Scan:
    """The scan as it stands now, with what a decision reads (its chain and member): after a
    compare-and-set found that another request or a sweeper decided it first."""
    return Scan.objects.select_related("centre__chain", "member").get(pk=scan.pk)
