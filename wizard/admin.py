"""Django admin for every model of the app.

Revisions, reviews, state files and audit rows are records: the admin shows them and never
adds, changes or deletes them. Changes to plans, sharing and comments made here
write their audit row like the services do.
"""
from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from wizard.models import AuditEvent, Comment, Plan, PlanShare, PlanState, Review, Revision, refuse_bidi_controls
from wizard.plan import limits
from wizard.review import access, audit
from wizard.review import services as review_services
from wizard.web import drafts
from wizard.web.security import plain_page


class ReadableParameters:
    """An admin list answers a parameter Django's admin cannot read with a 400 page naming it, never a 500.

    Django hands a list filter's value (`?product=`, `?action=`, axes' `?path_info=`) to the query as it is, and
    PostgreSQL refuses a NUL character in text; an action's `_selected_action` that is no row key (`x`, NUL) made
    the admin raise while looking the rows up; and the autocomplete of a team field searched for NUL too. Only
    superusers reach these pages, but a link or a form someone else made could still send them there.
    """

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        problem = _unreadable_parameter(request, self.model)  # type: ignore[attr-defined]
        if problem:
            return plain_page(request, status=400, title="Bad request: nothing was listed or changed", message=problem)
        return super().changelist_view(request, extra_context)  # type: ignore[misc]

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> tuple[Any, bool]:
        if "\x00" in search_term:
            return queryset.none(), False   # no value holds a NUL (the list's own search box refuses it already)
        return super().get_search_results(request, queryset, search_term)  # type: ignore[misc]


def _unreadable_parameter(request: HttpRequest, model: Any) -> str:
    """Return why a list's request cannot be read (naming the parameter), or "" when it can."""
    for data in (request.GET, request.POST):
        for key, values in data.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                return (f"The parameter \u201c{key.replace(chr(0), '?')}\u201d holds a NUL character, which no "
                        f"value of this list holds. Remove it from the address and try again.")
    if request.method == "POST" and "action" in request.POST:
        for value in request.POST.getlist(ACTION_CHECKBOX_NAME):
            try:
                model._meta.pk.to_python(value)
            except ValidationError:
                return (f"The selected rows (parameter \u201c{ACTION_CHECKBOX_NAME}\u201d) name a row that is "
                        f"not one of this list ({value!r}): nothing was changed. Reload the list and try again.")
    return ""


class SuperusersOnly(ReadableParameters):
    """Every admin page of plans and their records (and their inlines), and of the people and teams that decide
    who may read, edit or approve them, is for superusers only (`access.may_administer_plans`): the admin does
    not apply the product's sharing or four-eyes rules, so a staff account holding Django's model permissions
    would see and change plans not shared with him, or put himself in a team, give his team the reviewer
    permission or make himself superuser. Such an account gets 403 on these pages and does not see them listed."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return access.may_administer_plans(request.user) and super().has_module_permission(request)  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return access.may_administer_plans(request.user) and super().has_view_permission(request, obj)  # type: ignore[misc]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return access.may_administer_plans(request.user) and super().has_add_permission(request, *args)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return access.may_administer_plans(request.user) and super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return access.may_administer_plans(request.user) and super().has_delete_permission(request, obj)  # type: ignore[misc]


class ReadOnlyAdmin(SuperusersOnly, admin.ModelAdmin):
    """An admin that lists and shows rows but never adds, changes or deletes them."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PlanShareInline(SuperusersOnly, admin.TabularInline):
    model = PlanShare
    extra = 0
    autocomplete_fields = ("group",)


