"""Factories for customers."""

from __future__ import annotations

import factory

from pivotdesk.accounts.tests.factories import WorkspaceFactory
from pivotdesk.customers.models import ChannelIdentity, Contact, CustomerOrganization


class OrganizationFactory(factory.django.DjangoModelFactory[CustomerOrganization]):
    class Meta:
        model = CustomerOrganization

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Org {n}")


class ContactFactory(factory.django.DjangoModelFactory[Contact]):
    class Meta:
        model = Contact
        skip_postgeneration_save = True

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Customer {n}")
    email = factory.Sequence(lambda n: f"customer{n}@example.org")

    @factory.post_generation
    def identity(obj, create, extracted, **kwargs):
        if create and obj.email:
            ChannelIdentity.objects.get_or_create(
                workspace=obj.workspace, kind="email", value=obj.email, defaults={"contact": obj}
            )
