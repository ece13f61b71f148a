"""Staff password guessing at /admin/login/ is limited like members' logins: 5 failures per
username and 30 per client address in 15 minutes, then no login at all (even with the right
password), a clear message, and an audit entry with ids only."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from justface.models import AuditEntry

LOGIN = "/admin/login/"


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def attempt(client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=ip)


def test_five_wrong_passwords_lock_the_username_even_for_the_right_password(client, world):
    for _ in range(5):
        response = attempt(client, "frontdesk_a", "wrong")
        assert response.status_code == 200 and b"Too many attempts" not in response.content
    locked = attempt(client, "frontdesk_a", "pw-frontdesk_a")
    assert locked.status_code == 200 and b"Too many attempts, try again in 15 minutes" in locked.content
    assert "_auth_user_id" not in client.session
    # Another address does not help: the username is locked.
    assert b"Too many attempts" in attempt(client, "frontdesk_a", "pw-frontdesk_a", ip="10.0.0.2").content
    # Another staff member from the same address still logs in.
    assert attempt(client, "manager_a", "pw-manager_a").status_code == 302

    entry = AuditEntry.objects.get(action="staff.login_lockout")
    user = world.user("frontdesk_a")
    assert (entry.object_type, entry.object_id, entry.chain_id) == ("justface.user", str(user.pk), world.chain_a.pk)
    assert "frontdesk" not in entry.reason


def test_thirty_failures_from_one_address_lock_the_address(client, world):
    for n in range(30):
        attempt(client, f"guess{n}", "wrong", ip="10.0.0.9")
    assert b"Too many attempts" in attempt(client, "manager_a", "pw-manager_a", ip="10.0.0.9").content
    assert "_auth_user_id" not in client.session
    assert attempt(client, "manager_a", "pw-manager_a", ip="10.0.0.10").status_code == 302
    assert AuditEntry.objects.filter(action="staff.login_lockout", reason__startswith="address").count() == 1


def test_a_success_clears_the_username_count(client, world):
    for _ in range(4):
        attempt(client, "dpo_a", "wrong")
    assert attempt(client, "dpo_a", "pw-dpo_a").status_code == 302
    client.logout()
    for _ in range(4):
        attempt(client, "dpo_a", "wrong")
    assert attempt(client, "dpo_a", "pw-dpo_a").status_code == 302
    assert not AuditEntry.objects.filter(action="staff.login_lockout").exists()


def test_the_probe_forty_guesses_then_the_right_password(client, world):
    """40 wrong passwords all answered, then the right one logged in."""
    for _ in range(40):
        attempt(client, "frontdesk_a", "wrong")
    attempt(client, "frontdesk_a", "pw-frontdesk_a")
    assert "_auth_user_id" not in client.session
