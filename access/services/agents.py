"""Door agents' credentials (the agent beside the door that opens it; the protocol and the
queue of open commands are in access.door_agents)."""

from __future__ import annotations

from django.utils import timezone

from access.models import Door, DoorAgent
from justface import audit
from justface.tokens import new_token


def issue_door_agent(*, door: Door, label: str = "", actor) -> tuple[DoorAgent, str]:
    """A new credential for the agent beside the door. The raw token is returned once and stored nowhere."""
    raw, hashed = new_token()
    agent = DoorAgent.objects.create(door=door, label=label, token_hash=hashed)
    audit.record(action="door.agent_issue", actor=actor, obj=agent, chain_id=door.centre.chain_id)
    return agent, raw


def revoke_door_agent(*, agent: DoorAgent, actor) -> bool:
    """Revoke at once: its next request (and a long poll it holds) gets nothing. False if already revoked."""
    revoked = DoorAgent.objects.filter(pk=agent.pk, revoked_at=None).update(revoked_at=timezone.now()) == 1
    if revoked:
        audit.record(action="door.agent_revoke", actor=actor, obj=agent, chain_id=agent.door.centre.chain_id)
    return revoked
