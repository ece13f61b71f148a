"""The OpenAPI schema (/api/schema/) documents every error answer (justface.schema), the poll's
`wait` bound and the PIN request's limits (from an outside probe)."""

import pytest
import yaml


@pytest.fixture
def schema(client, db):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_every_api_operation_documents_its_errors(schema):
    assert schema["components"]["schemas"]["Error"]["properties"]["detail"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"400", "503"} <= responses.keys(), (method, path)
            if operation.get("security") and {} not in operation["security"]:
                assert "401" in responses, (method, path)
            for code, response in responses.items():
                if code.startswith(("4", "5")):
                    assert response["content"]["application/json"]["schema"], (method, path, code)
    assert "401" in schema["paths"]["/api/v1/me/profile/"]["patch"]["responses"]
    assert "403" in schema["paths"]["/api/v1/me/profile/"]["get"]["responses"]
    # The login itself needs no token: no 401 documented there.
    assert "401" not in schema["paths"]["/api/v1/me/token/"]["post"]["responses"]


def test_poll_wait_has_a_documented_maximum(schema):
    parameters = schema["paths"]["/api/v1/door/scans/{scan_id}/"]["get"]["parameters"]
    wait = next(p for p in parameters if p["name"] == "wait")
    assert wait["schema"]["minimum"] == 0 and wait["schema"]["maximum"] == 10


def test_pin_request_limits(schema):
    pin_request = schema["components"]["schemas"]["PinRequest"]["properties"]
    assert pin_request["member_number"]["minLength"] == 1 and pin_request["member_number"]["maxLength"] == 32
    assert pin_request["pin"]["pattern"] == "^[0-9]{4,8}$"


def test_the_agent_api_is_documented_with_its_own_credential(schema):
    """The door agent's operations, their `Agent <token>` scheme and the long poll's bound."""
    commands = schema["paths"]["/api/v1/agent/commands/"]["get"]
    assert commands["security"] == [{"DoorAgentToken": []}]
    wait = next(p for p in commands["parameters"] if p["name"] == "wait")
    assert wait["schema"]["minimum"] == 0 and wait["schema"]["maximum"] == 25
    assert {"200", "400", "401", "429"} <= commands["responses"].keys()
    reports = schema["paths"]["/api/v1/agent/reports/"]["post"]
    assert reports["security"] == [{"DoorAgentToken": []}] and "401" in reports["responses"]
    assert "Agent <token>" in schema["components"]["securitySchemes"]["DoorAgentToken"]["description"]