class RevisionInline(SuperusersOnly, admin.TabularInline):
    model = Revision
    extra = 0
    fields = ("number", "message", "created_by", "created", "bundle_sha256", "tool_version")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _refuse_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """`object_pairs_hook`: an object whose key is given twice is refused, as the plan reader refuses it in a file
    (json.loads kept the last value silently, and what was typed first was gone)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key[:40]!a} appears twice in one object")
        out[key] = value
    return out


class _DraftDecoder(json.JSONDecoder):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(object_pairs_hook=_refuse_repeated_keys, **kwargs)


class DraftField(forms.JSONField):
    """The draft as JSON text: a plan document is a JSON object, and text nested too deeply to read is refused
    in words (json.loads raised RecursionError, a 500)."""

    def to_python(self, value: Any) -> Any:
        try:
            doc = super().to_python(value)
        except RecursionError:
            raise forms.ValidationError("The draft is nested too deeply to read: nothing was saved.",
                                        code="too_deep") from None
        except ValueError as exc:
            # Django turns only a JSON syntax error into a form error: an integer of more than 4,300 digits
            # (Python's conversion limit) raised ValueError, a 500.
            raise forms.ValidationError(f"The draft cannot be read ({exc}): nothing was saved.",
                                        code="unreadable") from None
        if not isinstance(doc, dict):
            # Every page reads the draft as a plan document, which is a JSON object ({...}).
            raise forms.ValidationError("The draft must be a JSON object ({...}), as a plan file is: nothing was "
                                        "saved.", code="not_an_object")
        # Every page of the plan (the plan list too) reads the draft: deeper than Python can walk, NaN or
        # Infinity (which PostgreSQL cannot store), a key that cannot be written: each made them answer 500.
        problems = limits.check_document(doc)
        if problems:
            raise forms.ValidationError("The draft goes beyond the limits every plan keeps to, so nothing was saved: "
                                        + "; ".join(f"{f.field}: {f.message}" for f in problems), code="limits")
        if not _writable(doc):
            # A lone surrogate ("\ud800", which JSON allows) in a value: no page could write the draft out as
            # UTF-8 (the Save revision page and this form answered 500), and PostgreSQL cannot store it.
            raise forms.ValidationError("The draft holds a lone surrogate (an escape \\ud800 to \\udfff not part of "
                                        "a pair), which cannot be written as UTF-8: nothing was saved.",
                                        code="surrogate")
        # As every draft save does: PostgreSQL stores no NUL character (it answered 500), U+FFFD stands in.
        return drafts.storable(doc)

    def bound_data(self, data: Any, initial: Any) -> Any:
        # The form shown again after a refusal re-reads the posted text: too deep to read, a number too long to
        # read, or a lone surrogate (which the page could not be written with), it is shown as sent.
        try:
            value = super().bound_data(data, initial)
        except (RecursionError, ValueError):
            return forms.fields.InvalidJSONInput(data)
        return value if _writable(value) else forms.fields.InvalidJSONInput(data)


def _writable(value: Any) -> bool:
    """Return True when `value` (parsed JSON) can be written out as UTF-8 (it holds no lone surrogate)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError, ValueError):
        return False
    return True


class PlanAdminForm(forms.ModelForm):
    """The plan form, carrying the draft version it showed: a change from a page opened before
    someone saved the draft is refused, never saved over their draft (the wizard's rule)."""

    draft = DraftField(decoder=_DraftDecoder)
    seen_draft_version = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)

    class Meta:
        model = Plan
        fields = "__all__"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["seen_draft_version"].initial = self.instance.draft_version

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.instance.pk is None:
            return data
        # The admin's change view runs in one transaction: the row stays locked until the save.
        stored = Plan.objects.select_for_update().filter(pk=self.instance.pk) \
            .values_list("draft_version", flat=True).first()
        seen = data.get("seen_draft_version")
        if seen is None or seen != stored:
            raise forms.ValidationError(
                f"The draft changed since this page was opened (it is now at version {stored}): nothing was "
                f"saved. Open the plan again to see its draft as it is now.", code="stale_draft")
        return data


