"""The wizard's forms: one set of forms (and formsets for lists) per step, plus the
plan list, new plan, import and preset forms.

Forms check the shape of each value and return it typed and normalised (an FQDN
lowercased and IDNA-encoded, a number as an int); the cross-field rules live in
`wizard.plans` and `wizard.findings`, whose findings `StepForms.attach` shows on
the fields. Labels and help text come from `wizard.explain`.
"""
from __future__ import annotations

import re
from typing import Any

from django import forms
from django.forms.formsets import BaseFormSet, formset_factory

from wizard.models import refuse_bidi_controls
from wizard.plan import validators as v
from wizard.plan.explain import FIELDS, Explanation, label_for
from wizard.plan.finding import Finding
from wizard.plan.limits import LIST_LIMITS
from wizard.plan.model import (
    ACCEPTED_RISK_REASON_MAX,
    ADFS_VERSIONS,
    AUTH_MODES,
    CERT_HOURS_LIMITS,
    KEY_SIZES,
    MFA_MODES,
    MOBILITY_SETTINGS,
    MODERN_AUTH_SCENARIOS,
    NAME_MAX,
    POOL_ROLES,
    PRODUCTS,
)
from wizard.plan.reader import PLAN_MAX_BYTES, normalise_policy_identity
from wizard.plan.state_reader import STATE_MAX_BYTES
from wizard.web.presets import PRESETS
from wizard.web.steps import Step, Values, Window, decode_window, initial, paging, split_names

IMPORT_MAX_BYTES = PLAN_MAX_BYTES
# The highest draft version a page can carry: what a PositiveIntegerField holds on every database
# Django supports (a larger number reached the database in a query and failed there, a 500).
DRAFT_VERSION_MAX = 2**31 - 1
NUMERIC = {"inputmode": "numeric", "autocomplete": "off"}
LEAVE = ("", "Leave as is")
# Mobility settings whose `true` restricts the user read better as require / don't require.
_REQUIRE_SETTINGS = {"require_wifi_for_ip_audio", "require_wifi_for_ip_video", "require_wifi_for_sharing"}


def explained(key: str, **kwargs: Any) -> dict[str, Any]:
    """Return the label and help text keyword arguments for the field at plan path `key`."""
    e: Explanation = FIELDS[key]
    return {"label": e.label, "help_text": e.help_html(), **kwargs}


class MultilineField(forms.CharField):
    """Text typed in a textarea, with its line breaks as the browser counted them (one character each).

    A browser sends each line break of a textarea as CR LF, two characters, while its `maxlength`
    counts one: a comment within the box's limit would arrive over the same limit here and be
    refused, and the text typed lost. CR LF and a lone CR become LF before the length is checked.
    """

    default_validators = [refuse_bidi_controls]  # a comment shown in another order than it was typed

    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        return text.replace("\r\n", "\n").replace("\r", "\n") if isinstance(text, str) else text


class FqdnField(forms.CharField):
    """A host name, returned normalised (lowercase, IDNA A-label, no trailing dot)."""

    def __init__(self, *, scoped: str | None = None, **kwargs: Any) -> None:
        self.scoped = scoped
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 260)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str | None:
        text = super().clean(value)
        if not text:
            return None
        if self.scoped:
            text, _ = v.strip_scope_prefix(text, self.scoped)
        try:
            return v.normalise_fqdn(text)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid_fqdn") from None


class NameField(forms.CharField):
    """A name that ends up as a PowerShell value (site, relying party): no control characters."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 128)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str | None:
        text = super().clean(value)
        if not text:
            return None
        try:
            return v.clean_name(text)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid_text") from None


def hours_field(which: str) -> forms.IntegerField:
    """Return an optional client certificate lifetime field, in hours, within the cmdlet's range."""
    lo, hi = CERT_HOURS_LIMITS[which]
    # A text input, not type=number: the browser would blank out a mistyped value instead of showing it.
    return forms.IntegerField(required=False, min_value=lo, max_value=hi, widget=forms.TextInput(attrs=NUMERIC),
                              **explained(f"pools[].auth.client_certificate_hours.{which}"))


