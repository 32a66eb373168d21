"""Tickets, their conversation, attachments, links, custom fields, statuses, tags and the timeline."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from pivotdesk.common.choices import Channel
from pivotdesk.common.models import WorkspaceScoped


class Status(models.TextChoices):
    """The six status categories; a workspace's custom status labels map onto these."""

    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    ON_HOLD = "on_hold", _("On hold")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class TicketType(models.TextChoices):
    QUESTION = "question", _("Question")
    INCIDENT = "incident", _("Incident")
    PROBLEM = "problem", _("Problem")
    TASK = "task", _("Task")
    COMPLAINT = "complaint", _("Complaint")


class TicketSequence(models.Model):
    """The last ticket number handed out in a workspace (numbers are per workspace, e.g. #10234)."""

    workspace = models.OneToOneField("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    last_number = models.PositiveBigIntegerField(default=10000)


class StatusDefinition(WorkspaceScoped):
    """A workspace's own status label (e.g. "Waiting for parts") mapped onto one of the six categories."""

    category = models.CharField(max_length=16, choices=Status.choices)
    label = models.CharField(max_length=80)
    label_zh = models.CharField(max_length=80, blank=True)
    description = models.CharField(max_length=255, blank=True)
    position = models.PositiveIntegerField(default=0)
    is_default = models.BooleanField(default=False, help_text=_("The label used when a ticket enters the category."))
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "label"], name="statusdef_unique_label")]
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"{self.label} ({self.category})"


class Category(WorkspaceScoped):
    """A node of the workspace's category taxonomy (e.g. Billing › Refunds)."""

    name = models.CharField(max_length=120)
    name_zh = models.CharField(max_length=120, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "parent", "name"], name="category_unique_name")]
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Tag(WorkspaceScoped):
    """A free label; names are lower-case and unique per workspace."""

    name = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="tag_unique_name")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    SELECT = "select", _("Select")
    MULTI_SELECT = "multiselect", _("Multi-select")
    CHECKBOX = "checkbox", _("Checkbox")


class CustomField(WorkspaceScoped):
    """A typed ticket field defined by the workspace; values live in Ticket.custom_fields, validated on write."""

    key = models.SlugField(max_length=64)
    label = models.CharField(max_length=120)
    label_zh = models.CharField(max_length=120, blank=True)
    field_type = models.CharField(max_length=16, choices=FieldType.choices)
    options = models.JSONField(default=list, blank=True, help_text=_("Allowed values for select fields."))
    required = models.BooleanField(default=False, help_text=_("Required before a ticket can be solved."))
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "key"], name="customfield_unique_key")]
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.label


class SlaState(models.TextChoices):
    OK = "ok", _("On track")
    WARNING = "warning", _("Warning")
    BREACHED = "breached", _("Breached")
    PAUSED = "paused", _("Paused")


class Ticket(WorkspaceScoped):
    """A customer request and everything about it."""

    number = models.PositiveBigIntegerField()
    subject = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    custom_status = models.ForeignKey(StatusDefinition, null=True, blank=True, on_delete=models.SET_NULL)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    ticket_type = models.CharField(max_length=16, choices=TicketType.choices, default=TicketType.QUESTION)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WEB_FORM)
    requester = models.ForeignKey("customers.Contact", on_delete=models.PROTECT, related_name="tickets")
    organization = models.ForeignKey(
        "customers.CustomerOrganization", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    assignee = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_tickets"
    )
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets")
    followers = models.ManyToManyField("accounts.AgentProfile", blank=True, related_name="followed_tickets")
    cc_contacts = models.ManyToManyField(
        "customers.Contact", blank=True, related_name="cc_tickets", help_text=_("Customers copied on replies (CC).")
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets")
    custom_fields = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=16, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    external_id = models.CharField(
        max_length=255, blank=True, help_text=_("The client's key for this ticket (API idempotency key, import id).")
    )
    first_response_at = models.DateTimeField(null=True, blank=True)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    last_agent_reply_at = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    message_count = models.PositiveIntegerField(default=0)
    # Service levels (maintained by pivotdesk.sla): the nearest deadline of the running targets, its state for the
    # badge, and when the SLA scanner must look at this ticket next (warning, breach or escalation); all indexed.
    sla_due_at = models.DateTimeField(null=True, blank=True)
    sla_state = models.CharField(max_length=8, blank=True, default="", choices=SlaState.choices)
    sla_next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "number"], name="ticket_unique_number"),
            # The client's (API, import) idempotency key: one ticket per key and workspace, even under concurrency.
            models.UniqueConstraint(
                fields=["workspace", "external_id"],
                condition=~models.Q(external_id=""),
                name="ticket_unique_external_id",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "status", "-updated_at"], name="ticket_ws_status_upd"),
            models.Index(fields=["workspace", "-updated_at"], name="ticket_ws_upd"),
            models.Index(fields=["updated_at"], name="ticket_updated"),  # the search sweep, across workspaces
            models.Index(fields=["workspace", "-created_at"], name="ticket_ws_created"),
            # With the channel, routing counts every agent's open tickets per channel type from the index alone.
            models.Index(fields=["workspace", "assignee", "status", "channel"], name="ticket_ws_assignee_load"),
            models.Index(fields=["workspace", "team", "status"], name="ticket_ws_team"),
            # The customer's other tickets, newest first (the ticket page, the portal): filter and order from the index.
            models.Index(fields=["workspace", "requester", "-created_at"], name="ticket_ws_requester_created"),
            models.Index(fields=["workspace", "sla_due_at"], name="ticket_ws_sla_due"),
            # Routing's fairness window: recent assignments per agent.
            models.Index(fields=["workspace", "assigned_at"], name="ticket_ws_assigned_at"),
            models.Index(fields=["workspace", "priority", "status"], name="ticket_ws_priority"),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status not in (Status.SOLVED, Status.CLOSED)


