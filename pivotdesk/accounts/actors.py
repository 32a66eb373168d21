"""Who or what did something: an agent, a contact, a rule, the AI, an API client, the system."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pivotdesk.accounts.models import AgentProfile


@dataclass(frozen=True)
class Actor:
    """The author of a change, recorded on every timeline event."""

    kind: str  # agent | contact | rule | ai | api | system
    agent: AgentProfile | None = None
    contact_id: int | None = None
    label: str = ""
    # A historic author replayed by an import that passed TICKET_IMPORT_EXPORT: the author is data, not a live
    # permission, so the gate lets it write what an import writes (see permissions.actor_can).
    replayed: bool = False

    @classmethod
    def for_agent(cls, agent: AgentProfile) -> Actor:
        return cls(kind="agent", agent=agent, label=agent.name)

    @classmethod
    def for_api(cls, agent: AgentProfile, token_name: str = "") -> Actor:
        return cls(kind="api", agent=agent, label=token_name or agent.name)

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(kind="system", label=label)

    @classmethod
    def for_site_admin(cls, username: str) -> Actor:
        """Django's admin site: its superusers (the installation's operators, config/admin_site.py) act across
        workspaces, as the system does."""
        return cls(kind="system", label=f"admin site: {username}"[:200])

    @classmethod
    def for_contact(cls, contact_id: int, label: str = "") -> Actor:
        return cls(kind="contact", contact_id=contact_id, label=label)

    def is_agent(self, agent_id: int | None) -> bool:
        """Whether this actor is that agent themself (in the UI or through their own API token): what a service asks
        before letting someone change what is theirs (a draft, their columns, their time off)."""
        return self.agent is not None and agent_id is not None and self.agent.pk == agent_id

    @property
    def display(self) -> str:
        return self.label or self.kind