@admin.register(Plan)
class PlanAdmin(SuperusersOnly, admin.ModelAdmin):
    form = PlanAdminForm
    list_display = ("name", "product", "owner", "updated", "code")
    list_filter = ("product",)
    search_fields = ("name", "code", "owner__username")
    readonly_fields = ("code", "draft_version", "created", "updated")
    raw_id_fields = ("owner",)
    inlines = (PlanShareInline, RevisionInline)

    def save_model(self, request: HttpRequest, obj: Plan, form: Any, change: bool) -> None:
        if change and "draft" in form.changed_data:
            # A draft edited here is a new draft version, like a save from the wizard.
            obj.draft_version += 1
        super().save_model(request, obj, form, change)
        action = AuditEvent.Action.DRAFT_SAVED if change else AuditEvent.Action.CREATED
        audit.record(action, plan=obj, actor=request.user, ip=audit.client_ip(request), via="admin",
                     fields=sorted(form.changed_data), version=obj.draft_version)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_formset(request, form, formset, change)
            if formset.model is PlanShare and formset.has_changed():
                _record_shares(request, form.instance, formset)

    def delete_model(self, request: HttpRequest, obj: Plan) -> None:
        with transaction.atomic():
            _record_plan_deleted(request, obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        with transaction.atomic():
            for plan in queryset:
                _record_plan_deleted(request, plan)
            super().delete_queryset(request, queryset)


def _record_plan_deleted(request: HttpRequest, plan: Plan) -> None:
    """Write the row saying who deleted `plan` and when. The row outlives the plan (its link to the plan is
    emptied, as on the plan's earlier rows), so it names the plan and the draft that went with it. (A plan
    with revisions, comments or state files cannot be deleted here: those records are read-only.)"""
    audit.record(AuditEvent.Action.DELETED, plan=plan, actor=request.user, ip=audit.client_ip(request),
                 via="admin", code=str(plan.code), name=plan.name, owner=plan.owner.get_username(),
                 draft_version=plan.draft_version)


def _record_shares(request: HttpRequest, plan: Plan, formset: Any) -> None:
    ip = audit.client_ip(request)
    for share_form in formset.initial_forms:
        if share_form in formset.deleted_forms or "group" not in share_form.changed_data:
            continue
        # A row given another group takes the share away from the group it had: said as such.
        before = share_form.initial.get("group")
        old = Group.objects.filter(pk=before).values_list("name", flat=True).first()
        if old is not None:
            audit.record(AuditEvent.Action.SHARED, plan=plan, actor=request.user, ip=ip, via="admin",
                         group=old, access="none")
    for share in formset.new_objects + [obj for obj, _ in formset.changed_objects]:
        audit.record(AuditEvent.Action.SHARED, plan=plan, actor=request.user, ip=ip, via="admin",
                     group=share.group.name, access="edit" if share.can_edit else "read")
    for share in formset.deleted_objects:
        audit.record(AuditEvent.Action.SHARED, plan=plan, actor=request.user, ip=ip, via="admin",
                     group=share.group.name, access="none")


@admin.register(PlanShare)
class PlanShareAdmin(SuperusersOnly, admin.ModelAdmin):
    list_display = ("plan", "group", "can_edit")
    list_filter = ("can_edit", "group")
    search_fields = ("plan__name", "group__name")
    autocomplete_fields = ("group",)
    raw_id_fields = ("plan",)

    def get_readonly_fields(self, request: HttpRequest, obj: PlanShare | None = None) -> tuple[str, ...]:
        # A share stays on its plan and group: moving it would take access away from one plan or group
        # without a record there. Delete it and add another instead: each is audited on its own plan.
        return ("plan", "group") if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: PlanShare, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit.record(AuditEvent.Action.SHARED, plan=obj.plan, actor=request.user, ip=audit.client_ip(request),
                     via="admin", group=obj.group.name, access="edit" if obj.can_edit else "read")

    def delete_model(self, request: HttpRequest, obj: PlanShare) -> None:
        plan, group = obj.plan, obj.group.name
        super().delete_model(request, obj)
        audit.record(AuditEvent.Action.SHARED, plan=plan, actor=request.user, ip=audit.client_ip(request),
                     via="admin", group=group, access="none")

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for share in list(queryset.select_related("plan", "group")):
            self.delete_model(request, share)


class ReviewInline(SuperusersOnly, admin.TabularInline):
    model = Review
    extra = 0
    fields = ("decision", "actor", "comment", "bundle_sha256", "created")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Revision)
