from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "pivotdesk.portal"
    label = "portal"
    verbose_name = _("Customer portal")

    def ready(self) -> None:
        # Every e-mail reply to a customer carries "Follow your request: <link>" (channels sits below the portal
        # and may not import it, so the portal registers its footer line there).
        from pivotdesk.channels.adapters.email_send import FOOTER_PROVIDERS
        from pivotdesk.portal.footer import follow_line

        if follow_line not in FOOTER_PROVIDERS:
            FOOTER_PROVIDERS.append(follow_line)
