"""The chain gallery in every process follows the database: a template removed in one process
can never match in another from the moment the removal commits, and one added matches at once."""

import base64
import os
import subprocess
import sys

import numpy as np
import pytest
from django.db import connection

from justface.face_runtime import get_engine
from members.faces import erase_biometrics, store_face_template
from members.gallery import identify
from tests.conftest import REPO, face_photo, make_member


def template_of(identity: str, n: int) -> np.ndarray:
    result = get_engine().analyse_enrollment(face_photo(identity, n))
    assert result.ok, result.reason
    return result.template


def enroll(member, identity: str, n: int = 1):
    return store_face_template(
        member=member, template=template_of(identity, n), model_name=get_engine().model, photo=None, actor=None
    )


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return f"sqlite:///{s['NAME']}"


def in_other_process(code: str) -> None:
    """Run `code` in a fresh Python process with Django set up on the same test database."""
    prelude = "import django; django.setup()\n"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test", "DATABASE_URL": database_url()}
    result = subprocess.run(
        [sys.executable, "-c", prelude + code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.django_db(transaction=True)
def test_removal_in_another_process_stops_matches_here(world):
    colin = make_member(world.chain_a, world.centre_a1)
    tony = make_member(world.chain_a, world.centre_a1)
    enroll(colin, "Colin_Powell")
    enroll(tony, "Tony_Blair")
    probe = template_of("Colin_Powell", 2)
    assert identify(chain_id=world.chain_a.pk, template=probe).member_id == colin.pk  # gallery now cached here

    in_other_process(
        "from members.models import Member; from members.faces import erase_biometrics\n"
        f"erase_biometrics(member=Member.objects.get(pk={colin.pk}), actor=None, reason='test')\n"
    )
    after = identify(chain_id=world.chain_a.pk, template=probe)
    assert after.member_id is None and not after.accepted
    assert after.best_member_id == tony.pk  # only Tony is left to compare with, and he is not Colin


@pytest.mark.django_db(transaction=True)
def test_template_added_in_another_process_matches_here_at_once(world):
    tony = make_member(world.chain_a, world.centre_a1)
    enroll(tony, "Tony_Blair")
    colin = make_member(world.chain_a, world.centre_a1)
    probe = template_of("Colin_Powell", 2)
    assert identify(chain_id=world.chain_a.pk, template=probe).member_id is None

    encoded = base64.b64encode(template_of("Colin_Powell", 1).tobytes()).decode()
    in_other_process(
        "import base64, numpy as np\nfrom members.models import Member\nfrom members.faces import store_face_template\n"
        f"t = np.frombuffer(base64.b64decode('{encoded}'), dtype=np.float32)\n"
        f"store_face_template(member=Member.objects.get(pk={colin.pk}), template=t, model_name='sface', "
        "photo=None, actor=None)\n"
    )
    assert identify(chain_id=world.chain_a.pk, template=probe).member_id == colin.pk


def test_another_chain_never_matches(world):
    colin_b = make_member(world.chain_b, world.centre_b1)
    enroll(colin_b, "Colin_Powell")
    probe = template_of("Colin_Powell", 2)
    assert identify(chain_id=world.chain_a.pk, template=probe).best_member_id is None
    assert identify(chain_id=world.chain_b.pk, template=probe).member_id == colin_b.pk


def test_a_member_keeps_the_newest_templates(world, settings):
    settings.FACE_TEMPLATES_PER_MEMBER = 2
    member = make_member(world.chain_a, world.centre_a1)
    first, second, third = (enroll(member, "Colin_Powell", n) for n in (1, 3, 4))
    assert set(member.face_templates.values_list("pk", flat=True)) == {second.pk, third.pk}
    assert identify(chain_id=world.chain_a.pk, template=template_of("Colin_Powell", 2)).member_id == member.pk


def test_erasure_receipt_and_audit(world):
    member = make_member(world.chain_a, world.centre_a1)
    enroll(member, "Colin_Powell")
    receipt = erase_biometrics(member=member, actor=world.user("manager_a"), reason="withdrawn")
    assert receipt["face_templates"] == 1 and receipt["member_photos"] == 0 and receipt["reason"] == "withdrawn"
    assert not member.face_templates.exists()
    from justface.models import AuditEntry

    assert AuditEntry.objects.filter(action="face.erase", object_id=str(member.pk)).count() == 1
