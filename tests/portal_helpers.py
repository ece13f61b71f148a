"""Helpers for the member self-service tests (portal, API, consent, invitations)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from consent import services as consent_services
from consent.models import ConsentDocument, ConsentRecord
from justface.models import User
from members.models import Member
from members.services import login_username
from tests.conftest import make_member

PASSWORD = "orange-kettle-harbour-42"


@pytest.fixture
def private_root(settings, tmp_path):
    """Photos go to a throwaway folder, so a test can see exactly what is on disk."""
    settings.MEDIA_ROOT = tmp_path / "private"
    return settings.MEDIA_ROOT


def publish_documents(chain) -> None:
    call_command("seed_consent_documents", chain=chain.slug, stdout=open("/dev/null", "w"))


def member_with_login(chain, centre, **overrides) -> Member:
    member = make_member(chain, centre, **overrides)
    member.user = User.objects.create_user(username=login_username(member), password=PASSWORD)
    member.save(update_fields=["user"])
    return member


def api_client(member: Member) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=member.user)[0].key}")
    return client


def document(chain, kind: str = "biometric", language: str = "en") -> ConsentDocument:
    return ConsentDocument.objects.get(chain=chain, kind=kind, language=language, published_at__isnull=False, version=1)


def sign(member: Member, kind: str = "biometric", language: str = "en", **extra) -> ConsentRecord:
    doc = (
        ConsentDocument.objects.filter(chain=member.chain, kind=kind, language=language, published_at__isnull=False)
        .order_by("-version")
        .first()
    )
    return consent_services.sign(
        member=member,
        document=doc,
        typed_name=member.full_name,
        actor=member.user,
        evidence=consent_services.Evidence(channel="portal", ip_address="192.0.2.7", user_agent="pytest"),
        **extra,
    )


def link_in_mail(path_part: str, *, to: str | None = None) -> str:
    """The path of the last link containing `path_part` in the test outbox (to `to`, if given)."""
    for message in reversed(mail.outbox):
        if to is None or to in message.to:
            for path in re.findall(r"https?://[^/\s]+(/\S*)", message.body):
                if path_part in path:
                    return path
    raise AssertionError(f"no e-mail with a {path_part} link (outbox: {[m.subject for m in mail.outbox]})")


@pytest.fixture
def site_url(settings):
    settings.JUSTFACE_PUBLIC_URL = "https://gym.example.com"
    return settings.JUSTFACE_PUBLIC_URL


@pytest.fixture
def fresh_cache():
    """The login limiter counts in the cache: every test starts with none counted."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """`with commit(): ...` runs what waits for the commit (e-mails, file deletions) at the block's end."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
