"""What the customer forms post, read into the keyword arguments of the customers services. Only the fields a form
sent are read (a partial post leaves the rest alone); checking the values is the services' work."""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from django.utils.translation import get_language_info
from django.utils.translation import gettext as _

from pivotdesk.accounts.models import Workspace
from pivotdesk.accounts.selectors import access_agent
from pivotdesk.common.choices import Channel, IdentityKind
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.customers import selectors as customer_selectors
from pivotdesk.customers.domain.labels import LabelError, clean_account_rows
from pivotdesk.web.base import int_or_none

# The identities an agent adds by hand, in the order the form offers them.
EDITABLE_KINDS = (
    IdentityKind.EMAIL,
    IdentityKind.PHONE,
    IdentityKind.WECHAT,
    IdentityKind.WHATSAPP,
    IdentityKind.WECOM,
    IdentityKind.TELEGRAM,
    IdentityKind.LINE,
    IdentityKind.MESSENGER,
    IdentityKind.EXTERNAL,
)
LANGUAGES = ("zh-hans", "zh-hant", "en", "ja", "ko")
TIME_ZONES = (
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
)


def kind_label(kind: str) -> str:
    """A short name of an identity's kind in the reader's language (the channel's name where there is one)."""
    if kind == IdentityKind.PHONE:
        return _("Phone number")
    if kind == IdentityKind.EMAIL:
        return str(Channel.EMAIL.label)
    if kind in Channel.values:
        return str(Channel(kind).label)
    return str(IdentityKind(kind).label) if kind in IdentityKind.values else kind


def label_identities(identities: Any) -> list[Any]:
    """The identities, each given `kind_label` for the screens."""
    found = list(identities)
    for identity in found:
        identity.kind_label = kind_label(identity.kind)
    return found


def language_choices(current: str) -> list[tuple[str, str]]:
    """Languages a contact may be served in, named in their own language (the current value kept if unusual)."""
    choices = [(code, str(get_language_info(code)["name_local"])) for code in LANGUAGES]
    if current and current not in LANGUAGES:
        choices.insert(0, (current, current))
    return choices


def _text(post: QueryDict, name: str, fields: dict[str, Any]) -> None:
    if name in post:
        fields[name] = post.get(name, "").strip()


def contact_fields(post: QueryDict, *, workspace: Workspace) -> dict[str, Any]:
    """contact_update's keyword arguments from the contact form."""
    fields: dict[str, Any] = {}
    for name in ("name", "tier", "language", "time_zone", "notes", "tags"):
        _text(post, name, fields)
    if "organization" in post:
        org_id = int_or_none(post.get("organization"))
        fields["organization"] = (
            customer_selectors.access_organization(workspace=workspace, organization_id=org_id) if org_id else None
        )
    return fields


def organization_fields(post: QueryDict, *, workspace: Workspace) -> dict[str, Any]:
    """organization_create / organization_update keyword arguments from the organization form; account data
    arrives as rows of `account_key` / `account_value` pairs."""
    fields: dict[str, Any] = {}
    for name in ("name", "tier", "notes", "external_id"):
        _text(post, name, fields)
    if "tags" in post:
        fields["tags"] = post.get("tags", "")
    if "domains" in post:
        fields["domains"] = [d for d in post.get("domains", "").replace("，", ",").replace(",", " ").split() if d]
    if "account_key" in post:
        rows = list(zip(post.getlist("account_key"), post.getlist("account_value"), strict=False))
        try:
            fields["account"] = clean_account_rows(rows)
        except LabelError as exc:
            raise ValidationFailed(_(exc.template) % exc.params) from exc
    if "account_manager" in post:
        manager_id = int_or_none(post.get("account_manager"))
        fields["account_manager"] = access_agent(workspace=workspace, agent_id=manager_id) if manager_id else None
    return fields


def account_rows(account: dict[str, Any], *, blank: int = 3) -> list[tuple[str, str]]:
    """An organization's account data as rows for the form, and a few empty rows to add more."""
    rows = [(str(key), "" if value is None else str(value)) for key, value in (account or {}).items()]
    return rows + [("", "")] * blank
