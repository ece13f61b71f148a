"""A change reaches each process as a step naming the members changed: the process re-reads only
them, shares one snapshot file per machine, and folds its changes into a new one in time."""

import datetime as dt
import time

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from members import gallery
from members.faces import erase_biometrics
from members.gallery import gallery_for, identify, node_store
from members.models import GalleryChange
from retention.jobs import purge_due
from tests.conftest import make_member
from tests.members.test_gallery import enroll, in_other_process, template_of


def entry_of(chain):
    # By id and creation time: SQLite hands a rolled-back chain's id to the next test's chain.
    created = type(chain).objects.get(pk=chain.pk).created_at
    return next(
        e for (c, made, *_), e in gallery._galleries.items() if (c, made) == (chain.pk, created) and not e.unless_model
    )


def test_every_change_is_a_step_naming_its_member(world):
    colin = make_member(world.chain_a, world.centre_a1)
    start = world.chain_a.__class__.objects.get(pk=world.chain_a.pk).gallery_version
    enroll(colin, "Colin_Powell")
    erase_biometrics(member=colin, actor=None, reason="test")
    steps = list(
        GalleryChange.objects.filter(chain=world.chain_a).order_by("version").values_list("version", "member_id")
    )
    assert steps == [(start + 1, colin.pk), (start + 2, colin.pk)]


def test_a_change_rereads_only_the_members_it_names(world):
    members = [make_member(world.chain_a, world.centre_a1) for _ in range(3)]
    for member, name in zip(members, ("Tony_Blair", "Gerhard_Schroeder", "Ariel_Sharon")):
        enroll(member, name)
    probe = template_of("Colin_Powell", 2)
    identify(chain_id=world.chain_a.pk, template=probe)  # the gallery is loaded here
    colin = make_member(world.chain_a, world.centre_a1)
    enroll(colin, "Colin_Powell")

    with CaptureQueriesContext(connection) as queries:
        found = identify(chain_id=world.chain_a.pk, template=probe)
    assert found.member_id == colin.pk
    reads = [q["sql"] for q in queries.captured_queries if '"members_facetemplate"' in q["sql"]]
    assert len(reads) == 1 and f"IN ({colin.pk})" in reads[0]  # Colin's templates, nobody else's
    assert entry_of(world.chain_a).view.pending == 1


def test_without_the_steps_the_gallery_is_read_whole_and_still_right(world):
    colin, tony = make_member(world.chain_a, world.centre_a1), make_member(world.chain_a, world.centre_a1)
    enroll(colin, "Colin_Powell")
    probe = template_of("Colin_Powell", 2)
    assert identify(chain_id=world.chain_a.pk, template=probe).member_id == colin.pk
    enroll(tony, "Tony_Blair")
    erase_biometrics(member=colin, actor=None, reason="test")
    GalleryChange.objects.filter(chain=world.chain_a).delete()  # purged: the process cannot replay
    after = identify(chain_id=world.chain_a.pk, template=probe)
    assert after.member_id is None and after.best_member_id == tony.pk


def test_purge_keeps_steps_two_days(world):
    make_member_with_template = make_member(world.chain_a, world.centre_a1)
    enroll(make_member_with_template, "Colin_Powell")
    step = GalleryChange.objects.filter(chain=world.chain_a).latest("version")
    now = timezone.now()
    GalleryChange.objects.filter(pk=step.pk).update(created_at=now - dt.timedelta(days=2) + dt.timedelta(minutes=1))
    assert purge_due(at=now)["gallery_changes_deleted"] == 0
    assert purge_due(at=now + dt.timedelta(minutes=2))["gallery_changes_deleted"] == 1


@pytest.mark.django_db(transaction=True)
def test_processes_of_a_machine_share_one_snapshot(world):
    colin = make_member(world.chain_a, world.centre_a1)
    enroll(colin, "Colin_Powell")
    in_other_process(  # the other process builds the machine's snapshot ...
        "from members.gallery import identify; from tests.members.test_gallery import template_of\n"
        f"assert identify(chain_id={world.chain_a.pk}, "
        f"template=template_of('Colin_Powell', 2)).member_id == {colin.pk}\n"
    )
    key = gallery._ChainGallery(world.chain_a.pk, world.chain_a.created_at, "sface", "").key
    written = node_store().versions(key)
    assert len(written) == 1
    view = gallery_for(world.chain_a.pk)  # ... and this one maps it rather than reading the database
    assert view.version == written[0] and view.base.index.ntotal == 1
    assert identify(chain_id=world.chain_a.pk, template=template_of("Colin_Powell", 2)).member_id == colin.pk


@pytest.mark.django_db(transaction=True)
def test_changes_are_folded_into_a_new_snapshot_without_the_erased(world, settings):
    settings.GALLERY_COMPACT_CHANGES = 2
    colin, tony, gerhard = (make_member(world.chain_a, world.centre_a1) for _ in range(3))
    enroll(colin, "Colin_Powell")
    probe = template_of("Colin_Powell", 2)
    assert identify(chain_id=world.chain_a.pk, template=probe).member_id == colin.pk
    entry = entry_of(world.chain_a)
    first = entry.view.version
    erase_biometrics(member=colin, actor=None, reason="test")
    enroll(tony, "Tony_Blair")
    assert identify(chain_id=world.chain_a.pk, template=probe).member_id is None  # 2 pending: folding starts
    for _ in range(200):
        if not entry.compacting:
            break
        time.sleep(0.05)
    enroll(gerhard, "Gerhard_Schroeder")  # a step after the fold began is replayed on top of it
    after = identify(chain_id=world.chain_a.pk, template=probe)
    assert after.member_id is None and after.best_member_id in (tony.pk, gerhard.pk)
    view = entry.view
    assert view.version > first and view.pending == 1
    assert colin.pk not in np.asarray(view.base.ids).tolist()  # gone from the machine's file too
    assert node_store().versions(entry.key) == [view.version]  # the older file is unlinked


@pytest.mark.django_db(transaction=True)
def test_old_changes_are_folded_even_when_few(world, settings):
    settings.GALLERY_COMPACT_SECONDS = 0
    colin = make_member(world.chain_a, world.centre_a1)
    probe = template_of("Colin_Powell", 2)
    identify(chain_id=world.chain_a.pk, template=probe)
    enroll(colin, "Colin_Powell")
    identify(chain_id=world.chain_a.pk, template=probe)
    entry = entry_of(world.chain_a)
    for _ in range(200):
        if entry.folded is not None or not entry.compacting:
            break
        time.sleep(0.05)
    assert identify(chain_id=world.chain_a.pk, template=probe).member_id == colin.pk
    assert entry.view.pending == 0 and colin.pk in np.asarray(entry.view.base.ids).tolist()
