"""Door tablets authenticate with `Authorization: Device <token>` (DRF and the OpenAPI schema)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from access.models import DeviceToken
from access.selectors import device_for_token
from access.services import touch_device
from justface.request_context import annotate

KEYWORD = "Device"


class DoorDevice:
    """request.user for a tablet: authenticated, but no person and no staff role."""

    is_authenticated = True
    is_active = True
    is_superuser = False

    def __init__(self, token: DeviceToken):
        self.token = token
        self.pk = None

    def __str__(self) -> str:
        return f"door device #{self.token.pk}"


class DeviceAuthentication(BaseAuthentication):
    def authenticate(self, request):
        keyword, _, raw = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        raw = raw.strip()
        if keyword != KEYWORD or not raw:
            raise AuthenticationFailed(f"Send the tablet's token as: Authorization: {KEYWORD} <token>.")
        token = device_for_token(raw)
        if token is None:
            raise AuthenticationFailed("This device token is not known.")
        if not token.is_active:
            raise AuthenticationFailed("This device token has been revoked; pair the tablet again.")
        touch_device(token, at=timezone.now())
        annotate(chain=token.door.centre.chain_id, centre=token.door.centre_id, door=token.door_id)
        return DoorDevice(token), token

    def authenticate_header(self, request) -> str:
        return f'{KEYWORD} realm="door"'


class DeviceAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = DeviceAuthentication
    name = "DeviceToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Device <token>`: the door tablet's token, issued by a manager in the admin or with "
            "`manage.py create_door_token`. Revoked tokens get 401 at once.",
        }


# --- door agents: `Authorization: Agent <token>`, never a device token -------------

AGENT_KEYWORD = "Agent"


class DoorAgentUser:
    """request.user for a door agent: authenticated, no person, no staff role, no tablet."""

    is_authenticated = True
    is_active = True
    is_superuser = False

    def __init__(self, agent):
        self.agent = agent
        self.pk = None

    def __str__(self) -> str:
        return f"door agent #{self.agent.pk}"


class AgentAuthentication(BaseAuthentication):
    def authenticate(self, request):
        from access.door_agents import touch_agent
        from access.models import DoorAgent
        from justface.tokens import token_hash

        keyword, _, raw = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        raw = raw.strip()
        if keyword != AGENT_KEYWORD or not raw or len(raw) > 200:
            raise AuthenticationFailed(f"Send the agent's credential as: Authorization: {AGENT_KEYWORD} <token>.")
        agent = DoorAgent.objects.select_related("door__centre__chain").filter(token_hash=token_hash(raw)).first()
        if agent is None:
            raise AuthenticationFailed("This agent credential is not known.")
        if not agent.is_active:
            raise AuthenticationFailed("This agent credential has been revoked; pair the agent again.")
        touch_agent(agent, at=timezone.now())
        annotate(chain=agent.door.centre.chain_id, centre=agent.door.centre_id, door=agent.door_id)
        return DoorAgentUser(agent), agent

    def authenticate_header(self, request) -> str:
        return f'{AGENT_KEYWORD} realm="door-agent"'


class AgentAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = AgentAuthentication
    name = "DoorAgentToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Agent <token>`: a door agent's credential, issued by a manager in the admin or with "
            "`manage.py create_door_agent`. A device (tablet) token is never accepted here. Revoked: 401 at once.",
        }