class RevisionAdmin(ReadOnlyAdmin):
    list_display = ("plan", "number", "message", "created_by", "created", "tool_version")
    list_filter = ("tool_version",)
    search_fields = ("plan__name", "plan__code", "message", "bundle_sha256")
    list_select_related = ("plan", "created_by")
    inlines = (ReviewInline,)


@admin.register(PlanState)
class PlanStateAdmin(ReadOnlyAdmin):
    """State files are records of an estate at one moment: shown, never edited."""

    list_display = ("plan", "collected_at", "collected_on", "product", "has_management_shell", "has_adfs",
                    "uploaded_by", "uploaded")
    list_filter = ("product", "has_management_shell", "has_adfs")
    search_fields = ("plan__name", "plan__code", "collected_on", "sha256")
    list_select_related = ("plan", "uploaded_by")


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ("revision", "decision", "actor", "created")
    list_filter = ("decision",)
    search_fields = ("revision__plan__name", "actor__username", "comment")
    list_select_related = ("revision__plan", "actor")


class CommentAdminForm(forms.ModelForm):
    """A comment added here: on a revision only of its own plan."""

    class Meta:
        model = Comment
        fields = ("plan", "revision", "body")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        plan, revision = data.get("plan"), data.get("revision")
        if plan is not None and revision is not None and revision.plan_id != plan.pk:
            self.add_error("revision", forms.ValidationError(
                f"This revision belongs to another plan ({revision.plan}): choose a revision of {plan}.",
                code="revision_of_another_plan"))
        return data


@admin.register(Comment)
class CommentAdmin(SuperusersOnly, admin.ModelAdmin):
    form = CommentAdminForm
    list_display = ("plan", "revision", "author", "created")
    search_fields = ("plan__name", "author__username", "body")
    raw_id_fields = ("plan", "revision")
    list_select_related = ("plan", "revision", "author")

    def get_readonly_fields(self, request: HttpRequest, obj: Comment | None = None) -> tuple[str, ...]:
        # Moderation changes what a comment says, never where it sits or who wrote it; a comment added
        # here is the administrator's own.
        return ("plan", "revision", "author") if obj is not None else ("author",)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A comment is part of the review record: moderation edits it, and the edit is audited.
        return False

    def save_model(self, request: HttpRequest, obj: Comment, form: Any, change: bool) -> None:
        if not change:
            obj.author = request.user
        super().save_model(request, obj, form, change)
        # Changing a comment here is moderation (for example removing a pasted secret): it is recorded.
        audit.record(AuditEvent.Action.COMMENTED, plan=obj.plan, actor=request.user, ip=audit.client_ip(request),
                     via="admin", comment=obj.pk, edited=change,
                     revision=obj.revision.number if obj.revision else None)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created", "action", "actor", "plan", "ip_address")
    list_filter = ("action",)
    search_fields = ("plan__name", "actor__username", "ip_address")
    list_select_related = ("plan", "actor")
    date_hierarchy = "created"


class NamesRefuseBidiControls:
    """A form whose fields named in `name_fields` refuse a text-direction control (`models.refuse_bidi_controls`),
    the refusal under the field's name: names of people and teams are shown on the review pages and in audit
    rows, where such a character would show them in another order than they were typed. Right-to-left letters
    are names like any other."""

    name_fields: tuple[str, ...] = ()
    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.name_fields:
            if name in self.fields:  # the admin builds each form with the fields its page shows
                self.fields[name].validators.append(refuse_bidi_controls)


