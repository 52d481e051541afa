"""Form fields as HTML, written in Python: the field frame of the portal and Django's
widget templates, byte for byte, without a template render per field and per widget.

Through Django's templates, a field cost one {% include %} of its frame and one template
render for its widget, plus one per attribute list and one per <option> of a <select>:
two thirds of the record page's CPU time went there (docs/benchmarks.md). The tags
{% field %} and {% widget %} (esante.portal.templatetags.fields) print the same HTML from
here. A widget whose template is not written here (radio buttons, the captcha, a
clearable file input showing its current file) still goes through Django's templates;
tests/portal/test_fields.py compares both ways for every field of every form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.forms import BoundField
from django.forms.renderers import BaseRenderer, get_default_renderer
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.safestring import SafeData, SafeString, mark_safe

# What render_value_in_context reads of a template's context (autoescape, use_l10n,
# use_tz): the defaults, as in our templates. Only read, so shared by every thread.
_AUTOESCAPED = Context()


def _text(value: Any) -> str:
    """`{{ value }}` in an autoescaped template."""
    return str(render_value_in_context(value, _AUTOESCAPED))


def _formatted(value: Any) -> str:
    """`{{ value|stringformat:'s' }}`: the filter keeps a safe string safe."""
    text = "%s" % (str(value) if isinstance(value, tuple) else value)
    return _text(mark_safe(text) if isinstance(value, SafeData) else text)  # noqa: S308


def _attrs(attrs: dict[str, Any]) -> str:
    """django/forms/widgets/attrs.html"""
    return "".join(
        f" {_text(name)}" + ("" if value is True else f'="{_formatted(value)}"')
        for name, value in attrs.items()
        if value is not False
    )


def _input(context: dict[str, Any]) -> str:
    """django/forms/widgets/input.html, and the templates that only include it."""
    widget = context["widget"]
    kind, name = _text(widget["type"]), _text(widget["name"])
    value = "" if widget["value"] is None else f' value="{_formatted(widget["value"])}"'
    return f'<input type="{kind}" name="{name}"{value}{_attrs(widget["attrs"])}>'


def _option(option: dict[str, Any]) -> str:
    """django/forms/widgets/select_option.html, its final newline included (the select
    template includes it, and an include keeps it)."""
    return (
        f'<option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
        f"{_text(option['label'])}</option>\n"
    )


def _select(context: dict[str, Any]) -> str | None:
    """django/forms/widgets/select.html; None if an option has a template of its own."""
    widget = context["widget"]
    html = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            html.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in group_choices:
            if option["template_name"] != "django/forms/widgets/select_option.html":
                return None
            html.append("\n  " + _option(option))
        if group_name:
            html.append("\n  </optgroup>")
    html.append("\n</select>")
    return "".join(html)


def _file_input(context: dict[str, Any]) -> str | None:
    """django/forms/widgets/clearable_file_input.html without a current file (the
    template then prints only the input); None with one."""
    widget = context["widget"]
    if widget["is_initial"]:
        return None
    kind, name = _text(widget["type"]), _text(widget["name"])
    return f'<input type="{kind}" name="{name}"{_attrs(widget["attrs"])}>'


def _textarea(context: dict[str, Any]) -> str:
    """django/forms/widgets/textarea.html"""
    widget = context["widget"]
    value = _text(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>'


WIDGET_TEMPLATES: dict[str, Callable[[dict[str, Any]], str | None]] = {
    **{
        f"django/forms/widgets/{name}.html": _input
        for name in (
            "input",
            "text",
            "number",
            "email",
            "url",
            "tel",
            "search",
            "color",
            "password",
            "hidden",
            "date",
            "datetime",
            "time",
            "checkbox",
            "file",
        )
    },
    "django/forms/widgets/select.html": _select,
    "django/forms/widgets/clearable_file_input.html": _file_input,
    "django/forms/widgets/textarea.html": _textarea,
}


class PythonWidgetRenderer(BaseRenderer):
    """A form renderer that writes the widget templates above in Python and hands any
    other template to the project's renderer (settings.FORM_RENDERER)."""

    def get_template(self, template_name: str) -> Any:
        return get_default_renderer().get_template(template_name)

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        write = WIDGET_TEMPLATES.get(template_name)
        html = write(context) if write is not None else None
        if html is None:
            return str(get_default_renderer().render(template_name, context, request))
        return html


