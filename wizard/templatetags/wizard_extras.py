"""Display filters for the wizard's templates; each delegates to a plain function."""
from __future__ import annotations

from typing import Any

from django import template

from wizard.plan.explain import label_for
from wizard.web.fieldhtml import field_html, widget_html

register = template.Library()

_SEVERITY_CLASSES = {"error": "danger", "warning": "warning", "info": "info"}
_IMPACT_CLASSES = {"signs_in": "impact-ok", "degraded": "impact-degraded", "breaks": "impact-breaks"}


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """Return `mapping[key]`, or '' when there is no such key."""
    try:
        return mapping[key]
    except (KeyError, IndexError, TypeError):
        return ""


@register.filter
def severity_class(severity: str) -> str:
    """Return the Bootstrap colour name for a finding severity."""
    return _SEVERITY_CLASSES.get(severity, "secondary")


@register.filter
def impact_class(state: str) -> str:
    """Return the CSS class of a client impact cell."""
    return _IMPACT_CLASSES.get(state, "")


@register.filter
def field_label(path: str, doc: Any = None) -> str:
    """Return the admin's label for a plan path (see wizard.explain.label_for)."""
    return label_for(path, doc)


@register.filter
def field_value(form: Any, name: str) -> Any:
    """Return the value form field `name` shows (typed or initial), or '' when the form has no such field."""
    try:
        return form[name].value() or ""
    except KeyError:
        return ""


@register.filter
def row_field(field: Any) -> Any:
    """Return a field of a list row as `|as_crispy_field` shows it, written in Python (wizard.web.fieldhtml)."""
    return field_html(field)


@register.filter
def row_widget(field: Any) -> Any:
    """Return a field's widget alone, as `{{ field }}` shows it (a row's hidden inputs)."""
    return widget_html(field)
