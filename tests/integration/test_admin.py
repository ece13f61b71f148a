"""Integration keys in the admin: a chain's manager issues one (shown once, stored hashed, for
their own chain) and revokes it; other chains' staff and the weaker roles cannot."""

from __future__ import annotations

from integration import keys
from integration.models import IntegrationKey
from justface.models import AuditEntry
from justface.tokens import token_hash

ADD = "/admin/integration/integrationkey/add/"
LIST = "/admin/integration/integrationkey/"


def test_a_manager_issues_a_key_for_their_chain_shown_once(world, login):
    client = login("manager_a")
    response = client.post(ADD, {"label": "Membership system", "scopes": ["members:write", "events:read"]})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    key = IntegrationKey.objects.get()
    raw = response.content.decode().split('class="integration-key">')[1].split("<")[0]
    assert raw.startswith("jfi_") and key.key_hash == token_hash(raw)
    assert key.chain == world.chain_a and key.scopes == ["events:read", "members:write"]
    assert AuditEntry.objects.filter(action="integration_key.issue", actor_id=world.user("manager_a").pk).count() == 1
    listed = client.get(LIST).content.decode()
    assert "Membership system" in listed and raw not in listed
    assert raw not in client.get(f"{LIST}{key.pk}/change/").content.decode()


def test_a_key_needs_a_scope(world, login):
    response = login("manager_a").post(ADD, {"label": "x", "scopes": []})
    assert response.status_code == 200 and not IntegrationKey.objects.exists()


def test_a_manager_revokes_a_key(world, login):
    key, _raw = keys.issue_key(chain=world.chain_a, scopes=["members:read"], actor=None)
    response = login("manager_a").post(LIST, {"action": "revoke", "_selected_action": [key.pk]})
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert AuditEntry.objects.filter(action="integration_key.revoke", object_id=str(key.pk)).exists()


def test_other_chains_and_weaker_roles_cannot(world, login):
    key, _raw = keys.issue_key(chain=world.chain_a, scopes=["members:read"], label="Alpha's system", actor=None)
    outsider = login("manager_b")
    assert "Alpha&#x27;s system" not in outsider.get(LIST).content.decode()
    assert outsider.get(f"{LIST}{key.pk}/change/").status_code in (302, 403, 404)
    outsider.post(LIST, {"action": "revoke", "_selected_action": [key.pk]})
    key.refresh_from_db()
    assert key.revoked_at is None
    assert login("frontdesk_a").post(ADD, {"label": "x", "scopes": ["members:read"]}).status_code == 403
    assert login("anonymous").get(LIST).status_code == 302
    assert IntegrationKey.objects.count() == 1


def test_the_issued_key_page_reads_in_danish(world, login):
    manager = world.user("manager_a")
    manager.language = "da"
    manager.save(update_fields=["language"])
    html = login("manager_a").post(ADD, {"label": "Medlemssystem", "scopes": ["members:read"]}).content.decode()
    assert "Kopiér nøglen nu" in html and "Medlemssystemet sender den som headeren" in html
    assert "Integrationsnøgle udstedt" in html
