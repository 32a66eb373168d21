"""A customer notice in words, in the customer's language, at send time: the row keeps only facts (`kind`, `data`).

`progress_sentence` is also what the portal's timeline says for the same change, so the mail and the page agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from pivotdesk.portal.models import CustomerNotice, NoticeKind


@dataclass(frozen=True)
class RenderedNotice:
    """What is sent: a subject (mail), the text (mail and SMS) and the mail's HTML."""

    subject: str
    text: str
    html: str


def progress_sentence(change: str, params: dict[str, Any]) -> str:
    """One change of a request in plain language ("Your request was assigned to the Billing team")."""
    team = str(params.get("team", ""))
    stage = str(params.get("stage", ""))
    sentences = {
        "received": _("We received your request."),
        "assigned_team": _("Your request was assigned to the %(team)s team.") % {"team": team}
        if team
        else _("Your request was assigned to a team."),
        "open": _("We are working on your request."),
        "waiting": _("We are waiting for your answer."),
        "on_hold": _("Your request is on hold while we wait for someone else."),
        "solved": _("Your request was solved."),
        "closed": _("Your request was closed."),
        "reopened": _("Your request was reopened."),
        "approval_started": _("Your request is waiting for approval."),
        "approval_stage": _("Approval stage: %(stage)s.") % {"stage": stage},
        "approval_approved": _("Your request was approved."),
        "approval_rejected": _("Your request was not approved."),
        "approval_changes": _("The approvers asked for changes."),
        "chain_stage": _("Next step started: %(stage)s.") % {"stage": stage},
        "chain_stage_done": _("Step completed: %(stage)s.") % {"stage": stage},
    }
    return sentences.get(change, _("Your request was updated."))


def render_notice(notice: CustomerNotice) -> RenderedNotice:
    """The notice in its language."""
    with translation.override(notice.language or "zh-hans"):
        data = notice.data or {}
        renderer = _RENDERERS.get(notice.kind, _progress)
        return renderer(notice.workspace.name, data)


def _sign_in_link(workspace: str, data: dict[str, Any]) -> RenderedNotice:
    minutes = int(data.get("minutes", 15))
    url = str(data.get("url", ""))
    subject = _("Sign in to %(workspace)s support") % {"workspace": workspace}
    lines = [
        _("Open this link to sign in and see your requests:"),
        url,
        _("The link works once, for %(minutes)d minutes.") % {"minutes": minutes},
        _("If you did not ask for it, ignore this message."),
    ]
    return _mail(subject, lines, link=(url, _("Sign in")))


def _sign_in_code(workspace: str, data: dict[str, Any]) -> RenderedNotice:
    minutes = int(data.get("minutes", 10))
    code = str(data.get("code", ""))
    text = _("%(code)s is your %(workspace)s sign-in code. It expires in %(minutes)d minutes.") % {
        "code": code,
        "workspace": workspace,
        "minutes": minutes,
    }
    return RenderedNotice(subject=_("Your sign-in code"), text=text, html=f"<p>{escape(text)}</p>")


def _progress(workspace: str, data: dict[str, Any]) -> RenderedNotice:
    number = data.get("number", "")
    subject_line = str(data.get("subject", ""))
    sentence = progress_sentence(str(data.get("change", "")), dict(data.get("params") or {}))
    subject = _("[#%(number)s] Update on your request: %(subject)s") % {"number": number, "subject": subject_line}
    lines = [sentence]
    if data.get("change") == "waiting":
        lines.append(_("Please reply so that we can go on."))
    url = str(data.get("url", ""))
    if url:
        lines += [_("Follow your request:"), url]
    opt_out = str(data.get("opt_out", ""))
    if opt_out:
        lines += ["", _("Stop progress notices: %(link)s") % {"link": opt_out}]
    return _mail(subject, lines, link=(url, _("See your request")) if url else None)


def _survey(workspace: str, data: dict[str, Any]) -> RenderedNotice:
    number = data.get("number", "")
    subject = _("[#%(number)s] How did we do?") % {"number": number}
    links: list[dict[str, Any]] = list(data.get("links") or [])
    if data.get("kind") == "nps":
        question = _("How likely are you to recommend %(workspace)s to a friend or colleague? (0–10)") % {
            "workspace": workspace
        }
    else:
        question = _("How satisfied are you with the help you received? (1 = very unhappy, 5 = very happy)")
    lines = [question]
    lines += [f"{item.get('score')}: {item.get('url')}" for item in links]
    opt_out = str(data.get("opt_out", ""))
    if opt_out:
        lines += ["", _("Stop these messages: %(link)s") % {"link": opt_out}]
    text = "\n".join(lines)
    buttons = "".join(
        f'<a href="{escape(str(item.get("url", "")))}" style="display:inline-block;padding:8px 12px;margin:2px;'
        f'border:1px solid #ccc;border-radius:6px;text-decoration:none">{escape(str(item.get("score")))}</a>'
        for item in links
    )
    html = f"<p>{escape(question)}</p><p>{buttons}</p>"
    if opt_out:
        html += f'<p style="color:#666;font-size:12px"><a href="{escape(opt_out)}">{escape(_("Stop these messages"))}</a></p>'
    return RenderedNotice(subject=subject, text=text, html=html)


def _mail(subject: str, lines: list[str], *, link: tuple[str, str] | None = None) -> RenderedNotice:
    text = "\n".join(lines)
    parts = []
    for line in lines:
        if line and line.startswith(("http://", "https://", "/")):
            label = link[1] if link and link[0] == line else line
            parts.append(f'<p><a href="{escape(line)}">{escape(label)}</a></p>')
        elif line:
            parts.append(f"<p>{escape(line)}</p>")
    return RenderedNotice(subject=subject, text=text, html="".join(parts))


_RENDERERS: dict[str, Callable[[str, dict[str, Any]], RenderedNotice]] = {
    NoticeKind.SIGN_IN_LINK: _sign_in_link,
    NoticeKind.SIGN_IN_CODE: _sign_in_code,
    NoticeKind.PROGRESS: _progress,
    NoticeKind.SURVEY: _survey,
}
