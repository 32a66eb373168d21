"""Probable duplicate contacts: same name + organization, email look-alikes, same phone digits; never across
workspaces, never merged contacts."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.customers.domain.duplicates import edit_distance, name_key, same_phone
from pivotdesk.customers.models import Contact
from pivotdesk.customers.selectors import probable_duplicates
from pivotdesk.customers.services import contact_create, contact_merge, identity_attach, organization_create

pytestmark = pytest.mark.django_db


def reasons_for(workspace, contact: Contact) -> dict[int, tuple[str, ...]]:
    return {s.contact.pk: s.reasons for s in probable_duplicates(workspace=workspace, contact=contact)}


def test_same_name_and_organization(workspace):
    org = organization_create(actor=Actor.system(), workspace=workspace, name="宏达科技")
    a = contact_create(
        actor=Actor.system(), workspace=workspace, name="Wang Fang", email="wf@hongda.cn", organization=org
    )
    b = contact_create(
        actor=Actor.system(), workspace=workspace, name="wang  fang", email="fang.wang@gmail.com", organization=org
    )
    other_org = organization_create(actor=Actor.system(), workspace=workspace, name="Other")
    c = contact_create(
        actor=Actor.system(), workspace=workspace, name="Wang Fang", email="x@other.cn", organization=other_org
    )
    assert reasons_for(workspace, a) == {b.pk: ("name_and_organization",)}
    assert c.pk not in reasons_for(workspace, a)


def test_same_local_part_on_another_domain(workspace):
    a = contact_create(actor=Actor.system(), workspace=workspace, email="zhang.wei@hongda.cn")
    b = contact_create(actor=Actor.system(), workspace=workspace, email="zhang.wei@qq.com")
    contact_create(actor=Actor.system(), workspace=workspace, email="li.lei@qq.com")
    assert reasons_for(workspace, a) == {b.pk: ("email_local_part",)}


def test_similar_email_by_edit_distance(workspace):
    a = contact_create(actor=Actor.system(), workspace=workspace, email="zhangwei@hongda.cn")
    typo = contact_create(
        actor=Actor.system(), workspace=workspace, email="zhangwie@hongda.cn"
    )  # 2 edits (transposition)
    near = contact_create(
        actor=Actor.system(), workspace=workspace, email="zhangwei@hongda.com"
    )  # the same local part: reported as that
    far = contact_create(actor=Actor.system(), workspace=workspace, email="zhangsan@hongda.cn")
    found = reasons_for(workspace, a)
    assert found[typo.pk] == ("similar_email",)
    assert found[near.pk] == ("email_local_part",)
    assert far.pk not in found


def test_same_phone_digits(workspace):
    a = contact_create(actor=Actor.system(), workspace=workspace, name="A", phone="+8613800138000")
    b = contact_create(actor=Actor.system(), workspace=workspace, name="B", email="b@example.cn")
    b.phone = "138-0013-8000"  # stored before normalisation (an import)
    b.save()
    c = contact_create(actor=Actor.system(), workspace=workspace, name="C", email="c@example.cn")
    identity_attach(actor=Actor.system(), contact=c, kind="phone", value="+85261234567")
    assert reasons_for(workspace, a) == {b.pk: ("phone",)}


def test_several_reasons_rank_first_and_merged_or_foreign_contacts_never_show(workspace, other_workspace, actor):
    org = organization_create(actor=Actor.system(), workspace=workspace, name="Org")
    a = contact_create(actor=Actor.system(), workspace=workspace, name="Li Lei", email="lilei@org.cn", organization=org)
    strong = contact_create(
        actor=Actor.system(), workspace=workspace, name="Li Lei", email="lilei@gmail.com", organization=org
    )
    weak = contact_create(actor=Actor.system(), workspace=workspace, name="Someone", email="lilei@163.com")
    merged = contact_create(actor=Actor.system(), workspace=workspace, email="lilei@126.com")
    contact_merge(source=merged, target=weak, actor=Actor.system())
    contact_create(actor=Actor.system(), workspace=other_workspace, name="Li Lei", email="lilei@yahoo.cn")
    found = probable_duplicates(workspace=workspace, contact=a)
    assert [s.contact.pk for s in found] == [strong.pk, weak.pk]
    assert found[0].reasons == ("name_and_organization", "email_local_part")


def test_contact_without_name_email_or_phone_has_none(workspace):
    lone = contact_create(
        actor=Actor.system(), workspace=workspace, identities=[("wechat", "o6_bmjrPTlm6_2sgVt7hMZOPfL2M")]
    )
    contact_create(actor=Actor.system(), workspace=workspace, email="x@example.cn")
    assert probable_duplicates(workspace=workspace, contact=lone) == []


@pytest.mark.parametrize(
    ("a", "b", "expected"), [("abc", "abc", 0), ("abc", "abd", 1), ("abcd", "acbd", 2), ("abc", "xyz", 3)]
)
def test_edit_distance(a, b, expected):
    assert edit_distance(a, b) == expected


def test_name_key_and_phone_digits():
    assert name_key("  Wang\u3000Fang ") == name_key("wang fang") == "wangfang"
    assert name_key("王 芳") == "王芳"
    assert same_phone("+86 138 0013 8000", "13800138000")
    assert not same_phone("123", "123")
