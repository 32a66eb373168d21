"""The customer portal's pages, under `/portal/<workspace slug>/`: sign-in (magic link by e-mail, code by SMS, or a
signed ticket link), my requests (and my organization's, for its managers), a request with its plain-language
timeline, public conversation, reply and files, a new request, notice settings, sign-out.

Views only read the input and call one service or selector; who may see what is `portal.selectors` (404 for
anything not the customer's), what they may do is the services' gate. The page language is `?lang=`, else the
customer's remembered choice, else their browser, else the workspace's.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.common import ratelimit
from pivotdesk.common.errors import DomainError, NotFound, ValidationFailed
from pivotdesk.common.user_files import user_file_response
from pivotdesk.customers.models import Contact
from pivotdesk.portal import links, selectors, session, stages, surveys_bridge
from pivotdesk.portal.models import NoticeChannel
from pivotdesk.portal.selectors import Viewer
from pivotdesk.portal.services import customer as customer_services
from pivotdesk.portal.services import signin as signin_services
from pivotdesk.tickets.models import Status

LANGUAGES = ("zh-hans", "en")
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
_SIGN_IN_ACTOR = Actor.system("portal")


class Portal:
    """The portal page being served: its workspace, the language, and the customer (None before sign-in)."""

    def __init__(self, request: HttpRequest, workspace: Workspace, viewer: Viewer | None, language: str) -> None:
        self.request = request
        self.workspace = workspace
        self.viewer = viewer
        self.language = language
        self._contact: Contact | None = None

    @property
    def contact(self) -> Contact:
        if self._contact is None:
            self._contact = selectors.contact_of(self.me)
        return self._contact

    @property
    def me(self) -> Viewer:
        """The signed-in customer (views behind `portal_view()` always have one)."""
        if self.viewer is None:
            raise NotFound(_("This request does not exist or is not yours."))
        return self.viewer

    @property
    def actor(self) -> Actor:
        return Actor.for_contact(self.contact.pk, self.contact.display_name)

    def url(self, name: str, *args: Any) -> str:
        return reverse(f"portal:{name}", args=[self.workspace.slug, *args])

    def render(self, template: str, context: dict[str, Any] | None = None, *, status: int = 200) -> HttpResponse:
        theme = selectors.theme_for(workspace=self.workspace)
        base = {
            "workspace": self.workspace,
            "portal": self,
            "theme": theme,
            "viewer": self.viewer,
            "language": self.language,
            "customer": self.contact if self.viewer is not None else None,
        }
        return render(self.request, template, {**base, **(context or {})}, status=status)


def _language(request: HttpRequest, workspace: Workspace, viewer: Viewer | None) -> str:
    asked = request.GET.get("lang", "")
    if asked in LANGUAGES:
        request.session[session.LANGUAGE_KEY] = asked
        return asked
    remembered = request.session.get(session.LANGUAGE_KEY)
    if remembered in LANGUAGES:
        return str(remembered)
    if viewer is not None:
        contact = Contact.objects.filter(pk=viewer.contact_id, workspace=workspace).first()
        if contact is not None and (contact.language or selectors.preference_for(contact=contact).language):
            return selectors.contact_language(contact, workspace)  # the customer's own choice
    if request.COOKIES.get("django_language") or request.headers.get("accept-language"):
        chosen = translation.get_language_from_request(request)
        return "zh-hans" if chosen.lower().startswith("zh") else "en"
    return "zh-hans" if (workspace.default_language or "zh").lower().startswith("zh") else "en"


type PortalView = Callable[Concatenate[HttpRequest, Portal, ...], HttpResponseBase]


def portal_view(*, signed_in: bool = True) -> Callable[[PortalView], Callable[..., HttpResponseBase]]:
    """Find the workspace of the slug, the customer of the session and the language; send a visitor who must sign
    in to the sign-in page; render domain errors as a readable page with their 4xx status."""

    def decorate(view: PortalView) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapper(request: HttpRequest, ws: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
            try:
                workspace = selectors.workspace_by_slug(ws)
            except NotFound as exc:
                with translation.override(_language_without_workspace(request)):
                    return render(request, "portal/error.html", {"message": exc.message}, status=404)
            viewer = session.viewer(request, workspace.pk)
            language = _language(request, workspace, viewer)
            with translation.override(language):
                page = Portal(request, workspace, viewer, language)
                if viewer is not None:
                    try:
                        page.contact  # noqa: B018 - a merged or deleted contact ends the session
                    except NotFound:
                        session.sign_out(request, workspace_id=workspace.pk)
                        page.viewer = viewer = None
                if signed_in and viewer is None:
                    target = f"{page.url('signin')}?next={request.path}"
                    return HttpResponseRedirect(target)
                try:
                    response = view(request, page, *args, **kwargs)
                except DomainError as exc:
                    response = page.render("portal/error.html", {"message": exc.message}, status=exc.status_code)
                response.headers.setdefault("Content-Language", language)
                return response

        return wrapper

    return decorate


def _language_without_workspace(request: HttpRequest) -> str:
    chosen = request.GET.get("lang") or translation.get_language_from_request(request)
    return "zh-hans" if chosen.lower().startswith("zh") else "en"


def _client(request: HttpRequest) -> str:
    return ratelimit.client_ip(request) or ""


# ---- sign-in ------------------------------------------------------------------------------------------------------


@require_GET
@portal_view(signed_in=False)
def home(request: HttpRequest, page: Portal) -> HttpResponseBase:
    """The portal's address: the customer's requests, or the sign-in page."""
    return HttpResponseRedirect(page.url("requests" if page.viewer is not None else "signin"))


@require_http_methods(["GET", "POST"])
@portal_view(signed_in=False)
def signin(request: HttpRequest, page: Portal) -> HttpResponseBase:
    """Enter an e-mail address (→ a magic link) or a mobile number (→ a code). The answer never says whether the
    address belongs to a customer."""
    next_path = request.POST.get("next") or request.GET.get("next", "")
    if request.method != "POST":
        return page.render("portal/signin.html", {"next": next_path})
    address = request.POST.get("address", "").strip()[:200]
    try:
        result = signin_services.signin_request(
            actor=_SIGN_IN_ACTOR,
            workspace=page.workspace,
            address=address,
            client=_client(request),
            next_path=next_path,
        )
    except ValidationFailed as exc:
        return page.render(
            "portal/signin.html", {"next": next_path, "address": address, "error": exc.message}, status=422
        )
    if result.method == "code":
        session.remember_pending(request, workspace_id=page.workspace.pk, address=address)
        return HttpResponseRedirect(page.url("signin_code"))
    return page.render("portal/signin_sent.html", {"address": address})


@require_http_methods(["GET", "POST"])
@portal_view(signed_in=False)
def signin_code(request: HttpRequest, page: Portal) -> HttpResponseBase:
    """Enter the 6-digit code sent by SMS to the number given on the sign-in page."""
    address = session.pending_address(request, page.workspace.pk)
    if not address:
        return HttpResponseRedirect(page.url("signin"))
    if request.method != "POST":
        return page.render("portal/signin_code.html", {"address": address})
    try:
        token = signin_services.signin_with_code(
            workspace=page.workspace, address=address, code=request.POST.get("code", "")[:20], client=_client(request)
        )
    except DomainError as exc:
        return page.render(
            "portal/signin_code.html", {"address": address, "error": exc.message}, status=exc.status_code
        )
    session.sign_in(request, workspace_id=page.workspace.pk, contact_id=token.contact_id)
    return HttpResponseRedirect(token.next_path or page.url("requests"))


@require_http_methods(["GET", "POST"])
@portal_view(signed_in=False)
def magic(request: HttpRequest, page: Portal, secret: str) -> HttpResponseBase:
    """A magic link from a mail. GET shows a button (mail scanners that open links must not use it up); the POST
    signs in, once."""
    if request.method != "POST":
        return page.render("portal/magic.html", {"secret": secret})
    try:
        token = signin_services.signin_with_link(workspace=page.workspace, secret=secret)
    except DomainError as exc:
        return page.render("portal/signin.html", {"error": exc.message}, status=exc.status_code)
    session.sign_in(request, workspace_id=page.workspace.pk, contact_id=token.contact_id)
    return HttpResponseRedirect(token.next_path or page.url("requests"))


@require_GET
@portal_view(signed_in=False)
def follow(request: HttpRequest, page: Portal, token: str) -> HttpResponseBase:
    """The signed "Follow your request" link of a mail: opens that request (only that one)."""
    grant = links.read_ticket_token(token)
    if grant is None or grant.workspace_id != page.workspace.pk:
        return page.render(
            "portal/error.html",
            {"message": _("This link is wrong or has expired. Sign in to see your requests.")},
            status=404,
        )
    viewer = Viewer(workspace_id=grant.workspace_id, contact_id=grant.contact_id, ticket_ids=(grant.ticket_id,))
    ticket = selectors.access_ticket(
        viewer=viewer,
        number=_number_of(grant.ticket_id, page.workspace),
    )
    session.grant_ticket(request, workspace_id=page.workspace.pk, contact_id=grant.contact_id, ticket_id=ticket.pk)
    return HttpResponseRedirect(page.url("request", ticket.number))


def _number_of(ticket_id: int, workspace: Workspace) -> int:
    from pivotdesk.tickets.models import Ticket

    number = Ticket.objects.filter(pk=ticket_id, workspace=workspace).values_list("number", flat=True).first()
    if number is None:
        raise NotFound(_("This request does not exist or is not yours."))
    return int(number)


@require_POST
@portal_view(signed_in=False)
def signout(request: HttpRequest, page: Portal) -> HttpResponseBase:
    """End the customer's portal session (an agent's own sign-in in the same browser is untouched)."""
    session.sign_out(request, workspace_id=page.workspace.pk)
    return HttpResponseRedirect(page.url("signin"))


@require_POST
@portal_view(signed_in=False)
def language(request: HttpRequest, page: Portal) -> HttpResponseBase:
    """Switch the portal's language; remembered in the session and, for a signed-in customer, in their settings
    (their notices are then written in it too)."""
    chosen = request.POST.get("language", "")
    if chosen in LANGUAGES:
        request.session[session.LANGUAGE_KEY] = chosen
        if page.viewer is not None and page.viewer.signed_in:
            customer_services.preference_save(actor=page.actor, contact=page.contact, language=chosen)
    target = request.POST.get("next", "")
    local = target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    return HttpResponseRedirect(target if local else page.url("home"))


# ---- requests -----------------------------------------------------------------------------------------------------


@require_GET
@portal_view()
def requests(request: HttpRequest, page: Portal) -> HttpResponseBase:
    """My requests (open / solved / all); an organization's manager can switch to the organization's."""
    state = request.GET.get("state", "open")
    state = state if state in ("open", "solved", "all") else "open"
    organizations = selectors.managed_organizations(viewer=page.me)
    scope = "organization" if request.GET.get("scope") == "organization" and organizations else "mine"
    tickets = list(selectors.ticket_list(viewer=page.me, state=state, scope=scope)[:100])
    rows = [(t, stages.status_text(t), stages.status_tone(t.status)) for t in tickets]
    return page.render(
        "portal/requests.html",
        {"rows": rows, "state": state, "scope": scope, "organizations": organizations},
    )


def _files(request: HttpRequest) -> list[tuple[str, bytes, str]]:
    files = []
    total = 0
    for upload in request.FILES.getlist("files")[: customer_services.MAX_FILES + 1]:
        total += upload.size or 0
        if total > MAX_UPLOAD_BYTES:
            raise ValidationFailed(_("The files are too large together (at most 25 MB)."), details={"field": "files"})
        files.append((upload.name or "file", upload.read(), upload.content_type or ""))
    return files


@require_http_methods(["GET", "POST"])
@portal_view()
def request_new(request: HttpRequest, page: Portal) -> HttpResponseBase:
    """A new request: subject, description, files."""
    if not page.me.signed_in:
        return HttpResponseRedirect(f"{page.url('signin')}?next={request.path}")
    if request.method != "POST":
        return page.render("portal/request_new.html")
    subject, body = request.POST.get("subject", "")[:300], request.POST.get("body", "")[:25_000]
    try:
        ticket = customer_services.portal_request_create(
            actor=page.actor,
            workspace=page.workspace,
            contact=page.contact,
            subject=subject,
            body=body,
            files=_files(request),
        )
    except ValidationFailed as exc:
        return page.render(
            "portal/request_new.html", {"error": exc.message, "subject": subject, "body": body}, status=422
        )
    return HttpResponseRedirect(page.url("request", ticket.number))


@require_http_methods(["GET", "POST"])
@portal_view()
def request_detail(request: HttpRequest, page: Portal, number: int) -> HttpResponseBase:
    """One request: status, timeline in plain language, stages, the public conversation, the reply box; on a
    solved request the rating form."""
    ticket = selectors.access_ticket(viewer=page.me, number=number)
    error, body = "", ""
    if request.method == "POST":
        body = request.POST.get("body", "")[:25_000]
        try:
            customer_services.portal_reply(actor=page.actor, ticket=ticket, body=body, files=_files(request))
        except ValidationFailed as exc:
            error = exc.message
        else:
            return HttpResponseRedirect(page.url("request", ticket.number) + "#latest")
    survey = surveys_bridge.csat_for(ticket) if ticket.status in (Status.SOLVED, Status.CLOSED) else None
    if survey is not None and (survey.status not in ("invited", "answered") or survey.contact_id != page.me.contact_id):
        survey = None  # not yet sent (the workspace's delay), closed, or another person's to give
    context = {
        "ticket": ticket,
        "status_text": stages.status_text(ticket),
        "status_tone": stages.status_tone(ticket.status),
        "steps": stages.timeline(ticket),
        "bars": stages.stage_bars(ticket),
        "messages_": list(selectors.public_messages(ticket=ticket)),
        "is_own": ticket.requester_id == page.me.contact_id,
        "survey": survey,
        "scores": surveys_bridge.scores_for(survey) if survey is not None else [],
        "error": error,
        "body": body,
        "is_done": ticket.status in (Status.SOLVED, Status.CLOSED),
    }
    return page.render("portal/request_detail.html", context, status=422 if error else 200)


@require_POST
@portal_view()
def request_rate(request: HttpRequest, page: Portal, number: int) -> HttpResponseBase:
    """The CSAT form of a solved request (the surveys app records it and, for "not solved", reopens)."""
    ticket = selectors.access_ticket(viewer=page.me, number=number)
    survey = surveys_bridge.csat_for(ticket)
    if survey is None or survey.contact_id != page.me.contact_id:
        raise NotFound(_("There is no rating to give on this request."))
    try:
        score = int(request.POST.get("score", ""))
    except ValueError as exc:
        raise ValidationFailed(_("Choose a score."), details={"field": "score"}) from exc
    surveys_bridge.csat_answer(
        survey=survey,
        actor=page.actor,
        score=score,
        comment=request.POST.get("comment", "")[:2000],
        solved=request.POST.get("not_solved") != "1",
    )
    return HttpResponseRedirect(page.url("request", ticket.number) + "?rated=1#rating")


@require_GET
@portal_view()
def attachment(request: HttpRequest, page: Portal, number: int, attachment_id: int) -> HttpResponseBase:
    """A file of the public conversation, through the user-file rules (raster images inline by their bytes, the
    rest as a download, never as a page of ours)."""
    ticket = selectors.access_ticket(viewer=page.me, number=number)
    att = selectors.access_attachment(ticket=ticket, attachment_id=attachment_id)
    try:
        handle = att.file.open("rb")
    except OSError as exc:
        raise NotFound(_("This file does not exist or is not yours.")) from exc
    return user_file_response(handle=handle, filename=att.filename, inline=True)


# ---- settings -----------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@portal_view()
def preferences(request: HttpRequest, page: Portal) -> HttpResponseBase:
    """The customer's notice settings: progress notices, survey invitations, channel, language."""
    if not page.me.signed_in:
        return HttpResponseRedirect(f"{page.url('signin')}?next={request.path}")
    saved = False
    if request.method == "POST":
        customer_services.preference_save(
            actor=page.actor,
            contact=page.contact,
            progress_notices=request.POST.get("progress_notices") == "1",
            survey_notices=request.POST.get("survey_notices") == "1",
            channel=request.POST.get("channel", NoticeChannel.AUTO),
            language=request.POST.get("language", ""),
        )
        chosen = request.POST.get("language", "")
        if chosen in LANGUAGES:
            request.session[session.LANGUAGE_KEY] = chosen
        return HttpResponseRedirect(page.url("preferences") + "?saved=1")
    saved = request.GET.get("saved") == "1"
    return page.render(
        "portal/preferences.html",
        {
            "pref": selectors.preference_for(contact=page.contact),
            "channels": NoticeChannel.choices,
            "saved": saved,
        },
    )


