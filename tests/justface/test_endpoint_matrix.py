"""Every URL pattern × every role: the outside probe's role × URL walk, kept as a test.

The URL resolver is walked recursively, so a new page or API endpoint is in the matrix the day it
is added; a pattern whose parameters the matrix cannot fill fails the test until it is taught
here. Path parameters get ids of chain A's objects (for the admin: the first object of the model
that chain A's manager sees). Each role GETs each URL:

* nobody gets a 5xx;
* the outsiders (anonymous, chain B's member, manager and tablet) never get a 200 that contains
  any of chain A's member's values (unique marker strings), nor chain A's centre names;
* member A never gets another member's values, nor does the front desk of centre A1 get those of
  a member of centre A2 (a second member of chain A);
* and, so that the walk cannot pass by reaching nothing, the insiders do see what they should.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.authtoken.models import Token

from access.models import Scan
from members.models import DataSubjectRequest
from members.services import file_data_subject_request, set_pin
from tests.access.conftest import open_around_the_clock, pair_tablet
from tests.permissions import CAST, assert_matrix
from tests.portal_helpers import (
    fresh_cache,
    member_with_login,
    private_root,
    publish_documents,  # noqa: F401
    sign,
)

# Values of chain A's member that appear nowhere else: an outsider's page holding one has leaked.
MARKERS_A = {
    "first_name": "Quillonia",
    "last_name": "Marklundxa",
    "email": "quillonia.xa@alpha-marker.example",
    "phone": "+45 71 98 76 54",
    "member_number": "QMARK0917",
    "address": "Zebulonvej 917",
}
MARKERS_A2 = {
    "first_name": "Oswinetta",
    "last_name": "Pemberlyxa",
    "email": "oswinetta.xa@alpha-marker.example",
    "phone": "+45 72 55 44 33",
    "member_number": "OMARK0433",
    "address": "Ytterbyvej 433",
}
CENTRES_A = ("Alpha One", "Alpha Two")

ROLES = (
    "anonymous",
    "member_a",
    "member_b",
    "frontdesk_a",
    "manager_a",
    "dpo_a",
    "manager_b",
    "device_a",
    "device_b",
    "operator",
)
OUTSIDERS = ("anonymous", "member_b", "manager_b", "device_b")
BOGUS_TOKEN = "bm90LWEtcmVhbC10b2tlbg"  # capability links (invitation, reset, guardian): an outsider has none


@dataclass
class ChainA:
    member: object
    other: object
    scan: Scan
    record_id: int
    tablet_a: object
    tablet_b: object
    member_b: object


@pytest.fixture
def chain_a(world, private_root, fresh_cache) -> ChainA:
    """Chain A with a member who used most features (consent, PIN, a visit, requests), a second
    member, and chain B with a member and a tablet of its own."""
    open_around_the_clock(world.centre_a1, world.centre_a2, world.centre_b1)
    publish_documents(world.chain_a)
    publish_documents(world.chain_b)
    member = member_with_login(world.chain_a, world.centre_a1, **MARKERS_A)
    other = member_with_login(world.chain_a, world.centre_a2, **MARKERS_A2)
    member_b = member_with_login(world.chain_b, world.centre_b1, first_name="Bertil")
    record = sign(member, kind="terms")
    sign(other, kind="terms")
    file_data_subject_request(member=member, kind="erasure", actor=None)
    file_data_subject_request(
        member=other, kind="objection", objection_to=DataSubjectRequest.Objection.values[0], actor=None
    )
    set_pin(member=member, pin="4711", actor=None)
    tablet_a, tablet_b = pair_tablet(world.centre_a1), pair_tablet(world.centre_b1)
    assert tablet_a.pin(MARKERS_A["member_number"], "4711").json()["status"] == "granted"  # a visit, an event
    assert tablet_a.heartbeat(app_version="1.0").status_code == 200
    assert tablet_b.heartbeat(app_version="1.0").status_code == 200
    for m in (member, other, member_b):
        Token.objects.get_or_create(user=m.user)
    return ChainA(member, other, Scan.objects.get(device=tablet_a.device), record.pk, tablet_a, tablet_b, member_b)


# --- the URLs ---------------------------------------------------------------------------------


def walk(patterns, prefix: str = ""):
    """(route, pattern) for every URL pattern, includes followed."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, prefix + str(entry.pattern))
        else:
            assert isinstance(entry, URLPattern)
            yield prefix + str(entry.pattern), entry


