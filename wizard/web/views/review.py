"""Review actions on a revision (submit, approve, request changes), comments, the
audit page and sharing. Each view loads through `wizard.review.access`, validates
a form, calls one service in `wizard.review.services` and redirects or renders.
"""
from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from wizard.models import Plan, Revision, refuse_bidi_controls
from wizard.review import access, pages, state
from wizard.review import services as review
from wizard.review.access import PlanAccess
from wizard.review.audit import client_ip
from wizard.web.forms import MultilineField, PageNumberField, draft_version_field, errors_in_words
from wizard.web.posting import form_post
from wizard.web.views import output

# ---------------------------------------------------------------------------
# Forms


class SaveRevisionForm(forms.Form):
    """The message of a new revision, and the draft version the page showed (a stale one is refused)."""

    message = forms.CharField(max_length=500, strip=True, label="What changed, and why",
                              validators=[refuse_bidi_controls],
                              error_messages={"required": "Say what changed in this revision."})
    draft_version = draft_version_field(error_messages={
        "required": "The page did not say which draft version it showed: look at the changes again, then save.",
        "invalid": "The page's draft version is damaged: look at the changes again, then save."})


class ApproveForm(forms.Form):
    """An approval, with an optional comment that goes into APPROVAL.json."""

    comment = MultilineField(required=False, max_length=review.COMMENT_MAX, strip=True,
                             widget=forms.Textarea(attrs={"rows": 2}), label="Approval comment (optional)")


class RequestChangesForm(forms.Form):
    """A request for changes: the comment saying what to change is required."""

    comment = MultilineField(max_length=review.COMMENT_MAX, strip=True, widget=forms.Textarea(attrs={"rows": 2}),
                             label="What needs to change",
                             error_messages={"required": "Say what needs to change."})


class WithdrawForm(forms.Form):
    """Withdrawing an approval: the comment saying why is required, and the page names the approval it
    showed (a stale page never withdraws an approval given after it was loaded)."""

    comment = MultilineField(max_length=review.COMMENT_MAX, strip=True, widget=forms.Textarea(attrs={"rows": 2}),
                             label="Why the approval is withdrawn",
                             error_messages={"required": "Say why the approval is withdrawn."})
    approval = PageNumberField(min_value=1, label="Approval", error_messages={
        "required": "The page did not say which approval it showed: reload it, then withdraw.",
        "invalid": "The page's approval number is damaged: reload it, then withdraw."})


class CommentForm(forms.Form):
    """A comment on a plan or a revision."""

    body = MultilineField(max_length=review.COMMENT_MAX, strip=True, widget=forms.Textarea(attrs={"rows": 3}),
                          label="Comment", error_messages={"required": "A comment cannot be empty."})
    # The plan's latest comment when the page was shown (pages.last_comment_seen): sent twice, a comment is
    # stored once (services.add_comment). Absent, every comment sent is stored.
    seen = forms.IntegerField(required=False, min_value=0, max_value=2**63 - 1, widget=forms.HiddenInput,
                              label="The comment form", error_messages={
                                  "invalid": "The page's comment form is damaged: reload the page.",
                                  "min_value": "The page's comment form is damaged: reload the page.",
                                  "max_value": "The page's comment form is damaged: reload the page."})


def comment_form(plan: Plan) -> CommentForm:
    """Return an empty comment form for a page of `plan`, holding the plan's latest comment as seen."""
    return CommentForm(initial={"seen": pages.last_comment_seen(plan)})


ACCESS_CHOICES = [("read", "Read only"), ("edit", "Read and edit")]


class ShareForm(forms.Form):
    """Share a plan with a team."""

    group = forms.ModelChoiceField(queryset=Group.objects.order_by("name"), label="Team",
                                   empty_label="Choose a team", widget=forms.Select(attrs={"class": "form-select"}))
    access = forms.ChoiceField(choices=ACCESS_CHOICES, label="Access",
                               widget=forms.Select(attrs={"class": "form-select"}))


class UnshareForm(forms.Form):
    """Stop sharing a plan with a team."""

    group = forms.ModelChoiceField(queryset=Group.objects.all())


def load_revision(request: HttpRequest, code: UUID, number: int) -> tuple[Revision, PlanAccess]:
    """Return (revision, the user's rights on its plan); 404 when the user cannot see it."""
    rights = access.load(request.user, code)
    revision = get_object_or_404(Revision.objects.select_related("created_by"), plan=rights.plan, number=number)
    revision.plan = rights.plan
    return revision, rights


# ---------------------------------------------------------------------------
# The revision page

SETTINGS_SHOWN_OPEN = 60
# The revision page's forms that hold typed text: context name -> (form class, its text field, its action).
_TEXT_FORMS: dict[str, tuple[type[forms.Form], str, str]] = {
    "approve_form": (ApproveForm, "comment", "approve"),
    "changes_form": (RequestChangesForm, "comment", "request_changes"),
    "withdraw_form": (WithdrawForm, "comment", "withdraw"),
    "comment_form": (CommentForm, "body", "comment"),
}
# Refusals saying the revision changed since its page was shown: answered 409 (Conflict), the others 400.
_CHANGED_MEANWHILE = (review.WrongState, review.Superseded, review.BundleChanged, review.NewFindings)