class WizardForm(forms.Form):
    """A step form: no `required` attributes, so a half-filled page can always be saved, and no
    `maxlength` attributes: a browser cuts a longer paste to the limit without a word, while the
    server keeps what was typed and says that it is too long."""

    use_required_attribute = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs.pop("maxlength", None)
            if isinstance(field, forms.ChoiceField) and isinstance(field.widget, forms.Select):
                self._offer_kept_value(name, field)

    def _offer_kept_value(self, name: str, field: forms.ChoiceField) -> None:
        """Offer the value the draft holds (or the page posted) when it is not one of the choices.

        A select cannot show a value it does not offer: the browser would show, and post back, its
        first option, so saving the page unchanged would replace the stored value without a word.
        The value is shown as an extra option (its error says why it is wrong) and, posted back,
        is stored as it was (`form_values`: the draft's 8080 stays the number 8080).
        """
        kept: dict[str, Any] = {}
        posted = self.data.get(self.add_prefix(name)) if self.is_bound else None
        for value in (self.initial.get(name), posted):
            if value is not None and value != "" and not isinstance(value, (list, dict)) \
                    and not field.valid_value(str(value)):
                kept.setdefault(str(value), value)
        if kept:
            field.widget.choices = [*field.choices, *((key, f"{key} (not one of the choices)") for key in kept)]
            field.kept = kept


class RowForm(WizardForm):
    """A row of a list: `index` is the position of the document item it was loaded from."""

    index = forms.IntegerField(required=False, widget=forms.HiddenInput)


# ---------------------------------------------------------------------------
# Environment


class BasicsForm(WizardForm):
    """The plan name, product and published names."""

    name = forms.CharField(max_length=NAME_MAX, **explained("name"))
    product = forms.ChoiceField(choices=[("", "Choose the product"), *PRODUCTS.items()], **explained("product"))
    autodiscover_port = forms.TypedChoiceField(
        coerce=int, choices=[(443, "443 (HTTPS)"), (80, "80 (HTTP)")], **explained("autodiscover_port"))
    meet = forms.CharField(required=False, max_length=2000, **explained("simple_urls.meet"))
    dialin = FqdnField(**explained("simple_urls.dialin"))
    admin = FqdnField(**explained("simple_urls.admin"))
    office_web_apps_fqdn = FqdnField(**explained("office_web_apps_fqdn"))

    def clean_name(self) -> str:
        try:
            return v.clean_text(self.cleaned_data["name"], max_length=NAME_MAX)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid_text") from None

    def clean_meet(self) -> list[str]:
        names = []
        for raw in split_names(self.cleaned_data["meet"]):
            try:
                names.append(v.normalise_fqdn(raw))
            except ValueError as exc:
                raise forms.ValidationError(f"{raw}: {exc}", code="invalid_fqdn") from None
        return names


class SipDomainForm(RowForm):
    """One SIP domain."""

    domain = FqdnField(required=True, **explained("sip_domains[]"))


class PoolForm(RowForm):
    """A Front End or Director pool and its web services names."""

    fqdn = FqdnField(required=True, scoped="pool", **explained("pools[].fqdn"))
    role = forms.ChoiceField(choices=list(POOL_ROLES.items()), initial="frontend", **explained("pools[].role"))
    site = NameField(**explained("pools[].site"))
    internal_web_fqdn = FqdnField(**explained("pools[].internal_web_fqdn"))
    external_web_fqdn = FqdnField(**explained("pools[].external_web_fqdn"))


class EdgePoolForm(RowForm):
    """An Edge pool and its external names."""

    fqdn = FqdnField(required=True, scoped="edge", **explained("edge_pools[].fqdn"))
    access_fqdn = FqdnField(**explained("edge_pools[].access_fqdn"))
    webconf_fqdn = FqdnField(**explained("edge_pools[].webconf_fqdn"))
    av_fqdn = FqdnField(**explained("edge_pools[].av_fqdn"))


# ---------------------------------------------------------------------------
# Authentication


