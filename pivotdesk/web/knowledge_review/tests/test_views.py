"""The knowledge manager's screens: proposals reviewed (approve with edits, reject), an import with its progress and
problems, the export, the root-cause tree and the catalogue; agents are refused, another workspace's ids are not
found, and the pages read in Chinese."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pivotdesk.common.tests.zh_crawl import english_words, visible_texts
from pivotdesk.knowledge.models import Article, ArticleProposal, GraphEntity, ImportJob, RootCause

pytestmark = pytest.mark.django_db
CSV = "title,body,language\n忘记密码怎么办,在登录页点击忘记密码。,zh-hans\n,没有标题的一行,zh-hans\n".encode()


@pytest.fixture
def proposal(workspace):
    return ArticleProposal.objects.create(
        workspace=workspace, reason="new_solution", title="macOS 授权失效", body="## 解决方法\n\n防火墙放行。",
        flags=[{"kind": "failed_on_similar", "failures": 2, "trials": 3}],
    )  # fmt: skip


def test_a_proposal_is_approved_with_the_reviewer_s_edits(client_as, supervisor, proposal):
    client = client_as(supervisor)
    page = client.get(reverse("web:knowledge_proposals")).content.decode()
    assert "macOS 授权失效" in page and "failed on 2 of 3 similar tickets" in page
    url = reverse("web:knowledge_proposal", args=[proposal.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"decision": "approve", "title": "macOS 授权", "body": "放行防火墙。", "visibility": "public"}
    )
    assert response.status_code == 302
    article = Article.objects.get()
    assert (article.title, article.body, article.visibility) == ("macOS 授权", "放行防火墙。", "public")
    assert client.post(url, {"decision": "reject", "title": "x"}).status_code == 409  # decided already


def test_an_import_runs_and_shows_its_problems_and_the_export_downloads(
    client_as, supervisor, django_capture_on_commit_callbacks
):
    client = client_as(supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        from django.core.files.uploadedfile import SimpleUploadedFile

        response = client.post(reverse("web:knowledge_import"), {"file": SimpleUploadedFile("kb.csv", CSV)})
    assert response.status_code == 302
    job = ImportJob.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert job.status == "done" and job.created_count == 1
    assert "1 created" in page and "Items not imported" in page
    export = client.get(reverse("web:knowledge_export"), {"format": "csv"})
    assert export.status_code == 200 and "attachment" in export["Content-Disposition"]
    assert "忘记密码怎么办" in export.content.decode()
    assert client.post(reverse("web:knowledge_import"), {}).status_code == 400


def test_the_root_cause_tree_and_the_catalogue_are_edited_on_screens(client_as, supervisor, workspace):
    client = client_as(supervisor)
    assert (
        client.post(
            reverse("web:knowledge_root_causes"), {"code": "logistics", "name_zh": "物流", "is_active": "1"}
        ).status_code
        == 302
    )
    parent = RootCause.objects.get()
    response = client.post(
        reverse("web:knowledge_root_causes"),
        {"code": "remote_delay", "name_zh": "偏远地区配送延迟", "name_en": "Remote-area delay", "parent": parent.pk, "is_active": "1"},
    )  # fmt: skip
    assert response.status_code == 302 and RootCause.objects.get(code="remote_delay").parent == parent
    bad = client.post(reverse("web:knowledge_root_causes"), {"code": "", "name_zh": ""})
    assert bad.status_code == 400
    cycle = client.post(
        reverse("web:knowledge_root_cause", args=[parent.pk]),
        {"code": "logistics", "name_zh": "物流", "parent": RootCause.objects.get(code="remote_delay").pk},
    )
    assert cycle.status_code == 400
    assert (
        client.post(
            reverse("web:knowledge_catalogue"), {"kind": "model", "label": "PD-X300", "aliases": "X300，pdx300"}
        ).status_code
        == 302
    )
    assert GraphEntity.objects.get(catalogued=True).aliases == ["X300", "pdx300"]


def test_agents_are_refused_and_other_workspaces_not_found(client_as, agent, supervisor, other_workspace):
    client = client_as(agent)
    for name in ("knowledge_proposals", "knowledge_import", "knowledge_root_causes", "knowledge_catalogue"):
        assert client.get(reverse(f"web:{name}")).status_code == 403
    foreign = ArticleProposal.objects.create(workspace=other_workspace, reason="new_solution", title="x", body="y")
    assert client_as(supervisor).get(reverse("web:knowledge_proposal", args=[foreign.pk])).status_code == 404
    cause = RootCause.objects.create(workspace=other_workspace, code="x", name_zh="外")
    assert client_as(supervisor).get(reverse("web:knowledge_root_cause", args=[cause.pk])).status_code == 404


def test_the_manager_screens_read_in_chinese(client_as, supervisor, proposal, workspace):
    client = client_as(supervisor, "zh-hans")
    for url in (
        reverse("web:knowledge_proposals"), reverse("web:knowledge_proposal", args=[proposal.pk]),
        reverse("web:knowledge_import"), reverse("web:knowledge_root_causes"), reverse("web:knowledge_catalogue"),
    ):  # fmt: skip
        html = client.get(url).content.decode()
        found = english_words(
            url,
            visible_texts(html),
            extra_allowed=[
                "Markdown",
                "CSV",
                "zip",
                "Zendesk",
                "Guide",
                "Zammad",
                "JSON",
                "title",
                "body",
                "language",
                "category",
                "visibility",
                "status",
                "translation",
                "key",
            ],
            phrases=[workspace.name, supervisor.name],
        )
        assert found == [], found
