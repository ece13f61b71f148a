"""justface.errors.server_error (handler500): even a bug answers without a traceback, JSON with
`detail` on /api/."""

import pytest
from django.test import Client
from django.urls import path

from config.urls import urlpatterns as site_patterns


def _boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("api/v1/boom/", _boom), path("boom/", _boom), *site_patterns]
handler500 = "justface.errors.server_error"


@pytest.mark.urls("tests.justface.test_errors")
def test_a_bug_is_a_500_without_a_traceback(db):
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/boom/")
    assert response.status_code == 500 and response.json()["detail"] and b"Traceback" not in response.content
    response = client.get("/boom/")
    assert response.status_code == 500 and response["Content-Type"].startswith("text/plain")
    assert b"a bug" not in response.content