WIDGET_RENDERER = PythonWidgetRenderer()


def widget_html(field: BoundField, attrs: dict[str, str | bool] | None = None) -> SafeString:
    """`{{ field }}`, or with `attrs` what `field.as_widget(attrs=attrs)` prints (and the
    hidden initial value after it, as `{{ field }}` does), through WIDGET_RENDERER."""
    if field.field.show_hidden_initial:
        both = field.as_widget(attrs=attrs) + field.as_hidden(only_initial=True)
        return mark_safe(both)  # noqa: S308 - Django's own HTML, rare: left to it
    widget = field.field.widget
    if field.field.localize:
        widget.is_localized = True
    built = field.build_widget_attrs(attrs or {}, widget)
    if field.auto_id and "id" not in widget.attrs:
        built.setdefault("id", field.auto_id)
    html: str = widget.render(
        name=field.html_name, value=field.value(), attrs=built, renderer=WIDGET_RENDERER
    )
    return mark_safe(html)  # noqa: S308 - escaped above, or Django's own templates


def _help_and_errors(field: BoundField, indent: str) -> str:
    help_html = (
        f'<p class="field-help" id="{_text(field.auto_id)}_helptext">{_text(field.help_text)}</p>'
        if field.help_text
        else ""
    )
    errors = field.errors
    errors_html = (
        f'<ul class="field-errors" id="{_text(field.auto_id)}_error">'
        + "".join(f"<li>{_text(error)}</li>" for error in errors)
        + "</ul>"
        if errors
        else ""
    )
    return f"{indent}{help_html}\n{indent}{errors_html}\n{indent}"


def _widget_attrs(field: BoundField, describedby: str, required: bool) -> dict[str, str | bool]:
    """The attributes {% field %}'s options add to the input: `describedby` before the
    ids of its help and errors (Django would drop these for an aria-describedby of ours),
    `required` as aria-required when the form itself does not require the field."""
    attrs: dict[str, str | bool] = {}
    if describedby:
        own = field.aria_describedby or field.field.widget.attrs.get("aria-describedby", "")
        attrs["aria-describedby"] = f"{describedby} {own}".strip()
    if required and not field.field.required:
        attrs["aria-required"] = "true"
    return attrs


def field_html(field: BoundField, *, describedby: str = "", required: bool = False) -> SafeString:
    """One form field: label (or legend), help, errors linked to the input, the input.

    What accounts/includes/field.html printed, whitespace included. A field of several
    inputs (radio buttons: `use_fieldset`) is a fieldset whose legend is the label, and
    which its help and errors describe. With an error, the field's block is marked
    (`field-invalid`) and its input too (aria-invalid, by Django's BoundField), its
    error text linked to it (aria-describedby); form_errors.html links to it from the
    summary at the top of the form.

    `describedby`: ids of elements outside the field that describe it too (the password
    rule printed above the form), read before its help and errors. `required`: a field
    the form requires only in some cases (the mobile when the code goes by SMS) is marked
    as the required ones are: the asterisk, and aria-required."""
    shown_required = field.field.required or required
    mark = '<span class="required" aria-hidden="true"> *</span>' if shown_required else ""
    invalid = " field-invalid" if field.errors else ""
    if field.use_fieldset:
        ids = [describedby] if describedby else []
        if field.help_text:
            ids.append(f"{field.auto_id}_helptext")
        if field.errors:  # read with the group's name, as an input's error is with its own
            ids.append(f"{field.auto_id}_error")
        described = f' aria-describedby="{_text(" ".join(ids))}"' if ids else ""
        inner = (
            f"\n  <fieldset{described}>\n"
            f'    <legend class="field-label">{_text(field.label)}{mark}</legend>\n'
            f"{_help_and_errors(field, '    ')}{widget_html(field)}\n"
            "  </fieldset>\n"
        )
    else:
        widget = widget_html(field, _widget_attrs(field, describedby, required))
        inner = (
            f'\n  <label class="field-label" for="{_text(field.id_for_label)}">'
            f"{_text(field.label)}{mark}</label>\n"
            f"{_help_and_errors(field, '  ')}{widget}\n"
        )
    return mark_safe(f'\n<div class="field{invalid}">\n{inner}\n</div>\n')  # noqa: S308