def revision_file_url(revision: Revision) -> Callable[[str], str]:
    """Return a function giving the address of one file tab of `revision`'s page."""
    return lambda name: reverse("revision-file", args=[revision.plan.code, revision.number, name])


def show_revision(request: HttpRequest, revision: Revision, rights: PlanAccess, *,
                  typed: tuple[str, forms.Form] | None = None, status: int = 200) -> HttpResponse:
    """Return the revision page: state and actions, findings and settings, then its files one at a time.

    `typed` is a refused form (by its context name) whose box shows the text as typed; when the page no
    longer offers its action (the revision changed meanwhile), the text is shown in a box of its own.
    """
    page = pages.revision_page(revision, user=request.user, rights=rights)
    built = page.check.bundle
    shown = None
    if built is not None:
        wanted = request.GET.get("file", "")
        shown = output.file_view(revision.plan, built, wanted if wanted in built.texts else output.default_file(built),
                                 draft=False)
    boxes: dict[str, forms.Form] = {name: form_class() for name, (form_class, _, _) in _TEXT_FORMS.items()}
    boxes["comment_form"] = comment_form(revision.plan)
    unsent = None
    if typed is not None:
        name, form = typed
        boxes[name] = form
        _, field, action = _TEXT_FORMS[name]
        if not getattr(page.actions, action):
            unsent = {"label": form.fields[field].label, "text": str(form.data.get(field, ""))}
    return render(request, "review/revision_detail.html", {
        "plan": revision.plan, "revision": revision, "page": page, "rights": rights, "can_edit": rights.can_edit,
        **boxes, "unsent": unsent,
        "tabs": output.file_tabs(built, url=revision_file_url(revision)), "shown": shown,
        "findings": output.summarise_findings(output.group_findings(list(page.check.findings), revision.data,
                                                                          revision.plan)),
        # A long list of settings starts folded, so that the files below stay within reach.
        "settings_folded": len(page.settings) > SETTINGS_SHOWN_OPEN,
    }, status=status)


def show_revisions(request: HttpRequest, rights: PlanAccess, *, typed_comment: CommentForm | None = None,
                   status: int = 200) -> HttpResponse:
    """Return the plan's revisions page; `typed_comment`, a refused comment, shows its text as typed."""
    plan = rights.plan
    review_state = state.review_state(plan)
    return render(request, "review/revision_list.html", {
        "plan": plan, "rights": rights, "can_edit": rights.can_edit, "rows": pages.revision_rows(plan),
        "draft_changed": pages.draft_changed(plan), "status": review_state.status,
        "status_label": review_state.label,
        "comments": pages.plan_comments(plan), "comment_form": typed_comment or comment_form(plan),
        "may_comment": rights.can_comment,
    }, status=status)


def _refused(request: HttpRequest, revision: Revision, rights: PlanAccess, name: str, form: forms.Form, *,
             why: str | Exception) -> HttpResponse:
    """Return the revision page again with the refused form's text as typed and why nothing was done:
    409 when the revision changed meanwhile, 400 for what was typed."""
    messages.error(request, str(why) if isinstance(why, Exception) else why)
    status = 409 if isinstance(why, _CHANGED_MEANWHILE) else 400
    # The state shown is the state now: the revision may have been decided meanwhile.
    return show_revision(request, revision, rights, typed=(name, form), status=status)


# ---------------------------------------------------------------------------
# Review actions


def _revision_page(code: UUID, number: int) -> str:
    return reverse("revision-detail", args=[code, number])


def _revisions_page(code: UUID) -> str:
    return reverse("plan-revisions", args=[code])


@login_required
@form_post(_revision_page)
def submit_revision(request: HttpRequest, code: UUID, number: int) -> HttpResponse:
    revision, _ = load_revision(request, code, number)
    try:
        review.submit_for_review(revision, by=request.user, ip=client_ip(request))
    except review.ReviewRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Revision {revision.number} is submitted for review.")
    return redirect(revision)


@login_required
@form_post(_revision_page)
def approve_revision(request: HttpRequest, code: UUID, number: int) -> HttpResponse:
    revision, rights = load_revision(request, code, number)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        access.require_reviewer(request.user, revision.plan, revision)
        return _refused(request, revision, rights, "approve_form", form, why=errors_in_words(form))
    try:
        review.approve(revision, by=request.user, comment=form.cleaned_data["comment"], ip=client_ip(request))
    except review.ReviewRefused as exc:
        return _refused(request, revision, rights, "approve_form", form, why=exc)
    messages.success(request, f"Revision {revision.number} is approved.")
    return redirect(revision)


