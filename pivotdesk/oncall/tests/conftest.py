"""The real loopback servers of the notifications tests (SMTP, an apprise json:// receiver), for page delivery."""

from pivotdesk.notifications.tests.conftest import receiver, smtp_server

__all__ = ["receiver", "smtp_server"]
