"""Attachment files in storage, written *before* the write transaction that inserts their rows.

Writing a file (local disk or S3) inside a transaction holds the database's write lock for the whole upload: on
SQLite, a mail with thousands of parts once kept every other writer waiting 18 s (issue 11, finding 4). So the
intake stores the files first (`attachment_file_store`), then the services insert all their `Attachment` rows in one
statement (`message_create(files=…)`). The storage name is content-addressed (workspace, SHA-256, file name), so a
retry of the same payload finds its files already there instead of writing copies; a transaction that rolls back
discards the files it wrote (`attachment_files_discard`). No database access here: permission is checked by the
service that inserts the rows.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.utils.translation import gettext

from pivotdesk.common.errors import ValidationFailed
from pivotdesk.tickets.errors import TicketErrorCode
from pivotdesk.tickets.models import Attachment, Message, Ticket


@dataclass(frozen=True)
class StoredFile:
    """A file already in storage, waiting for its `Attachment` row."""

    name: str  # the storage name
    filename: str
    content_type: str
    size: int
    sha256: str
    inline: bool = False
    content_id: str = ""
    written: bool = True  # False: the same bytes were already stored under this name (kept on a rollback)


def clean_filename(filename: str) -> str:
    """The file's own name, without any path."""
    return PurePath(filename.replace("\\", "/")).name.strip() or "attachment"


def attachment_file_check(*, filename: str, size: int) -> None:
    """Refuse a file over the size limit or of a blocked type (`ValidationFailed` with the file's name)."""
    if size > settings.PIVOTDESK_ATTACHMENT_MAX_BYTES:
        limit_mb = settings.PIVOTDESK_ATTACHMENT_MAX_BYTES / 1024 / 1024
        raise ValidationFailed(
            gettext("'%(filename)s' is larger than the limit of %(limit_mb)s MB.")
            % {"filename": filename, "limit_mb": format(limit_mb, ".0f")},
            code=TicketErrorCode.FILE_TOO_LARGE,
        )
    suffix = PurePath(filename).suffix.lower().lstrip(".")
    if suffix in {s.lower() for s in settings.PIVOTDESK_ATTACHMENT_BLOCKED_EXTENSIONS}:
        raise ValidationFailed(
            gettext("Files of this type are not accepted: '%(filename)s'.") % {"filename": filename},
            code=TicketErrorCode.FILE_TYPE_BLOCKED,
        )


def attachment_file_store(
    *,
    workspace_id: int,
    filename: str,
    content: bytes,
    content_type: str = "",
    inline: bool = False,
    content_id: str = "",
) -> StoredFile:
    """Check a file and write it to storage (or find the identical file already there). No database access."""
    filename = clean_filename(filename)[:255]
    attachment_file_check(filename=filename, size=len(content))
    digest = hashlib.sha256(content).hexdigest()
    field = Attachment._meta.get_field("file")
    probe = Attachment(workspace_id=workspace_id, sha256=digest)
    try:
        name = field.generate_filename(probe, filename)
    except SuspiciousFileOperation:  # a name of punctuation only ('">'): storage needs letters, the row keeps it
        name = field.generate_filename(probe, "attachment")
    storage = field.storage
    written = True
    if storage.exists(name) and storage.size(name) == len(content):
        written = False  # content-addressed: the same bytes (a retry, or the same file sent twice)
    else:
        name = storage.save(name, ContentFile(content), max_length=500)
    return StoredFile(
        name=name,
        filename=filename,
        content_type=(content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream")[:120],
        size=len(content),
        sha256=digest,
        inline=inline,
        content_id=content_id[:255],
        written=written,
    )


def attachment_files_discard(files: list[StoredFile]) -> None:
    """Delete the files this intake wrote, after its transaction rolled back (files found already stored stay)."""
    storage = Attachment._meta.get_field("file").storage
    for stored in files:
        if stored.written:
            storage.delete(stored.name)


def attachment_rows(*, ticket: Ticket, message: Message | None, files: list[StoredFile]) -> list[Attachment]:
    """Unsaved `Attachment` rows for stored files (the services insert them with one `bulk_create`)."""
    return [
        Attachment(
            workspace_id=ticket.workspace_id,
            ticket=ticket,
            message=message,
            file=f.name,
            filename=f.filename,
            content_type=f.content_type,
            size=f.size,
            sha256=f.sha256,
            inline=f.inline,
            content_id=f.content_id,
        )
        for f in files
    ]