@login_required
@form_post(_revision_page)
def request_changes(request: HttpRequest, code: UUID, number: int) -> HttpResponse:
    revision, rights = load_revision(request, code, number)
    form = RequestChangesForm(request.POST)
    if not form.is_valid():
        # Refuse only after the role checks a valid request would meet, so a
        # read-only user learns nothing from an empty form but a 403.
        access.require_reviewer(request.user, revision.plan, revision)
        return _refused(request, revision, rights, "changes_form", form, why=errors_in_words(form))
    try:
        review.request_changes(revision, by=request.user, comment=form.cleaned_data["comment"],
                               ip=client_ip(request))
    except review.ReviewRefused as exc:
        return _refused(request, revision, rights, "changes_form", form, why=exc)
    messages.success(request, f"Changes requested on revision {revision.number}.")
    return redirect(revision)


@login_required
@form_post(_revision_page)
def withdraw_approval(request: HttpRequest, code: UUID, number: int) -> HttpResponse:
    revision, rights = load_revision(request, code, number)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        access.require_reviewer(request.user, revision.plan, revision)
        return _refused(request, revision, rights, "withdraw_form", form, why=errors_in_words(form))
    try:
        review.withdraw_approval(revision, by=request.user, comment=form.cleaned_data["comment"],
                                 ip=client_ip(request), approval_id=form.cleaned_data["approval"])
    except review.ReviewRefused as exc:
        return _refused(request, revision, rights, "withdraw_form", form, why=exc)
    messages.success(request, f"The approval of revision {revision.number} is withdrawn.")
    return redirect(revision)


@login_required
@form_post(_revision_page)
def comment_on_revision(request: HttpRequest, code: UUID, number: int) -> HttpResponse:
    revision, rights = load_revision(request, code, number)
    form = CommentForm(request.POST)
    if not form.is_valid():
        access.require_commenter(request.user, revision.plan)
        return _refused(request, revision, rights, "comment_form", form, why=errors_in_words(form))
    try:
        review.add_comment(revision.plan, by=request.user, body=form.cleaned_data["body"], revision=revision,
                           ip=client_ip(request), seen=form.cleaned_data["seen"])
    except review.ReviewRefused as exc:
        return _refused(request, revision, rights, "comment_form", form, why=exc)
    return redirect(f"{revision.get_absolute_url()}#comments")


@login_required
@form_post(_revisions_page)
def comment_on_plan(request: HttpRequest, code: UUID) -> HttpResponse:
    rights = access.load(request.user, code)
    plan = rights.plan
    form = CommentForm(request.POST)
    if not form.is_valid():
        access.require_commenter(request.user, plan)
        messages.error(request, errors_in_words(form))
        return show_revisions(request, rights, typed_comment=form, status=400)
    try:
        review.add_comment(plan, by=request.user, body=form.cleaned_data["body"], ip=client_ip(request),
                           seen=form.cleaned_data["seen"])
    except review.ReviewRefused as exc:
        messages.error(request, str(exc))
        return show_revisions(request, rights, typed_comment=form, status=400)
    return redirect(reverse("plan-revisions", args=[plan.code]) + "#comments")


# ---------------------------------------------------------------------------
# Audit trail and sharing


# Rows of the audit page: every autosave and every download (a read-only member's too) adds one, so a plan's
# trail grows without end; the page shows it a page at a time, newest first.
AUDIT_PAGE_SIZE = 100


@login_required
def plan_audit(request: HttpRequest, code: UUID) -> HttpResponse:
    rights = access.load(request.user, code)
    page = Paginator(pages.audit_trail(rights.plan), AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "review/audit.html", {
        "plan": rights.plan, "rights": rights, "can_edit": rights.can_edit, "events": page.object_list, "page": page,
    })


@login_required
def plan_sharing(request: HttpRequest, code: UUID) -> HttpResponse:
    rights = access.load(request.user, code)
    plan = rights.plan
    access.require_sharer(request.user, plan)
    form = ShareForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        group = form.cleaned_data["group"]
        can_edit = form.cleaned_data["access"] == "edit"
        review.share_plan(plan, by=request.user, group=group, can_edit=can_edit, ip=client_ip(request))
        messages.success(request, f"Shared with {group.name} ({'read and edit' if can_edit else 'read only'}).")
        return redirect("plan-sharing", plan.code)
    return render(request, "review/sharing.html", {
        "plan": plan, "rights": rights, "form": form,
        "shares": plan.shares.select_related("group").order_by("group__name"),
        "seen_by_reviewers": access.seen_by_reviewers(plan),
    }, status=400 if form.errors else 200)


@login_required
@require_POST
def plan_unshare(request: HttpRequest, code: UUID) -> HttpResponse:
    plan = access.load(request.user, code).plan
    form = UnshareForm(request.POST)
    access.require_sharer(request.user, plan)
    if form.is_valid():
        group = form.cleaned_data["group"]
        review.unshare_plan(plan, by=request.user, group=group, ip=client_ip(request))
        messages.success(request, f"No longer shared with {group.name}.")
    else:
        messages.error(request, "Choose a team to stop sharing with.")
    return redirect("plan-sharing", plan.code)


# ---------------------------------------------------------------------------
# The reviewer's queue


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    """Show the revisions waiting for the user's review."""
    rows = pages.review_queue(request.user)
    return render(request, "review/queue.html", {
        "rows": [r for r in rows if r.can_review], "others": [r for r in rows if not r.can_review],
        "is_reviewer": access.can_review(request.user),
    })
