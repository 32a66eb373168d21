"""Shared helpers of the web tests: typed wrappers around the factories (logged-in clients are the root conftest's
`client_as` and role fixtures)."""

from __future__ import annotations

from typing import Any, cast

from pivotdesk.accounts.models import AgentProfile, Team, User
from pivotdesk.accounts.tests.factories import AgentFactory, TeamFactory, UserFactory
from pivotdesk.customers.models import Contact, CustomerOrganization
from pivotdesk.customers.tests.factories import ContactFactory, OrganizationFactory


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
