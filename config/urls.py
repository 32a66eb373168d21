"""URL map: agent workspace, REST API (/api/v1, docs at /api/docs), Django admin, i18n switch."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from config.api import api
from pivotdesk.common.user_files import serve_media

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("channels/", include("pivotdesk.channels.urls")),
    path("oncall/", include("pivotdesk.oncall.urls")),
    path("approvals/", include("pivotdesk.automation.urls")),
    path("partner/", include("pivotdesk.oncall.partner_urls")),
    path("portal/", include("pivotdesk.portal.urls")),
    path("survey/", include("pivotdesk.surveys.urls")),
    path("", include("pivotdesk.web.urls")),
]
if settings.DEBUG or not settings.STORAGES["default"]["BACKEND"].endswith("S3Storage"):
    # User files never go through django.views.static.serve (it would serve an .html or .svg as a page of ours).
    urlpatterns += static(settings.MEDIA_URL, view=serve_media, document_root=settings.MEDIA_ROOT)

# A body over DATA_UPLOAD_MAX_MEMORY_SIZE is a readable 413 (JSON under /api/), not Django's bare HTML 400.
handler400 = "pivotdesk.web.errors.bad_request"
