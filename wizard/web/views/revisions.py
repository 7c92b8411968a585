"""Revision pages: the list, saving a revision, one revision, the diff page and the
approved download.
"""
from __future__ import annotations

from urllib.parse import urlencode
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET

from wizard.models import Plan
from wizard.review import access, pages, state
from wizard.review import services as review
from wizard.review.access import get_editable_plan
from wizard.review.audit import client_ip
from wizard.web.views import output
from wizard.web.views.review import (
    SaveRevisionForm,
    load_revision,
    revision_file_url,
    show_revision,
    show_revisions,
)

VIEW_MODES = [("split", "Side by side"), ("unified", "Unified")]


class DiffForm(forms.Form):
    """Which two versions of a plan to compare: revision numbers or the draft."""

    old = forms.ChoiceField(label="From")
    new = forms.ChoiceField(label="To")
    view = forms.ChoiceField(choices=VIEW_MODES, required=False, label="Scripts")

    def __init__(self, *args: object, plan: Plan, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        numbers = list(plan.revisions.order_by("-number").values_list("number", flat=True))
        choices = [(pages.DRAFT, "Draft (not saved as a revision)")] + [(str(n), f"Revision {n}") for n in numbers]
        self.fields["old"].choices = choices
        self.fields["new"].choices = choices

    def clean_old(self) -> int | str:
        return _ref(self.cleaned_data["old"])

    def clean_new(self) -> int | str:
        return _ref(self.cleaned_data["new"])


def _ref(value: str) -> int | str:
    return value if value == pages.DRAFT else int(value)


@login_required
def plan_revisions(request: HttpRequest, code: UUID) -> HttpResponse:
    return show_revisions(request, access.load(request.user, code))


@login_required
def save_revision(request: HttpRequest, code: UUID) -> HttpResponse:
    plan = get_editable_plan(request.user, code)
    form = SaveRevisionForm(request.POST or None, initial={"draft_version": plan.draft_version})
    refusal = ""
    if request.method == "POST" and form.is_valid():
        try:
            revision = review.save_revision(plan, by=request.user, message=form.cleaned_data["message"],
                                            draft_version=form.cleaned_data["draft_version"], ip=client_ip(request))
        except review.DraftChanged as exc:
            # Show the draft as it is now; saving again (having looked) saves this version.
            plan.refresh_from_db()
            form = SaveRevisionForm(initial={"draft_version": plan.draft_version,
                                             "message": form.cleaned_data["message"]})
            refusal = str(exc)
        except review.ReviewRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Saved revision {revision.number}.")
            return redirect(revision)
    elif request.method == "POST" and "draft_version" in form.errors:
        # A page that lost its hidden version: show the changes as they are now, with that version and
        # the typed message, and say why (a hidden field's error would otherwise show nowhere).
        refusal = "Not saved: " + " ".join(form.errors["draft_version"])
        form = SaveRevisionForm(initial={"draft_version": plan.draft_version,
                                         "message": str(request.POST.get("message", ""))})
    return render(request, "review/revision_save.html", {
        "plan": plan, "rights": access.access_to(request.user, plan), "form": form, "check": pages.check_draft(plan),
        "refusal": refusal,
    }, status=400 if form.errors or refusal else 200)


@login_required
def revision_detail(request: HttpRequest, code: UUID, number: int) -> HttpResponse:
    """Show one revision: its state and actions, findings and settings, then its files one at a time."""
    revision, rights = load_revision(request, code, number)
    return show_revision(request, revision, rights)


@login_required
@require_GET
# Compressed (a highlighted file is mostly markup): the fragment holds no secret, no CSRF token, for a
# compression side channel to guess at, and Django pads compressed answers at random anyway.
@gzip_page
def revision_file(request: HttpRequest, code: UUID, number: int, filename: str) -> HttpResponse:
    """Answer a file tab of a revision's page (htmx); without htmx, the revision page showing it."""
    revision, _ = load_revision(request, code, number)
    if not request.htmx:
        return redirect(f"{revision.get_absolute_url()}?{urlencode({'file': filename})}#files")
    built = state.recheck(revision).bundle
    if built is None:
        return render(request, "review/_file_missing.html", {"revision": revision})
    if filename not in built.texts:
        raise Http404("No such file in this revision's bundle")
    return render(request, "wizard/_file_panel.html", {
        "shown": output.file_view(revision.plan, built, filename, draft=False),
        "tabs": output.file_tabs(built, url=revision_file_url(revision)), "oob": True,
    })


@login_required
def plan_diff(request: HttpRequest, code: UUID) -> HttpResponse:
    rights = access.load(request.user, code)
    plan = rights.plan
    data = request.GET if "old" in request.GET or "new" in request.GET else None
    if data is None:
        default = pages.default_comparison(plan)
        data = {"old": str(default[0]), "new": str(default[1])} if default else None
    form = DiffForm(data, plan=plan)
    comparison = None
    if data is not None and form.is_valid():
        comparison = pages.compare(plan, form.cleaned_data["old"], form.cleaned_data["new"])
    return render(request, "review/diff.html", {
        "plan": plan, "rights": rights, "can_edit": rights.can_edit, "form": form, "comparison": comparison,
        "view": (form.cleaned_data.get("view") if form.is_bound and form.is_valid() else "") or "split",
    }, status=400 if data is not None and form.errors else 200)


@login_required
def download_revision(request: HttpRequest, code: UUID, number: int) -> HttpResponse:
    revision, _ = load_revision(request, code, number)
    try:
        download = review.download_approved(revision, by=request.user, ip=client_ip(request))
    except review.ReviewRefused as exc:
        messages.error(request, str(exc))
        return redirect(revision)
    response = HttpResponse(download.content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    return response
