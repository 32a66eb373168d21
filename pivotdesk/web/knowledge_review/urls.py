"""URLs of the knowledge manager's screens: proposals to review, imports and exports, the root-cause tree and the
graph's catalogue (joined into the `web` namespace by `pivotdesk.web.urls`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.knowledge_review.views import manage, proposals

urlpatterns: list[URLPattern] = [
    path("knowledge/review/", proposals.proposal_list, name="knowledge_proposals"),
    path("knowledge/review/<int:proposal_id>/", proposals.proposal_page, name="knowledge_proposal"),
    path("knowledge/import/", manage.import_page, name="knowledge_import"),
    path("knowledge/import/<int:job_id>/", manage.import_job, name="knowledge_import_job"),
    path("knowledge/export/", manage.export, name="knowledge_export"),
    path("knowledge/root-causes/", manage.root_causes, name="knowledge_root_causes"),
    path("knowledge/root-causes/<int:cause_id>/", manage.root_cause_edit, name="knowledge_root_cause"),
    path("knowledge/catalogue/", manage.catalogue, name="knowledge_catalogue"),
]