class PoolAuthForm(RowForm):
    """How one pool authenticates external users (`pool` names the pool the row edits)."""

    pool = forms.CharField(required=False, widget=forms.HiddenInput)
    external = forms.ChoiceField(choices=[("", "Leave unchanged"), *AUTH_MODES.items()], required=False,
                                 **explained("pools[].auth.external"))
    certificate_auth = forms.BooleanField(required=False, initial=True, **explained("pools[].auth.certificate_auth"))
    hours_default = hours_field("default")
    hours_min = hours_field("min")
    hours_max = hours_field("max")
    block_ntlm_at_registrar = forms.BooleanField(required=False,
                                                 **explained("pools[].auth.block_ntlm_at_registrar"))
    block_pin_auth = forms.BooleanField(required=False, **explained("pools[].auth.block_pin_auth"))


class EdgeAuthForm(RowForm):
    """Whether one Edge pool still accepts NTLM and Kerberos from remote clients."""

    edge = forms.CharField(required=False, widget=forms.HiddenInput)
    block_ntlm = forms.BooleanField(required=False, **explained("edge_pools[].block_ntlm"))


# ---------------------------------------------------------------------------
# AD FS


class AdfsForm(WizardForm):
    """The AD FS farm used by passive pools."""

    federation_service_name = FqdnField(**explained("adfs.federation_service_name"))
    version = forms.ChoiceField(choices=[("", "Choose the AD FS version"), *ADFS_VERSIONS.items()], required=False,
                                **explained("adfs.version"))
    mfa = forms.ChoiceField(choices=list(MFA_MODES.items()), initial="none", **explained("adfs.mfa"))
    published_on_reverse_proxy = forms.BooleanField(required=False, **explained("adfs.published_on_reverse_proxy"))


