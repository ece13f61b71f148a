"""The background worker yields the CPU to the door: each django-q2 worker process lowers its own
priority as it starts (JUSTFACE_Q_NICE; 0 leaves it as it is).

Two knobs, because Linux weighs CPU time at two levels. Within a group of processes the nice value
decides; between groups (the session's autogroup when the worker runs outside systemd, as with
`make run`, or the service's cgroup under systemd) only the group's own weight counts, so a nice
worker in a session of its own would still take half the machine from the door. The worker sets
both that it may: its nice value and its autogroup's. Under systemd the unit's CPUWeight= does the
group's part (deploy/systemd). Raising a nice value needs no privilege; nothing here lowers one."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

logger = logging.getLogger(__name__)

AUTOGROUP = Path("/proc/self/autogroup")


def lower(nice: int) -> None:
    """This process (and the threads it starts from now on) at `nice` at least, and its autogroup
    too where the kernel has autogroups. Never raises: a worker that cannot lower itself runs."""
    if nice <= 0:
        return
    try:
        if os.getpriority(os.PRIO_PROCESS, 0) < nice:
            os.setpriority(os.PRIO_PROCESS, 0, nice)
    except (AttributeError, OSError) as error:
        logger.warning("worker priority: nice %s refused: %s", nice, error)
    _lower_autogroup(nice)


def autogroup_nice() -> int | None:
    """The autogroup's nice value ("/autogroup-85 nice 10"), or None without autogroups."""
    try:
        return int(AUTOGROUP.read_text().split()[-1])
    except (OSError, ValueError, IndexError):
        return None


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
