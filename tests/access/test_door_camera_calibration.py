"""Per-door liveness calibration: a door learns its camera slowly from entries that passed the
challenge, an attacker feeding the door cannot move it beyond its bound, a manager's reset, and the
staff page that shows each door's calibration."""

from __future__ import annotations

import numpy as np
import pytest

from access import liveness as door_liveness
from access.models import AccessEvent, Door
from justface.face.liveness import DEFAULT_REFERENCE, FLOOR_REFERENCE, Cues, reference_quantile
from tests.conftest import make_member


def _entries(world, door, cues, *, challenged: bool, members=None):
    """Granted face check-ins at ``door`` as the door decision records them (cues only)."""
    members = members or [make_member(world.chain_a, world.centre_a1) for _ in range(len(cues))]
    for i, c in enumerate(cues):
        AccessEvent.objects.create(
            centre=world.centre_a1,
            door=door,
            member=members[i % len(members)],
            method="face",
            direction="in",
            decision="granted",
            reason="ok",
            liveness_layer="challenge" if challenged else "passive",
            liveness_score=c.p_real,
            liveness_detail={"mode": "challenge_in_doubt", "cues": c.as_record()},
        )


def _cues(v2: float, fft: float) -> Cues:
    return Cues(float(1 / (1 + np.exp(-v2))), fft)


def test_a_door_learns_its_camera_slowly_from_challenge_passed_entries(world, tablet_a):
    door = Door.objects.get(pk=tablet_a.device.door_id)
    rng = np.random.default_rng(0)
    honest = [_cues(v, f) for v, f in zip(rng.normal(4.0, 1.5, 60), rng.normal(-2.6, 0.15, 60))]
    _entries(world, door, honest[:40], challenged=True)
    assert door_liveness.recalibrate(door) == DEFAULT_REFERENCE  # fewer than min_entries: no move
    _entries(world, door, honest[40:], challenged=True)
    first = door_liveness.recalibrate(door)
    rules = door_liveness.CALIBRATION
    assert first.v2 == pytest.approx(DEFAULT_REFERENCE.v2 - rules.step_v2)  # one step at a time
    for _ in range(40):
        ref = door_liveness.recalibrate(door)
    assert ref.v2 == pytest.approx(reference_quantile([c.v2 for c in honest]), abs=1e-3)
    assert ref.fft == pytest.approx(reference_quantile([c.fft for c in honest]), abs=1e-3)
    door.refresh_from_db()
    assert door.liveness_calibrated_at is not None and door.liveness_stats["entries"] == 60
    assert sum(door.liveness_stats["histogram"]) == 60


def test_an_attacker_feeding_the_door_cannot_move_it_beyond_its_bound(world, tablet_a):
    door = Door.objects.get(pk=tablet_a.device.door_id)
    rng = np.random.default_rng(1)
    honest = [_cues(v, f) for v, f in zip(rng.normal(4.0, 1.0, 60), rng.normal(-2.6, 0.1, 60))]
    _entries(world, door, honest, challenged=True)
    for _ in range(40):
        before = door_liveness.recalibrate(door)
    # One member passes the challenge 100 times with frames far below anything live here...
    attacker = make_member(world.chain_a, world.centre_a1)
    _entries(world, door, [_cues(-8.0, -4.5)] * 100, challenged=True, members=[attacker])
    # ...and frames that were never challenged are never taken as live samples.
    _entries(world, door, [_cues(-8.0, -4.5)] * 100, challenged=False, members=[attacker])
    after = door_liveness.recalibrate(door)
    rules = door_liveness.CALIBRATION
    assert before.v2 - after.v2 <= rules.step_v2 + 1e-9 and before.fft - after.fft <= rules.step_fft + 1e-9
    for _ in range(40):
        after = door_liveness.recalibrate(door)
    bounded = honest + [_cues(-8.0, -4.5)] * rules.member_share  # their share: member_share entries
    assert after.v2 >= reference_quantile([c.v2 for c in bounded]) - 1e-9
    assert after.v2 >= FLOOR_REFERENCE.v2 and after.fft >= FLOOR_REFERENCE.fft


def test_reset_restores_the_default_and_forgets_earlier_entries(world, tablet_a, login):
    door = Door.objects.get(pk=tablet_a.device.door_id)
    _entries(world, door, [_cues(2.0, -2.7)] * 60, challenged=True)
    for _ in range(30):
        door_liveness.recalibrate(door)
    assert door_liveness.door_reference(door) != DEFAULT_REFERENCE
    response = login("manager_a").post(
        "/admin/access/door/", {"action": "reset_liveness", "_selected_action": [door.pk]}, follow=True
    )
    assert response.status_code == 200
    door.refresh_from_db()
    assert door_liveness.door_reference(door) == DEFAULT_REFERENCE and door.liveness_calibrated_at is None
    assert door_liveness.recalibrate(door) == DEFAULT_REFERENCE  # the old entries no longer count


def test_staff_page_shows_each_doors_calibration(world, tablet_a, login):
    door = Door.objects.get(pk=tablet_a.device.door_id)
    _entries(world, door, [_cues(2.0, -2.7)] * 60, challenged=True)
    door_liveness.recalibrate(door)
    page = login("manager_a").get("/staff/liveness/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Main entrance" in text and "100%" in text  # every entry here was challenged
    assert "Last calibrated" in text or "Senest kalibreret" in text
    other = login("manager_b").get("/staff/liveness/").content.decode()
    assert "Main entrance" not in other
    assert "/staff/liveness/" in login("manager_a").get("/staff/").content.decode()  # linked from the desk
