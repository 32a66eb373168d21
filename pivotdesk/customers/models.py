"""Customers: organizations with a tier, contacts, and the channel identities that resolve to them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from pivotdesk.common.choices import IdentityKind
from pivotdesk.common.models import WorkspaceScoped


class Tier(models.TextChoices):
    STANDARD = "standard", _("Standard")
    VIP = "vip", _("VIP")
    STRATEGIC = "strategic", _("Strategic")


class CustomerOrganization(WorkspaceScoped):
    """A customer company: tier, email domains, and account data (contract, ARR, account manager, …)."""

    name = models.CharField(max_length=200)
    tier = models.CharField(max_length=16, choices=Tier.choices, default=Tier.STANDARD)
    domains = models.JSONField(default=list, blank=True, help_text=_("Email domains that map to this organization."))
    external_id = models.CharField(max_length=120, blank=True)
    account = models.JSONField(default=dict, blank=True)
    notes = models.TextField(blank=True)
    tags = models.JSONField(default=list, db_default=[], blank=True, help_text=_("Short labels, e.g. pilot, reseller."))
    account_manager = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="org_unique_name")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Contact(WorkspaceScoped):
    """A customer person. One person is one contact whichever channel they use; a merged contact points on."""

    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True, db_index=True)
    phone = models.CharField(max_length=32, blank=True, help_text=_("E.164"))
    organization = models.ForeignKey(
        CustomerOrganization, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    tier = models.CharField(max_length=16, choices=Tier.choices, blank=True, help_text=_("Overrides the org tier."))
    language = models.CharField(max_length=16, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    notes = models.TextField(blank=True)
    tags = models.JSONField(default=list, db_default=[], blank=True)  # db_default: rows written by older code
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    merged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "name"]), models.Index(fields=["workspace", "phone"])]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or self.email or self.phone or f"#{self.pk}"

    @property
    def effective_tier(self) -> str:
        if self.tier:
            return self.tier
        return self.organization.tier if self.organization_id and self.organization else Tier.STANDARD


class ChannelIdentity(WorkspaceScoped):
    """An external id under which a contact reaches us (email, E.164 phone, WeChat openid, …)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=16, choices=IdentityKind.choices)
    value = models.CharField(max_length=255, help_text=_("Normalised: lower-case email, E.164 phone, raw id."))
    verified = models.BooleanField(default=False)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "kind", "value"], name="identity_unique_per_workspace")
        ]
        verbose_name_plural = "channel identities"

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"
