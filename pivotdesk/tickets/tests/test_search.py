"""Full-text search through the database's own index (SQLite FTS5 here; PostgreSQL GIN in the PostgreSQL run):
Chinese cut into words by jieba, every query word as a prefix, documents rebuilt by the sweep after a ticket
changes, a fresh-ticket fallback while a document catches up, and no query text that can break the index's
syntax."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from pivotdesk.accounts.actors import Actor
from pivotdesk.search.models import SearchDocument
from pivotdesk.search.services import document_build, reindex, sweep
from pivotdesk.tickets import selectors, services
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.selectors import TicketFilters
from pivotdesk.tickets.services.messages import attachment_add, attachment_set_extracted_text
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def search_document_build(ticket_id: int) -> bool:
    return document_build(kind="ticket", object_id=ticket_id)


def search_index_sweep(**kwargs) -> int:
    return sweep(kinds=["ticket"], **kwargs)


def search_reindex(**kwargs) -> int:
    return reindex(kind="ticket", **kwargs)


def _document(ticket: Ticket) -> SearchDocument:
    return SearchDocument.objects.get(kind="ticket", object_id=ticket.pk)


def _found(workspace, agent, q: str) -> set[int]:
    return {t.number for t in selectors.ticket_list(workspace=workspace, agent=agent, filters=TicketFilters(q=q))}


def _aged(*tickets: Ticket) -> None:
    """Past the fresh window: only the index can find these tickets now."""
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(updated_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))


def _indexed_long_ago(*tickets: Ticket) -> None:
    """Build the documents and age the tickets past the fresh window, so only the index can find them."""
    for t in tickets:
        search_document_build(t.pk)
    _aged(*tickets)


def test_chinese_words_prefixes_numbers_and_and(workspace, agent):
    refund = make_ticket(workspace=workspace, subject="申请退款", body="订单 SO-20261121-0042 的退款还没到账，很着急")
    printer = make_ticket(workspace=workspace, subject="打印机卡纸", body="HP LaserJet 打印机一直卡纸，错误代码 E-1234")
    both = make_ticket(workspace=workspace, subject="打印机退款", body="买的打印机坏了，要退款")
    _indexed_long_ago(refund, printer, both)

    assert _found(workspace, agent, "退款") == {refund.number, both.number}
    assert _found(workspace, agent, "退款 打印机") == {both.number}  # every word
    assert _found(workspace, agent, "卡纸") == {printer.number}
    assert _found(workspace, agent, "退") == {refund.number, both.number}  # a prefix of a word
    assert _found(workspace, agent, "laserjet") == {printer.number}
    assert _found(workspace, agent, "Laser") == {printer.number}
    assert _found(workspace, agent, "e-1234") == {printer.number}
    assert _found(workspace, agent, "20261121-0042") == {refund.number}
    assert _found(workspace, agent, "2026112") == {refund.number}
    assert _found(workspace, agent, "ＳＯ－２０２６１１２１") == {refund.number}  # full-width, as typed on a phone
    assert _found(workspace, agent, "很着急的退款") == {refund.number}
    assert _found(workspace, agent, "冰箱") == set()


def test_the_requester_and_the_number_are_found_without_the_index(workspace, agent, contact):
    t = make_ticket(workspace=workspace, requester=contact, subject="hello")
    _aged(t)
    assert _found(workspace, agent, f"#{t.number}") == {t.number}
    assert _found(workspace, agent, contact.name[:4]) >= {t.number}


def test_other_workspaces_are_never_found(workspace, other_workspace, agent):
    mine = make_ticket(workspace=workspace, subject="发票抬头错了")
    theirs = make_ticket(workspace=other_workspace, subject="发票抬头错了")
    _indexed_long_ago(mine, theirs)
    assert _found(workspace, agent, "发票") == {mine.number}


def test_the_sweep_follows_messages_subject_merge_and_attachment_text(workspace, agent):
    actor = Actor.for_agent(agent)
    t = make_ticket(workspace=workspace, subject="Wi-Fi drops", body="路由器每晚断网")
    assert search_index_sweep() == 1
    assert "断网" in _document(t).body.split()
    assert search_index_sweep() == 0  # nothing changed since

    services.message_create(ticket=t, actor=actor, body="请重启光猫试试", kind="note")
    services.ticket_update(ticket=t, actor=actor, changes={"subject": "Router drops every night"})
    assert search_index_sweep() == 1
    words = _document(t).body.split()
    assert {"光猫", "router", "断网"} <= set(words) and "wi" not in words

    other = make_ticket(workspace=workspace, subject="Same router", body="还是断网，序列号 SN998877")
    services.ticket_merge(source=other, target=t, actor=actor)
    assert search_index_sweep() == 2  # both: the messages moved
    assert "sn998877" in _document(t).body.split()

    attachment = attachment_add(
        actor=Actor.system(), ticket=t, filename="screen.png", content=b"\x89PNG fake", content_type="image/png"
    )
    attachment_set_extracted_text(
        actor=Actor.system(), attachment=attachment, text="ERROR 0x80070005 型号 HG8245", source="ocr", model="t"
    )
    assert search_index_sweep() >= 1
    _aged(t)  # past the fresh window: only the index can find it now
    assert _found(workspace, agent, "0x80070005") == {t.number}
    assert _found(workspace, agent, "hg8245") == {t.number}
    assert _found(workspace, agent, "screen.png") == {t.number}


def test_the_sweep_works_off_a_backlog_oldest_first_across_runs(workspace):
    tickets = [make_ticket(workspace=workspace, subject=f"backlog {i}") for i in range(7)]
    assert search_index_sweep(batch=3, budget_seconds=0) == 3  # one batch per run with no time left
    assert search_index_sweep(batch=3, budget_seconds=0) == 3
    assert search_index_sweep(batch=3, budget_seconds=0) == 1
    assert SearchDocument.objects.count() == 7
    # A ticket changed long before the newest document (a worker that was down) is still picked up when it is
    # within the margin of the mark; the sweep looks only that far back.
    first = tickets[0]
    Ticket.objects.filter(pk=first.pk).update(
        subject="changed later", updated_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    )
    SearchDocument.objects.filter(kind="ticket", object_id=first.pk).update(
        source_updated_at=dt.datetime(2019, 1, 1, tzinfo=dt.UTC)
    )
    assert search_index_sweep() == 0  # far behind the mark: left to search_reindex
    assert search_reindex(workspace_id=workspace.pk) == 7
    assert "changed" in _document(first).body.split()


def test_creating_a_ticket_queues_no_search_task(workspace, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        t = make_ticket(workspace=workspace, subject="no task", body="a body")
    assert not SearchDocument.objects.filter(
        kind="ticket", object_id=t.pk
    ).exists()  # the sweep builds it, not an event


def test_a_fresh_ticket_is_found_before_its_document_is_built(workspace, agent, settings):
    settings.SEARCH_FRESH_MINUTES = 10
    fresh = make_ticket(workspace=workspace, subject="新工单", body="无法登录 App")
    old = make_ticket(workspace=workspace, subject="旧工单", body="无法登录 App")
    _aged(old)
    assert not SearchDocument.objects.exists()  # the sweep has not run
    assert _found(workspace, agent, "无法登录") == {fresh.number}  # the old one waits for search_reindex
    call_command("search_reindex", "--missing", verbosity=0)
    assert _found(workspace, agent, "无法登录") == {fresh.number, old.number}


def test_reindex_counts_and_missing_only(workspace, other_workspace):
    a = make_ticket(workspace=workspace, subject="one")
    make_ticket(workspace=workspace, subject="two")
    make_ticket(workspace=other_workspace, subject="three")
    search_document_build(a.pk)
    assert search_reindex(workspace_id=workspace.pk, missing_only=True) == 1
    assert search_reindex(workspace_id=workspace.pk) == 2
    assert search_reindex() == 3
    assert search_document_build(10**9) is False  # a ticket that is gone


@hypothesis_settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40))
def test_no_query_breaks_the_index(workspace, agent, q):
    """Quotes, stars, AND/OR/NEAR, colons, backslashes, NUL, emoji: the query is words, never index syntax."""
    ticket = Ticket.objects.filter(workspace=workspace).first() or make_ticket(workspace=workspace, subject="x")
    search_document_build(ticket.pk)
    list(selectors.ticket_list(workspace=workspace, agent=agent, filters=TicketFilters(q=q)))


@pytest.mark.parametrize("q", ['"', "*", "AND", "NEAR(a b)", "a:*", "!!!", "'", "\\", "(", "退款 OR 1=1", "-"])
def test_syntax_of_the_index_is_plain_text(workspace, agent, q):
    t = make_ticket(workspace=workspace, subject="退款 and near")
    _indexed_long_ago(t)
    list(selectors.ticket_list(workspace=workspace, agent=agent, filters=TicketFilters(q=q)))


def test_many_matches_are_filtered_by_a_subquery(workspace, agent, monkeypatch):
    a = make_ticket(workspace=workspace, subject="发票 one")
    b = make_ticket(workspace=workspace, subject="发票 two")
    _indexed_long_ago(a, b)
    monkeypatch.setattr(selectors, "SEARCH_ID_LIST_LIMIT", 1)  # more than one match: no list of ids
    assert _found(workspace, agent, "发票") == {a.number, b.number}
    assert _found(workspace, agent, f"#{a.number}") == {a.number}


def test_relevance_puts_the_typed_number_then_the_best_matches_first(workspace, agent):
    once = make_ticket(workspace=workspace, subject="打印机", body="退款的事情以后再说")
    often = make_ticket(workspace=workspace, subject="退款", body="退款 退款 还是退款，请尽快退款")
    none = make_ticket(workspace=workspace, subject="别的问题", body="无关")
    _indexed_long_ago(once, often, none)
    Ticket.objects.filter(pk=once.pk).update(updated_at=dt.datetime(2025, 6, 1, tzinfo=dt.UTC))  # newest of the two

    def ranked(q: str, sort: str) -> list[int]:
        filters = TicketFilters(q=q)
        return [t.number for t in selectors.ticket_list(workspace=workspace, agent=agent, filters=filters, sort=sort)]

    assert ranked("退款", "-updated_at") == [once.number, often.number]  # the list's own order
    assert ranked("退款", "relevance") == [often.number, once.number]  # bm25 / ts_rank: more and denser matches
    assert ranked(f"#{none.number}", "relevance") == [none.number]
    # Without a search, relevance is the default order (no error).
    plain = selectors.ticket_list(workspace=workspace, agent=agent, sort="relevance")
    default = selectors.ticket_list(workspace=workspace, agent=agent, sort=selectors.DEFAULT_SORT)
    assert [t.number for t in plain] == [t.number for t in default] == [once.number, none.number, often.number]
