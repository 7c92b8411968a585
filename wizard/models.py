"""Database models: a plan with its live draft, its immutable revisions, the review
trail, comments, sharing, the state files of its estate and the audit log.

State changes go through the service functions in `wizard/review/services.py` and
`wizard/web/drafts.py`; nothing else calls `.save()` on these models.
"""
from __future__ import annotations

import unicodedata
import uuid

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from wizard.plan.validators import bidi_control_in


def refuse_bidi_controls(value: str) -> None:
    """Refuse text a reviewer reads (a revision's message, a comment) that holds a text-direction control: it
    would make the page show the words in another order than they were typed and stored. The one check, run
    by the forms that take such text and by the models' `full_clean` (services and the admin)."""
    found = bidi_control_in(value) if isinstance(value, str) else None
    if found is not None:
        name = unicodedata.name(found, "text-direction control").lower()
        raise ValidationError(
            f"This text holds an invisible text-direction character (U+{ord(found):04X}, {name}), which makes a "
            f"page show the words in another order than they were typed: remove it, then send again.",
            code="bidi_control")


class Plan(models.Model):
    """A change plan for one Lync/SfB deployment: its draft and its history."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    product = models.CharField(max_length=16, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="plans")
    teams = models.ManyToManyField(Group, through="PlanShare", blank=True, related_name="plans")
    # The draft is a `lync-auth-plan/1` document as typed so far: it may be incomplete
    # or invalid, which is why it is kept as JSON and only read through wizard.plans.
    draft = models.JSONField(default=dict)
    # Optimistic concurrency: every draft save must name the version it was based on.
    draft_version = models.PositiveIntegerField(default=1)
    preset = models.CharField(max_length=64, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated"]
        permissions = [("review_plan", "Can approve or request changes on plan revisions")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("plan-detail", args=[self.code])


class PlanShare(models.Model):
    """A team (Django group) that may see a plan, and whether it may change it."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="shares")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="plan_shares")
    can_edit = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plan", "group"], name="unique_plan_share")]

    def __str__(self) -> str:
        return f"{self.plan} shared with {self.group} ({'edit' if self.can_edit else 'read'})"


class PlanState(models.Model):
    """A `lync-auth-state/1` file kept with a plan: what the estate held when the collector ran.

    `document` is the file as uploaded (read without errors; unknown fields of collected
    objects are kept), or two uploads merged when one brought the Management Shell part and
    the other the AD FS part. The summary fields are copied from it for lists and pages.
    """

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="states")
    document = models.JSONField()
    sha256 = models.CharField(max_length=64)
    collected_at = models.DateTimeField()
    collected_on = models.CharField(max_length=255, blank=True)
    adfs_collected_at = models.DateTimeField(null=True, blank=True)
    product = models.CharField(max_length=16, blank=True)
    has_management_shell = models.BooleanField(default=False)
    has_adfs = models.BooleanField(default=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plan", "-uploaded", "-id"]

    def __str__(self) -> str:
        return f"{self.plan}: state collected {self.collected_at:%Y-%m-%d %H:%M}"


class Revision(models.Model):
    """An immutable, numbered snapshot of a plan's draft, with the hash of its bundle."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    message = models.CharField(max_length=500, validators=[refuse_bidi_controls])
    data = models.JSONField()
    bundle_sha256 = models.CharField(max_length=64)
    tool_version = models.CharField(max_length=32)
    # Finding codes present when the revision was saved: the re-check banner compares against them.
    finding_codes = models.JSONField(default=list)
    # The state file the revision was judged against (the plan's latest when it was saved), if any.
    state = models.ForeignKey(PlanState, on_delete=models.RESTRICT, null=True, blank=True, related_name="revisions")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The saver's user name when the revision was saved, as APPROVAL.json states it ("author"): an account
    # renamed later must not change the record an approved download holds.
    created_by_username = models.CharField(max_length=150, blank=True)
    # The draft version this revision was saved from (0: saved before versions were recorded).
    draft_version = models.PositiveIntegerField(default=0)
    # Everyone whose draft saves this revision holds (since the last approved revision), its saver
    # included: none of them may approve it.
    contributors = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+", blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plan", "-number"]
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="unique_revision_number")]

    def __str__(self) -> str:
        return f"{self.plan} r{self.number}"

    def get_absolute_url(self) -> str:
        return reverse("revision-detail", args=[self.plan.code, self.number])


class Review(models.Model):
    """One step of the review trail of a revision; the status is derived from these rows."""

    class Decision(models.TextChoices):
        SUBMITTED = "submitted", "Submitted for review"
        APPROVED = "approved", "Approved"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        WITHDRAWN = "withdrawn", "Approval withdrawn"

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="reviews")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The actor's user name and full name when the row was written, as APPROVAL.json states them: an account
    # renamed later must not change the record an approved download holds (the bundle check compares it).
    actor_username = models.CharField(max_length=150, blank=True)
    actor_name = models.CharField(max_length=301, blank=True)  # first (150), space, last (150)
    decision = models.CharField(max_length=32, choices=Decision.choices)
    comment = models.TextField(blank=True, validators=[refuse_bidi_controls])
    # The bundle hash the decision was made on: an approval covers exactly these bytes.
    bundle_sha256 = models.CharField(max_length=64)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return f"{self.revision}: {self.get_decision_display()} by {self.actor}"


class Comment(models.Model):
    """A comment on a plan, or on one of its revisions."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="comments")
    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, null=True, blank=True, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=5000, validators=[refuse_bidi_controls])
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return f"Comment by {self.author} on {self.revision or self.plan}"


class AuditEvent(models.Model):
    """One state change, written in the same transaction as the change itself."""

    class Action(models.TextChoices):
        CREATED = "created", "Plan created"
        DRAFT_SAVED = "draft_saved", "Draft saved"
        REVISION_SAVED = "revision_saved", "Revision saved"
        SUBMITTED = "submitted", "Submitted for review"
        APPROVED = "approved", "Approved"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        COMMENTED = "commented", "Commented"
        IMPORTED = "imported", "Imported"
        EXPORTED = "exported", "Exported"
        DOWNLOADED = "downloaded", "Downloaded"
        SHARED = "shared", "Sharing changed"
        STATE_UPLOADED = "state_uploaded", "State file uploaded"
        APPROVAL_WITHDRAWN = "approval_withdrawn", "Approval withdrawn"
        DELETED = "deleted", "Plan deleted"
        TEAM_CHANGED = "team_changed", "Team changed"

    plan = models.ForeignKey(Plan, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    action = models.CharField(max_length=32, choices=Action.choices)
    detail = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.plan}"
