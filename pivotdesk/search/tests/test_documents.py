"""Generic search documents: a second kind registered beside tickets is built by the same sweep, matched and ranked
on its own, pruned when its objects are gone — without the search app importing either app. (Ticket search
behaviour — Chinese words, prefixes, relevance, the fresh fallback — is specified in tickets/tests/test_search.py.)"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.management import call_command

from pivotdesk.search import selectors
from pivotdesk.search.models import SearchDocument
from pivotdesk.search.registry import DocumentKind, get_kind, register_kind, registered_kinds, unregister_kind
from pivotdesk.search.services import document_build, reindex, sweep

pytestmark = pytest.mark.django_db

CONTACTS = DocumentKind(
    name="test_contact", model_label="customers.Contact", parts=lambda c: [c.name, c.email], only=("name", "email")
)


@pytest.fixture
def contact_kind():
    register_kind(CONTACTS)
    yield CONTACTS
    unregister_kind(CONTACTS.name)


def _contact(workspace, name: str, email: str):
    return apps.get_model("customers", "Contact").objects.create(workspace=workspace, name=name, email=email)


def _ids(kind: str, workspace, q: str) -> set[int]:
    found = selectors.matching_ids(kind=kind, workspace_id=workspace.pk, query=q)
    return {row[0] for row in found} if found is not None else set()


def test_tickets_are_registered_at_start_up():
    assert get_kind("ticket").model_label == "tickets.Ticket"
    assert "ticket" in [k.name for k in registered_kinds()]
    with pytest.raises(LookupError):
        get_kind("nothing")


def test_a_second_kind_is_swept_and_matched_apart_from_tickets(workspace, other_workspace, contact_kind, ticket):
    # Given a contact and a ticket that share a word, and a contact of another workspace
    wang = _contact(workspace, "王芳 退款专员", "wang@example.com")
    _contact(other_workspace, "王芳", "wang@other.example")
    ticket.subject = "退款"
    ticket.save(update_fields=["subject", "updated_at"])

    # When the sweep runs over every registered kind
    built = sweep()

    # Then both kinds have documents, and each kind is matched on its own, within its workspace
    assert built >= 3
    assert _ids("test_contact", workspace, "王芳") == {wang.pk}
    assert _ids("test_contact", workspace, "退款") == {wang.pk}
    assert _ids("ticket", workspace, "退款") == {ticket.pk}
    assert selectors.ranked_ids(kind="test_contact", workspace_id=workspace.pk, query="wang") == [wang.pk]
    assert sweep() == 0  # nothing changed since


def test_a_changed_object_is_rebuilt_and_a_gone_one_pruned(workspace, contact_kind):
    li = _contact(workspace, "李雷", "li@example.com")
    assert document_build(kind="test_contact", object_id=li.pk) is True
    li.name = "韩梅梅"
    li.save()
    assert sweep(kinds=["test_contact"]) == 1
    assert _ids("test_contact", workspace, "韩梅梅") == {li.pk} and not _ids("test_contact", workspace, "李雷")

    other = _contact(workspace, "gone", "gone@example.com")
    document_build(kind="test_contact", object_id=other.pk)
    apps.get_model("customers", "Contact").objects.filter(pk=other.pk).delete()
    assert reindex(kind="test_contact") == 1  # the living one rebuilt, the gone one's document deleted
    assert not SearchDocument.objects.filter(kind="test_contact", object_id=other.pk).exists()
    assert document_build(kind="test_contact", object_id=other.pk) is False


def test_the_reindex_command_takes_a_kind_and_a_workspace(workspace, other_workspace, contact_kind):
    mine = _contact(workspace, "mine", "mine@example.com")
    _contact(other_workspace, "theirs", "theirs@example.com")
    call_command("search_reindex", "--kind", "test_contact", "--workspace", workspace.slug, verbosity=0)
    assert list(SearchDocument.objects.filter(kind="test_contact").values_list("object_id", flat=True)) == [mine.pk]
    assert not SearchDocument.objects.filter(kind="ticket").exists()


def test_rank_position_orders_by_the_ranked_list(workspace, contact_kind):
    a, b, c = (_contact(workspace, n, f"{n}@example.com") for n in ("a", "b", "c"))
    position = selectors.rank_position([c.pk, a.pk])
    Contact = apps.get_model("customers", "Contact")
    rows = Contact.objects.filter(pk__in=[a.pk, b.pk, c.pk]).annotate(p=position).order_by("p", "pk")
    ordered = [(r.pk, r.p is None) for r in rows]
    assert [pk for pk, missing in ordered if not missing] == [c.pk, a.pk]
    assert [pk for pk, missing in ordered if missing] == [b.pk]


def test_on_postgresql_a_kind_with_its_own_index_is_matched_by_that_index_s_expression():
    """The planner prices the shared index and a kind's own alike (and the shared one reads every kind's posting
    lists): the article kind's query is written with the expression of its own index, which the shared index (on
    the stored tsvector) cannot answer."""
    from django.db import connection

    from pivotdesk.search.registry import OWN_INDEX_EXPRESSION, has_own_index

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's indexes")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'search_searchdocument'")
        indexes = dict(cursor.fetchall())
    own = indexes["search_tsv_article"]
    assert "USING gin (to_tsvector('simple'::regconfig, body))" in own and "'article'::text" in own
    assert indexes["search_document_tsv"].endswith("USING gin (tsv)")
    assert has_own_index("article") and not has_own_index("ticket")
    assert f"{OWN_INDEX_EXPRESSION} @@" in selectors._PG_RANKED_OWN_INDEX
    assert "tsv @@" not in selectors._PG_RANKED_OWN_INDEX and "tsv @@" in selectors._PG_RANKED
