"""XEP-0004 forms from the core's neutral ``FormField`` descriptions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from transport.core.backend import FormField


def make_form(
    xmpp: Any,
    fields: Iterable[FormField],
    *,
    title: str = "",
    instructions: str = "",
    form_type: str | None = None,
    values: Mapping[str, Any] | None = None,
    form_kind: str = "form",
) -> Any:
    """A ``<x type='form'/>`` (or ``result``); ``values`` pre-fill fields, never secrets."""
    form = xmpp.plugin["xep_0004"].make_form(
        ftype=form_kind, title=title, instructions=instructions
    )
    if form_type:
        form.add_field(var="FORM_TYPE", ftype="hidden", value=form_type)
    for field in fields:
        value = field.value
        if values is not None and field.var in values and field.type != "text-private":
            value = values[field.var]
        kwargs: dict[str, Any] = {
            "var": field.var,
            "ftype": field.type,
            "label": field.label,
            "required": field.required,
            "desc": field.desc,
        }
        if value is not None:
            kwargs["value"] = value
        if field.options:
            kwargs["options"] = [{"label": label, "value": v} for v, label in field.options]
        form.add_field(**kwargs)
    return form


def form_values(form: Any) -> dict[str, Any]:
    """Submitted values without FORM_TYPE; single values unwrapped."""
    values: dict[str, Any] = dict(form.get_values())
    values.pop("FORM_TYPE", None)
    return values


def missing_required(fields: Iterable[FormField], values: Mapping[str, Any]) -> list[str]:
    """Labels of required fields left empty."""
    return [
        f.label
        for f in fields
        if f.required and f.type not in ("fixed", "boolean", "hidden")
        and not values.get(f.var)
    ]
