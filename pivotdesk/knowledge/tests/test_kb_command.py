"""`pivotdesk kb import|export|eval`: a folder imported as the system with a summary, the export written, the
workspace rule, and the recall `kb eval` prints on a tiny labelled set (a missing article is a miss, not a crash)."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from pivotdesk.accounts.actors import Actor
from pivotdesk.knowledge import retrieval, services
from pivotdesk.knowledge.models import Article, ImportJob
from pivotdesk.search.services import document_build

pytestmark = pytest.mark.django_db


def _kb(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("kb", *[str(a) for a in args], stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "kb"
    (root / "账户").mkdir(parents=True)
    (root / "账户" / "忘记密码.md").write_text("# 忘记密码怎么办\n\n在登录页点击“忘记密码”。\n", encoding="utf-8")
    (root / "Billing").mkdir()
    (root / "Billing" / "refund.md").write_text("# Refunds\n\nWithin 7 days.\n", encoding="utf-8")
    (root / "Billing" / "logo.png").write_bytes(b"\x89PNG")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD.md").write_text("# hidden", encoding="utf-8")
    return root


def test_kb_import_of_a_folder_acts_as_the_system_and_prints_a_summary(workspace, folder):
    out, err = _kb("import", folder)
    assert "2 articles created, 0 updated, 0 unchanged, 0 problems." in out
    assert "2 of 2 articles" in err and "1 files that are not Markdown were left out." in err
    assert set(Article.objects.filter(workspace=workspace).values_list("title", flat=True)) == {
        "忘记密码怎么办",
        "Refunds",
    }
    job = ImportJob.objects.get()
    assert job.started_by is None and job.filename == "kb.zip"
    out, _ = _kb("import", folder)
    assert "0 articles created, 0 updated, 2 unchanged, 0 problems." in out


def test_kb_import_reports_problems_and_fails_on_a_file_it_cannot_read(workspace, tmp_path):
    csv_file = tmp_path / "kb.csv"
    csv_file.write_text("title,language\nHello,en\n,en\n", encoding="utf-8")
    out, err = _kb("import", csv_file)
    assert "1 articles created" in out and "line 3: The article has no title." in err
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 nope")
    with pytest.raises(CommandError, match="not a readable zip archive"):
        _kb("import", broken)


def test_kb_needs_a_workspace_when_there_are_several(workspace, other_workspace, folder):
    with pytest.raises(CommandError, match="several workspaces"):
        _kb("import", folder)
    _kb("import", folder, "--workspace", other_workspace.slug)
    assert Article.objects.filter(workspace=other_workspace).count() == 2
    assert not Article.objects.filter(workspace=workspace).exists()


def test_kb_export_writes_markdown_and_csv(workspace, folder, tmp_path):
    _kb("import", folder)
    out, _ = _kb("export", tmp_path / "kb.csv")
    assert "2 articles written" in out
    assert (tmp_path / "kb.csv").read_text(encoding="utf-8-sig").startswith("title,body,language,category")
    _kb("export", tmp_path / "out.zip", "--format", "md")
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        assert sorted(archive.namelist()) == ["Billing/Refunds.md", "账户/忘记密码怎么办.md"]


ARTICLES = [
    ("zh-hans", "忘记密码怎么办", "在登录页点击“忘记密码”，按短信验证码重设。"),
    ("zh-hans", "如何申请退款", "订单完成后七天内可在“我的订单”申请退款，款项原路退回。"),
    ("en", "Track your parcel", "Open My orders and choose Track to see every logistics node of the parcel."),
]


@pytest.fixture
def labelled(workspace, supervisor):
    boss = Actor.for_agent(supervisor)
    saved = {}
    for language, title, body in ARTICLES:
        article = services.article_save(
            actor=boss, workspace=workspace, title=title, body=body, language=language, status="published"
        )
        document_build(kind="article", object_id=article.pk)
        saved[title] = article
    retrieval.forget_indexes()
    return saved


def _row(out, mode):
    line = next(line for line in out.splitlines() if line.startswith(mode))
    return line.split()[1:]


def test_kb_eval_prints_recall_mrr_latency_and_counts_a_missing_article_as_a_miss(workspace, labelled, tmp_path):
    refund = labelled["如何申请退款"]
    queries = tmp_path / "queries.csv"
    queries.write_text(
        "query,expected_article\n"
        "密码,忘记密码怎么办\n"
        f"退款,Nothing like it|{refund.pk}\n"
        "parcel,TRACK YOUR PARCEL\n"
        "发票,An article nobody wrote\n",
        encoding="utf-8",
    )
    out, err = _kb("eval", queries, "--mode", "keyword")
    recall_1, recall_5, mrr, p50, p95, n = _row(out, "keyword")
    assert (recall_1, recall_5, mrr, n) == ("0.750", "0.750", "0.750", "4")
    assert float(p50) >= 0 and float(p95) >= float(p50)
    assert "line 3: no article “Nothing like it”" in err and "line 5: no article “An article nobody wrote”" in err
    out, _ = _kb("eval", queries)
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["hybrid", "keyword", "semantic"]


def test_kb_eval_searches_drafts_only_when_asked(workspace, supervisor, tmp_path):
    draft = services.article_save(
        actor=Actor.for_agent(supervisor), workspace=workspace, title="如何申请退款", body="七天内", language="zh-hans"
    )
    document_build(kind="article", object_id=draft.pk)
    queries = tmp_path / "q.csv"
    queries.write_text("query,expected_article\n退款,如何申请退款\n", encoding="utf-8")
    assert _row(_kb("eval", queries, "--mode", "keyword")[0], "keyword")[0] == "0.000"
    assert _row(_kb("eval", queries, "--mode", "keyword", "--include-drafts")[0], "keyword")[0] == "1.000"
