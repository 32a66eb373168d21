"""Editing customers (issue 18): contact details, tags, identities added and removed, organizations with tags,
domains, account data and an account manager; events name only what changed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from pivotdesk.common.models import EventRecord
from pivotdesk.customers import services
from pivotdesk.customers.domain.labels import LabelError, clean_account_rows, clean_domains, clean_tags
from pivotdesk.customers.models import ChannelIdentity

SYSTEM = Actor.system()


def _events(name: str) -> list[dict]:
    return [e.payload for e in EventRecord.objects.filter(name=name).order_by("pk")]


def test_contact_update_saves_details_and_tags_and_publishes_once(workspace, agent):
    contact = services.contact_create(actor=SYSTEM, workspace=workspace, name="王芳", email="wf@example.com")
    before = len(_events("contact.updated"))
    services.contact_update(
        contact=contact,
        actor=Actor.for_agent(agent),
        name="  王  芳 ",
        language="zh-hans",
        time_zone="Asia/Shanghai",
        notes="只接电话",
        tags="退款, 大客户，退款",
    )
    contact.refresh_from_db()
    assert (contact.name, contact.language, contact.time_zone) == ("王 芳", "zh-hans", "Asia/Shanghai")
    assert contact.tags == ["退款", "大客户"]
    assert len(_events("contact.updated")) == before + 1
    # the same values again change nothing and publish nothing
    services.contact_update(contact=contact, actor=Actor.for_agent(agent), name="王 芳", tags=["退款", "大客户"])
    assert len(_events("contact.updated")) == before + 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("time_zone", "Mars/Olympus"), ("language", "english please"), ("tier", "gold"), ("tags", ["x" * 41])],
)
def test_contact_update_refuses_bad_values(workspace, field, value):
    contact = services.contact_create(actor=SYSTEM, workspace=workspace, name="A")
    with pytest.raises(ValidationFailed):
        services.contact_update(contact=contact, actor=SYSTEM, **{field: value})


def test_a_light_agent_may_not_edit_a_contact(workspace, light_agent):
    contact = services.contact_create(actor=SYSTEM, workspace=workspace, name="A")
    with pytest.raises(PermissionDenied):
        services.contact_update(contact=contact, actor=Actor.for_agent(light_agent), name="B")


def test_identities_are_added_normalised_and_removed_with_the_columns_following(workspace, agent):
    actor = Actor.for_agent(agent)
    contact = services.contact_create(actor=SYSTEM, workspace=workspace, name="Li", email="li@example.com")
    phone = services.identity_attach(contact=contact, actor=actor, kind="phone", value="138 0013 8000")
    second = services.identity_attach(contact=contact, actor=actor, kind="email", value="Li.Work@Example.com")
    services.identity_attach(contact=contact, actor=actor, kind="wechat", value=" wx_li ")
    contact.refresh_from_db()
    assert phone.value == "+8613800138000" and contact.phone == "+8613800138000"
    assert second.value == "li.work@example.com"
    assert sorted(contact.identities.values_list("kind", "value")) == [
        ("email", "li.work@example.com"),
        ("email", "li@example.com"),
        ("phone", "+8613800138000"),
        ("wechat", "wx_li"),
    ]
    primary = ChannelIdentity.objects.get(contact=contact, value="li@example.com")
    services.identity_detach(contact=contact, actor=actor, identity_id=primary.pk)
    services.identity_detach(contact=contact, actor=actor, identity_id=phone.pk)
    contact.refresh_from_db()
    assert contact.email == "li.work@example.com"  # the other address takes over
    assert contact.phone == ""


def test_identity_rules(workspace, agent, other_workspace):
    actor = Actor.for_agent(agent)
    owner = services.contact_create(actor=SYSTEM, workspace=workspace, name="A", phone="+8613800138000")
    nameless = services.contact_create(actor=SYSTEM, workspace=workspace, email="only@example.com")
    with pytest.raises(Conflict):  # another contact's number: merge instead
        services.identity_attach(contact=nameless, actor=actor, kind="phone", value="13800138000")
    with pytest.raises(ValidationFailed):
        services.identity_attach(contact=nameless, actor=actor, kind="phone", value="12")
    with pytest.raises(ValidationFailed):
        services.identity_attach(contact=nameless, actor=actor, kind="carrier-pigeon", value="x")
    with pytest.raises(ValidationFailed):  # a nameless contact keeps its last identity
        services.identity_detach(contact=nameless, actor=actor, identity_id=nameless.identities.get().pk)
    with pytest.raises(NotFound):  # another contact's identity is not this one's to remove
        services.identity_detach(contact=nameless, actor=actor, identity_id=owner.identities.get().pk)
    assert owner.identities.count() == 1


def test_organization_tier_change_publishes_only_the_changed_fields(workspace, agent):
    actor = Actor.for_agent(agent)
    manager = AgentFactory(workspace=workspace)
    org = services.organization_create(actor=actor, workspace=workspace, name="星河科技", domains=["@Xinghe.CN"])
    assert org.domains == ["xinghe.cn"]
    services.organization_update(
        organization=org,
        actor=actor,
        tier="vip",
        name="星河科技",
        tags="重点, 续约",
        account={"合同": "2027-06-30"},
        account_manager=manager,
    )
    org.refresh_from_db()
    assert (org.tier, org.tags, org.account, org.account_manager_id) == (
        "vip",
        ["重点", "续约"],
        {"合同": "2027-06-30"},
        manager.pk,
    )
    event = _events("organization.updated")[-1]
    assert event["organization_id"] == org.pk
    assert event["fields"] == ["account", "account_manager", "tags", "tier"]  # not the unchanged name
    count = len(_events("organization.updated"))
    services.organization_update(organization=org, actor=actor, tier="vip")
    assert len(_events("organization.updated")) == count


def test_organization_refuses_bad_domains_and_a_foreign_account_manager(workspace, other_workspace, agent):
    actor = Actor.for_agent(agent)
    org = services.organization_create(actor=actor, workspace=workspace, name="A")
    with pytest.raises(ValidationFailed):
        services.organization_update(organization=org, actor=actor, domains=["not a domain"])
    with pytest.raises(ValidationFailed):
        services.organization_update(
            organization=org, actor=actor, account_manager=AgentFactory(workspace=other_workspace)
        )
    with pytest.raises(ValidationFailed):
        services.organization_update(organization=org, actor=actor, created_at=None)


@given(st.lists(st.text(alphabet="abcAB 退款,，", max_size=8), max_size=10))
def test_clean_tags_keeps_each_tag_once_trimmed_and_in_order(values):
    try:
        tags = clean_tags(values)
    except LabelError:
        return
    assert len({t.casefold() for t in tags}) == len(tags)
    assert all(t == " ".join(t.split()) and t for t in tags)
    assert clean_tags(tags) == tags  # idempotent


def test_clean_domains_and_account_rows():
    assert clean_domains("Example.COM, @shop.example.cn  example.com") == ["example.com", "shop.example.cn"]
    assert clean_account_rows([("合同", " 战略 "), ("", ""), ("ARR", "2,400,000")]) == {
        "合同": "战略",
        "ARR": "2,400,000",
    }
    for rows in ([("", "orphan")], [("a", "1"), ("a", "2")]):
        with pytest.raises(LabelError):
            clean_account_rows(rows)
