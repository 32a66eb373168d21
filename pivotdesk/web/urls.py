"""URLs of the agent workspace: one URL module per screen domain (`pivotdesk/web/<domain>/urls.py`), joined into the
one `web` namespace so that every URL name stays `web:<name>`."""

from __future__ import annotations

from django.urls import URLPattern

from pivotdesk.web.account import urls as account
from pivotdesk.web.ai import urls as ai
from pivotdesk.web.assist import urls as assist
from pivotdesk.web.automation import macro_urls as automation_macros
from pivotdesk.web.automation import ticket_urls as automation_ticket
from pivotdesk.web.automation import urls as automation
from pivotdesk.web.channels import urls as channels
from pivotdesk.web.customers import urls as customers
from pivotdesk.web.desk import urls as desk
from pivotdesk.web.helpcentre import urls as helpcentre
from pivotdesk.web.knowledge import urls as knowledge
from pivotdesk.web.knowledge_graph import urls as knowledge_graph
from pivotdesk.web.knowledge_review import urls as knowledge_review
from pivotdesk.web.live import urls as live
from pivotdesk.web.notifications import urls as notifications
from pivotdesk.web.oncall import urls as oncall
from pivotdesk.web.portal_settings import urls as portal_settings
from pivotdesk.web.routing import urls as routing
from pivotdesk.web.settings_admin import urls as settings_admin
from pivotdesk.web.sla import urls as sla
from pivotdesk.web.surveys import urls as surveys
from pivotdesk.web.time_tracking import urls as time_tracking
from pivotdesk.web.webhooks import urls as webhooks
from pivotdesk.web.workforce import urls as workforce

DOMAINS = (
    desk,
    account,
    ai,
    customers,
    channels,
    notifications,
    routing,
    sla,
    webhooks,
    workforce,
    oncall,
    automation,
    automation_macros,
    automation_ticket,
    assist,
    knowledge,
    knowledge_review,
    knowledge_graph,
    helpcentre,
    live,
    surveys,
    portal_settings,
    time_tracking,
    settings_admin,
)

app_name = "web"
urlpatterns: list[URLPattern] = [pattern for domain in DOMAINS for pattern in domain.urlpatterns]
