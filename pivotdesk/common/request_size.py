"""A request body over `DATA_UPLOAD_MAX_MEMORY_SIZE` (Django raises `RequestDataTooBig`): one code and one message,
shown by the API as JSON 413 (`config/api.py`) and by the agent UI as a page or an HTMX toast
(`pivotdesk/web/errors.py`), instead of Django's bare HTML 400."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext

PAYLOAD_TOO_LARGE = "payload_too_large"


def too_large_message() -> str:
    """What the sender reads, in the request's language, with the limit in whole megabytes."""
    limit = max(1, int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0) // (1024 * 1024))
    return gettext("The request is too large: at most %(limit)s MB can be sent at once (attachments not counted).") % {
        "limit": limit
    }
