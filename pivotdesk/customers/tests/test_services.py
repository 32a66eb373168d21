"""Customer services: one person is one contact across channels; merges move everything and leave a pointer."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.errors import Conflict, ValidationFailed
from pivotdesk.customers import services


def test_same_phone_on_two_channels_is_one_contact(workspace):
    a = services.contact_resolve(
        actor=Actor.system(), workspace=workspace, kind="phone", value="138 0013 8000", name="王芳"
    )
    b = services.contact_resolve(actor=Actor.system(), workspace=workspace, kind="phone", value="+8613800138000")
    assert a.pk == b.pk and a.phone == "+8613800138000"


def test_email_resolves_case_insensitively_and_org_by_domain(workspace):
    org = services.organization_create(
        actor=Actor.system(), workspace=workspace, name="ACME", tier="vip", domains=["acme.cn"]
    )
    c = services.contact_resolve(actor=Actor.system(), workspace=workspace, kind="email", value="Li@ACME.cn", name="Li")
    assert c.organization == org and c.effective_tier == "vip"
    assert (
        services.contact_resolve(actor=Actor.system(), workspace=workspace, kind="email", value="li@acme.cn").pk == c.pk
    )


def test_identities_do_not_cross_workspaces(workspace, other_workspace):
    a = services.contact_resolve(actor=Actor.system(), workspace=workspace, kind="email", value="x@example.com")
    b = services.contact_resolve(actor=Actor.system(), workspace=other_workspace, kind="email", value="x@example.com")
    assert a.pk != b.pk


def test_identity_taken_by_another_contact_is_a_conflict(workspace):
    services.contact_create(actor=Actor.system(), workspace=workspace, name="A", email="a@example.com")
    b = services.contact_create(actor=Actor.system(), workspace=workspace, name="B")
    with pytest.raises(Conflict, match="merge"):
        services.identity_attach(actor=Actor.system(), contact=b, kind="email", value="A@example.com")


def test_merge_refuses_self_and_other_workspace(workspace, other_workspace, supervisor):
    actor = Actor.for_agent(supervisor)  # merging needs contact.merge
    a = services.contact_create(actor=Actor.system(), workspace=workspace, name="A")
    b = services.contact_create(actor=Actor.system(), workspace=other_workspace, name="B")
    with pytest.raises(ValidationFailed):
        services.contact_merge(source=a, target=a, actor=actor)
    with pytest.raises(ValidationFailed):
        services.contact_merge(source=a, target=b, actor=actor)


def test_contact_needs_name_or_identity_and_valid_input(workspace):
    with pytest.raises(ValidationFailed):
        services.contact_create(actor=Actor.system(), workspace=workspace)
    with pytest.raises(ValidationFailed):
        services.contact_create(actor=Actor.system(), workspace=workspace, email="not-an-email")
    with pytest.raises(ValidationFailed):
        services.organization_create(actor=Actor.system(), workspace=workspace, name="X", tier="gold")
