"""A field of a step's list rows as django-crispy-forms' Bootstrap 5 pack shows it, written in Python.

A page of a long list (ten pools, Edge pools or mobility policies) shows about 150 fields; through
`|as_crispy_field` each costs a chain of about a dozen template includes and a widget template
(about 1 ms a field, most of a step page's time at the plan limits: docs/performance.md, section 4).
`field_html` writes the same markup directly: the same elements, attributes, classes, ids, labels,
help text, error notes (`invalid-feedback`, `error_N_<id>`) and aria attributes, with whitespace
where the templates leave some (one character instead of a run). It handles the widgets the rows
use (a text box, a select, a check box, a hidden input) on a form without a crispy helper, and hands
any other field to crispy itself. `tests/test_field_html.py` holds it to crispy's output field by
field (whitespace runs read as one), with values, errors, kept choices and placeholders.

Like crispy, it adds its classes to the widget's own `class` attribute (crispy keeps them there too),
so a field shown twice reads the same either way.
"""
from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.forms.boundfield import BoundField
from django.utils.formats import localize
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData, SafeString, mark_safe

# The widgets written here, by exact class (a subclass may have a template of its own), and the
# Bootstrap class crispy's bootstrap5/field.html gives each.
_BOOTSTRAP_CLASS: dict[type[forms.Widget], str] = {
    forms.TextInput: "form-control",
    forms.Select: "form-select",
    forms.CheckboxInput: "form-check-input",
}
_INPUT_TEMPLATES = {"django/forms/widgets/text.html", "django/forms/widgets/checkbox.html",
                    "django/forms/widgets/hidden.html", "django/forms/widgets/input.html"}
_SELECT_TEMPLATE = "django/forms/widgets/select.html"
_OPTION_TEMPLATE = "django/forms/widgets/select_option.html"


def _text(value: Any) -> str:
    """Return `value` as `{{ value }}` shows it in an autoescaping template."""
    value = localize(value)
    return str(conditional_escape(value if isinstance(value, str) else str(value)))


def _attr_value(value: Any) -> str:
    """Return `value` as `{{ value|stringformat:'s' }}` shows it (a safe string stays as it is)."""
    text = str(value)
    return text if isinstance(value, SafeData) else str(escape(text))


def _attrs(attrs: dict[str, Any]) -> str:
    """Return the attributes as django/forms/widgets/attrs.html writes them."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(f" {_text(name)}" if value is True else f' {_text(name)}="{_attr_value(value)}"')
    return "".join(out)


def _widget_html(context: dict[str, Any]) -> str | None:
    """Return the HTML of a widget from its template context, or None for a template not written here."""
    widget = context["widget"]
    template = widget["template_name"]
    if template in _INPUT_TEMPLATES:
        value = "" if widget["value"] is None else f' value="{_attr_value(widget["value"])}"'
        return f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{value}{_attrs(widget["attrs"])}>'
    if template != _SELECT_TEMPLATE:
        return None
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _ in widget["optgroups"]:
        if group_name:
            return None  # option groups: left to Django's templates
        for option in options:
            if option["template_name"] != _OPTION_TEMPLATE:
                return None
            parts.append(f'\n<option value="{_attr_value(option["value"])}"{_attrs(option["attrs"])}>'
                         f'{_text(option["label"])}</option>')
    parts.append("\n</select>")
    return "".join(parts)


def widget_html(field: BoundField) -> SafeString:
    """Return `str(field)`, the field's widget alone (a hidden input of a row, say), without its templates."""
    widget = field.field.widget
    if field.field.show_hidden_initial or type(widget) not in (*_BOOTSTRAP_CLASS, forms.HiddenInput):
        return mark_safe(str(field))  # nosec B308 B703 - Django's own widget HTML
    attrs = field.build_widget_attrs({}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    html = _widget_html(widget.get_context(field.html_name, field.value(), attrs))
    # Every value in `html` was escaped as the widget templates escape it (_text, _attr_value).
    return mark_safe(str(field) if html is None else html)  # nosec B308 B703


def _crispy(field: BoundField) -> SafeString:
    from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field

    return mark_safe(as_crispy_field(field))  # nosec B308 B703 - crispy's template output


def field_html(field: BoundField) -> SafeString:
    """Return what `{{ field|as_crispy_field }}` shows (Bootstrap 5 pack, no helper), written in Python."""
    widget = field.field.widget
    bootstrap = _BOOTSTRAP_CLASS.get(type(widget))
    if getattr(field.form, "helper", None) is not None or field.field.show_hidden_initial:
        return _crispy(field)
    if field.is_hidden:
        return widget_html(field)  # crispy shows {{ field }}
    if bootstrap is None:
        return _crispy(field)
    errors = field.errors
    # crispy's {% crispy_field %}: the widget's class name, then the pack's classes, kept on the widget.
    class_name = type(widget).__name__.lower()
    class_name = getattr(settings, "CRISPY_CLASS_CONVERTERS", {}).get(class_name, class_name)
    css = widget.attrs.get("class", "")
    if css:
        if css.find(class_name) == -1:
            css += f" {class_name}"
    else:
        css = class_name
    for extra in (bootstrap, "is-invalid") if errors else (bootstrap,):
        if extra not in css.split():
            css += f" {extra}"
    widget.attrs["class"] = css
    attrs = field.build_widget_attrs({}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    control = _widget_html(widget.get_context(field.html_name, field.value(), attrs))
    if control is None:
        return _crispy(field)

    auto_id = field.auto_id
    required = field.field.required
    label = field.label
    star = '<span class="asteriskField">*</span>' if required else ""
    label_for = f'for="{_text(field.id_for_label)}" ' if field.id_for_label else ""
    notes = []
    if errors:
        field_id = getattr(errors, "field_id", "")
        notes.append(f'\n<div id="{_text(field_id)}_error" class="invalid-feedback">')
        notes += [f'\n<p id="error_{n}_{_text(auto_id)}"><strong>{_text(error)}</strong></p>'
                  for n, error in enumerate(errors, start=1)]
        notes.append("\n</div>")
    if field.help_text:
        helper_id = f'id="{_text(auto_id)}_helptext" ' if auto_id else ""
        notes.append(f'\n<div {helper_id}class="form-text">{field.help_text}</div>')
    div_id = f"div_{_text(auto_id)}"
    if isinstance(widget, forms.CheckboxInput):
        check_label = (f'\n<label {label_for}class="form-check-label{" requiredField" if required else ""}">'
                       f'\n{_text(label)}{star}\n</label>')
        html = (f'\n<div class="mb-3">\n<div id="{div_id}" class="form-check">\n{control}{check_label}'
                f'{"".join(notes)}\n</div>\n</div>\n')
    else:
        top = (f'\n<label {label_for}class="form-label{" requiredField" if required else ""}">\n{_text(label)}{star}'
               f'\n</label>') if label else ""
        html = f'\n<div id="{div_id}" class="mb-3">{top}\n{control}{"".join(notes)}\n</div>\n'
    # Labels, ids, values and errors escaped (_text); help text is HTML, as crispy's |safe shows it.
    return mark_safe(html)  # nosec B308 B703