@require_http_methods(["GET", "POST"])
@portal_view(signed_in=False)
def opt_out(request: HttpRequest, page: Portal, token: str) -> HttpResponseBase:
    """The "stop these notices" link of every notice: GET asks, POST turns progress notices and invitations off
    (a mail scanner opening the link changes nothing)."""
    found = links.read_opt_out_token(token)
    if found is None or found[0] != page.workspace.pk:
        return page.render("portal/error.html", {"message": _("This link is wrong or has expired.")}, status=404)
    done = False
    if request.method == "POST":
        done = customer_services.opt_out_by_link(workspace_id=found[0], contact_id=found[1]) is not None
    return page.render("portal/opt_out.html", {"token": token, "done": done})


# ---- theme --------------------------------------------------------------------------------------------------------


@require_GET
def theme_css(request: HttpRequest, ws: str) -> HttpResponse:
    """The workspace's colours as CSS custom properties (validated #rrggbb values; no inline style anywhere)."""
    workspace = Workspace.objects.filter(slug=ws).first()
    if workspace is None:
        return HttpResponse("", content_type="text/css", status=404)
    theme = selectors.theme_for(workspace=workspace)
    body = f":root{{--pd-primary:{theme.primary_color};--pd-accent:{theme.accent_color};}}\n"
    response = HttpResponse(body, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_GET
def logo(request: HttpRequest, ws: str) -> HttpResponseBase:
    """The workspace's logo, served by the user-file rules (an image only by its bytes)."""
    workspace = Workspace.objects.filter(slug=ws).first()
    theme = selectors.theme_for(workspace=workspace) if workspace is not None else None
    if theme is None or not theme.logo:
        return HttpResponse(status=404)
    try:
        handle = theme.logo.open("rb")
    except OSError:
        return HttpResponse(status=404)
    response = user_file_response(handle=handle, filename=(theme.logo.name or "logo").rsplit("/", 1)[-1], inline=True)
    response["Cache-Control"] = "public, max-age=300"
    return response
