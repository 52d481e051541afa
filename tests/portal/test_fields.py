"""{% field %} and {% widget %} print, byte for byte, what the field frame template and
Django's widget templates printed: for every field of every form of the project, blank,
with errors and filled in, and for the widget cases our forms do not have yet."""

from __future__ import annotations

import datetime
import importlib
import pkgutil
from collections.abc import Iterator
from typing import Any

import pytest
from captcha.fields import CaptchaTextInput
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.utils.safestring import mark_safe

import esante
from esante.portal.fields import field_html, widget_html
from esante.registry.models import InsuredPerson

pytestmark = pytest.mark.django_db

# The field frame as a template: what {% include "accounts/includes/field.html" %} was.
FIELD_TEMPLATE = Template(
    """{% comment %}One form field: label, help, errors (linked to the input), the input itself.{% endcomment %}
{% load i18n %}<div class="field{% if field.errors %} field-invalid{% endif %}">
{% if field.use_fieldset %}
  <fieldset{% if field.help_text %} aria-describedby="{{ field.auto_id }}_helptext"{% endif %}>
    <legend class="field-label">{{ field.label }}{% if field.field.required %}<span class="required" aria-hidden="true"> *</span>{% endif %}</legend>
    {% if field.help_text %}<p class="field-help" id="{{ field.auto_id }}_helptext">{{ field.help_text }}</p>{% endif %}
    {% if field.errors %}<ul class="field-errors" id="{{ field.auto_id }}_error">{% for error in field.errors %}<li>{{ error }}</li>{% endfor %}</ul>{% endif %}
    {{ field }}
  </fieldset>
{% else %}
  <label class="field-label" for="{{ field.id_for_label }}">{{ field.label }}{% if field.field.required %}<span class="required" aria-hidden="true"> *</span>{% endif %}</label>
  {% if field.help_text %}<p class="field-help" id="{{ field.auto_id }}_helptext">{{ field.help_text }}</p>{% endif %}
  {% if field.errors %}<ul class="field-errors" id="{{ field.auto_id }}_error">{% for error in field.errors %}<li>{{ error }}</li>{% endfor %}</ul>{% endif %}
  {{ field }}
{% endif %}
</div>
"""  # noqa: E501
)


def project_forms() -> Iterator[type[forms.Form]]:
    for module in pkgutil.walk_packages(esante.__path__, "esante."):
        if module.name.rsplit(".", 1)[-1] in ("forms", "supervisor_views", "views"):
            importlib.import_module(module.name)
    pending: list[type[forms.Form]] = [forms.Form]
    while pending:
        form_class = pending.pop()
        pending.extend(form_class.__subclasses__())
        if form_class.__module__.startswith("esante."):
            yield form_class


def instances(form_class: type[forms.Form], person: InsuredPerson) -> Iterator[forms.Form]:
    """The form blank, posted empty (the errors) and posted with values."""
    for options in (
        {},
        {"with_captcha": True},
        {"channel": "totp"},
        {"channel": "any"},
        {"person": person},
        {"person": person, "has_password": True},
        {"person": person, "has_password": False},
    ):
        try:
            blank = form_class(**options)
        except TypeError:
            continue  # an option this form does not take
        filled = {name: "2026-03-14" if "date" in name else "a<b>&\"'" for name in blank.fields}
        yield blank
        yield form_class(data={}, **options)
        yield form_class(data=filled, **options)


def compared_fields(person: InsuredPerson) -> Iterator[tuple[str, forms.BoundField]]:
    for form_class in project_forms():
        for form in instances(form_class, person):
            form.is_valid()
            for bound_field in form:
                if isinstance(bound_field.field.widget, CaptchaTextInput):
                    continue  # a new random challenge at each rendering
                yield f"{form_class.__qualname__}.{bound_field.name}", bound_field


def test_the_project_has_forms_to_compare(alice: InsuredPerson) -> None:
    names = {name for name, _field in compared_fields(alice)}

    assert {"UploadForm.file", "CategoryFilterForm.categorie", "LoginForm.password"} <= names
    assert {"PasswordForm.password1", "CurrentPasswordForm.current"} <= names


def test_every_field_of_the_project_prints_as_the_template_did(alice: InsuredPerson) -> None:
    for name, bound_field in compared_fields(alice):
        expected = FIELD_TEMPLATE.render(Context({"field": bound_field}))

        assert field_html(bound_field) == expected, name
        assert widget_html(bound_field) == str(bound_field), name


class EdgeCases(forms.Form):
    grouped = forms.ChoiceField(
        choices=[("", "—"), ("Fruits", [("a", "Pomme"), ("b", "Poire")]), ("c", "Autre")],
        initial="b",
    )
    numbers = forms.ChoiceField(choices=[(1, 1), (2, 2)], initial=2, required=False)
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "data-x": mark_safe("<b>")}),
        initial="line\n<two>",
        help_text="Aide <em>échappée</em>",
    )
    checked = forms.BooleanField(initial=True, disabled=True)
    hidden = forms.CharField(widget=forms.HiddenInput, initial="h")
    number = forms.IntegerField(initial=1234567, localize=True)
    when = forms.DateField(initial=datetime.date(2026, 3, 14))
    choices = forms.MultipleChoiceField(
        choices=[("x", "X"), ("y", "Y")], widget=forms.CheckboxSelectMultiple, initial=["y"]
    )
    several = forms.MultipleChoiceField(choices=[("x", "X"), ("y", "Y")], initial=["x", "y"])
    upload = forms.FileField(required=False)
    again = forms.CharField(show_hidden_initial=True, initial="i")


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"data": {}},
        {"auto_id": False},
        {"auto_id": "field-%s"},
        {"prefix": "p", "use_required_attribute": False},
        {"data": {"grouped": "zz", "text": "x" * 3, "number": "1,5"}},
    ],
)
def test_widget_cases_beyond_our_forms_print_as_django_does(options: dict[str, Any]) -> None:
    form = EdgeCases(**options)
    form.is_valid()

    for bound_field in form:
        expected = FIELD_TEMPLATE.render(Context({"field": bound_field}))
        assert field_html(bound_field) == expected, bound_field.name
        assert widget_html(bound_field) == str(bound_field), bound_field.name


def test_a_file_input_showing_its_current_file_is_left_to_django() -> None:
    class WithFile(forms.Form):
        upload = forms.FileField(required=False)

    current = SimpleUploadedFile("a.pdf", b"%PDF")
    current.url = "/a.pdf"  # type: ignore[attr-defined]
    form = WithFile(initial={"upload": current})

    assert widget_html(form["upload"]) == str(form["upload"])
    assert "a.pdf" in widget_html(form["upload"])


def test_inputs_selects_and_file_inputs_need_no_template(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_template() -> None:
        raise AssertionError("a widget went through Django's templates")

    monkeypatch.setattr("esante.portal.fields.get_default_renderer", no_template)
    form = EdgeCases(data={"grouped": "a"})
    form.is_valid()

    for name in ("grouped", "numbers", "text", "checked", "hidden", "number", "when", "upload"):
        assert widget_html(form[name]).startswith(("<input", "<select", "<textarea")), name
