"""The role × service matrix: every public write service, every role, allowed or refused with nothing written.

In the manner of NetBox's "with / without permission" view test cases, generated rather than written by hand:

- the services are found by reading every app's services modules (`pivotdesk/<app>/services.py` and
  `pivotdesk/<app>/services/**.py`): a public function that writes (directly, or through another function of the
  services modules that does) is a write service; read-only helpers and `_private` functions are left out;
- `SERVICE_PERMISSIONS` below says which permission each one needs, with a factory that builds a minimal valid
  input; the roles allowed are read from `ROLE_PERMISSIONS`, so the table never repeats the role rules;
- for every role (and the system, and a contact) the service is called: an allowed role succeeds, a refused one
  gets `PermissionDenied` and the database saw no INSERT, UPDATE or DELETE.

A new write service with no row here fails `test_every_write_service_is_in_the_table` with a message saying what to
add; one that forgets `actor` fails `test_every_gated_service_takes_the_actor`; one that forgets its check fails
the matrix for the roles that lack the permission.
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

import pivotdesk
from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Role, Workspace
from pivotdesk.accounts.permissions import CONTACT_PERMISSIONS, ROLE_PERMISSIONS, Perm
from pivotdesk.accounts.tests.factories import AgentFactory, TeamFactory
from pivotdesk.common.errors import PermissionDenied
from pivotdesk.customers.models import Contact
from pivotdesk.customers.tests.factories import ContactFactory

# ---- finding the write services -----------------------------------------------------------------------------------

# Calls that write whatever they are called on, and calls that write when called on a manager, a queryset or a
# related manager (`Model.objects.filter(…).update()`, `ticket.tags.set()`), not on a local dict or set.
_ALWAYS_WRITES = {"save", "delete", "bulk_create", "bulk_update", "get_or_create", "update_or_create"}
_WRITES_ON_MANAGERS = {"create", "update", "add", "set", "remove", "clear", "select_for_update"}
_NOT_THE_DATABASE = {"cache", "self", "os", "shutil", "path"}


def service_modules() -> Iterator[ModuleType]:
    """Every app's services module, and every module of a services package (sub-packages included)."""
    root = Path(pivotdesk.__file__).parent
    for app in sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("_")):
        if (root / app / "services.py").exists():
            yield importlib.import_module(f"pivotdesk.{app}.services")
        elif (root / app / "services" / "__init__.py").exists():
            package = importlib.import_module(f"pivotdesk.{app}.services")
            yield package
            for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
                yield importlib.import_module(info.name)


def _receiver_root(node: ast.expr) -> str:
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else ""


def _direct_write(func: ast.AST) -> bool:
    for node in ast.walk(func):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        name, receiver = node.func.attr, node.func.value
        if _receiver_root(receiver) in _NOT_THE_DATABASE:
            continue
        on_manager = isinstance(receiver, ast.Attribute | ast.Call)  # not a local name nor a dict/list item
        if name in _ALWAYS_WRITES or (name in _WRITES_ON_MANAGERS and on_manager):
            return True
    return False


Key = tuple[str, str]  # (module, function or method name)


def _target(module: ModuleType, local: set[str], call: ast.Call) -> Key | None:
    """The function of the services modules a call reaches, as far as the source tells: a name defined in the
    module, a name it imports, `other_module.function`, or a method of the module's own classes."""
    func = call.func
    if isinstance(func, ast.Name):
        if func.id in local:
            return (module.__name__, func.id)
        obj = vars(module).get(func.id)
        return (obj.__module__, obj.__name__) if inspect.isfunction(obj) else None
    if isinstance(func, ast.Attribute):
        if isinstance(func.value, ast.Name):
            owner = vars(module).get(func.value.id)
            if inspect.ismodule(owner):
                obj = getattr(owner, func.attr, None)
                return (obj.__module__, obj.__name__) if inspect.isfunction(obj) else None
        return (module.__name__, func.attr) if func.attr in local else None
    return None


def _writers(modules: list[ModuleType]) -> set[Key]:
    """The functions (and methods) of the services modules that write, directly or through each other."""
    calls: dict[Key, set[Key]] = {}
    writes: set[Key] = set()
    for module in modules:
        tree = ast.parse(inspect.getsource(module))
        functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        local = {f.name for f in functions}
        for node in functions:
            key = (module.__name__, node.name)
            reached = {_target(module, local, c) for c in ast.walk(node) if isinstance(c, ast.Call)}
            calls.setdefault(key, set()).update(k for k in reached if k is not None)
            if _direct_write(node):
                writes.add(key)
    changed = True
    while changed:
        changed = False
        for key, called in calls.items():
            if key not in writes and called & writes:
                writes.add(key)
                changed = True
    return writes


@functools.cache
def write_services() -> dict[str, Callable[..., Any]]:
    """`<app>.services[.<module>].<function>` → the function, for every public function that writes."""
    modules = list(service_modules())
    writers = _writers(modules)
    found: dict[str, Callable[..., Any]] = {}
    for module in modules:
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and not name.startswith("_") and (module.__name__, name) in writers:
                found[f"{module.__name__.removeprefix('pivotdesk.')}.{name}"] = fn
    return found


# ---- the world the factories build on -----------------------------------------------------------------------------


@dataclass
class World:
    """A workspace with one agent of every role, a customer and a ticket."""

    workspace: Workspace
    agents: dict[str, AgentProfile]
    contact: Contact

    def me(self, agent: AgentProfile | None) -> AgentProfile:
        """The acting agent, or (for the system or a contact) a plain agent to act on."""
        return agent or self.agents[Role.AGENT]

    def ticket(self, **kwargs: Any) -> Any:
        from pivotdesk.tickets.tests.factories import make_ticket

        return make_ticket(workspace=self.workspace, requester=self.contact, **kwargs)