class MessageKind(models.TextChoices):
    PUBLIC = "public", _("Public reply")
    NOTE = "note", _("Internal note")
    SYSTEM = "system", _("System message")


class AuthorType(models.TextChoices):
    AGENT = "agent", _("Agent")
    CONTACT = "contact", _("Customer")
    BOT = "bot", _("Bot")
    SYSTEM = "system", _("System")


class DeliveryStatus(models.TextChoices):
    NONE = "", _("Not sent")
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Message(WorkspaceScoped):
    """One entry of a ticket's conversation: a public reply, an internal note or a system message."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=8, choices=MessageKind.choices, default=MessageKind.PUBLIC)
    author_type = models.CharField(max_length=8, choices=AuthorType.choices)
    author_agent = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_label = models.CharField(max_length=200, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True, help_text=_("Sanitised HTML."))
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.AGENT)
    external_id = models.CharField(max_length=255, blank=True, help_text=_("Message-ID or platform message id."))
    metadata = models.JSONField(default=dict, blank=True)
    delivery_status = models.CharField(max_length=8, choices=DeliveryStatus.choices, blank=True, default="")
    delivery_error = models.TextField(blank=True)
    # Addresses an agent copied on this one public e-mail reply (besides the ticket's CC'd contacts): Cc is a
    # header, Bcc only an envelope recipient of the mail.
    cc = models.JSONField(default=list, db_default=[], blank=True)
    bcc = models.JSONField(default=list, db_default=[], blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_created")]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "channel", "external_id"],
                condition=~models.Q(external_id=""),
                name="message_unique_external_id",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} on #{self.ticket_id}"

    @property
    def author_name(self) -> str:
        if self.author_label:
            return self.author_label
        if self.author_agent_id and self.author_agent:
            return self.author_agent.name
        if self.author_contact_id and self.author_contact:
            return self.author_contact.display_name
        return str(self.get_author_type_display())


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.workspace_id}/{instance.sha256[:2]}/{instance.sha256}/{filename}"


class Attachment(WorkspaceScoped):
    """A file on a message, in Django storage (local folder by default, S3-compatible when configured)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=500)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=120)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    content_id = models.CharField(max_length=255, blank=True, help_text=_("For inline images (cid:)."))
    inline = models.BooleanField(default=False)
    # A file an agent pasted or dropped into the composer: stored at once with no message, until the reply that
    # uses it is sent (`tickets.services.messages.reply_upload`).
    uploaded_by = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    extracted_text = models.TextField(blank=True, help_text=_("Text read from the file (OCR, speech, …)."))

    def __str__(self) -> str:
        return self.filename


class LinkKind(models.TextChoices):
    RELATED = "related", _("Related")
    DUPLICATE_OF = "duplicate_of", _("Duplicate of")


class TicketLink(WorkspaceScoped):
    """A link between two tickets (parent/child lives on Ticket.parent)."""

    source = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=16, choices=LinkKind.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "target", "kind"], name="ticketlink_unique")]


class ActorType(models.TextChoices):
    AGENT = "agent", _("Agent")
    CONTACT = "contact", _("Customer")
    RULE = "rule", _("Rule")
    AI = "ai", _("AI")
    API = "api", _("API client")
    SYSTEM = "system", _("System")


class TicketEvent(models.Model):
    """One entry of a ticket's timeline: who or what changed what, when, from what to what."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(db_index=True)
    actor_type = models.CharField(max_length=8, choices=ActorType.choices)
    actor_agent = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    verb = models.CharField(max_length=32)
    field = models.CharField(max_length=64, blank=True)
    old_value = models.JSONField(null=True, blank=True)
    new_value = models.JSONField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="event_ticket_created")]

    def __str__(self) -> str:
        return f"{self.verb} {self.field} on #{self.ticket_id}"


class SavedView(WorkspaceScoped):
    """A named queue filter and sort, personal (owner set) or shared with the workspace."""

    owner = models.ForeignKey("accounts.AgentProfile", null=True, blank=True, on_delete=models.CASCADE)
    name = models.CharField(max_length=120)
    filters = models.JSONField(default=dict, blank=True)
    sort = models.CharField(max_length=32, default="-updated_at")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class ReplyDraft(WorkspaceScoped):
    """What an agent has typed into a ticket's reply box and not sent yet: kept on the server (it survives a
    reload, another browser, a crash), one per agent and ticket, deleted when the agent posts to the ticket. Its
    colleagues see that an unsent reply exists, never its text."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey("accounts.AgentProfile", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=MessageKind.choices, default=MessageKind.PUBLIC)
    body = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "agent"], name="tickets_draft_one_per_agent")]

    def __str__(self) -> str:
        return f"draft of agent {self.agent_id} on ticket {self.ticket_id}"


class QueueLayout(WorkspaceScoped):
    """The queue's columns as one agent chose them (the column chooser), kept per agent on the server so every
    browser shows the same. No row: the default columns."""

    agent = models.OneToOneField("accounts.AgentProfile", on_delete=models.CASCADE, related_name="+")
    columns = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"queue layout of agent {self.agent_id}"
