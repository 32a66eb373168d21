"""The agents' side of the portal: the workspace's theme (admins) and organization managers (who may manage
contacts)."""

from __future__ import annotations

import re

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.common.domain.filetypes import sniff_raster_image
from pivotdesk.common.errors import Conflict, ValidationFailed
from pivotdesk.customers.models import Contact, CustomerOrganization
from pivotdesk.portal.models import OrganizationManager, PortalTheme

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
LOGO_MAX_BYTES = 512 * 1024
LOGO_TYPES = {"png", "jpeg", "gif", "webp"}


def _colour(value: str, field: str) -> str:
    value = (value or "").strip()
    if not COLOUR.match(value):
        raise ValidationFailed(
            _("A colour is written as # and six hexadecimal digits, e.g. #1a64d8."), details={"field": field}
        )
    return value.lower()


def _domain(value: str) -> str:
    value = (value or "").strip().lower().rstrip(".")
    if value and not DOMAIN.match(value):
        raise ValidationFailed(
            _("Enter a domain name such as support.example.com (no https://, no path)."),
            details={"field": "custom_domain"},
        )
    return value


def theme_save(
    *,
    actor: Actor,
    workspace: Workspace,
    title: str = "",
    title_zh: str = "",
    primary_color: str = "#1a64d8",
    accent_color: str = "#0e7a3d",
    custom_domain: str = "",
    logo: tuple[str, bytes] | None = None,
    remove_logo: bool = False,
) -> PortalTheme:
    """Save the workspace's portal theme: colours checked, the custom domain a host name used by no other
    workspace, the logo a PNG/JPEG/GIF/WebP (by its bytes) of at most 512 KiB."""
    authorize(actor, Perm.WORKSPACE_CONFIGURE, workspace_id=workspace.pk)
    primary, accent = _colour(primary_color, "primary_color"), _colour(accent_color, "accent_color")
    domain = _domain(custom_domain)
    if logo is not None:
        content = logo[1]
        kind = sniff_raster_image(content[:64])
        if len(content) > LOGO_MAX_BYTES:
            raise ValidationFailed(_("The logo is larger than 512 KB."), details={"field": "logo"})
        if kind is None or kind.split("/")[-1] not in LOGO_TYPES:
            raise ValidationFailed(_("The logo must be a PNG, JPEG, GIF or WebP image."), details={"field": "logo"})
    theme = PortalTheme.objects.filter(workspace=workspace).first() or PortalTheme(workspace=workspace)
    theme.title, theme.title_zh = (title or "").strip()[:120], (title_zh or "").strip()[:120]
    theme.primary_color, theme.accent_color, theme.custom_domain = primary, accent, domain
    if remove_logo and theme.logo:
        theme.logo.delete(save=False)
        theme.logo = ""
    if logo is not None:
        extension = kind.split("/")[-1] if kind else "png"
        theme.logo.save(f"ws{workspace.pk}-logo.{extension}", ContentFile(logo[1]), save=False)
    try:
        with transaction.atomic():
            theme.save()
    except IntegrityError as exc:
        raise Conflict(_("Another workspace already uses this domain."), details={"field": "custom_domain"}) from exc
    return theme


def organization_manager_add(
    *, actor: Actor, contact: Contact, organization: CustomerOrganization
) -> OrganizationManager:
    """Let a contact see every request of an organization in the portal (idempotent)."""
    authorize(actor, Perm.CONTACT_MANAGE, workspace_id=contact.workspace_id)
    if contact.workspace_id != organization.workspace_id:
        raise ValidationFailed(_("The contact and the organization belong to different workspaces."))
    manager, _created = OrganizationManager.objects.get_or_create(
        contact=contact, organization=organization, defaults={"workspace_id": contact.workspace_id}
    )
    return manager


def organization_manager_remove(*, actor: Actor, manager: OrganizationManager) -> None:
    """The contact no longer sees the organization's requests (only their own)."""
    authorize(actor, Perm.CONTACT_MANAGE, workspace_id=manager.workspace_id)
    manager.delete()
