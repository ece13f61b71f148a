"""Every list filter of every registered admin offers only what the user may see (an outside probe found
the "By centre" filter of device tokens, a `door__centre` path, listed every chain's centres).

Walks admin.site._registry, so an admin or filter added later is checked too."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from access.models import AccessEvent, DeviceToken, Door, Visit
from consent.models import ConsentDocument, ConsentRecord
from members.models import DataSubjectRequest
from tests.conftest import make_member

FILTERS = re.compile(r'<nav id="changelist-filter".*?</nav>', re.S)


def furnish(world) -> None:
    """Rows behind every filter, in every centre, with names that say whose they are."""
    now = timezone.now()
    for centre in (world.centre_a1, world.centre_a2, world.centre_b1):
        door = Door.objects.create(centre=centre, name=f"Door {centre.slug}")
        DeviceToken.objects.create(
            door=door, label=f"Tablet {centre.slug}", token_hash=hashlib.sha256(centre.slug.encode()).hexdigest()
        )
        member = make_member(centre.chain, centre)
        AccessEvent.objects.create(
            centre=centre, door=door, member=member, method="pin", decision="granted", reason="ok"
        )
        Visit.objects.create(member=member, centre=centre, ends_at=now + timedelta(hours=1))
        document, _ = ConsentDocument.objects.get_or_create(
            chain=centre.chain,
            kind=ConsentDocument.Kind.TERMS,
            language="en",
            version=1,
            defaults=dict(title=f"Terms of {centre.chain.slug}", body="Terms.", published_at=now),
        )
        ConsentRecord.objects.create(
            member=member,
            document=document,
            action=ConsentRecord.Action.SIGN,
            text_sha256=document.text_sha256,
            typed_name=member.full_name,
        )
        DataSubjectRequest.objects.create(
            chain=centre.chain, member=member, kind=DataSubjectRequest.Kind.ERASURE, due_at=now + timedelta(days=30)
        )


FOREIGN = {
    "manager_b": ["Alpha Fitness", "Alpha One", "Alpha Two", "Door a1", "Door a2", "Terms of alpha"],
    "frontdesk_a": ["Beta Gym", "Beta One", "Alpha Two", "Door b1", "Door a2", "Terms of beta"],
}


@pytest.mark.parametrize("who", sorted(FOREIGN))
def test_no_list_filter_of_any_admin_names_anything_outside_the_scope(login, world, who):
    furnish(world)
    client = login(who)
    checked = 0
    for model, model_admin in admin.site._registry.items():
        try:
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        except NoReverseMatch:
            continue
        response = client.get(url)
        if response.status_code != 200:
            continue  # no access to this list at all
        page = response.content.decode()
        filters = FILTERS.search(page)
        checked += bool(filters)  # a filter with a single choice is not shown at all
        for name in FOREIGN[who]:
            assert name not in (filters.group(0) if filters else ""), (
                f"{model._meta.label}'s filters offer {name!r} to {who}"
            )
            assert name not in page, f"{model._meta.label}'s list shows {name!r} to {who}"
    assert checked >= 4  # the device-token, door, event and visit lists at least


def test_the_device_token_centre_filter_offers_the_own_centres(login, world):
    furnish(world)
    page = login("manager_a").get(reverse("admin:access_devicetoken_changelist")).content.decode()
    filters = FILTERS.search(page).group(0)
    assert "Alpha One" in filters and "Alpha Two" in filters and "Beta One" not in filters
