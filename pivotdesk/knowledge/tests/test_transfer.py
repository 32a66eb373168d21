"""Knowledge-base import and export: each format read from a small realistic file, the exports read back as written
(hypothesis), and the service: categories by path, translations linked, re-running a file updates rather than
duplicates, problems as rows, progress, the permission gate, and a file that cannot be read."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.errors import PermissionDenied, ValidationFailed
from pivotdesk.knowledge.domain import transfer
from pivotdesk.knowledge.domain.drafts import LANGUAGES, STATUSES, VISIBILITIES, clean_line, make_draft
from pivotdesk.knowledge.domain.markup import html_to_markdown
from pivotdesk.knowledge.models import Article, ImportJob, ImportStatus, KnowledgeCategory
from pivotdesk.knowledge.services import transfer as services

pytestmark = pytest.mark.django_db


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


MARKDOWN_FOLDER = {
    "账户/忘记密码.md": "# 忘记密码怎么办\n\n在登录页点击“忘记密码”，按短信验证码重设。\n",
    "Billing/refunds.md": (
        "---\ntitle: How to get a refund\nlanguage: en\nvisibility: public\nstatus: published\n"
        "translation: refund\n---\n\nOpen *My orders* and choose **Refund** within 7 days.\n"
    ),
    "Billing/退款.md": (
        "---\ntitle: 如何申请退款\ncategory: Billing\nvisibility: public\nstatus: published\ntranslation: refund\n"
        "---\n\n订单完成后七天内可申请退款。\n"
    ),
    "vpn-error-809.md": "Error 809 means the firewall blocks the VPN ports.\n",
    "Billing/screenshot.png": "not text",
    "broken.md": "---\nlanguage: fr\n---\n\nBonjour\n",
}

CSV_FILE = (
    "title,body,language,category,visibility,status,translation_key\n"
    "忘记密码怎么办,在登录页点击“忘记密码”。,zh-hans,账户/安全,public,published,pw\n"
    'Reset your password,"On the sign-in page choose ""Forgot password"".",en,账户/安全,public,published,pw\n'
    ",A row without a title,en,,,,\n"
    "Gutschein einlösen,Text,de,,,,\n"
)

ZENDESK_EXPORT = {
    "articles": [
        {
            "id": 360001,
            "title": "Track your parcel",
            "body": "<h2>Where is it?</h2><p>Open <a href='https://shop.example.com/orders'>My orders</a>.</p>"
            "<script>alert(1)</script><p>&lt;b&gt;not bold&lt;/b&gt;</p>",
            "locale": "en-us",
            "source_locale": "en-us",
            "section_id": 11,
            "draft": False,
            "user_segment_id": None,
        },
        {
            "id": 360001,
            "title": "查询物流",
            "body": "<p>打开<strong>我的订单</strong>查看物流节点。</p>",
            "locale": "zh-cn",
            "source_locale": "en-us",
            "section_id": 11,
            "draft": True,
            "user_segment_id": 9001,
        },
        {"id": 360002, "title": "Paket verfolgen", "body": "<p>x</p>", "locale": "de", "section_id": 11},
    ],
    "sections": [
        {"id": 11, "name": "Shipping", "locale": "en-us", "category_id": 7},
        {"id": 11, "name": "物流", "locale": "zh-cn", "category_id": 7},
    ],
    "categories": [{"id": 7, "name": "Orders", "locale": "en-us"}, {"id": 7, "name": "订单", "locale": "zh-cn"}],
}

ZAMMAD_EXPORT = {
    "KnowledgeBase": {"1": {"id": 1, "active": True}},
    "KnowledgeBaseLocale": {
        "1": {"id": 1, "knowledge_base_id": 1, "system_locale_id": 10, "primary": True},
        "2": {"id": 2, "knowledge_base_id": 1, "system_locale_id": 20, "primary": False},
    },
    "Locale": {"10": {"id": 10, "locale": "en-us"}, "20": {"id": 20, "locale": "zh-cn"}},
    "KnowledgeBaseCategory": {
        "3": {"id": 3, "knowledge_base_id": 1, "parent_id": None, "position": 0},
        "4": {"id": 4, "knowledge_base_id": 1, "parent_id": 3, "position": 0},
    },
    "KnowledgeBaseCategoryTranslation": {
        "30": {"id": 30, "category_id": 3, "kb_locale_id": 1, "title": "Network"},
        "31": {"id": 31, "category_id": 3, "kb_locale_id": 2, "title": "网络"},
        "40": {"id": 40, "category_id": 4, "kb_locale_id": 1, "title": "VPN"},
    },
    "KnowledgeBaseAnswer": {
        "5": {"id": 5, "category_id": 4, "published_at": "2024-01-01T00:00:00Z", "internal_at": None},
        "6": {"id": 6, "category_id": 3, "published_at": None, "internal_at": "2024-02-01T00:00:00Z"},
    },
    "KnowledgeBaseAnswerTranslation": {
        "50": {"id": 50, "answer_id": 5, "kb_locale_id": 1, "title": "VPN error 809", "content_id": 500},
        "51": {"id": 51, "answer_id": 5, "kb_locale_id": 2, "title": "VPN 错误 809", "content_id": 501},
        "60": {"id": 60, "answer_id": 6, "kb_locale_id": 1, "title": "Proxy settings", "content_id": 600},
    },
    "KnowledgeBaseAnswerTranslationContent": {
        "500": {"id": 500, "body": "<p>Allow <b>UDP 500</b> and 4500.</p>"},
        "501": {"id": 501, "body": "<p>在防火墙放行 UDP 500 和 4500。</p>"},
    },
}


# ------------------------------------------------------------------------------------------------- the formats


def test_a_markdown_folder_reads_front_matter_headings_file_names_and_folders():
    result = transfer.parse("kb.zip", _zip(MARKDOWN_FOLDER))
    drafts = {d.title: d for d in result.drafts}
    assert result.format == "markdown"
    assert drafts["忘记密码怎么办"].body.startswith("在登录页") and drafts["忘记密码怎么办"].category == ("账户",)
    assert drafts["忘记密码怎么办"].language == "zh-hans"
    refund = drafts["How to get a refund"]
    assert (refund.language, refund.visibility, refund.status, refund.translation_key) == (
        "en",
        "public",
        "published",
        "refund",
    )
    assert drafts["如何申请退款"].language == "zh-hans"  # detected from the text
    assert drafts["vpn-error-809"].language == "en" and drafts["vpn-error-809"].category == ()
    assert {(p.ref, p.code) for p in result.problems} == {
        ("Billing/screenshot.png", "not_markdown"),
        ("broken.md", "bad_language"),
    }


def test_a_csv_file_gets_defaults_and_reports_rows_without_a_title_or_with_a_foreign_language():
    result = transfer.parse("kb.csv", CSV_FILE.encode("utf-8-sig"))
    assert [d.title for d in result.drafts] == ["忘记密码怎么办", "Reset your password"]
    assert result.drafts[1].body == 'On the sign-in page choose "Forgot password".'
    assert result.drafts[0].category == ("账户", "安全")
    assert [(p.ref, p.code) for p in result.problems] == [("line 4", "no_title"), ("line 5", "bad_language")]
    minimal = transfer.parse("x.csv", "标题\nOnly a title\n".encode("gb18030"))
    assert minimal.drafts[0].visibility == "internal" and minimal.drafts[0].status == "draft"


def test_a_csv_file_without_a_title_column_cannot_be_read():
    with pytest.raises(transfer.TransferError) as caught:
        transfer.parse("x.csv", b"name,body\na,b\n")
    assert caught.value.code == "no_title_column"


def test_a_zendesk_export_gives_translations_sections_and_text_without_html():
    result = transfer.parse("guide.json", json.dumps(ZENDESK_EXPORT).encode())
    assert result.format == "zendesk"
    english, chinese = result.drafts
    assert english.category == chinese.category == ("订单", "物流")  # one path for both languages
    assert english.translation_key == chinese.translation_key == "zendesk:360001"
    assert (english.visibility, english.status) == ("public", "published")
    assert (chinese.language, chinese.visibility, chinese.status) == ("zh-hans", "internal", "draft")
    assert "## Where is it?" in english.body and "[My orders](https://shop.example.com/orders)" in english.body
    assert "alert" not in english.body and "<" not in english.body.replace("\\<", "")
    assert chinese.body == "打开**我的订单**查看物流节点。"
    assert [(p.ref, p.code) for p in result.problems] == [("zendesk 360002 de", "bad_language")]


def test_a_zammad_export_gives_answers_with_their_language_category_and_state():
    result = transfer.parse("kb.json", json.dumps({"assets": ZAMMAD_EXPORT}).encode())
    assert result.format == "zammad"
    english, chinese = result.drafts
    assert (english.title, english.language, english.category) == ("VPN error 809", "en", ("网络", "VPN"))
    assert (chinese.language, chinese.translation_key) == ("zh-hans", english.translation_key)
    assert (english.visibility, english.status) == ("public", "published")
    assert english.body == "Allow **UDP 500** and 4500."
    assert [(p.code, dict(p.params)) for p in result.problems] == [("no_body", {"title": "Proxy settings"})]


def test_no_html_survives_the_conversion():
    text = html_to_markdown(
        '<img src="javascript:alert(1)" onerror="x()"><a href="javascript:alert(1)">click</a>'
        "<style>p{}</style><iframe src='https://evil'></iframe>&lt;script&gt;x&lt;/script&gt;<p onclick=x>ok</p>"
    )
    assert "javascript" not in text and "onerror" not in text and "iframe" not in text
    assert "<" not in text.replace("\\<", "") and "click" in text and "ok" in text


def test_the_format_is_detected_from_the_content():
    assert transfer.detect_format("upload", _zip({"a.md": "# A"})) == "markdown"
    assert transfer.detect_format("upload", json.dumps(ZENDESK_EXPORT).encode()) == "zendesk"
    assert transfer.detect_format("upload", json.dumps(ZAMMAD_EXPORT).encode()) == "zammad"
    assert transfer.detect_format("kb.csv", b"title\nA\n") == "csv"
    with pytest.raises(transfer.TransferError):
        transfer.detect_format("notes.bin", b"\x00\x01")


# ---------------------------------------------------------------------------------------- exports read back

_line = st.text(st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=30).map(clean_line)
_name = _line.filter(bool)
_body = st.text(st.characters(exclude_categories=("Cs", "Cn")), max_size=200)


@st.composite
def _drafts(draw):
    raw = draw(
        st.lists(
            st.tuples(
                _name,
                _body,
                st.sampled_from(LANGUAGES),
                st.lists(_name, max_size=3),
                st.sampled_from(VISIBILITIES),
                st.sampled_from(STATUSES),
                st.none() | _name,
                st.none() | _name,
            ),
            max_size=6,
            unique_by=(lambda r: (r[2], r[0].casefold()), lambda r: (r[2], r[6] or object())),
        )
    )
    return [
        make_draft(title=t, body=b, language=lang, category=c, visibility=v, status=s, translation_key=k, external_id=e)
        for t, b, lang, c, v, s, k, e in raw
    ]


@given(_drafts())
def test_a_csv_export_reads_back_as_the_drafts_it_was_written_from(drafts):
    assert transfer.parse("export.csv", transfer.write_csv(drafts)).drafts == drafts


@given(_drafts())
def test_a_markdown_export_reads_back_as_the_drafts_it_was_written_from(drafts):
    result = transfer.parse("export.zip", transfer.write_markdown_zip(drafts))
    assert result.problems == []
    assert result.drafts == drafts


# ------------------------------------------------------------------------------------------------ the service


def _run(workspace, supervisor, name, payload, **kwargs):
    return services.import_start(
        actor=Actor.for_agent(supervisor), workspace=workspace, filename=name, payload=payload, run_now=True, **kwargs
    )


def test_importing_a_markdown_folder_creates_articles_categories_and_linked_translations(workspace, supervisor):
    job = _run(workspace, supervisor, "kb.zip", _zip(MARKDOWN_FOLDER))
    assert (job.status, job.total, job.done, job.created_count) == (ImportStatus.DONE, 4, 4, 4)
    assert bytes(job.payload) == _zip(MARKDOWN_FOLDER) or job.payload  # the upload is kept
    refund = Article.objects.get(workspace=workspace, title="How to get a refund")
    chinese = Article.objects.get(workspace=workspace, title="如何申请退款")
    assert refund.group == chinese.group and refund.category == chinese.category
    assert refund.category.name_zh == "Billing" and refund.status == "published"
    assert KnowledgeCategory.objects.filter(workspace=workspace, parent=None).count() == 2
    assert sorted(row["code"] for row in job.problems) == ["bad_language", "not_markdown"]


def test_running_the_same_file_again_updates_rather_than_duplicates(workspace, supervisor):
    first = _run(workspace, supervisor, "kb.csv", CSV_FILE.encode())
    assert first.created_count == 2
    again = _run(workspace, supervisor, "kb.csv", CSV_FILE.encode())
    assert (again.created_count, again.updated_count, services.unchanged_count(again)) == (0, 0, 2)
    changed = CSV_FILE.replace("在登录页点击“忘记密码”。", "在登录页点击“忘记密码”，再输入验证码。")
    third = _run(workspace, supervisor, "kb.csv", changed.encode())
    assert (third.created_count, third.updated_count) == (0, 1)
    assert Article.objects.filter(workspace=workspace).count() == 2
    article = Article.objects.get(workspace=workspace, title="忘记密码怎么办")
    assert article.version == 2 and "验证码" in article.body
    assert KnowledgeCategory.objects.filter(workspace=workspace).count() == 2  # 账户 › 安全, once
    # Rerunning the stored job itself is the task's retry: the same result.
    services.import_run(job_id=first.pk)
    assert Article.objects.filter(workspace=workspace).count() == 2


def test_a_changed_title_of_a_translation_updates_its_article_in_the_group(workspace, supervisor):
    _run(workspace, supervisor, "guide.json", json.dumps(ZENDESK_EXPORT).encode())
    renamed = json.loads(json.dumps(ZENDESK_EXPORT))
    renamed["articles"][1]["title"] = "查询物流进度"
    job = _run(workspace, supervisor, "guide.json", json.dumps(renamed).encode())
    assert (job.created_count, job.updated_count) == (0, 1)
    titles = set(Article.objects.filter(workspace=workspace).values_list("title", flat=True))
    assert titles == {"Track your parcel", "查询物流进度"}


def test_every_item_that_fails_is_a_problem_row_with_its_reason(workspace, supervisor):
    long_title = "x" * 300
    job = _run(workspace, supervisor, "kb.csv", f"title,language\n{long_title},en\nFine,en\n".encode())
    assert job.created_count == 1
    assert job.problems == [{"ref": "line 2", "code": "title_too_long", "params": {"n": "255"}}]
    assert services.problem_text(job.problems[0]) == "line 2: The title is longer than 255 characters."


def test_a_save_the_knowledge_base_refuses_is_a_problem_row_too(workspace, supervisor):
    too_long = "长" * 200_001
    job = _run(
        workspace, supervisor, "kb.zip", _zip({"huge.md": f"# 很长的文章\n\n{too_long}", "ok.md": "# 短文\n\n好"})
    )
    assert job.problems == [{"ref": "huge.md", "code": "invalid_value", "params": {"field": "body"}}]
    assert (job.done, job.created_count, services.unchanged_count(job)) == (2, 1, 0)
    assert services.problem_text(job.problems[0]) == "huge.md: The article was refused: its body is not valid."


def test_a_job_whose_starter_lost_the_permission_fails_when_it_runs(workspace, supervisor):
    job = services.import_start(
        actor=Actor.for_agent(supervisor), workspace=workspace, filename="kb.csv", payload=CSV_FILE.encode()
    )  # queued: the task would run it after commit
    supervisor.role = "agent"
    supervisor.save()
    job = services.import_run(job_id=job.pk)
    assert job.status == ImportStatus.FAILED and json.loads(job.error)["code"] == "permission_denied"
    assert not Article.objects.filter(workspace=workspace).exists()


def test_progress_moves_every_few_items_and_ends_at_the_total(workspace, supervisor):
    rows = "".join(f"Article {n},Body {n},en\n" for n in range(25))
    seen = []
    job = _run(
        workspace,
        supervisor,
        "many.csv",
        f"title,body,language\n{rows}".encode(),
        on_progress=lambda d, t: seen.append((d, t)),
    )
    assert seen == [(10, 25), (20, 25), (25, 25)]
    assert (job.done, job.total, job.created_count) == (25, 25, 25)


def test_an_agent_without_knowledge_manage_is_refused(workspace, agent):
    with pytest.raises(PermissionDenied):
        services.import_start(
            actor=Actor.for_agent(agent), workspace=workspace, filename="kb.csv", payload=CSV_FILE.encode()
        )
    with pytest.raises(PermissionDenied):
        services.export_articles(workspace=workspace, fmt="csv", actor=Actor.for_agent(agent))
    assert not ImportJob.objects.exists()


def test_a_supervisor_of_another_workspace_is_refused(other_workspace, supervisor):
    with pytest.raises(PermissionDenied):
        _run(other_workspace, supervisor, "kb.csv", CSV_FILE.encode())


def test_a_file_that_cannot_be_read_fails_the_job_with_a_readable_reason(workspace, supervisor):
    job = _run(workspace, supervisor, "kb.zip", b"PK\x03\x04 this is not a zip")
    assert job.status == ImportStatus.FAILED and bytes(job.payload).startswith(b"PK")
    assert json.loads(job.error)["code"] == "bad_zip"
    assert services.error_text(job) == "The file is not a readable zip archive."
    unknown = _run(workspace, supervisor, "notes.bin", b"\x00\x01\x02")
    assert unknown.status == ImportStatus.FAILED and "Zendesk Guide" in services.error_text(unknown)


def test_an_empty_file_is_refused_before_it_is_kept(workspace, supervisor):
    with pytest.raises(ValidationFailed):
        _run(workspace, supervisor, "kb.csv", b"")


def test_an_upload_runs_in_the_background_task_after_commit(workspace, supervisor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.import_start(
            actor=Actor.for_agent(supervisor),
            workspace=workspace,
            filename="kb.json",
            payload=json.dumps(ZAMMAD_EXPORT).encode(),
        )
    job.refresh_from_db()
    assert (job.status, job.created_count, len(job.problems)) == (ImportStatus.DONE, 2, 1)
    vpn = Article.objects.get(workspace=workspace, title="VPN error 809")
    assert vpn.category.name_zh == "VPN" and vpn.category.parent.name_zh == "网络"


@pytest.mark.parametrize("fmt", ["md", "csv"])
def test_an_export_imported_into_another_workspace_gives_the_same_articles(fmt, workspace, other_workspace, supervisor):
    _run(workspace, supervisor, "kb.zip", _zip(MARKDOWN_FOLDER))
    data = services.export_articles(workspace=workspace, fmt=fmt)
    job = services.import_start(
        actor=Actor.system("test"), workspace=other_workspace, filename=f"export.{'zip' if fmt == 'md' else 'csv'}",
        payload=data, run_now=True,
    )  # fmt: skip
    assert job.problems == []

    def shape(ws):
        return sorted(
            (a.title, a.body, a.language, a.visibility, a.status, a.category.name_zh if a.category else None)
            for a in Article.objects.filter(workspace=ws).select_related("category")
        )

    assert shape(other_workspace) == shape(workspace)
    moved = Article.objects.filter(workspace=other_workspace, title__in=["How to get a refund", "如何申请退款"])
    assert len({a.group for a in moved}) == 1
