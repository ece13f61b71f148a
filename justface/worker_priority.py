"""The background worker yields the CPU to the door: each django-q2 worker process lowers its own
priority as it starts (JUSTFACE_Q_IDLE, JUSTFACE_Q_NICE).

Linux decides at two levels. Between groups of processes (the service's cgroup under systemd, the
session's autogroup outside it, as with `make run`) only the group's weight counts; within a
group, each process's policy and nice value. So the worker sets what it may, none of which needs
privilege:
- the idle policy (SCHED_IDLE): it runs only on CPU time the door's processes in its group leave,
  and a door thread that wakes takes the CPU from it at once (a low nice value alone still makes
  the door wait for the worker's time slice to end, which is what the door's p95 felt);
- its nice value (where the idle policy is refused or off);
- its autogroup's nice value, when the session is the cluster's own (`make run` starts it with
  setsid); never the web server's.
Under systemd the unit's CPUWeight=idle does the group's part (deploy/systemd)."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

logger = logging.getLogger(__name__)

AUTOGROUP = Path("/proc/self/autogroup")


def lower(nice: int, *, idle: bool = False, session_marker: bytes = b"qcluster") -> None:
    """This process (and the threads it starts from now on) at `nice` at least and, with `idle`,
    on the idle policy; its autogroup at `nice` too when the session leader's command line holds
    `session_marker` (the session is the worker's own). Never raises: a worker that cannot lower
    itself still runs."""
    if idle and hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except OSError as error:
            logger.warning("worker priority: the idle policy was refused: %s", error)
    if nice <= 0:
        return
    try:
        if os.getpriority(os.PRIO_PROCESS, 0) < nice:
            os.setpriority(os.PRIO_PROCESS, 0, nice)
    except (AttributeError, OSError) as error:
        logger.warning("worker priority: nice %s refused: %s", nice, error)
    if _session_is(session_marker):
        _lower_autogroup(nice)


def on_idle_policy() -> bool:
    return hasattr(os, "SCHED_IDLE") and os.sched_getscheduler(0) == os.SCHED_IDLE


def autogroup_nice() -> int | None:
    """The autogroup's nice value ("/autogroup-85 nice 10"), or None without autogroups."""
    try:
        return int(AUTOGROUP.read_text().split()[-1])
    except (OSError, ValueError, IndexError):
        return None


def _session_is(marker: bytes) -> bool:
    try:
        return marker in Path(f"/proc/{os.getsid(0)}/cmdline").read_bytes()
    except OSError:
        return False


def _lower_autogroup(nice: int) -> None:
    current = autogroup_nice()
    if current is None or current >= nice:
        return
    for _attempt in range(3):  # the kernel takes one change per group every 100 ms (EAGAIN)
        try:
            AUTOGROUP.write_text(str(nice))
            return
        except BlockingIOError:
            time.sleep(0.11)
            if (autogroup_nice() or 0) >= nice:  # a sibling worker did it
                return
        except OSError as error:
            logger.warning("worker priority: autogroup nice %s refused: %s", nice, error)
            return
