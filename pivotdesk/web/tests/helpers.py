"""Shared helpers of the web tests (typed wrappers around the factories, a logged-in client)."""

from __future__ import annotations

from typing import Any, cast

from django.test import Client

from pivotdesk.accounts.models import AgentProfile, Team, User
from pivotdesk.accounts.tests.factories import AgentFactory, TeamFactory, UserFactory
from pivotdesk.customers.models import Contact, CustomerOrganization
from pivotdesk.customers.tests.factories import ContactFactory, OrganizationFactory


def client_for(agent: AgentProfile, language: str = "en") -> Client:
    """A test client logged in as the agent, asking for a language like a browser would."""
    client = Client(headers={"accept-language": language})
    client.force_login(agent.user)
    return client


def new_agent(**kwargs: Any) -> AgentProfile:
    return cast(AgentProfile, AgentFactory(**kwargs))


def new_contact(**kwargs: Any) -> Contact:
    return cast(Contact, ContactFactory(**kwargs))


def new_organization(**kwargs: Any) -> CustomerOrganization:
    return cast(CustomerOrganization, OrganizationFactory(**kwargs))


def new_team(**kwargs: Any) -> Team:
    return cast(Team, TeamFactory(**kwargs))


def new_user(**kwargs: Any) -> User:
    return cast(User, UserFactory(**kwargs))