def admin_object_id(app_label: str, model_name: str, manager_a) -> str:
    """The first object of the model that chain A's manager sees (else any: django-q's, groups)."""
    model = apps.get_model(app_label, model_name)
    request = RequestFactory().get("/admin/")
    request.user = manager_a
    queryset = admin.site._registry[model].get_queryset(request)
    obj = queryset.order_by("pk").first() or model._default_manager.order_by("pk").first()
    return str(obj.pk) if obj is not None else "1"


def concrete_urls(world, a: ChainA) -> list[str]:
    urls = []
    for route, pattern in walk(get_resolver().url_patterns):
        if isinstance(pattern.pattern, RegexPattern) or route.startswith("admin/^"):
            urls += _regex_urls(route)
            continue
        admin_model = re.match(r"admin/(\w+)/(\w+)/<(?:\w+:)?(?:object_id|id)>/", route)
        object_id = (
            admin_object_id(*admin_model.groups(), world.user("manager_a")) if admin_model else str(a.member.pk)
        )  # admin/r/<content type>/<object>/: the member
        values = {
            "object_id": object_id,
            "id": object_id,  # the user admin's password page
            "content_type_id": str(ContentType.objects.get_for_model(type(a.member)).pk),
            "scan_id": str(a.scan.pk),
            "uidb64": urlsafe_base64_encode(force_bytes(a.member.user.pk)),
            "token": BOGUS_TOKEN,
            "kind": "biometric",
            "record_id": str(a.record_id),
            "member_id": str(a.member.pk),
            "external_id": a.member.member_number,  # the integration API's member (by the chain's own id)
            "endpoint_id": "1",  # the integration API's webhook endpoint (a key is needed: the roles have none)
            "delivery_id": "1",
            "centre_id": str(world.centre_a1.pk),  # statistics: anonymous counts, still chain A's
            "export_id": "00000000-0000-4000-8000-000000000000",  # a report file nobody asked for
            "job_id": "00000000-0000-4000-8000-000000000000",  # a member import nobody started
            "file_format": "csv",  # the member import's template
            "chart": "heatmap",
            "fmt": "json",  # the processing register as JSON
            # the old erasure queue's address of a request (a redirect to the request's page): chain A's erasure request
            "request_id": str(DataSubjectRequest.objects.get(member=a.member, kind=DataSubjectRequest.Kind.ERASURE).pk),
        }

        def fill(match):
            name = match.group(2)
            assert name in values, f"the matrix does not know how to fill <{name}> in {route}: teach it"
            return values[name]

        urls.append("/" + re.sub(r"<(?:(\w+):)?(\w+)>", fill, route))
    return sorted(set(urls))


def _regex_urls(route: str) -> list[str]:
    if "(?P<app_label>" in route:  # the admin's app pages: one per app
        labels = re.search(r"\(\?P<app_label>([\w|]+)\)", route).group(1).split("|")
        return [f"/admin/{label}/" for label in labels]
    if route == "admin/(?P<url>.*)$":  # the admin's catch-all
        return ["/admin/no-such-page/"]
    raise AssertionError(f"the matrix does not know how to fill the regex pattern {route}: teach it")


# --- the roles --------------------------------------------------------------------------------


def client_for(role: str, world, a: ChainA) -> tuple[Client, dict]:
    """A client acting as `role`, and the headers its requests carry."""
    client = Client()
    if role in ("member_a", "member_b"):
        member = a.member if role == "member_a" else a.member_b
        client.force_login(member.user)
        return client, {"HTTP_AUTHORIZATION": f"Token {Token.objects.get(user=member.user).key}"}
    if role in ("device_a", "device_b"):
        tablet = a.tablet_a if role == "device_a" else a.tablet_b
        return client, dict(tablet.auth)
    if world.user(role) is not None:
        client.force_login(world.user(role))
    return client, {}


