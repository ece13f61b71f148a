def test_site_root_sends_staff_to_admin_and_everyone_else_to_the_portal(login):
    assert login("anonymous").get("/")["Location"] == "/me/"
    assert login("manager_a").get("/")["Location"] == "/admin/"
    assert login("dpo_a").get("/")["Location"] == "/admin/"


def test_health_check(client, db):
    assert client.get("/healthz").json() == {"status": "ok"}