class TeamAdminForm(NamesRefuseBidiControls, forms.ModelForm):
    name_fields = ("name",)

    class Meta:
        model = Group
        fields = ("name", "permissions")


class TeamAdmin(SuperusersOnly, GroupAdmin):
    """Django's group admin, for superusers only (`SuperusersOnly`), except that deleting a team (which ends
    every share it has) is written on the audit trail of each plan it was shared with, like any other change of
    sharing, and so is giving a team the reviewer permission or taking it away
    (`services.record_team_review_permission`), and that its name refuses a text-direction control
    (`NamesRefuseBidiControls`)."""

    form = TeamAdminForm

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        group = form.instance
        before = change and access.team_reviews(group)
        super().save_related(request, form, formsets, change)
        after = access.team_reviews(group)
        if after != before:
            review_services.record_team_review_permission(group, granted=after, by=request.user,
                                                          ip=audit.client_ip(request))

    def delete_model(self, request: HttpRequest, obj: Group) -> None:
        with transaction.atomic():
            _record_team_removed(request, obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        with transaction.atomic():
            for group in queryset:
                _record_team_removed(request, group)
            super().delete_queryset(request, queryset)


def _record_team_removed(request: HttpRequest, group: Group) -> None:
    ip = audit.client_ip(request)
    for share in PlanShare.objects.filter(group=group).select_related("plan"):
        audit.record(AuditEvent.Action.SHARED, plan=share.plan, actor=request.user, ip=ip, via="admin",
                     group=group.name, access="none", team_deleted=True)


User = get_user_model()


# A person's names as the review pages and audit rows show them (who saved, who approved, who joined a team).
PERSON_NAMES = ("username", "first_name", "last_name")


class AccountChangeForm(NamesRefuseBidiControls, UserChangeForm):
    name_fields = PERSON_NAMES


class AccountCreationForm(NamesRefuseBidiControls, AdminUserCreationForm):
    name_fields = PERSON_NAMES


class AccountAdmin(SuperusersOnly, UserAdmin):
    """Django's user admin, for superusers only (`SuperusersOnly`), except that adding a person to a team or
    taking them out of one, which changes who may read, edit or approve the plans the team reaches, is written
    on each such plan's audit trail (`services.record_team_membership`), and that names refuse a text-direction
    control (`NamesRefuseBidiControls`)."""

    form = AccountChangeForm
    add_form = AccountCreationForm

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        user = form.instance
        before = set(user.groups.all()) if change else set()
        super().save_related(request, form, formsets, change)
        after = set(user.groups.all())
        if before != after:
            review_services.record_team_membership(user, joined=after - before, left=before - after, by=request.user,
                                                   ip=audit.client_ip(request))

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        # A person deleted leaves every team they were in: said on the plans those teams reach.
        with transaction.atomic():
            _record_account_removed(request, obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        with transaction.atomic():
            for user in queryset:
                _record_account_removed(request, user)
            super().delete_queryset(request, queryset)


def _record_account_removed(request: HttpRequest, user: Any) -> None:
    teams = set(user.groups.all())
    if teams:
        review_services.record_team_membership(user, joined=(), left=teams, by=request.user,
                                               ip=audit.client_ip(request))


admin.site.unregister(Group)
admin.site.register(Group, TeamAdmin)
admin.site.unregister(User)
admin.site.register(User, AccountAdmin)




def _superusers_only(app_label: str) -> None:
    """Register every admin of `app_label` again, for superusers only (`SuperusersOnly`), as it was otherwise."""
    for model, model_admin in [(m, a) for m, a in admin.site._registry.items() if m._meta.app_label == app_label]:
        admin.site.unregister(model)
        admin.site.register(model, type(type(model_admin).__name__, (SuperusersOnly, type(model_admin)), {}))


# django-axes' sign-in attempts and logs: deleting an attempt lifts a lockout, the guard against guessing
# passwords, so a staff account holding axes' permissions must not reach them either.
_superusers_only("axes")