def body_text(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content[:4] == b"PK\x03\x04":  # the member's export: look inside the ZIP
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            content = b"\n".join(archive.read(name) for name in archive.namelist())
    return content.decode("utf-8", errors="replace")


def leaked(text: str, markers) -> list[str]:
    return [value for value in markers if value in text]


def test_every_url_for_every_role(world, chain_a):
    assert set(CAST) <= set(ROLES)
    a = chain_a
    urls = concrete_urls(world, a)
    assert len(urls) > 100, urls
    headers_api_only = lambda url, headers: headers if url.startswith("/api/") else {}  # noqa: E731
    problems, statuses, seen = [], {}, {}
    for role in ROLES:
        client, headers = client_for(role, world, a)
        for url in urls:
            response = client.get(url, **headers_api_only(url, headers))
            statuses[role, url] = response.status_code
            if "logout" in url:  # GET may have ended the session: sign in again
                client, headers = client_for(role, world, a)
            if response.status_code >= 500:
                problems.append(f"{role} GET {url}: {response.status_code}")
                continue
            if response.status_code != 200:
                continue
            text = seen[role, url] = body_text(response)
            if role in OUTSIDERS and (found := leaked(text, [*MARKERS_A.values(), *CENTRES_A])):
                problems.append(f"{role} GET {url}: 200 with chain A's {found}")
            if role in ("member_a", "frontdesk_a") and (found := leaked(text, MARKERS_A2.values())):
                problems.append(f"{role} GET {url}: 200 with a member of centre A2's {found}")
    assert not problems, "\n".join(problems)

    # The walk reached the data: insiders get the pages and see chain A's member there.
    member_page = f"/admin/members/member/{a.member.pk}/change/"
    assert MARKERS_A["last_name"] in seen["manager_a", member_page]
    assert MARKERS_A["email"] in seen["member_a", "/api/v1/me/profile/"]
    assert MARKERS_A["last_name"] in seen["frontdesk_a", f"/staff/front-desk/members/{a.member.pk}/"]
    assert MARKERS_A["member_number"] in seen["dpo_a", member_page]
    assert statuses["device_a", f"/api/v1/door/scans/{a.scan.pk}/"] == 200
    for model, model_admin in admin.site._registry.items():
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert statuses["operator", base] == 200, base
        change = [u for u in urls if u.startswith(base) and u.endswith("/change/")]
        if model._default_manager.exists():
            assert statuses["operator", change[0]] == 200, change
    n_ok = sum(1 for code in statuses.values() if code == 200)
    print(f"\n{len(urls)} URLs x {len(ROLES)} roles = {len(statuses)} GETs, {n_ok} answered 200, no 5xx, no leak")


def test_key_pages_by_role(world, chain_a, login):
    """The exact answers for the pages that hold a member, with the shared cast."""
    a = chain_a
    assert_matrix(
        login,
        "get",
        f"/admin/members/member/{a.member.pk}/change/",
        {"manager_a": 200, "frontdesk_a": 200, "dpo_a": 200, "manager_b": 302, "anonymous": 302},
    )
    assert_matrix(
        login,
        "get",
        f"/admin/members/member/{a.other.pk}/change/",
        {"manager_a": 200, "frontdesk_a": 302, "dpo_a": 200, "manager_b": 302, "anonymous": 302},
    )
    assert_matrix(
        login,
        "get",
        f"/staff/front-desk/members/{a.member.pk}/",
        {"manager_a": 200, "frontdesk_a": 200, "dpo_a": 403, "manager_b": 404, "anonymous": 302},
    )
    assert a.tablet_b.poll(a.scan.pk).status_code == 404
    assert a.tablet_a.poll(a.scan.pk).status_code == 200
