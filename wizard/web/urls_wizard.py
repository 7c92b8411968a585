"""URLs of the plan list, the wizard steps, the review page, previews and downloads, and the
estate pages (start from a state file, intended versus actual, the collector download)."""
from __future__ import annotations

from django.urls import path

from wizard.web.views import estate, output, plans, preview, risks, steps

urlpatterns = [
    path("", plans.plan_list, name="plan-list"),
    path("plans/new/", plans.plan_create, name="plan-create"),
    path("plans/import/", plans.plan_import, name="plan-import"),
    path("plans/from-state/", estate.plan_from_state, name="plan-from-state"),
    path("collect-state.ps1", estate.collect_state_download, name="collect-state-download"),
    path("plans/<uuid:code>/", plans.plan_detail, name="plan-detail"),
    path("plans/<uuid:code>/export/", plans.plan_export, name="plan-export"),
    path("plans/<uuid:code>/preset/", plans.plan_preset, name="plan-preset"),
    path("plans/<uuid:code>/estate/", estate.plan_estate, name="plan-estate"),
    # The step slug is checked against wizard.steps.STEPS in the view (404 for an unknown one).
    path("plans/<uuid:code>/steps/<slug:step>/", steps.step_page, name="plan-step"),
    path("plans/<uuid:code>/steps/<slug:step>/autosave/", steps.step_autosave, name="plan-step-autosave"),
    path("plans/<uuid:code>/steps/<slug:step>/preview/", preview.step_preview, name="plan-step-preview"),
    path("plans/<uuid:code>/files/<str:filename>", output.file_panel, name="plan-file"),
    path("plans/<uuid:code>/risks/accept/", risks.accept_risk, name="plan-risk-accept"),
    path("plans/<uuid:code>/risks/withdraw/", risks.withdraw_risk, name="plan-risk-withdraw"),
    path("plans/<uuid:code>/download/bundle.zip", output.download_zip, name="plan-download-zip"),
    path("plans/<uuid:code>/download/<str:filename>", output.download_file, name="plan-download-file"),
]