class ModernAuthForm(WizardForm):
    """Modern Authentication (ADAL/OAuth) through the AD FS farm: whether, and how."""

    enabled = forms.BooleanField(required=False, **explained("modern_auth"))
    oauth_server_identity = FqdnField(**explained("modern_auth.oauth_server_identity"))
    # Three answers: the plan format leaves the server's setting alone when the plan does not set it.
    accept_sid_claims = forms.ChoiceField(
        choices=[("", "Leave the OAuth server's setting as it is (a new server: off)"),
                 ("true", "On: a resource forest"), ("false", "Off")],
        required=False, **explained("modern_auth.accept_sid_claims"))
    scenario = forms.ChoiceField(
        choices=[("", "Leave the scenario in effect (Set-CsAuthConfig is not run)"),
                 *((value, f"{label} ({value})") for value, label in MODERN_AUTH_SCENARIOS.items())],
        required=False, **explained("modern_auth.scenario"))
    office2013_clients = forms.BooleanField(required=False, **explained("modern_auth.office2013_clients"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["oauth_server_identity"].widget.attrs["placeholder"] = "the federation service name"


class RelyingPartyForm(RowForm):
    """The relying party trust names of one passive pool."""

    pool = forms.CharField(required=False, widget=forms.HiddenInput)
    internal = NameField(**explained("pools[].relying_parties.internal"))
    external = NameField(**explained("pools[].relying_parties.external"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Show the name the tool derives when the field is left empty.
        host = str(self["pool"].value() or "").split(".")[0]
        if host:
            self.fields["internal"].widget.attrs["placeholder"] = f"Lync-Int-{host}"
            self.fields["external"].widget.attrs["placeholder"] = f"Lync-Ext-{host}"


# ---------------------------------------------------------------------------
# Mobility


def _tri_state(key: str) -> forms.ChoiceField:
    if key in _REQUIRE_SETTINGS:
        choices = [LEAVE, ("true", "Require"), ("false", "Don't require")]
    else:
        choices = [LEAVE, ("true", "Allow"), ("false", "Block")]
    return forms.ChoiceField(choices=choices, required=False, **explained(f"mobility_policies[].{key}"))


class MobilityPolicyForm(RowForm):
    """A mobility policy: its identity and a leave / allow / block choice per setting."""

    identity = forms.CharField(max_length=140, **explained("mobility_policies[].identity"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key in MOBILITY_SETTINGS:
            self.fields[key] = _tri_state(key)
            self._offer_kept_value(key, self.fields[key])

    def clean_identity(self) -> str:
        try:
            return normalise_policy_identity(self.cleaned_data["identity"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid_identity") from None


# ---------------------------------------------------------------------------
# Certificates


class CertificatesForm(WizardForm):
    """Certificate request settings."""

    key_size = forms.TypedChoiceField(coerce=int, empty_value=None, required=False,
                                      choices=[("", "Leave the default (2048)"),
                                               *((k, f"{k} bits") for k in KEY_SIZES)],
                                      **explained("certificates.key_size"))
    ca = forms.CharField(required=False, max_length=300, **explained("certificates.ca"),
                         widget=forms.TextInput(attrs={"placeholder": "ca01.contoso.com\\Contoso Issuing CA"}))

    def clean_ca(self) -> str | None:
        text = self.cleaned_data["ca"]
        if not text:
            return None
        try:
            return v.clean_ca(text)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid_ca") from None


# ---------------------------------------------------------------------------
# Formsets and the forms of a step


class RowFormSet(BaseFormSet):
    """A formset of list rows; `item` names one row ("pool") for labels."""

    item = "row"

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = f"Remove this {self.item}"


def _rows(form: type[forms.Form], item: str, *, editable: bool, limit: int) -> type[BaseFormSet]:
    # A row more than the plan may hold is refused by the plan reader with its own message; the
    # formset only stops a page from posting more rows than that.
    formset = formset_factory(form, formset=RowFormSet, extra=0, can_delete=editable, max_num=limit,
                              absolute_max=limit, validate_max=True)
    formset.item = item
    return formset


SipDomainFormSet = _rows(SipDomainForm, "SIP domain", editable=True, limit=LIST_LIMITS["sip_domains"])
PoolFormSet = _rows(PoolForm, "pool", editable=True, limit=LIST_LIMITS["pools"])
EdgePoolFormSet = _rows(EdgePoolForm, "Edge pool", editable=True, limit=LIST_LIMITS["edge_pools"])
PoolAuthFormSet = _rows(PoolAuthForm, "pool", editable=False, limit=LIST_LIMITS["pools"])
EdgeAuthFormSet = _rows(EdgeAuthForm, "Edge pool", editable=False, limit=LIST_LIMITS["edge_pools"])
RelyingPartyFormSet = _rows(RelyingPartyForm, "pool", editable=False, limit=LIST_LIMITS["pools"])
MobilityPolicyFormSet = _rows(MobilityPolicyForm, "policy", editable=True, limit=LIST_LIMITS["mobility_policies"])

# step slug -> {section name: form or formset class}, in page order.
SECTIONS: dict[str, dict[str, type]] = {
    "environment": {"basics": BasicsForm, "sip_domains": SipDomainFormSet, "pools": PoolFormSet,
                    "edge_pools": EdgePoolFormSet},
    "authentication": {"pools": PoolAuthFormSet, "edge_pools": EdgeAuthFormSet},
    "adfs": {"adfs": AdfsForm, "modern_auth": ModernAuthForm, "relying_parties": RelyingPartyFormSet},
    "mobility": {"policies": MobilityPolicyFormSet},
    "certificates": {"certificates": CertificatesForm},
}
# The list sections an admin adds rows to (the others have one row per pool of the plan).
ADDABLE = {"sip_domains", "pools", "edge_pools", "policies"}


def form_values(form: forms.Form) -> dict[str, Any]:
    """Return each field's cleaned value, or the raw submitted value when it did not clean.

    Two raw values are stored as the draft needs them to say what is wrong: a whole number out of
    its field's range as the number (the reader then gives the range, not "must be a whole
    number"), and a choice the draft held that is not offered as the draft held it.
    """
    form.is_valid()
    out = {}
    for name, field in form.fields.items():
        if name in form.cleaned_data:
            out[name] = form.cleaned_data[name]
            continue
        raw = field.widget.value_from_datadict(form.data, form.files, form.add_prefix(name))
        if isinstance(raw, str):
            raw = getattr(field, "kept", {}).get(raw, raw)
        if isinstance(raw, str) and isinstance(field, forms.IntegerField) and _WHOLE_NUMBER_RE.fullmatch(raw.strip()):
            raw = int(raw.strip())
        out[name] = raw
    return out


# A whole number a field refused (out of its range), kept as a number; longer ones stay text.
_WHOLE_NUMBER_RE = re.compile(r"-?[0-9]{1,12}")


def _attach(form: forms.Form, field: str | None, message: str) -> None:
    """Add `message` to `field` (or to the form) unless the field already says something."""
    errors = form.errors
    if field is not None and errors.get(field):
        return
    if not hasattr(form, "cleaned_data"):
        form.cleaned_data = {}  # an unbound form has none, and add_error expects it
    form.add_error(field, message[:1].upper() + message[1:])


def _row_index(form: forms.Form) -> int | None:
    value = form.initial.get("index")
    if value is None and form.is_bound:
        value = form_values(form).get("index")
    return value if isinstance(value, int) else None


class StepForms:
    """The forms of one step, unbound (showing a draft) or bound (a submitted page)."""

    def __init__(self, step: Step, doc: Any, data: Any = None, *, add: str = "", window: Window | None = None) -> None:
        self.step = step
        self.data = data
        self.window = window
        self.doc = doc
        self.sections: dict[str, Any] = {}
        self.section_errors: dict[str, list[str]] = {}
        start = initial(step, doc, window)
        for name, cls in SECTIONS[step.slug].items():
            if issubclass(cls, BaseFormSet):
                # A submitted list is read from what was posted alone: the draft may have changed
                # since the page was loaded (an autosave), and its rows must not pose as the
                # posted rows' starting values, or a new row would look untouched.
                formset = cls(data=data, initial=None if data is not None else start[name], prefix=name)
                if data is None and name == add and name in ADDABLE:
                    formset.extra = 1
                # Every row has the same fields: their help is shown once, on the page's first row
                # (a page of ten mobility policies would otherwise repeat 110 paragraphs).
                for form in formset.forms[1:]:
                    for field in form.fields.values():
                        field.help_text = ""
                self.sections[name] = formset
            else:
                self.sections[name] = cls(data=data, initial=start[name], prefix=name)
            self.section_errors[name] = []

    def __getitem__(self, name: str) -> Any:
        return self.sections[name]

    def is_valid(self) -> bool:
        """Return True when every form of the step cleaned."""
        return all(s.is_valid() for s in self.sections.values())

    def damaged(self) -> list[str]:
        """Return why the posted lists cannot be trusted (empty when they can).

        A list's management form must count its rows honestly: no negative count, no more
        rows than the plan may hold, no more loaded rows than rows, and every counted row
        present in the post. A tampered `TOTAL_FORMS=-1` would otherwise save an empty list
        (removing every pool), and a huge one would add empty rows.
        """
        problems = []
        data = self.data
        for name, section in self.sections.items():
            if not isinstance(section, BaseFormSet) or data is None:
                continue
            title = f"the list of {section.item}s"
            if not section.management_form.is_valid():
                # Its rows were sent without a row count: they would be left out, and the rest
                # of the page answered "Saved" with the typed rows silently dropped.
                if any(key.startswith(f"{name}-") for key in data):
                    problems.append(f"{title} was sent without a valid count of its rows")
                continue
            total = section.management_form.cleaned_data["TOTAL_FORMS"]
            loaded = section.management_form.cleaned_data["INITIAL_FORMS"]
            if total < 0 or loaded < 0 or loaded > total:
                problems.append(f"{title} says it has {total} rows, {loaded} of them loaded")
            elif total > section.absolute_max:
                problems.append(f"{title} has {total} rows; a plan holds at most {section.absolute_max}")
            else:
                posted = {key.split("-", 2)[1] for key in data if key.startswith(f"{name}-")
                          and key.count("-") >= 2}
                missing = [i for i in range(total) if str(i) not in posted]
                if missing:
                    problems.append(f"{title} says it has {total} rows, but row {missing[0] + 1} was not sent")
                elif self.window is not None and name in self.window:
                    problems += self._outside_window(name, section, title, loaded)
        return problems

    def _elsewhere(self, target: Any, finding: Finding) -> str:
        """Return the message of an error about a row this page does not show, saying where the row is."""
        message = finding.message[:1].upper() + finding.message[1:]
        spec = paging(self.step).get(target.section)
        if spec is None or target.index is None or self.window is None:
            return message
        rows = initial(self.step, self.doc)[target.section]
        position = next((i for i, row in enumerate(rows) if row.get("index") == target.index), None)
        if position is None:
            return message
        return f"{label_for(finding.field, self.doc)} (page {position // spec.size + 1}): {message}"

    def _outside_window(self, name: str, section: BaseFormSet, title: str, loaded: int) -> list[str]:
        """Return why the loaded rows of a paged list are not the rows of the page it says it shows."""
        rows = self.window[name] if self.window else ()
        spec = paging(self.step)[name]
        indexes = [form_values(form).get("index") for form in section.forms[:loaded]]
        if spec.splice:
            items = self.doc.get(spec.key) if isinstance(self.doc, dict) else None
            if isinstance(items, list) and len(items) == rows[2]:
                # The list is as the page loaded it (else the save is a conflict, not a damaged page):
                # the page's loaded rows must be the items of its span, followed by what it added
                # since (a new row an autosave stored is an item of the span, still without its
                # index on the page); otherwise rows would be lost.
                expected = [row["index"] for row in initial(self.step, self.doc, self.window)[name]]
                added = len(section.forms) - loaded
                if not all(isinstance(i, int) for i in indexes) or sorted(indexes) != expected[:len(indexes)] \
                        or len(expected) - len(indexes) > added:
                    return [f"{title} does not hold the rows of the part of the list it says it shows"]
            return []
        if any(not isinstance(i, int) or i not in rows for i in indexes):
            return [f"{title} holds a row that is not on the page it says it shows"]
        return []

    def values(self, *, keep_deleted: bool = False) -> Values:
        """Return the submitted values, section by section, for `wizard.steps.apply`.

        Untouched new rows are left out, and so are rows marked for removal unless
        `keep_deleted` (autosave keeps them: a removal happens on an explicit save, after
        which the page reloads, so row indexes always refer to the draft the page shows).
        A formset whose management form is missing or broken is left out entirely, so a
        truncated post never empties a list.
        """
        out: Values = {}
        for name, section in self.sections.items():
            if not isinstance(section, BaseFormSet):
                out[name] = form_values(section)
                continue
            if not section.management_form.is_valid():
                continue
            rows = []
            for i, form in enumerate(section.forms):
                form.is_valid()  # the removal mark is read from cleaned_data
                if section.can_delete and not keep_deleted and section._should_delete_form(form):
                    continue
                if i >= section.initial_form_count() and not form.has_changed():
                    continue
                rows.append(form_values(form))
            out[name] = rows
        return out

    def marked_for_removal(self) -> list[str]:
        """Return what one row each of the posted page marks for removal ("SIP domain", "pool"), in order.

        An autosave stores those rows as they are (`values(keep_deleted=True)`); only an explicit save
        removes them, so the autosave's "Saved" has to say they are still there.
        """
        marked = []
        for section in self.sections.values():
            if not isinstance(section, BaseFormSet) or not section.can_delete or self.data is None \
                    or not section.management_form.is_valid():
                continue
            for form in section.forms:
                form.is_valid()  # the removal mark is read from cleaned_data
                if section._should_delete_form(form):
                    marked.append(section.item)
        return marked

    def field_errors(self) -> dict[str, str]:
        """Return {HTML id of a field: its first error} over every form and row of the step."""
        out: dict[str, str] = {}
        for section in self.sections.values():
            for form in (section.forms if isinstance(section, BaseFormSet) else [section]):
                for name, errors in form.errors.items():
                    if name in form.fields and errors:
                        out[form[name].auto_id] = str(errors[0])
        return out

    def attach(self, findings: list[Finding]) -> list[Finding]:
        """Show each error finding on the field that holds its path; return those with no field here."""
        unplaced = []
        for finding in findings:
            if finding.severity != "error":
                continue
            target = self.step.target(finding.field)
            section = self.sections.get(target.section) if target else None
            if target is None or section is None:
                unplaced.append(finding)
                continue
            if not isinstance(section, BaseFormSet):
                _attach(section, target.field if target.field in section.fields else None, finding.message)
                continue
            row = next((f for f in section.forms if target.index is not None and _row_index(f) == target.index),
                       None)
            if row is None:
                self.section_errors[target.section].append(self._elsewhere(target, finding))
            else:
                _attach(row, target.field if target.field in row.fields else None, finding.message)
        return unplaced


# ---------------------------------------------------------------------------
# Plans


class PlanSearchForm(forms.Form):
    """The plan list search box."""

    q = forms.CharField(required=False, max_length=200, label="Search plans by name")


PRESET_CHOICES = [("", "Start from scratch"), *((p.slug, p.title) for p in PRESETS)]


class NewPlanForm(forms.Form):
    """A new plan: its name and where to start from."""

    name = forms.CharField(max_length=NAME_MAX, label="Plan name",
                           help_text="For example: \"Contoso: passive authentication with extranet MFA\".")
    preset = forms.ChoiceField(choices=PRESET_CHOICES, required=False, widget=forms.RadioSelect,
                               label="Start from")

    def clean_name(self) -> str:
        try:
            return v.clean_text(self.cleaned_data["name"], max_length=NAME_MAX)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid_text") from None


# Why a page whose draft version is missing or damaged saved nothing; callers say what was not done first.
OUT_OF_DATE = "this page is out of date (its draft version is missing or damaged). Reload it to see the stored draft."


class _SingleHiddenInput(forms.HiddenInput):
    """A hidden input that reads as damaged when the request carries its name more than once.

    Django keeps the last of several values: a page (or a forged post) naming two draft versions
    would be read as whichever came last.
    """

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        if hasattr(data, "getlist") and len(data.getlist(name)) > 1:
            return _SEVERAL
        return super().value_from_datadict(data, files, name)


_SEVERAL = object()


class PageNumberField(forms.IntegerField):
    """A hidden number a page wrote for itself (a draft version, the position of a row it lists): ASCII digits,
    one value.

    Stricter than IntegerField, whose int() also reads `1_0` as 10 and Arabic-Indic digits as numbers, and
    than Django, which keeps the last of several values: a damaged value must never turn into another
    number that exists.
    """

    widget = _SingleHiddenInput

    def to_python(self, value: Any) -> int | None:
        if value is _SEVERAL or (isinstance(value, str) and value.strip() and not _DIGITS.fullmatch(value.strip())):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


_DIGITS = re.compile(r"[0-9]{1,12}")


class DraftVersionField(PageNumberField):
    """The hidden field of the draft version a page showed: a damaged value must never turn into a version
    that exists (PageNumberField), nor exceed what the database holds (draft_version_field's maximum)."""


def draft_version_field(**kwargs: Any) -> DraftVersionField:
    """Return the hidden field of the draft version a page showed; every refusal says the page is out of date."""
    messages = dict.fromkeys(("required", "invalid", "min_value", "max_value"), OUT_OF_DATE)
    return DraftVersionField(min_value=0, max_value=DRAFT_VERSION_MAX,
                             error_messages={**messages, **kwargs.pop("error_messages", {})}, **kwargs)


class PresetForm(forms.Form):
    """A preset to apply to an existing plan, and the confirmation that it replaces the draft."""

    preset = forms.ChoiceField(choices=PRESET_CHOICES[1:], widget=forms.RadioSelect, label="Preset")
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)
    draft_version = draft_version_field()


class ImportForm(forms.Form):
    """A `lync-auth-plan/1` file to import."""

    file = forms.FileField(label="Plan file (.json)",
                           help_text="A lync-auth-plan/1 file exported from this tool or written by hand; at most "
                                     f"{IMPORT_MAX_BYTES // 1024} KB.",
                           widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}))

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size // 1024} KB; a plan file is at most {IMPORT_MAX_BYTES // 1024} KB.",
                code="too_large")
        return upload.read(IMPORT_MAX_BYTES + 1)


class StateUploadForm(forms.Form):
    """A `lync-auth-state/1` file written by collect-state.ps1."""

    file = forms.FileField(label="State file (.json)",
                           help_text="The lync-auth-state-*.json file collect-state.ps1 wrote; at most "
                                     f"{STATE_MAX_BYTES // 1024} KB. Upload the Management Shell file and the AD FS "
                                     "file one after the other: the planner merges them.",
                           widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}))

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > STATE_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size // 1024} KB; a state file is at most {STATE_MAX_BYTES // 1024} KB.",
                code="too_large")
        return upload.read(STATE_MAX_BYTES + 1)


class StartFromStateForm(StateUploadForm):
    """A new plan from a state file: its name (optional) and the file."""

    name = forms.CharField(max_length=NAME_MAX, required=False, label="Plan name",
                           help_text="Leave it empty to name the plan after where and when the state was collected.")
    field_order = ["name", "file"]

    def clean_name(self) -> str:
        if not self.cleaned_data["name"].strip():
            return ""
        try:
            return v.clean_text(self.cleaned_data["name"], max_length=NAME_MAX)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid_text") from None


class DraftVersionForm(forms.Form):
    """The hidden fields every step page posts back: the draft version and step fingerprint it was loaded
    with, and which page of the step's lists it shows (`wizard.web.steps.Window`; empty: whole lists)."""

    draft_version = draft_version_field()
    step_base = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    step_window = forms.CharField(required=False, max_length=400, widget=forms.HiddenInput)


class AcceptRiskForm(forms.Form):
    """Accept one broken-promise error of the draft as a risk, with the reason for the reviewer.

    `acceptable` is the set of (code, field) pairs the draft's findings offer to accept now
    (wizard.plan.findings.acceptable_errors): a stale or forged pair is refused.
    """

    code = forms.CharField(widget=forms.HiddenInput)
    field = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label="Why this risk is accepted", strip=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The reviewer reads this on the revision, and the runbook lists it. At most "
                  f"{ACCEPTED_RISK_REASON_MAX} characters, on one line.",
    )
    draft_version = draft_version_field()

    def __init__(self, *args: Any, acceptable: set[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acceptable = acceptable

    def clean_reason(self) -> str:
        try:
            reason = v.clean_text(self.cleaned_data["reason"], max_length=ACCEPTED_RISK_REASON_MAX)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid_text") from None
        if not reason:
            raise forms.ValidationError("Say why the risk is accepted.", code="required")
        return reason

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        pair = (data.get("code", ""), data.get("field", ""))
        if "code" in data and "field" in data and pair not in self.acceptable:
            raise forms.ValidationError("The draft no longer has this error, or it cannot be accepted: look at "
                                        "the findings again.", code="not_acceptable")
        return data


class WithdrawRiskForm(forms.Form):
    """Withdraw accepted risk number `index` of the draft."""

    index = PageNumberField(min_value=0, label="Accepted risk", error_messages={
        "required": "The page did not say which accepted risk to withdraw: reload the review page.",
        "invalid": "The page's number of the accepted risk is damaged: reload the review page."})
    draft_version = draft_version_field()


def errors_in_words(form: forms.Form) -> str:
    """Return a refused form's errors as one line, each under the name of its field ("Comment: ...").

    A message written for its field ("Say what needs to change.") stands alone; Django's own ones
    ("This field is required.", "Null characters are not allowed.") would not say which field.
    """
    parts = []
    for name, errors in form.errors.as_data().items():
        field = form.fields.get(name)
        label = (field.label or name.replace("_", " ")) if field is not None else ""
        for error in errors:
            for message in error.messages:
                own = error.code == "required" and message != forms.Field.default_error_messages["required"]
                parts.append(message if own or not label else f"{label}: {message}")
    return " ".join(parts)


def posted_window(step: Step, data: Any) -> Window | None:
    """Return the window a step page posted (None: whole lists); ValueError when the page was damaged."""
    text = data.get("step_window", "") if data is not None else ""
    if not isinstance(text, str) or len(text) > 400:
        raise ValueError("the page's list of rows is damaged")
    return decode_window(step, text, LIST_LIMITS)
