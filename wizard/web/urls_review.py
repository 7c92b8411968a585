"""URLs of revisions, diffs, the review trail and comments."""
from __future__ import annotations

from django.urls import path

from wizard.web.views import bundlecheck, review, revisions

urlpatterns = [
    path("reviews/", review.review_queue, name="review-queue"),
    path("check-bundle/", bundlecheck.check_bundle, name="check-bundle"),
    path("plans/<uuid:code>/revisions/", revisions.plan_revisions, name="plan-revisions"),
    path("plans/<uuid:code>/revisions/new/", revisions.save_revision, name="revision-save"),
    path("plans/<uuid:code>/revisions/<int:number>/", revisions.revision_detail, name="revision-detail"),
    path("plans/<uuid:code>/revisions/<int:number>/submit/", review.submit_revision, name="revision-submit"),
    path("plans/<uuid:code>/revisions/<int:number>/approve/", review.approve_revision, name="revision-approve"),
    path("plans/<uuid:code>/revisions/<int:number>/request-changes/", review.request_changes,
         name="revision-request-changes"),
    path("plans/<uuid:code>/revisions/<int:number>/withdraw/", review.withdraw_approval, name="revision-withdraw"),
    path("plans/<uuid:code>/revisions/<int:number>/comments/", review.comment_on_revision, name="revision-comment"),
    path("plans/<uuid:code>/revisions/<int:number>/files/<str:filename>", revisions.revision_file,
         name="revision-file"),
    path("plans/<uuid:code>/revisions/<int:number>/download/", revisions.download_revision,
         name="revision-download"),
    path("plans/<uuid:code>/diff/", revisions.plan_diff, name="plan-diff"),
    path("plans/<uuid:code>/comments/", review.comment_on_plan, name="plan-comment"),
    path("plans/<uuid:code>/audit/", review.plan_audit, name="plan-audit"),
    path("plans/<uuid:code>/sharing/", review.plan_sharing, name="plan-sharing"),
    path("plans/<uuid:code>/sharing/remove/", review.plan_unshare, name="plan-unshare"),
]
