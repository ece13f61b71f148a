"""A bulk request's JSON body is limited by JUSTFACE_INTEGRATION_MAX_BODY_MB, not by Django's
DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB): 10,000 members with their addresses are more than that."""

from __future__ import annotations

import json

from django.test import Client

from integration import keys
from members.models import Member


def test_a_json_body_over_django_s_upload_limit_is_read(world, settings):
    _key, raw = keys.issue_key(chain=world.chain_a, scopes=["members:write"], label="test", actor=None)
    rows = [
        {
            "external_id": f"BIG{n:04d}",
            "first_name": "Ida",
            "last_name": "Stor",
            "home_centre": "a1",
            "address": "x" * 6000,
        }
        for n in range(500)
    ]
    body = json.dumps({"members": rows})
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    response = Client().post("/api/v1/integration/members/bulk", body, content_type="application/json", **headers)
    assert response.status_code == 200, response.content[:300]
    assert response.json()["counts"]["created"] == 500 and Member.objects.filter(chain=world.chain_a).count() == 500
    settings.JUSTFACE_INTEGRATION_MAX_BODY_MB = 2  # the API's own limit still holds
    response = Client().post("/api/v1/integration/members/bulk", body, content_type="application/json", **headers)
    assert response.status_code == 413 and "at most 2 MB" in response.json()["detail"]