Build = Callable[[World, AgentProfile | None], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    """One way of calling a service: the permission it needs and a factory for a minimal valid input."""

    perm: Perm
    build: Build
    label: str = ""


def _token(world: World, owner: Any) -> Any:
    from pivotdesk.accounts import services

    token, _secret = services.api_token_create(agent=owner, actor=Actor.system(), name="fixture")
    return token


def _view(world: World, owner: AgentProfile | None) -> Any:
    from pivotdesk.tickets.services import saved_view_create

    return saved_view_create(workspace=world.workspace, actor=Actor.system(), name="v", filters={}, owner=owner)


def _field(world: World) -> Any:
    from pivotdesk.tickets.services import custom_field_create

    return custom_field_create(workspace=world.workspace, actor=Actor.system(), key="k", label="K", field_type="text")


def _org(world: World) -> Any:
    from pivotdesk.customers.services import organization_create

    return organization_create(workspace=world.workspace, actor=Actor.system(), name="ACME")


def _portal_manager(world: World) -> Any:
    from pivotdesk.portal.services.admin import organization_manager_add

    return organization_manager_add(actor=Actor.system(), contact=world.contact, organization=_org(world))


def _time_entry(world: World, agent: AgentProfile) -> Any:
    from pivotdesk.workforce.services.time_tracking import time_entry_add

    return time_entry_add(ticket=world.ticket(), actor=Actor.system(), duration="10m", agent=agent)


def _skill(world: World) -> Any:
    from pivotdesk.accounts.services import skill_get_or_create

    return skill_get_or_create(workspace=world.workspace, actor=Actor.system(), name="printers")


def _invitation(world: World) -> Any:
    from pivotdesk.accounts.services import invitation_create

    count = world.workspace.pk * 1000 + len(world.agents)
    invitation, _token = invitation_create(
        workspace=world.workspace, actor=Actor.system(), email=f"invited-{count}-{id(world)}@example.com"
    )
    return invitation


def _status_label(world: World) -> Any:
    from pivotdesk.tickets.models import StatusDefinition

    definition, _ = StatusDefinition.objects.get_or_create(
        workspace=world.workspace, label="Waiting", category="pending"
    )
    return definition


def _ticket_category(world: World) -> Any:
    from pivotdesk.tickets.services.configuration import category_create

    return category_create(workspace=world.workspace, actor=Actor.system(), name="Billing")


def _tag(world: World, name: str = "vip") -> Any:
    from pivotdesk.tickets.services.configuration import tag_get_or_create

    return tag_get_or_create(workspace=world.workspace, actor=Actor.system(), name=name)


_RATE_ABOVE_DEFAULT = 100_000
_ESCALATE: list[dict[str, Any]] = [{"type": "notify", "to": "assignee"}]
_LEAVE: dict[str, Any] = {
    "start": dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
    "end": dt.datetime(2030, 1, 2, tzinfo=dt.UTC),
}
_CONNECTOR: dict[str, Any] = {
    "name": "Orders",
    "entity_kind": "order_number",
    "url_template": "https://erp.example.com/o/{value}",
}
_HOOK = "https://hooks.example.com/pivotdesk"
_APPRISE = "json://hooks.example.com/pivotdesk"

_REFUSED_CONSENT: dict[str, str] = {
    "code": "",
    "code_verifier": "",
    "redirect_uri": "https://desk.test/cb",
    "error": "access_denied",
}


def _first_identity_id(w: Any) -> int:
    identity = w.contact.identities.first()
    assert identity is not None
    return int(identity.pk)


SERVICE_PERMISSIONS: dict[str, tuple[Case, ...]] = {
    # accounts
    "accounts.services.agent_create": (
        Case(Perm.AGENT_MANAGE, lambda w, a: {"workspace": w.workspace, "username": "new-agent"}),
    ),
    "accounts.services.agent_update": (
        Case(Perm.AGENT_MANAGE, lambda w, a: {"agent": AgentFactory(workspace=w.workspace), "capacity": {"chat": 2}}),
    ),
    "accounts.services.agent_set_status": (
        Case(Perm.SELF_MANAGE, lambda w, a: {"agent": w.me(a), "status": "away"}, "own presence"),
        Case(Perm.TEAM_MANAGE, lambda w, a: {"agent": AgentFactory(workspace=w.workspace), "status": "away"}, "other"),
    ),
    "accounts.services.team_create": (Case(Perm.TEAM_MANAGE, lambda w, a: {"workspace": w.workspace, "name": "T"}),),
    "accounts.services.team_set_members": (
        Case(Perm.TEAM_MANAGE, lambda w, a: {"team": TeamFactory(workspace=w.workspace), "members": [w.me(a)]}),
    ),
    "accounts.services.team_update": (
        Case(Perm.TEAM_MANAGE, lambda w, a: {"team": TeamFactory(workspace=w.workspace), "name": "Renamed"}),
    ),
    "accounts.services.skill_get_or_create": (
        Case(Perm.TEAM_MANAGE, lambda w, a: {"workspace": w.workspace, "name": "printers"}),
    ),
    "accounts.services.agent_skill_set": (
        Case(Perm.TEAM_MANAGE, lambda w, a: {"agent": w.me(a), "skill": _skill(w), "level": 3}),
    ),
    "accounts.services.api_token_create": (
        Case(Perm.TOKEN_CREATE, lambda w, a: {"agent": w.me(a), "name": "ci"}, "own write token"),
        Case(Perm.TOKEN_ADMIN_SCOPE, lambda w, a: {"agent": w.me(a), "name": "ci", "scope": "admin"}, "admin scope"),
        Case(
            Perm.TOKEN_RATE_LIMIT_RAISE,
            lambda w, a: {"agent": w.me(a), "name": "ci", "rate_limit_per_minute": _RATE_ABOVE_DEFAULT},
            "raised rate limit",
        ),
    ),
    "accounts.services.api_token_revoke": (
        Case(Perm.TOKEN_CREATE, lambda w, a: {"token": _token(w, w.me(a))}, "own token"),
        Case(Perm.AGENT_MANAGE, lambda w, a: {"token": _token(w, AgentFactory(workspace=w.workspace))}, "other's"),
    ),
    # accounts: the in-app admin (issue 18)
    "accounts.services.agent_skill_remove": (
        Case(Perm.TEAM_MANAGE, lambda w, a: {"agent": w.me(a), "skill": _skill(w)}),
    ),
    "accounts.services.api_token_admin_revoke": (
        Case(Perm.AGENT_MANAGE, lambda w, a: {"token": _token(w, AgentFactory(workspace=w.workspace))}),
    ),
    "accounts.services.invitation_create": (
        Case(Perm.AGENT_MANAGE, lambda w, a: {"workspace": w.workspace, "email": "invited@example.com"}),
    ),
    "accounts.services.invitation_resend": (Case(Perm.AGENT_MANAGE, lambda w, a: {"invitation": _invitation(w)}),),
    "accounts.services.invitation_revoke": (Case(Perm.AGENT_MANAGE, lambda w, a: {"invitation": _invitation(w)}),),
    # customers
    "customers.services.organization_create": (
        Case(Perm.CONTACT_MANAGE, lambda w, a: {"workspace": w.workspace, "name": "ACME"}),
    ),
    "customers.services.organization_update": (
        Case(Perm.CONTACT_MANAGE, lambda w, a: {"organization": _org(w), "notes": "key account"}),
    ),
    "customers.services.contact_create": (
        Case(Perm.CONTACT_MANAGE, lambda w, a: {"workspace": w.workspace, "email": "new@example.com"}),
    ),
    "customers.services.contact_update": (Case(Perm.CONTACT_MANAGE, lambda w, a: {"contact": w.contact, "name": "N"}),),
    "customers.services.identity_attach": (
        Case(Perm.CONTACT_MANAGE, lambda w, a: {"contact": w.contact, "kind": "phone", "value": "+8613800138000"}),
    ),
    "customers.services.contact_resolve": (
        Case(Perm.CONTACT_MANAGE, lambda w, a: {"workspace": w.workspace, "kind": "email", "value": "x@example.com"}),
    ),
    "customers.services.contact_merge": (
        Case(Perm.CONTACT_MERGE, lambda w, a: {"source": ContactFactory(workspace=w.workspace), "target": w.contact}),
    ),
    "customers.services.identity_detach": (
        Case(Perm.CONTACT_MANAGE, lambda w, a: {"contact": w.contact, "identity_id": _first_identity_id(w)}),
    ),
    # workforce: time spent on tickets (issue 18)
    "workforce.services.time_tracking.time_entry_add": (
        Case(Perm.TICKET_NOTE, lambda w, a: {"ticket": w.ticket(), "duration": "15m", "agent": w.me(a)}),
    ),
    "workforce.services.time_tracking.time_entry_track": (
        Case(
            Perm.TICKET_NOTE, lambda w, a: {"ticket": w.ticket(), "page": "p", "active_seconds": 30, "agent": w.me(a)}
        ),
    ),
    "workforce.services.time_tracking.time_entry_delete": (
        Case(Perm.TICKET_NOTE, lambda w, a: {"entry": _time_entry(w, w.me(a))}, "own entry"),
        Case(
            Perm.WORKFORCE_MANAGE,
            lambda w, a: {"entry": _time_entry(w, cast(AgentProfile, AgentFactory(workspace=w.workspace)))},
            "other's",
        ),
    ),
    # tickets: configuration
    "tickets.services.configuration.custom_field_create": (
        Case(
            Perm.WORKSPACE_CONFIGURE,
            lambda w, a: {"workspace": w.workspace, "key": "order", "label": "Order", "field_type": "text"},
        ),
    ),
    "tickets.services.configuration.custom_field_update": (
        Case(Perm.WORKSPACE_CONFIGURE, lambda w, a: {"field": _field(w), "label": "Renamed"}),
    ),
    "tickets.services.configuration.status_definition_create": (
        Case(Perm.WORKSPACE_CONFIGURE, lambda w, a: {"workspace": w.workspace, "category": "pending", "label": "Wait"}),
    ),
    "tickets.services.configuration.category_create": (
        Case(Perm.CATEGORY_MANAGE, lambda w, a: {"workspace": w.workspace, "name": "Billing"}),
    ),
    "tickets.services.configuration.tag_get_or_create": (
        Case(Perm.TICKET_UPDATE, lambda w, a: {"workspace": w.workspace, "name": "vip"}),
    ),
    "tickets.services.configuration.saved_view_create": (
        Case(
            Perm.SELF_MANAGE, lambda w, a: {"workspace": w.workspace, "name": "Mine", "filters": {}, "owner": w.me(a)}
        ),
        Case(Perm.SAVED_VIEW_SHARE, lambda w, a: {"workspace": w.workspace, "name": "All", "filters": {}}, "shared"),
    ),
    "tickets.services.configuration.saved_view_delete": (
        Case(Perm.SELF_MANAGE, lambda w, a: {"view": _view(w, w.me(a))}, "own view"),
        Case(Perm.SAVED_VIEW_SHARE, lambda w, a: {"view": _view(w, None)}, "shared view"),
    ),
    "tickets.services.configuration.status_definition_update": (
        Case(Perm.WORKSPACE_CONFIGURE, lambda w, a: {"definition": _status_label(w), "label": "Waiting on parts"}),
    ),
    "tickets.services.configuration.status_definitions_reorder": (
        Case(Perm.WORKSPACE_CONFIGURE, lambda w, a: {"workspace": w.workspace, "ids": [_status_label(w).pk]}),
    ),
    "tickets.services.configuration.custom_fields_reorder": (
        Case(Perm.WORKSPACE_CONFIGURE, lambda w, a: {"workspace": w.workspace, "ids": [_field(w).pk]}),
    ),
    "tickets.services.configuration.category_update": (
        Case(Perm.CATEGORY_MANAGE, lambda w, a: {"category": _ticket_category(w), "name_zh": "账单", "active": False}),
    ),
    "tickets.services.configuration.tag_rename": (
        Case(Perm.WORKSPACE_CONFIGURE, lambda w, a: {"tag": _tag(w), "name": "gold"}),
    ),
    "tickets.services.configuration.tag_merge": (
        Case(Perm.WORKSPACE_CONFIGURE, lambda w, a: {"source": _tag(w, "vip"), "target": _tag(w, "gold")}),
    ),
    "tickets.services.configuration.tag_delete": (Case(Perm.WORKSPACE_CONFIGURE, lambda w, a: {"tag": _tag(w)}),),
    # tickets: tickets, conversation, links
    "tickets.services.tickets.ticket_create": (
        Case(Perm.TICKET_CREATE, lambda w, a: {"workspace": w.workspace, "requester": w.contact, "subject": "Hi"}),
    ),
    "tickets.services.tickets.ticket_update": (
        Case(Perm.TICKET_UPDATE, lambda w, a: {"ticket": w.ticket(), "changes": {"priority": "high"}}),
    ),
    "tickets.services.tickets.ticket_assign": (
        Case(Perm.TICKET_UPDATE, lambda w, a: {"ticket": w.ticket(), "assignee": w.me(a)}, "to oneself"),
        Case(Perm.TICKET_ASSIGN_OTHERS, lambda w, a: {"ticket": w.ticket(), "assignee": w.agents[Role.ADMIN]}, "other"),
    ),
    "tickets.services.tickets.ticket_set_status": (
        Case(Perm.TICKET_UPDATE, lambda w, a: {"ticket": w.ticket(), "status": "pending"}),
    ),
    "tickets.services.tickets.tickets_bulk_update": (
        Case(
            Perm.TICKET_BULK,
            lambda w, a: {"workspace": w.workspace, "ticket_ids": [w.ticket().pk], "changes": {"priority": "low"}},
        ),
    ),
    "tickets.services.messages.message_create": (
        Case(Perm.TICKET_REPLY_PUBLIC, lambda w, a: {"ticket": w.ticket(), "body": "Try again"}, "public reply"),
        Case(Perm.TICKET_NOTE, lambda w, a: {"ticket": w.ticket(), "body": "Hm", "kind": "note"}, "internal note"),
    ),
    "tickets.services.drafts.draft_save": (
        Case(
            Perm.TICKET_REPLY_PUBLIC,
            lambda w, a: {"ticket": w.ticket(), "agent": w.me(a), "body": "Dear"},
            "public reply",
        ),
        Case(
            Perm.TICKET_NOTE,
            lambda w, a: {"ticket": w.ticket(), "agent": w.me(a), "body": "Hm", "kind": "note"},
            "internal note",
        ),
    ),
    "tickets.services.drafts.draft_discard": (
        Case(Perm.TICKET_VIEW, lambda w, a: {"ticket": w.ticket(), "agent": w.me(a)}),
    ),
    "tickets.services.queue_layout.queue_columns_save": (
        Case(Perm.TICKET_VIEW, lambda w, a: {"agent": w.me(a), "columns": ["number", "status"]}),
    ),
    "tickets.services.messages.attachment_add": (
        Case(Perm.TICKET_UPDATE, lambda w, a: {"ticket": w.ticket(), "filename": "a.txt", "content": b"x"}, "ticket"),
        Case(
            Perm.TICKET_REPLY_PUBLIC,
            lambda w, a: {**_on_message(w, "public"), "filename": "a.txt", "content": b"x"},
            "on a reply",
        ),
        Case(Perm.TICKET_NOTE, lambda w, a: {**_on_message(w, "note"), "filename": "a.txt", "content": b"x"}, "note"),
    ),
    "tickets.services.messages.reply_upload": (
        Case(
            Perm.TICKET_REPLY_PUBLIC,
            lambda w, a: {"ticket": w.ticket(), "agent": w.me(a), "filename": "a.png", "content": b"x"},
            "public reply",
        ),
        Case(
            Perm.TICKET_NOTE,
            lambda w, a: {"ticket": w.ticket(), "agent": w.me(a), "filename": "a.png", "content": b"x", "kind": "note"},
            "internal note",
        ),
    ),
    "tickets.services.messages.attachment_set_extracted_text": (
        Case(
            Perm.TICKET_UPDATE,
            lambda w, a: {"attachment": _attachment(w), "text": "E-2047", "source": "ocr", "model": "fixture"},
        ),
    ),
    "tickets.services.messages.ticket_add_cc": (
        Case(
            Perm.TICKET_UPDATE, lambda w, a: {"ticket": w.ticket(), "contacts": [ContactFactory(workspace=w.workspace)]}
        ),
    ),
    "tickets.services.links.ticket_link": (
        Case(Perm.TICKET_UPDATE, lambda w, a: {"source": w.ticket(), "target": w.ticket(), "kind": "related"}),
    ),
    "tickets.services.links.ticket_unlink": (Case(Perm.TICKET_UPDATE, lambda w, a: {"link": _link(w)}),),
    "tickets.services.links.ticket_set_parent": (
        Case(Perm.TICKET_UPDATE, lambda w, a: {"child": w.ticket(), "parent": w.ticket()}),
    ),
    "tickets.services.links.ticket_merge": (
        Case(Perm.TICKET_MERGE, lambda w, a: {"source": w.ticket(), "target": w.ticket()}),
    ),
    "tickets.services.contacts.move_tickets_on_contact_merge": (
        Case(Perm.CONTACT_MERGE, lambda w, a: {"source": w.contact, "target": ContactFactory(workspace=w.workspace)}),
    ),
    # sla: configuration (the settings screens write through these)
    "sla.services.configuration.calendar_create": (
        Case(Perm.SLA_CONFIGURE, lambda w, a: {"workspace": w.workspace, "name": "Office"}),
    ),
    "sla.services.configuration.calendar_update": (
        Case(Perm.SLA_CONFIGURE, lambda w, a: {"calendar": _calendar(w), "changes": {"name": "Renamed"}}),
    ),
    "sla.services.configuration.calendar_delete": (Case(Perm.SLA_CONFIGURE, lambda w, a: {"calendar": _calendar(w)}),),
    "sla.services.configuration.team_calendar_set": (
        Case(Perm.SLA_CONFIGURE, lambda w, a: {"team": TeamFactory(workspace=w.workspace), "calendar": _calendar(w)}),
    ),
    "sla.services.configuration.policy_create": (
        Case(Perm.SLA_CONFIGURE, lambda w, a: {"workspace": w.workspace, "name": "Gold"}),
    ),
    "sla.services.configuration.policy_update": (
        Case(Perm.SLA_CONFIGURE, lambda w, a: {"policy": _sla_policy(w), "changes": {"active": False}}),
    ),
    "sla.services.configuration.policy_delete": (Case(Perm.SLA_CONFIGURE, lambda w, a: {"policy": _sla_policy(w)}),),
    "sla.services.configuration.policy_reorder": (
        Case(Perm.SLA_CONFIGURE, lambda w, a: {"workspace": w.workspace, "policy_ids": [_sla_policy(w).pk]}),
    ),
    "sla.services.configuration.escalation_level_set": (
        Case(Perm.SLA_CONFIGURE, lambda w, a: {"policy": _sla_policy(w), "level": 1, "actions": _ESCALATE}),
    ),
    "sla.services.configuration.escalation_levels_replace": (
        Case(
            Perm.SLA_CONFIGURE, lambda w, a: {"policy": _sla_policy(w), "levels": [{"level": 1, "actions": _ESCALATE}]}
        ),
    ),
    # routing
    "routing.services.policies.policy_create": (
        Case(Perm.ROUTING_MANAGE, lambda w, a: {"workspace": w.workspace, "fields": {"name": "Default"}}),
    ),
    "routing.services.policies.policy_update": (
        Case(Perm.ROUTING_MANAGE, lambda w, a: {"policy": _routing_policy(w), "fields": {"name": "Renamed"}}),
    ),
    "routing.services.policies.policy_delete": (
        Case(Perm.ROUTING_MANAGE, lambda w, a: {"policy": _routing_policy(w)}),
    ),
    "routing.services.queue.backlog_route": (Case(Perm.ROUTING_MANAGE, lambda w, a: {"workspace_id": w.workspace.pk}),),
    "routing.services.policies.category_skill_set": (
        Case(Perm.ROUTING_MANAGE, lambda w, a: {"category": _category(w), "skill": _skill(w), "min_level": 2}),
    ),
    "routing.services.field.device_link": (
        Case(Perm.TICKET_UPDATE, lambda w, a: {"ticket": w.ticket(), "device": _device(w)}),
    ),
    "routing.services.field.part_usage_record": (
        Case(Perm.TICKET_UPDATE, lambda w, a: {"ticket": w.ticket(), "device": _device(w), "part": _part(w)}),
    ),
    "routing.services.reroute.ticket_override": (
        Case(
            Perm.ROUTING_MANAGE,
            lambda w, a: {"ticket": w.ticket(), "agent": w.agents[Role.AGENT], "reason": "VIP asked for them"},
        ),
    ),
    # ai
    "ai.services.connectors.connector_create": (
        Case(Perm.WORKSPACE_CONFIGURE, lambda w, a: {"workspace": w.workspace, **_CONNECTOR}),
    ),
    "ai.services.connectors.connector_update": (
        Case(Perm.WORKSPACE_CONFIGURE, lambda w, a: {"connector": _connector(w), "changes": {"name": "Orders v2"}}),
    ),
    "ai.services.connectors.connector_delete": (
        Case(Perm.WORKSPACE_CONFIGURE, lambda w, a: {"connector": _connector(w)}),
    ),
    # webhooks
    "webhooks.services.endpoints.webhook_endpoint_create": (
        Case(Perm.WEBHOOK_MANAGE, lambda w, a: {"workspace": w.workspace, "url": _HOOK}),
    ),
    "webhooks.services.endpoints.webhook_endpoint_update": (
        Case(Perm.WEBHOOK_MANAGE, lambda w, a: {"endpoint": _endpoint(w), "changes": {"description": "CRM"}}),
    ),
    "webhooks.services.endpoints.webhook_endpoint_delete": (
        Case(Perm.WEBHOOK_MANAGE, lambda w, a: {"endpoint": _endpoint(w)}),
    ),
    "webhooks.services.endpoints.webhook_endpoint_ping": (
        Case(Perm.WEBHOOK_MANAGE, lambda w, a: {"endpoint": _endpoint(w)}),
    ),
    "webhooks.services.endpoints.webhook_endpoint_rotate_secret": (
        Case(Perm.WEBHOOK_MANAGE, lambda w, a: {"endpoint": _endpoint(w)}),
    ),
    # notifications: one's own, and the shared targets
    "notifications.services.notification_mark_read": (
        Case(Perm.SELF_MANAGE, lambda w, a: {"agent": w.me(a), "notification_id": _notification(w, w.me(a)).pk}),
    ),
    "notifications.services.notifications_mark_all_read": (Case(Perm.SELF_MANAGE, lambda w, a: {"agent": w.me(a)}),),
    "notifications.services.preference_save": (
        Case(
            Perm.SELF_MANAGE,
            lambda w, a: {
                "agent": w.me(a),
                "channels": {},
                "quiet_hours_enabled": False,
                "quiet_start": None,
                "quiet_end": None,
            },
        ),
    ),
    "notifications.services.target_create": (
        Case(Perm.SELF_MANAGE, lambda w, a: {"agent": w.me(a), "label": "Mine", "url": _APPRISE}, "own"),
        Case(
            Perm.NOTIFICATION_MANAGE,
            lambda w, a: {"agent": w.me(a), "label": "Desk", "url": _APPRISE, "shared": True},
            "shared",
        ),
    ),
    "notifications.services.target_set_active": (
        Case(Perm.SELF_MANAGE, lambda w, a: {**_notification_target(w, w.me(a), shared=False), "active": False}, "own"),
        Case(
            Perm.NOTIFICATION_MANAGE,
            lambda w, a: {**_notification_target(w, w.me(a), shared=True), "active": False},
            "shared",
        ),
    ),
    "notifications.services.target_delete": (
        Case(Perm.SELF_MANAGE, lambda w, a: _notification_target(w, w.me(a), shared=False), "own"),
        Case(Perm.NOTIFICATION_MANAGE, lambda w, a: _notification_target(w, w.me(a), shared=True), "shared"),
    ),
    # channels: configuration
    "channels.services.accounts.channel_account_create": (
        Case(Perm.CHANNEL_CONFIGURE, lambda w, a: {"workspace": w.workspace, "kind": "web_form", "name": "Contact us"}),
    ),
    "channels.services.accounts.channel_account_update": (
        Case(Perm.CHANNEL_CONFIGURE, lambda w, a: {"account": _channel(w), "active": False}),
    ),
    # channels: the mailbox setup (issue 18): connection test, OAuth2 sign-in, tokens, disconnect
    "channels.services.mail_probe.mailbox_probe": (
        Case(Perm.CHANNEL_CONFIGURE, lambda w, a: {"workspace": w.workspace, "config": {}}),
    ),
    "channels.services.mail_oauth.mail_oauth_complete": (
        Case(Perm.CHANNEL_CONFIGURE, lambda w, a: {**_mailbox(w), **_REFUSED_CONSENT}),
    ),
    "channels.services.mail_oauth.mail_oauth_access_token": (
        Case(Perm.CHANNEL_CONFIGURE, lambda w, a: _mailbox(w, connected=True)),
    ),
    "channels.services.mail_oauth.mail_oauth_disconnect": (
        Case(Perm.CHANNEL_CONFIGURE, lambda w, a: _mailbox(w, connected=True)),
    ),
    "tickets.services.transfer.importing.tickets_import": (
        Case(Perm.TICKET_IMPORT_EXPORT, lambda w, a: {"workspace": w.workspace, "data": b"subject,email\nHi,a@b.cn\n"}),
    ),
    # sla: the recheck the configuration services ask for
    "sla.services.configuration.recheck_open_tickets": (
        Case(Perm.SLA_CONFIGURE, lambda w, a: {"workspace_id": w.workspace.pk}),
    ),
    # routing: the assignee gives a ticket back (the system or automation, for the current assignee)
    "routing.services.reroute.ticket_decline": (
        Case(Perm.TICKET_UPDATE, lambda w, a: {"ticket": _assigned_to(w, a), "reason": "Not my area"}),
    ),
    # channels: re-processing a stored payload, retrying a failed reply
    "channels.services.inbound.inbound_process": (Case(Perm.CHANNEL_CONFIGURE, lambda w, a: {"payload": _payload(w)}),),
    "channels.services.web_form.inbound_reprocess": (
        Case(Perm.CHANNEL_CONFIGURE, lambda w, a: {"payload": _payload(w)}),
    ),
    "channels.services.outbox.outbox_retry": (Case(Perm.TICKET_REPLY_PUBLIC, lambda w, a: {"outbound": _outbound(w)}),),
    # ai: a person confirms or corrects a prediction; training
    "ai.services.overrides.prediction_confirm": (
        Case(Perm.TICKET_UPDATE, lambda w, a: {"prediction": _prediction(w)}),
    ),
    "ai.services.overrides.prediction_correct": (
        Case(Perm.TICKET_UPDATE, lambda w, a: {"prediction": _prediction(w), "value": "low"}),
    ),
    "ai.services.training.model_train": (
        Case(Perm.AI_CONFIGURE, lambda w, a: {"workspace": w.workspace, "field_name": "category"}),
    ),
    "ai.services.training.workspace_train": (
        Case(Perm.AI_CONFIGURE, lambda w, a: {"workspace": w.workspace, "fields": ("category",)}),
    ),
    # ai: emerging topics (a topic becomes a category: the permission of creating one) and the AI settings
    "ai.services.topics.topics_refresh": (Case(Perm.AI_CONFIGURE, lambda w, a: {"workspace": w.workspace}),),
    "ai.services.topics.topic_promote": (
        Case(Perm.CATEGORY_MANAGE, lambda w, a: {"workspace": w.workspace, "topic_id": _topic(w).pk}),
    ),
    "ai.services.topics.topic_dismiss": (
        Case(Perm.CATEGORY_MANAGE, lambda w, a: {"workspace": w.workspace, "topic_id": _topic(w).pk}),
    ),
    "ai.services.settings.ai_settings_update": (
        Case(Perm.AI_CONFIGURE, lambda w, a: {"workspace": w.workspace, "out_of_scope_rate": 3}),
    ),
    # workforce: configuration
    "workforce.services.config.queue_create": (
        Case(Perm.WORKFORCE_MANAGE, lambda w, a: {"workspace": w.workspace, "fields": {"name": "Mail"}}),
    ),
    "workforce.services.config.queue_update": (
        Case(Perm.WORKFORCE_MANAGE, lambda w, a: {"queue": _wf_queue(w), "fields": {"target_seconds": 30}}),
    ),
    "workforce.services.config.queue_delete": (Case(Perm.WORKFORCE_MANAGE, lambda w, a: {"queue": _wf_queue(w)}),),
    "workforce.services.config.contract_save": (
        Case(Perm.WORKFORCE_MANAGE, lambda w, a: {"workspace": w.workspace, "fields": {"name": "40h"}}),
    ),
    "workforce.services.config.contract_delete": (
        Case(Perm.WORKFORCE_MANAGE, lambda w, a: {"contract": _wf_contract(w)}),
    ),
    "workforce.services.config.template_save": (
        Case(
            Perm.WORKFORCE_MANAGE,
            lambda w, a: {
                "workspace": w.workspace,
                "fields": {"name": "Day", "start_time": "09:00", "length_minutes": 480},
            },
        ),
    ),
    "workforce.services.config.template_delete": (
        Case(Perm.WORKFORCE_MANAGE, lambda w, a: {"template": _wf_template(w)}),
    ),
    "workforce.services.config.profile_update": (
        Case(Perm.SELF_MANAGE, lambda w, a: {"agent": w.me(a), "unavailable": {"2": [[0, 480]]}}, "own availability"),
        Case(Perm.WORKFORCE_MANAGE, lambda w, a: {"agent": w.me(a), "contract": _wf_contract(w).pk}, "contract"),
    ),
    "workforce.services.config.calendar_token_regenerate": (
        Case(Perm.SELF_MANAGE, lambda w, a: {"agent": w.me(a)}, "own link"),
        Case(Perm.WORKFORCE_MANAGE, lambda w, a: {"agent": AgentFactory(workspace=w.workspace)}, "another's"),
    ),
    "workforce.services.config.forecast_event_create": (
        Case(
            Perm.WORKFORCE_MANAGE,
            lambda w, a: {"workspace": w.workspace, "name": "双十一", "multiplier": 5, **_LEAVE},
        ),
    ),
    "workforce.services.config.forecast_event_delete": (
        Case(Perm.WORKFORCE_MANAGE, lambda w, a: {"event": _wf_event(w)}),
    ),
    # workforce: history, forecasts, rosters
    "workforce.services.forecasting.history_refresh": (
        Case(Perm.WORKFORCE_MANAGE, lambda w, a: {"queue": _wf_queue(w)}),
    ),
    "workforce.services.forecasting.history_import": (
        Case(
            Perm.WORKFORCE_MANAGE,
            lambda w, a: {"workspace": w.workspace, "queue": _wf_queue(w), "data": b"2030-01-07T09:00:00,5\n"},
        ),
    ),
    "workforce.services.forecasting.forecast_refresh": (
        Case(Perm.WORKFORCE_MANAGE, lambda w, a: {"queue": _wf_queue(w, history=True), "horizon_days": 2}),
    ),
    "workforce.services.rosters.roster_generate": (
        Case(
            Perm.WORKFORCE_MANAGE,
            lambda w, a: {"workspace": _wf_template(w).workspace, "start_date": "2030-01-07", "days": 1, "seconds": 2},
        ),
    ),
    "workforce.services.rosters.roster_replan": (
        Case(Perm.WORKFORCE_MANAGE, lambda w, a: {"roster": _wf_roster(w, template=True), "seconds": 2}),
    ),
    "workforce.services.rosters.roster_publish": (
        Case(Perm.WORKFORCE_MANAGE, lambda w, a: {"roster": _wf_roster(w, published=False)}),
    ),
    "workforce.services.rosters.roster_delete": (
        Case(Perm.WORKFORCE_MANAGE, lambda w, a: {"roster": _wf_roster(w, published=False)}),
    ),
    "workforce.services.rosters.shift_save": (
        Case(
            Perm.WORKFORCE_MANAGE,
            lambda w, a: {
                "roster": _wf_roster(w),
                "start": _LEAVE["start"],
                "end": _LEAVE["start"] + dt.timedelta(hours=8),
            },
        ),
    ),
    "workforce.services.rosters.shift_delete": (
        Case(Perm.WORKFORCE_MANAGE, lambda w, a: {"shift": _wf_shift(w, None)}),
    ),
    # workforce: requests and leave
    "workforce.services.requests.request_swap": (
        Case(Perm.SELF_MANAGE, lambda w, a: _wf_swap(w, w.me(a)), "own shift"),
        Case(Perm.WORKFORCE_MANAGE, lambda w, a: _wf_swap(w, AgentFactory(workspace=w.workspace)), "for another"),
    ),
    "workforce.services.requests.request_pickup": (
        Case(Perm.SELF_MANAGE, lambda w, a: {"agent": w.me(a), "shift_id": _wf_shift(w, None).pk}, "own"),
    ),
    "workforce.services.requests.request_leave": (
        Case(Perm.SELF_MANAGE, lambda w, a: {"agent": w.me(a), **_LEAVE}, "own"),
        Case(Perm.WORKFORCE_MANAGE, lambda w, a: {"agent": AgentFactory(workspace=w.workspace), **_LEAVE}, "other"),
    ),
    "workforce.services.requests.request_overtime": (
        Case(
            Perm.SELF_MANAGE,
            lambda w, a: {"agent": w.me(a), "start": _LEAVE["start"], "end": _LEAVE["start"] + dt.timedelta(hours=2)},
        ),
    ),
    "workforce.services.requests.request_peer_answer": (
        Case(Perm.SELF_MANAGE, lambda w, a: _wf_answer(w, w.me(a)), "the named colleague"),
    ),
    "workforce.services.requests.request_cancel": (
        Case(Perm.SELF_MANAGE, lambda w, a: _wf_own_request(w, w.me(a)), "own request"),
    ),
    "workforce.services.requests.request_decide": (
        Case(
            Perm.WORKFORCE_MANAGE,
            lambda w, a: {
                "workspace_id": w.workspace.pk,
                "request_id": _wf_own_request(w, AgentFactory(workspace=w.workspace))["request_id"],
                "approve": True,
            },
        ),
    ),
    "workforce.services.simulation.simulate_roster_day": (
        Case(Perm.WORKFORCE_MANAGE, lambda w, a: {"roster": _wf_roster(w), "day": dt.date(2030, 1, 7)}),
    ),
    # oncall
    "oncall.services.schedules.schedule_save": (
        Case(Perm.ROUTING_MANAGE, lambda w, a: {"workspace": w.workspace, "name": "Nights"}),
    ),
    "oncall.services.schedules.layer_save": (
        Case(
            Perm.ROUTING_MANAGE,
            lambda w, a: {
                "schedule": _oc_schedule(w),
                "participants": [w.me(a).pk],
                "start": dt.datetime(2030, 1, 7, 19),
            },
        ),
    ),
    "oncall.services.schedules.override_create": (
        Case(Perm.SELF_MANAGE, lambda w, a: {"schedule": _oc_schedule(w), "agent": w.me(a), **_LEAVE}, "own"),
        Case(
            Perm.ROUTING_MANAGE,
            lambda w, a: {"schedule": _oc_schedule(w), "agent": AgentFactory(workspace=w.workspace), **_LEAVE},
            "another's",
        ),
    ),
    "oncall.services.policies.policy_save": (
        Case(Perm.ROUTING_MANAGE, lambda w, a: {"workspace": w.workspace, "name": "Urgent"}),
    ),
    "oncall.services.policies.policy_steps_set": (
        Case(Perm.ROUTING_MANAGE, lambda w, a: {"policy": _oc_policy(w), "steps": [{"level": 0, "agent": w.me(a).pk}]}),
    ),
    "oncall.services.policies.answer_save": (
        Case(
            Perm.ROUTING_MANAGE,
            lambda w, a: {
                "workspace": w.workspace,
                "name": "Hours",
                "keywords": ["hours"],
                "answer_zh": "九点",
                "answer_en": "9",
            },
        ),
    ),
    "oncall.services.paging.page_ticket": (
        Case(Perm.ROUTING_MANAGE, lambda w, a: {"ticket": _oc_urgent(w)}, "by hand"),
    ),
    "oncall.services.paging.page_acknowledge": (Case(Perm.TICKET_UPDATE, lambda w, a: {"page": _oc_page(w)}),),
    "oncall.services.paging.page_resolve": (Case(Perm.TICKET_UPDATE, lambda w, a: {"page": _oc_page(w)}),),
    "oncall.services.partners.partner_save": (
        Case(Perm.ROUTING_MANAGE, lambda w, a: {"workspace": w.workspace, "fields": {"name": "NightHawk"}}),
    ),
    "oncall.services.partners.partner_delete": (Case(Perm.ROUTING_MANAGE, lambda w, a: {"partner": _oc_partner(w)}),),
    "oncall.services.partners.partner_invite": (
        Case(Perm.TICKET_UPDATE, lambda w, a: {"ticket": w.ticket(), "partner": _oc_partner(w), "share_all": True}),
    ),
    "oncall.services.partners.partner_revoke": (Case(Perm.TICKET_UPDATE, lambda w, a: {"access": _oc_access(w)}),),
    "workforce.services.requests.leave_create": (
        Case(Perm.WORKFORCE_MANAGE, lambda w, a: {"agent": AgentFactory(workspace=w.workspace), **_LEAVE}),
    ),
    # surveys (issue 18): the customer answers through the survey link; campaigns and settings are managers'
    "surveys.services.csat_answer": (Case(Perm.SURVEY_ANSWER, lambda w, a: {"survey": _sv_csat(w), "score": 5}),),
    "surveys.services.nps_answer": (Case(Perm.SURVEY_ANSWER, lambda w, a: {"survey": _sv_nps(w), "score": 9}),),
    "surveys.services.nps_campaign_save": (
        Case(Perm.SURVEYS_MANAGE, lambda w, a: {"workspace": w.workspace, "name": "Q1 NPS", "cadence_days": 90}),
    ),
    "surveys.services.nps_campaign_run": (Case(Perm.SURVEYS_MANAGE, lambda w, a: {"campaign": _sv_campaign(w)}),),
    "surveys.services.survey_settings_save": (
        Case(Perm.SURVEYS_MANAGE, lambda w, a: {"workspace": w.workspace, "csat_enabled": False}),
    ),
    # automation
    "automation.services.rules.rule_save": (
        Case(
            Perm.AUTOMATION_MANAGE,
            lambda w, a: {
                "workspace": w.workspace,
                "name": "R",
                "conditions": {"all": []},
                "actions": [{"type": "add_tags", "tags": ["x"]}],
            },
        ),
    ),
    "automation.services.rules.rule_delete": (Case(Perm.AUTOMATION_MANAGE, lambda w, a: {"rule": _au_rule(w)}),),
    "automation.services.rules.rule_set_active": (
        Case(Perm.AUTOMATION_MANAGE, lambda w, a: {"rule": _au_rule(w), "active": False}),
    ),
    "automation.services.rules.rules_reorder": (
        Case(
            Perm.AUTOMATION_MANAGE,
            lambda w, a: {"workspace": w.workspace, "kind": "trigger", "rule_ids": [_au_rule(w).pk, _au_rule(w).pk]},
        ),
    ),
    "automation.services.approval_flows.flow_save": (
        Case(
            Perm.AUTOMATION_MANAGE,
            lambda w, a: {"workspace": w.workspace, "name": "F", "stages": _au_stages(w)},
        ),
    ),
    "automation.services.approvals.approval_start": (
        Case(Perm.TICKET_UPDATE, lambda w, a: {"ticket": w.ticket(), "flow": _au_flow(w)}),
    ),
    "automation.services.approvals.approval_start_for_rule": (
        Case(Perm.TICKET_UPDATE, lambda w, a: {"ticket": w.ticket(), "flow_id": _au_flow(w).pk}),
    ),
    "automation.services.approvals.approval_cancel": (
        Case(Perm.TICKET_UPDATE, lambda w, a: {"approval": _au_approval(w)}),
    ),
    "automation.services.approvals.approval_resubmit": (
        Case(Perm.TICKET_UPDATE, lambda w, a: {"approval": _au_approval(w, sent_back=True)}),
    ),
    "automation.services.approvals.delegation_set": (
        Case(Perm.SELF_MANAGE, lambda w, a: {"agent": w.me(a), **_au_delegate(w)}, "own"),
        Case(Perm.AUTOMATION_MANAGE, lambda w, a: {"agent": AgentFactory(workspace=w.workspace), **_au_delegate(w)}),
    ),
    "automation.services.chains.template_save": (
        Case(
            Perm.AUTOMATION_MANAGE,
            lambda w, a: {
                "workspace": w.workspace,
                "name": "C",
                "mode": "sequence",
                "stages": [{"key": "pick", "name": "拣货", "expected_minutes": 60}],
            },
        ),
    ),
    "automation.services.chains.chain_start": (
        Case(Perm.TICKET_UPDATE, lambda w, a: {"template": _au_template(w), "key": "order:1", "parent": w.ticket()}),
    ),
    "automation.services.chains.chain_start_for_rule": (
        Case(
            Perm.TICKET_UPDATE,
            lambda w, a: {"ticket": w.ticket(), "template_id": _au_template(w).pk, "key": "", "values": {}},
        ),
    ),
    "automation.services.business_events.business_event_receive": (
        Case(Perm.TICKET_UPDATE, lambda w, a: {"workspace": w.workspace, "body": '{"id": "e-1", "type": "x.y"}'}),
    ),
    "automation.services.macros.macro_save": (
        Case(
            Perm.TICKET_UPDATE,
            lambda w, a: {"workspace": w.workspace, "name": "Mine", "scope": "personal", "actions": _AU_NOTE},
            "personal",
        ),
        Case(Perm.AUTOMATION_MANAGE, lambda w, a: {"workspace": w.workspace, "name": "Shared", "actions": _AU_NOTE}),
    ),
    "automation.services.macros.macro_delete": (Case(Perm.AUTOMATION_MANAGE, lambda w, a: {"macro": _au_macro(w)}),),
    "automation.services.macros.macro_apply": (
        Case(Perm.TICKET_UPDATE, lambda w, a: {"macro": _au_macro(w), "ticket": w.ticket()}),
    ),
    "automation.services.business_events.business_event_retry": (
        Case(Perm.AUTOMATION_MANAGE, lambda w, a: {"event": _au_unknown_event(w)}),
    ),
    "knowledge.services.articles.category_save": (
        Case(Perm.KNOWLEDGE_MANAGE, lambda w, a: {"workspace": w.workspace, "name_zh": "账号与密码"}),
    ),
    "knowledge.services.articles.article_save": (
        Case(Perm.KNOWLEDGE_MANAGE, lambda w, a: {"workspace": w.workspace, "title": "忘记密码", "body": "重设"}),
    ),
    "knowledge.services.articles.article_restore": (
        Case(Perm.KNOWLEDGE_MANAGE, lambda w, a: {"article": _kb_article(w), "version": 1}),
    ),
    "knowledge.services.assist.feedback_record": (
        Case(Perm.TICKET_VIEW, lambda w, a: {"ticket": w.ticket(), "kind": "article", "object_id": 1, "useful": True}),
    ),
    "knowledge.services.evolution.proposal_decide": (
        Case(Perm.KNOWLEDGE_MANAGE, lambda w, a: {"proposal": _kb_proposal(w), "approve": False}),
    ),
    "knowledge.services.graph.catalogue_save": (
        Case(Perm.KNOWLEDGE_MANAGE, lambda w, a: {"workspace": w.workspace, "kind": "model", "label": "PD-X300"}),
    ),
    "knowledge.services.rootcause.root_cause_save": (
        Case(Perm.KNOWLEDGE_MANAGE, lambda w, a: {"workspace": w.workspace, "code": "x", "name_zh": "某原因"}),
    ),
    "knowledge.services.rootcause.resolution_record": (
        Case(Perm.TICKET_UPDATE, lambda w, a: {"ticket": w.ticket(), "root_cause": None, "solution": "重启"}),
    ),
    # Customer portal (issue 18): the admin's theme and organization managers.
    "portal.services.admin.theme_save": (Case(Perm.WORKSPACE_CONFIGURE, lambda w, a: {"workspace": w.workspace}),),
    "portal.services.admin.organization_manager_add": (
        Case(Perm.CONTACT_MANAGE, lambda w, a: {"contact": w.contact, "organization": _org(w)}),
    ),
    "portal.services.admin.organization_manager_remove": (
        Case(Perm.CONTACT_MANAGE, lambda w, a: {"manager": _portal_manager(w)}),
    ),
    "knowledge.services.transfer.import_start": (
        Case(
            Perm.KNOWLEDGE_MANAGE,
            lambda w, a: {
                "workspace": w.workspace,
                "filename": "a.csv",
                "payload": "title,body\n授权,重新激活\n".encode(),
            },
        ),
    ),
}


def _sv_solved(world: World) -> Any:
    from pivotdesk.tickets.services import ticket_set_status

    ticket = world.ticket()
    ticket_set_status(ticket=ticket, status="solved", actor=Actor.system())
    return ticket


def _sv_csat(world: World) -> Any:
    from pivotdesk.surveys.services import csat_invite

    return csat_invite(ticket=_sv_solved(world), actor=Actor.system())


def _sv_campaign(world: World) -> Any:
    from pivotdesk.surveys.models import NpsCampaign

    return NpsCampaign.objects.create(workspace=world.workspace, name="NPS", cadence_days=90)


def _sv_nps(world: World) -> Any:
    from pivotdesk.surveys.models import Survey

    return Survey.objects.create(
        workspace=world.workspace,
        kind="nps",
        contact=world.contact,
        nonce="n",
        status="invited",
        invited_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
        expires_at=dt.datetime(2099, 1, 1, tzinfo=dt.UTC),
    )


def _kb_decision(world: World) -> Any:
    from pivotdesk.knowledge.services import bot

    return bot.decide(workspace_id=world.workspace.pk, question="转人工", language="zh-hans", channel="chat")


def _kb_bot_answer(world: World) -> Any:
    from pivotdesk.knowledge.models import BotAnswer

    return BotAnswer.objects.create(workspace=world.workspace, question="密码", outcome="answered", confidence=0.99)


def _kb_proposal(world: World) -> Any:
    from pivotdesk.knowledge.models import ArticleProposal

    return ArticleProposal.objects.create(
        workspace=world.workspace, reason="new_solution", title="macOS 授权", body="防火墙放行"
    )


def _kb_article(world: World) -> Any:
    from pivotdesk.knowledge.services import article_save

    return article_save(actor=Actor.system(), workspace=world.workspace, title="授权失效", body="重新激活")


_AU_NOTE: list[dict[str, Any]] = [{"type": "note", "text": "回访 follow up"}]


def _au_macro(world: World) -> Any:
    from pivotdesk.automation.models import Macro

    return Macro.objects.create(workspace=world.workspace, name=f"Macro {Macro.objects.count()}", actions=_AU_NOTE)


def _au_rule(world: World) -> Any:
    from pivotdesk.automation.models import Rule

    return Rule.objects.create(workspace=world.workspace, name=f"Rule {Rule.objects.count()}", conditions={"all": []})


def _au_stages(world: World) -> list[dict[str, Any]]:
    approver = cast(AgentProfile, AgentFactory(workspace=world.workspace))
    return [{"key": "risk", "name": "风控审核", "approvers": {"agents": [approver.pk]}, "rule": "any"}]


def _au_flow(world: World) -> Any:
    from pivotdesk.automation.models import ApprovalFlow

    return ApprovalFlow.objects.create(
        workspace=world.workspace, name=f"Flow {ApprovalFlow.objects.count()}", stages=_au_stages(world)
    )


def _au_approval(world: World, *, sent_back: bool = False) -> Any:
    from pivotdesk.automation.services import approvals

    approval = approvals.approval_start(actor=Actor.system(), ticket=world.ticket(), flow=_au_flow(world))
    if sent_back:
        approver = AgentProfile.objects.get(pk=approval.waiting_on[0])
        approval = approvals.approval_decide(
            actor=Actor.for_agent(approver), approval=approval, verdict="changes", reason="需补充抵押物证明"
        )
    return approval


def _au_delegate(world: World) -> dict[str, Any]:
    from pivotdesk.common.time import now

    start = now()
    return {"delegate": AgentFactory(workspace=world.workspace), "start": start, "end": start + dt.timedelta(days=3)}


def _au_template(world: World) -> Any:
    from pivotdesk.automation.models import ChainTemplate

    return ChainTemplate.objects.create(
        workspace=world.workspace,
        name=f"Chain {ChainTemplate.objects.count()}",
        mode="sequence",
        stages=[{"key": "pick", "name": "拣货", "team": None, "expected_minutes": 60}],
    )


def _au_unknown_event(world: World) -> Any:
    from pivotdesk.automation.models import BusinessEvent

    return BusinessEvent.objects.create(
        workspace=world.workspace,
        event_id=f"e-{BusinessEvent.objects.count()}",
        type="x.y",
        key="order:none",
        status="unknown_key",
    )


def _mailbox(world: World, *, connected: bool = False) -> dict[str, Any]:
    from pivotdesk.channels.tests.mailbox_fixtures import connected_mailbox, oauth_mailbox

    return {"account": (connected_mailbox if connected else oauth_mailbox)(world.workspace)}


def _calendar(world: World) -> Any:
    from pivotdesk.sla.services.configuration import calendar_create

    return calendar_create(workspace=world.workspace, actor=Actor.system(), name="Fixture")


def _sla_policy(world: World) -> Any:
    from pivotdesk.sla.services.configuration import policy_create

    return policy_create(workspace=world.workspace, actor=Actor.system(), name="Fixture")


def _routing_policy(world: World) -> Any:
    from pivotdesk.routing.services.policies import policy_create

    return policy_create(workspace=world.workspace, actor=Actor.system(), fields={"name": "Fixture"})


def _category(world: World) -> Any:
    from pivotdesk.tickets.services import category_create

    return category_create(workspace=world.workspace, actor=Actor.system(), name="Hardware")


def _device(world: World) -> Any:
    from pivotdesk.routing.models import Device

    return Device.objects.create(workspace=world.workspace, name="Printer 3F")


def _part(world: World) -> Any:
    from pivotdesk.routing.models import Part

    return Part.objects.create(workspace=world.workspace, sku="FAN-1", name="Fan", stock=3)


def _connector(world: World) -> Any:
    from pivotdesk.ai.services.connectors import connector_create

    return connector_create(workspace=world.workspace, actor=Actor.system(), **_CONNECTOR)


def _endpoint(world: World) -> Any:
    from pivotdesk.webhooks.services.endpoints import webhook_endpoint_create

    return webhook_endpoint_create(workspace=world.workspace, url=_HOOK, actor=Actor.system())


def _notification(world: World, agent: AgentProfile) -> Any:
    from pivotdesk.notifications.services import notify

    return notify(
        workspace=world.workspace, actor=Actor.system(), recipient=agent, kind="ticket.assigned", title="Yours now"
    )


def _on_message(world: World, kind: str) -> dict[str, Any]:
    from pivotdesk.tickets.services import message_create

    ticket = world.ticket()
    return {"ticket": ticket, "message": message_create(ticket=ticket, actor=Actor.system(), body="m", kind=kind)}


def _attachment(world: World) -> Any:
    from pivotdesk.tickets.services import attachment_add

    return attachment_add(ticket=world.ticket(), actor=Actor.system(), filename="shot.png", content=b"\x89PNG")


def _notification_target(world: World, agent: AgentProfile, *, shared: bool) -> dict[str, Any]:
    from pivotdesk.notifications.services import target_create

    target = target_create(agent=agent, actor=Actor.system(), label="T", url=_APPRISE, shared=shared)
    return {"target": target, "agent": agent}


def _channel(world: World) -> Any:
    from pivotdesk.channels.services.accounts import channel_account_create

    return channel_account_create(workspace=world.workspace, actor=Actor.system(), kind="web_form", name="Form")


def _link(world: World) -> Any:
    from pivotdesk.tickets.services import ticket_link

    return ticket_link(source=world.ticket(), target=world.ticket(), kind="related", actor=Actor.system())


def _assigned_to(world: World, agent: AgentProfile | None) -> Any:
    """A ticket held by the acting agent (one who cannot hold tickets: by a plain agent)."""
    from pivotdesk.accounts.permissions import is_assignable

    holder = world.me(agent) if agent is None or is_assignable(agent) else world.agents[Role.AGENT]
    return world.ticket(assignee=holder)


def _payload(world: World) -> Any:
    from pivotdesk.channels.services.inbound import inbound_store

    return inbound_store(workspace=world.workspace, actor=Actor.system(), channel="web_form", raw=b"{}")


def _outbound(world: World) -> Any:
    from pivotdesk.channels.models import OutboundMessage

    message = _on_message(world, "public")["message"]
    return OutboundMessage.objects.create(
        workspace=world.workspace, message=message, channel="email", recipient=world.contact.email or "c@example.com"
    )


def _topic(world: World) -> Any:
    from pivotdesk.ai.models import EmergingTopic
    from pivotdesk.common.time import now

    at = now()
    return EmergingTopic.objects.create(
        workspace=world.workspace,
        key="fixture",
        label="Face scan",
        terms=["face scan"],
        first_seen_at=at,
        last_seen_at=at,
    )


def _prediction(world: World) -> Any:
    from pivotdesk.ai.models import Prediction

    return Prediction.objects.create(
        workspace=world.workspace,
        ticket=world.ticket(),
        field="priority",
        value="high",
        label="high",
        confidence=0.6,
        status="suggested",
        model_name="fixture",
        model_version="1",
    )


def _ai_settings(world: World) -> Any:
    from pivotdesk.ai.selectors import ai_settings

    return ai_settings(workspace=world.workspace)


def _triage_plan(world: World) -> Any:
    from pivotdesk.ai.services import apply

    return apply.new_plan(world.ticket(), _ai_settings(world))


def _chat(world: World) -> Any:
    from pivotdesk.channels.services.accounts import channel_account_create

    return channel_account_create(workspace=world.workspace, actor=Actor.system(), kind="chat", name="Chat")


def _webhook_request() -> Any:
    from django.test import RequestFactory

    return RequestFactory().post("/hooks/x", data=b"{}", content_type="application/json")


def _inbound() -> Any:
    from pivotdesk.channels.domain.inbound import NormalizedInbound

    return NormalizedInbound(channel="email", identity_kind="email", identity_value="c@example.com", text="Hi")


def _sentiment() -> Any:
    from pivotdesk.ai.domain.steps import FieldPrediction

    return FieldPrediction("sentiment", "neutral", 0.9, "fixture", "1")


def _wf_queue(world: World, *, history: bool = False) -> Any:
    from pivotdesk.workforce.models import HistorySource, VolumePoint, WorkQueue

    queue = WorkQueue.objects.create(workspace=world.workspace, name=f"Q{WorkQueue.objects.count()}")
    if history:
        day = dt.datetime(2029, 12, 3, 9, tzinfo=dt.UTC)
        VolumePoint.objects.bulk_create(
            VolumePoint(
                workspace=world.workspace,
                queue=queue,
                start=day + dt.timedelta(days=d, minutes=30 * slot),
                interval_minutes=30,
                count=3 + slot % 3,
                source=HistorySource.IMPORT,
            )
            for d in range(14)
            if (day + dt.timedelta(days=d)).weekday() < 5
            for slot in range(8)
        )
    return queue


def _wf_contract(world: World) -> Any:
    from pivotdesk.workforce.models import Contract

    return Contract.objects.create(workspace=world.workspace, name=f"C{Contract.objects.count()}")


def _wf_template(world: World) -> Any:
    from pivotdesk.workforce.models import ShiftTemplate

    return ShiftTemplate.objects.create(
        workspace=world.workspace, name=f"T{ShiftTemplate.objects.count()}", start_time=dt.time(9), length_minutes=480
    )


def _wf_event(world: World) -> Any:
    from pivotdesk.workforce.models import ForecastEvent

    return ForecastEvent.objects.create(workspace=world.workspace, name="Launch", multiplier=2, **_LEAVE)


def _wf_roster(world: World, *, published: bool = True, template: bool = False) -> Any:
    from pivotdesk.workforce.models import Roster

    if template:
        _wf_template(world)
    return Roster.objects.create(
        workspace=world.workspace,
        start_date=dt.date(2030, 1, 7),
        end_date=dt.date(2030, 1, 7),
        version=Roster.objects.count() + 1,
        status="published" if published else "draft",
    )


def _wf_shift(world: World, agent: Any, *, hour: int = 9) -> Any:
    from pivotdesk.workforce.models import Roster, Shift

    roster = Roster.objects.filter(workspace=world.workspace, status="published").first() or _wf_roster(world)
    start = dt.datetime(2030, 1, 7, hour, tzinfo=dt.UTC)
    return Shift.objects.create(
        workspace=world.workspace, roster=roster, agent=agent, start=start, end=start + dt.timedelta(hours=8)
    )


def _wf_swap(world: World, agent: Any) -> dict[str, Any]:
    colleague = AgentFactory(workspace=world.workspace)
    return {
        "agent": agent,
        "shift_id": _wf_shift(world, agent).pk,
        "peer_shift_id": _wf_shift(world, colleague, hour=14).pk,
    }


def _wf_answer(world: World, peer: AgentProfile) -> dict[str, Any]:
    from pivotdesk.workforce.models import ShiftRequest

    requester = AgentFactory(workspace=world.workspace)
    request = ShiftRequest.objects.create(
        workspace=world.workspace,
        kind="swap",
        status="awaiting_peer",
        requester=requester,
        peer=peer,
        shift=_wf_shift(world, requester),
        peer_shift=_wf_shift(world, peer, hour=14),
    )
    return {"agent": peer, "request_id": request.pk, "accept": True}


def _wf_own_request(world: World, agent: Any) -> dict[str, Any]:
    from pivotdesk.workforce.models import ShiftRequest

    request = ShiftRequest.objects.create(
        workspace=world.workspace, kind="leave", status="pending", requester=agent, leave_type="annual", **_LEAVE
    )
    return {"agent": agent, "request_id": request.pk}


def _oc_schedule(world: World) -> Any:
    from pivotdesk.oncall.models import OnCallSchedule

    return OnCallSchedule.objects.create(workspace=world.workspace, name=f"S{OnCallSchedule.objects.count()}")


def _oc_policy(world: World) -> Any:
    from pivotdesk.oncall.models import EscalationPolicy

    return EscalationPolicy.objects.create(workspace=world.workspace, name=f"P{EscalationPolicy.objects.count()}")


def _oc_partner(world: World) -> Any:
    from pivotdesk.oncall.models import Partner

    return Partner.objects.create(workspace=world.workspace, name=f"Partner {Partner.objects.count()}")


def _oc_urgent(world: World) -> Any:
    from pivotdesk.oncall.models import EscalationStep

    policy = _oc_policy(world)
    EscalationStep.objects.create(
        workspace=world.workspace, policy=policy, target_kind="agent", agent=world.agents[Role.SUPERVISOR]
    )
    return world.ticket(priority="urgent")


def _oc_page(world: World) -> Any:
    from pivotdesk.oncall.models import Page

    return Page.objects.create(workspace=world.workspace, ticket=world.ticket())


def _oc_access(world: World) -> Any:
    from pivotdesk.common.time import now
    from pivotdesk.oncall.models import PartnerAccess

    return PartnerAccess.objects.create(
        workspace=world.workspace,
        partner=_oc_partner(world),
        ticket=world.ticket(),
        token_hash=f"{PartnerAccess.objects.count():064d}",
        expires_at=now() + dt.timedelta(hours=1),
    )


# Services only the system calls (tasks, start-up, the CLI): they take the actor and refuse every workspace member.
SYSTEM_ONLY: dict[str, tuple[str, Build]] = {
    "channels.services.chat_bot.chat_bot_respond": (
        "the chat widget's bot answers after intake delivered the visitor's message",
        lambda w, a: {"payload": _payload(w)},
    ),
    "knowledge.services.bot.record": (
        "the bot records its own decisions",
        lambda w, a: {"decision": _kb_decision(w)},
    ),
    "knowledge.services.bot.feedback": (
        "the customer's 'solved / not solved' reaches the bot through the channel",
        lambda w, a: {"bot_answer": _kb_bot_answer(w), "solved": True},
    ),
    "knowledge.services.evolution.propose_from_resolution": (
        "the knowledge base proposes articles from solved tickets (ticket.status_changed)",
        lambda w, a: {"ticket": w.ticket()},
    ),
    "knowledge.services.evolution.review_sweep": (
        "the nightly review sweep",
        lambda w, a: {"workspace_id": w.workspace.pk},
    ),
    "knowledge.services.graph.index_ticket": (
        "the graph reads solved tickets",
        lambda w, a: {"ticket_id": w.ticket().pk},
    ),
    "knowledge.services.graph.index_article": (
        "the graph reads published articles",
        lambda w, a: {"article_id": _kb_article(w).pk},
    ),
    "knowledge.services.graph.index_workspace": (
        "the graph reads a workspace after a catalogue change",
        lambda w, a: {"workspace_id": w.workspace.pk},
    ),
    "knowledge.services.graph.rebuild": ("the nightly graph rebuild", lambda w, a: {"workspace_id": w.workspace.pk}),
    "knowledge.services.reactions.on_status_changed": (
        "ticket.status_changed's knowledge subscriber",
        lambda w, a: {"workspace_id": w.workspace.pk, "ticket_id": w.ticket().pk, "old": "open", "new": "solved"},
    ),
    "knowledge.services.reactions.review_all": ("the nightly review sweep over every workspace", lambda w, a: {}),
    "knowledge.services.rootcause.mark_reopened": (
        "the reopen subscriber marks the resolution as failed",
        lambda w, a: {"ticket": w.ticket()},
    ),
    "accounts.services.workspace_create": (
        "a tenant is created by the CLI or the seed, outside any workspace",
        lambda w, a: {"name": "Another desk"},
    ),
    "accounts.services.user_get_or_create": (
        "a user spans workspaces; members are added with agent_create",
        lambda w, a: {"username": "someone-new"},
    ),
    "tickets.services.messages.message_set_delivery_status": (
        "the channel's outbox records how a reply's sending went",
        lambda w, a: {"message": _on_message(w, "public")["message"], "status": "sent"},
    ),
    "tickets.services.messages.message_set_external_id": (
        "the channel's outbox records the id the mail server gave a reply",
        lambda w, a: {"message": _on_message(w, "public")["message"], "external_id": "<r1@mail.example.com>"},
    ),
    "notifications.services.notify": (
        "the desk notifies an agent after the gate of the service that caused it (routing, SLA)",
        lambda w, a: {"workspace": w.workspace, "recipient": w.me(a), "kind": "ticket.assigned", "title": "Yours"},
    ),
    "notifications.services.notify_mentions": (
        "a note's @mentions are told after the note's own gate (message_create), by the message.created subscriber",
        lambda w, a: {"message_id": _on_message(w, "note")["message"].pk},
    ),
    "notifications.services.notify_workspace": (
        "the desk broadcasts to shared targets after the gate of the service that caused it",
        lambda w, a: {"workspace": w.workspace, "kind": "sla.breach", "title": "Breached"},
    ),
    "webhooks.services.deliveries.webhook_fan_out": (
        "the subscriber table's task turns an event into deliveries",
        lambda w, a: {"event": {"name": "ticket.created", "workspace_id": w.workspace.pk, "ticket_id": 0}},
    ),
    "webhooks.services.deliveries.webhook_deliver": (
        "a task sends one attempt of a delivery",
        lambda w, a: {"delivery_id": 0},
    ),
    # sla: the tasks and the scan
    "sla.services.apply.sla_apply": ("the SLA tasks recompute a ticket's clocks", lambda w, a: {"ticket": w.ticket()}),
    "sla.services.apply.sla_clear": ("the SLA task clears a merged-away ticket", lambda w, a: {"ticket": w.ticket()}),
    "sla.services.scan.sla_scan_due": ("the periodic scan", lambda w, a: {}),
    "oncall.services.paging.escalate_due": ("the beat task moves due pages one level", lambda w, a: {}),
    "surveys.services.csat_invite": (
        "the ticket.status_changed subscriber invites the requester after a solve",
        lambda w, a: {"ticket": _sv_solved(w)},
    ),
    "surveys.services.nps_campaigns_run_due": ("the beat job runs the NPS campaigns that are due", lambda w, a: {}),
    "surveys.services.surveys_send_due": ("the beat job sends delayed CSAT invitations and expires", lambda w, a: {}),
    "automation.services.triggers.run_for_event": (
        "the subscriber table runs the triggers for an event",
        lambda w, a: {
            "event": {
                "id": "e",
                "name": "ticket.created",
                "workspace_id": w.workspace.pk,
                "payload": {"ticket_id": w.ticket().pk},
            }
        },
    ),
    "automation.services.triggers.sweep": ("the hourly beat runs the time rules", lambda w, a: {}),
    "automation.services.chains.on_ticket_solved": (
        "the subscriber of ticket.status_changed finishes a chain stage",
        lambda w, a: {"ticket": w.ticket()},
    ),
    "automation.services.chains.report_delays": ("the beat announces late chain stages", lambda w, a: {}),
    "automation.services.approvals.resubmit_on_customer_reply": (
        "the subscriber of message.created resubmits an approval sent back to the requester",
        lambda w, a: {"ticket": w.ticket()},
    ),
    "automation.services.appeasement.outcome_on_event": (
        "the subscriber of the ticket's events records how an appeasement ended",
        lambda w, a: {"ticket": w.ticket()},
    ),
    "workforce.services.adherence.presence_record": (
        "the subscriber of agent.status_changed records presence spans (adherence)",
        lambda w, a: {
            "workspace_id": w.workspace.pk,
            "agent_id": w.me(a).pk,
            "status": "online",
            "at": dt.datetime(2030, 1, 7, 9, tzinfo=dt.UTC),
        },
    ),
    "sla.services.scan.sla_check_ticket": (
        "a step of the periodic scan",
        lambda w, a: {"ticket_id": w.ticket().pk},
    ),
    "sla.services.configuration.recheck_contact_tickets": (
        "the task reacting to a contact's change",
        lambda w, a: {"workspace_id": w.workspace.pk, "contact_id": w.contact.pk},
    ),
    "sla.services.configuration.recheck_organization_tickets": (
        "the task reacting to an organization's change",
        lambda w, a: {"workspace_id": w.workspace.pk, "organization_id": _org(w).pk},
    ),
    # routing: the tasks (and services re-routing after their own gate, as the routing actor)
    "routing.services.dispatch.route_ticket": (
        "the routing tasks pick an agent",
        lambda w, a: {"ticket": w.ticket(), "trigger": "new"},
    ),
    "routing.services.queue.drain_queue": ("the routing tasks", lambda w, a: {"workspace_id": w.workspace.pk}),
    "routing.services.reroute.agent_went_unavailable": (
        "the task reacting to an agent's presence",
        lambda w, a: {"agent_id": w.agents[Role.AGENT].pk, "status": "offline"},
    ),
    "routing.services.reroute.on_agent_status": (
        "the task reacting to an agent's presence",
        lambda w, a: {"workspace_id": w.workspace.pk, "agent_id": w.me(a).pk, "new": "online"},
    ),
    # channels: intake (webhooks, pollers, the public widget and form) and the outbox
    "channels.services.inbound.inbound_store": (
        "intake stores what a channel received",
        lambda w, a: {"workspace": w.workspace, "channel": "web_form", "raw": b"{}"},
    ),
    "channels.services.inbound.inbound_deliver": (
        "intake delivers a parsed message (inbound_process calls it as the intake)",
        lambda w, a: {"workspace": w.workspace, "inbound": _inbound()},
    ),
    "channels.services.inbound.inbound_retry_due": (
        "beat's scan for payloads to process again (a locked database, a lost task)",
        lambda w, a: {},
    ),
    "channels.services.chat.chat_post": (
        "the chat widget's public view",
        lambda w, a: {"account": _chat(w), "visitor": "v-1", "raw": b'{"text": "Hi"}', "meta": {}},
    ),
    "channels.services.chat.chat_seen": (
        "the chat widget's public view",
        lambda w, a: {"account": _chat(w), "visitor": "v-1"},
    ),
    "channels.services.web_form.web_form_submit": (
        "the public form's view",
        lambda w, a: {"account": _channel(w), "document": {"id": "f1", "email": "c@example.com", "body": "Hi"}},
    ),
    "channels.services.rejections.inbound_reject": (
        "a channel webhook keeps a call that failed authentication",
        lambda w, a: {"request": _webhook_request(), "account": _channel(w), "reason": "Rejected: bad signature."},
    ),
    "channels.services.rejections.signature_rejection": (
        "a channel webhook checks a signature",
        lambda w, a: {
            "request": _webhook_request(),
            "account": _channel(w),
            "header": "X-Signature",
            "verify": lambda value: False,
            "key_label": "secret",
        },
    ),
    "channels.services.rejections.rejected_admit": (
        "a channel webhook counts a rejected call against the account's cap of stored ones",
        lambda w, a: {"account": _channel(w)},
    ),
    "channels.services.rejections.inbound_rejected_prune": (
        "the beat job deleting old rejected calls",
        lambda w, a: {},
    ),
    "channels.services.accounts.channel_account_record_poll": (
        "the mailbox poller",
        lambda w, a: {"account": _channel(w)},
    ),
    "channels.services.accounts.channel_account_merge_config": (
        "the mailbox poller keeps its IMAP cursor",
        lambda w, a: {"account": _channel(w), "values": {"last_uid": 7}},
    ),
    "channels.services.outbox.outbox_enqueue": (
        "the task reacting to a new reply",
        lambda w, a: {"message": _on_message(w, "public")["message"]},
    ),
    "channels.services.outbox.outbox_send": ("the outbox's send task", lambda w, a: {"outbound": _outbound(w)}),
    # ai: the triage pipeline and the periodic jobs
    "ai.services.apply.predictions_apply": (
        "the triage pipeline stores what the models predicted",
        lambda w, a: {"ticket": w.ticket(), "predictions": [], "config": _ai_settings(w)},
    ),
    "ai.services.apply.sentiment_apply": (
        "the triage pipeline stores a sentiment",
        lambda w, a: {"ticket": w.ticket(), "prediction": _sentiment(), "config": _ai_settings(w)},
    ),
    "ai.services.apply.entities_store": (
        "the triage pipeline stores the entities found",
        lambda w, a: {"ticket": w.ticket(), "items": [], "config": _ai_settings(w)},
    ),
    "ai.services.apply.enrichment_facts_store": (
        "the triage pipeline attaches connector facts",
        lambda w, a: {"ticket": w.ticket(), "facts": []},
    ),
    "ai.services.overrides.predictions_track_overrides": (
        "the task reacting to a ticket change",
        lambda w, a: {"ticket_id": w.ticket().pk, "fields": ["priority"]},
    ),
    "portal.services.signin.signin_request": (
        "the portal's sign-in page asks for a link or code for an anonymous visitor",
        lambda w, a: {"workspace": w.workspace, "address": w.contact.email, "deliver": False},
    ),
    "portal.services.notices.notice_enqueue": (
        "customer notices are queued by the portal's own flows (sign-in, progress, survey invitations)",
        lambda w, a: {
            "workspace": w.workspace,
            "contact": w.contact,
            "kind": "progress",
            "data": {},
            "dedupe_key": "m",
        },
    ),
    "portal.services.progress.progress_notify": (
        "the subscriber of ticket and automation events",
        lambda w, a: {"ticket": w.ticket(), "change": "solved", "event_id": "matrix"},
    ),
    "portal.services.progress.survey_invite": (
        "the survey.invited subscriber",
        lambda w, a: {"contact": w.contact, "survey_id": 1, "kind": "nps", "links_by_score": [(9, "/x")]},
    ),
    "ai.services.training.retrain_all": ("the periodic retraining of every workspace", lambda w, a: {}),
    "ai.services.topics.topics_refresh_all": ("the hourly regrouping of every workspace's topics", lambda w, a: {}),
    "ai.services.apply.triage_findings_apply": (
        "the triage pipeline writes what it found, at once",
        lambda w, a: {"plan": _triage_plan(w)},
    ),
}

# Writes that cannot take an actor, with the reason.
EXCLUDED: dict[str, str] = {
    "knowledge.services.bot.afterhours_source": (
        "night duty's answer source (ticket, language): called by after_hours_reply after its system gate; it records "
        "through bot.record as the system"
    ),
    "knowledge.services.transfer.import_run": (
        "the import task: it re-checks knowledge.manage of the agent who started the job (import_start is in the table)"
    ),
    "accounts.services.api_token_authenticate": "turns a raw token into the actor; only stamps last_used_at",
    "accounts.services.invitation_accept": (
        "authorised by the invitation link's hashed, expiring, single-use secret (no session, or the invited user's)"
    ),
    "automation.services.business_events.channel_sink": (
        "the generic channel webhook's entry (the channel's HMAC signature or bearer token authenticated the caller); "
        "it calls business_event_receive as the system, which is in the table"
    ),
    "tickets.services.timeline.record": "the timeline writer each service calls after its own gate",
    "search.services.document_build": (
        "search sits below accounts (import contract: no Actor); derived documents of gated writes, built by the sweep"
    ),
    "search.services.reindex": "search sits below accounts (no Actor); run by `manage.py search_reindex` only",
    "search.services.sweep": "search sits below accounts (no Actor); the periodic sweep rebuilds derived documents",
    "ai.services.runs.triage_run_get_or_create": "the triage pipeline's bookkeeping of its own steps",
    "ai.services.runs.triage_run_finish": "the triage pipeline's bookkeeping of its own steps",
    "ai.services.runs.triage_runs_record": "the triage pipeline's bookkeeping of its own steps",
    "ai.services.runs.triage_run_store": "the triage pipeline's bookkeeping of its own steps",
    "ai.services.training.classify_step": "a pipeline step (reads models; caches the ticket's embedding)",
    "ai.services.training.sentiment_step": "a pipeline step (reads models; caches the ticket's embedding)",
    "ai.services.embeddings.embed_texts": "a derived cache of sentence vectors, filled by steps and training after their gate",
    "ai.services.embeddings.embedder_for": "a derived cache of sentence vectors, filled by steps and training after their gate",
    "ai.services.embeddings.embed_tickets": "fills the derived vector cache ahead of triage (ai_triage_all, the relay)",
    "ai.services.embeddings.prepare_events": "the relay's batch warm-up of the derived vector cache",
    "ai.services.embeddings.prune": "the nightly pruning of the derived vector cache (another encoder, old rows)",
    "ai.services.multimodal.run_step": "a pipeline step (the `run_step(inp) -> StepOutput` protocol) run by the pipeline",
    "routing.services.dispatch.explain_on_timeline": (
        "the timeline entry of a routing decision, written after route_ticket's or ticket_override's gate"
    ),
    "sla.services.apply.apply_in_transaction": "sla_apply's body in the scanner's transaction, after its gate",
    "sla.services.escalation.run_safely": "an escalation level's action, run by sla_check_ticket after its gate",
    "sla.services.escalation.run_ticket_action": "an escalation level's action, run by sla_check_ticket after its gate",
    "sla.services.failures.record_failure": "the scanner's failure bookkeeping, after sla_scan_due's gate",
    "sla.services.failures.resolve": "the scanner's failure bookkeeping, after sla_scan_due's gate",
    "oncall.services.paging.escalate_page": "one step of escalate_due, after its gate",
    "oncall.services.paging.acknowledge_link": "authorised by the page link's single-use secret (no session)",
    "oncall.services.paging.resolve_link": "authorised by the page link's single-use secret (no session)",
    "oncall.services.paging.acknowledge_by_partner": "authorised by the partner's ticket link (partner_acknowledge)",
    "oncall.services.partners.partner_reply": "authorised by the partner's ticket link: reaches that ticket only",
    "oncall.services.partners.partner_parts_dispatched": "authorised by the partner's ticket link",
    "oncall.services.partners.partner_acknowledge": "authorised by the partner's ticket link",
    "oncall.services.partners.page_partner": "a partner level of a page, after page_ticket's or escalate_due's gate",
    "workforce.services.config.profile_for": "creates an agent's default rostering profile on first read (no choice made)",
    "workforce.services.requests.record_leave": "the body of an approved leave, after request_decide's or leave_create's gate",
    "notifications.services.deliver": (
        "the delivery task sends one queued attempt (and queues a page's fallback channel when it fails): what it "
        "sends was gated by notify's caller"
    ),
    "portal.services.signin.signin_with_link": "authorised by the magic link's single-use secret (no session)",
    "portal.services.signin.signin_with_code": "authorised by the SMS code's single-use secret (no session)",
    "portal.services.customer.opt_out_by_link": "authorised by the signed opt-out link (portal/tests/test_notices)",
    "portal.services.customer.portal_reply": (
        "the customer's own reply: the gate (contact permissions) and the actor must be the requester "
        "(portal/tests/test_pages, test_isolation)"
    ),
    "portal.services.customer.portal_request_create": (
        "the customer's own new request: the gate and the actor must be that contact (portal/tests/test_services)"
    ),
    "portal.services.customer.preference_save": (
        "the customer's own notice settings: the gate and the actor must be that contact (portal/tests/test_services)"
    ),
    "automation.services.rules.count_fired": "a rule's counter, bumped by fire() after its gate",
    "automation.services.triggers.fire": "one firing of a rule, after run_for_event's or sweep's gate",
    "automation.services.appeasement.run": "the appease action of a rule, run by fire() after its gate",
    "automation.services.approvals.approval_decide": (
        "the gate is being the stage's expected approver (domain.approvals): tested in automation/tests/test_approvals"
    ),
    "automation.services.approvals.decide_by_link": "authorised by the approval link's single-use secret (no session)",
}

# The ratchet: write services not yet behind the gate when the matrix was introduced. This set may only shrink;
# move a service from here to SERVICE_PERMISSIONS (or SYSTEM_ONLY) when it takes the actor and checks it.
NOT_YET_GATED: frozenset[str] = frozenset()
NOT_YET_GATED_CEILING = 0  # lower it with every service moved out; never raise it


# ---- the tests ----------------------------------------------------------------------------------------------------


def test_every_write_service_is_in_the_table():
    found = set(write_services())
    listed = set(SERVICE_PERMISSIONS) | set(SYSTEM_ONLY) | set(EXCLUDED) | NOT_YET_GATED
    missing = sorted(found - listed)
    assert not missing, (
        "These write services have no row in the permission table: add each to SERVICE_PERMISSIONS in "
        f"{__file__} with the Perm it needs and a factory for a minimal valid input (or to SYSTEM_ONLY with a "
        f"reason): {missing}"
    )
    stale = sorted(listed - found)
    assert not stale, f"Rows for services that no longer exist or no longer write: {stale}"
    assert not (set(SERVICE_PERMISSIONS) | set(SYSTEM_ONLY)) & NOT_YET_GATED, "A gated service is still listed"
    assert len(NOT_YET_GATED) <= NOT_YET_GATED_CEILING, "NOT_YET_GATED only shrinks: gate the new service instead"


@pytest.mark.parametrize("name", sorted(set(SERVICE_PERMISSIONS) | set(SYSTEM_ONLY)))
def test_every_gated_service_takes_the_actor(name):
    fn = write_services()[name]
    parameter = inspect.signature(fn).parameters.get("actor")
    assert parameter is not None, f"{name} must take `actor` and check it with permissions.authorize"
    assert parameter.kind is not inspect.Parameter.POSITIONAL_ONLY
    assert parameter.default is inspect.Parameter.empty, f"{name}: `actor` has no default (who acts is explicit)"


_ROLES = [Role.ADMIN, Role.SUPERVISOR, Role.AGENT, Role.LIGHT_AGENT]
_MATRIX = [
    pytest.param(name, i, role, id=f"{name.rsplit('.', 1)[1]}[{case.label or case.perm.value}]-{role}")
    for name, cases in sorted(SERVICE_PERMISSIONS.items())
    for i, case in enumerate(cases)
    for role in [*_ROLES, "system", "contact"]
]
_WRITE_SQL = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


@pytest.fixture
def world(workspace, contact):
    agents = {role: AgentFactory(workspace=workspace, role=role) for role in _ROLES}
    return World(workspace=workspace, agents=agents, contact=contact)


def _actor(world: World, role: str) -> tuple[Actor, AgentProfile | None]:
    if role == "system":
        return Actor.system("matrix"), None
    if role == "contact":
        return Actor.for_contact(world.contact.pk, world.contact.display_name), None
    agent = world.agents[role]
    return Actor.for_agent(agent), agent


def _allowed(role: str, perm: Perm) -> bool:
    if role == "system":
        return True
    if role == "contact":
        return perm in CONTACT_PERMISSIONS
    return perm in ROLE_PERMISSIONS[role]


def _writes(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if _WRITE_SQL.match(q["sql"])]


@pytest.mark.parametrize(("name", "index", "role"), _MATRIX)
def test_role_matrix(world, name, index, role):
    # given a service, one way of calling it, and an actor of this role
    service = write_services()[name]
    case = SERVICE_PERMISSIONS[name][index]
    actor, agent = _actor(world, role)
    kwargs = case.build(world, agent)
    if role == "contact" and _allowed(role, case.perm):
        pytest.skip("what a contact may do is covered through the channels, with the contact's own tickets")
    # when the actor calls it
    if _allowed(role, case.perm):
        # then an allowed role succeeds
        service(actor=actor, **kwargs)
        return
    with CaptureQueriesContext(connection) as queries, pytest.raises(PermissionDenied):
        service(actor=actor, **kwargs)
    # and a refused one changed nothing
    assert _writes(queries) == []


@pytest.mark.parametrize("name", sorted(SYSTEM_ONLY))
@pytest.mark.parametrize("role", [*_ROLES, "contact"])
def test_system_only_services_refuse_every_member(world, name, role):
    service = write_services()[name]
    actor, agent = _actor(world, role)
    kwargs = SYSTEM_ONLY[name][1](world, agent)
    with CaptureQueriesContext(connection) as queries, pytest.raises(PermissionDenied):
        service(actor=actor, **kwargs)
    assert _writes(queries) == []
    service(actor=Actor.system("matrix"), **kwargs)


def test_the_finder_sees_writes_through_other_services_and_not_read_helpers():
    found = write_services()
    # ticket_assign writes only through ticket_update; field_specs and clean_url only read
    assert "tickets.services.tickets.ticket_assign" in found
    assert "tickets.services.tickets.field_specs" not in found
    assert "webhooks.services.endpoints.clean_url" not in found
