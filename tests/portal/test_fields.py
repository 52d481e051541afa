"""{% field %} and {% widget %} print, byte for byte, what the field frame template and
Django's widget templates printed: for every field of every form of the project, blank,
with errors and filled in, and for the widget cases our forms do not have yet."""

from __future__ import annotations

import datetime
import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from captcha.fields import CaptchaTextInput
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.utils import translation
from django.utils.safestring import mark_safe

import esante
from esante.accounts.forms import ContactForm, LoginForm, PasswordForm
from esante.portal.fields import field_html, widget_html
from esante.records.forms import AssistantAddForm
from esante.registry.models import InsuredPerson

pytestmark = pytest.mark.django_db

# The field frame as a template: what {% include "accounts/includes/field.html" %} was.
FIELD_TEMPLATE = Template(
    """{% comment %}One form field: label, help, errors (linked to the input), the input itself.{% endcomment %}
{% load i18n %}<div class="field{% if field.errors %} field-invalid{% endif %}">
{% if field.use_fieldset %}
  <fieldset{% if field.help_text or field.errors %} aria-describedby="{% if field.help_text %}{{ field.auto_id }}_helptext{% endif %}{% if field.help_text and field.errors %} {% endif %}{% if field.errors %}{{ field.auto_id }}_error{% endif %}"{% endif %}>
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


def test_an_invalid_field_is_marked_and_its_error_linked_to_it() -> None:
    """The input says it is invalid and is described by its error; a group of radio
    buttons is described by its error too; the field's block is marked for the eye."""
    form = AssistantAddForm(data={"role": "x" * 51})
    form.is_valid()

    role = field_html(form["role"])
    assert 'class="field field-invalid"' in role
    assert 'aria-invalid="true"' in role
    assert 'aria-describedby="id_role_helptext id_role_error"' in role
    assert '<ul class="field-errors" id="id_role_error">' in role
    candidate = field_html(form["candidate"])
    assert '<fieldset aria-describedby="id_candidate_error">' in candidate


@pytest.mark.parametrize(
    ("language", "separator"), [("fr", "</a> : "), ("de", "</a>: "), ("en", "</a>: ")]
)
def test_the_error_summary_writes_each_languages_colon(language: str, separator: str) -> None:
    """« Rôle : … » in French, "Rolle: …" in German and English: the separator is the
    translators', not the French space before the colon."""
    form = AssistantAddForm(data={"role": "x" * 51})
    form.is_valid()
    summary = Template('{% include "accounts/includes/form_errors.html" %}')
    with translation.override(language):
        html = summary.render(Context({"form": form}))
    assert '<a href="#id_role">' in html
    assert separator in html
    assert "&lt;a" not in html  # the link is markup, the label and the error are text


# ---- The tag's options: {% field f describedby="…" %} and {% field f required=True %} --

# The frame with both options, as an include "with describedby=… required=True" would
# have printed it: the ids given come first in the fieldset's aria-describedby, and the
# field is marked as the required ones are. `widget` is Django's, given the attributes
# the options add (expected_widget).
FIELD_TEMPLATE_WITH_OPTIONS = Template(
    """{% comment %}A form field, described by other elements too, marked required.{% endcomment %}
{% load i18n %}<div class="field{% if field.errors %} field-invalid{% endif %}">
{% if field.use_fieldset %}
  <fieldset aria-describedby="{{ describedby }}{% if field.help_text %} {{ field.auto_id }}_helptext{% endif %}{% if field.errors %} {{ field.auto_id }}_error{% endif %}">
    <legend class="field-label">{{ field.label }}<span class="required" aria-hidden="true"> *</span></legend>
    {% if field.help_text %}<p class="field-help" id="{{ field.auto_id }}_helptext">{{ field.help_text }}</p>{% endif %}
    {% if field.errors %}<ul class="field-errors" id="{{ field.auto_id }}_error">{% for error in field.errors %}<li>{{ error }}</li>{% endfor %}</ul>{% endif %}
    {{ widget }}
  </fieldset>
{% else %}
  <label class="field-label" for="{{ field.id_for_label }}">{{ field.label }}<span class="required" aria-hidden="true"> *</span></label>
  {% if field.help_text %}<p class="field-help" id="{{ field.auto_id }}_helptext">{{ field.help_text }}</p>{% endif %}
  {% if field.errors %}<ul class="field-errors" id="{{ field.auto_id }}_error">{% for error in field.errors %}<li>{{ error }}</li>{% endfor %}</ul>{% endif %}
  {{ widget }}
{% endif %}
</div>
"""  # noqa: E501
)


def as_widget(bound_field: forms.BoundField, attrs: dict[str, str | bool]) -> str:
    """`{{ field }}` through Django, with `attrs` as BoundField.as_widget takes them."""
    html = bound_field.as_widget(attrs=attrs)
    if bound_field.field.show_hidden_initial:
        html += bound_field.as_hidden(only_initial=True)
    return html


def expected_widget(bound_field: forms.BoundField, describedby: str) -> str:
    """The input described first by `describedby`, then by what Django links it to (its
    help, its errors, or the widget's own aria-describedby); aria-required if the form
    does not require it already. The inputs of a fieldset are left as they are."""
    if bound_field.use_fieldset:
        return str(bound_field)
    own = bound_field.aria_describedby or bound_field.field.widget.attrs.get("aria-describedby")
    attrs: dict[str, str | bool] = {
        "aria-describedby": f"{describedby} {own}" if own else describedby
    }
    if not bound_field.field.required:
        attrs["aria-required"] = "true"
    return as_widget(bound_field, attrs)


def test_the_options_print_as_django_would_with_their_attributes(alice: InsuredPerson) -> None:
    edge_cases = EdgeCases(data={"text": "x"})
    edge_cases.is_valid()
    fields = [*compared_fields(alice), *((f.name, f) for f in edge_cases)]

    for name, bound_field in fields:
        expected = FIELD_TEMPLATE_WITH_OPTIONS.render(
            Context(
                {
                    "field": bound_field,
                    "describedby": "rule",
                    "widget": mark_safe(expected_widget(bound_field, "rule")),  # noqa: S308
                }
            )
        )

        assert field_html(bound_field, describedby="rule", required=True) == expected, name


def test_widget_with_attributes_prints_as_django_as_widget(alice: InsuredPerson) -> None:
    edge_cases = EdgeCases(data={})
    edge_cases.is_valid()
    attrs: dict[str, str | bool] = {
        "aria-describedby": "a b",
        "aria-required": "true",
        "data-x": "<&>",
        "data-flag": True,
    }

    for name, bound_field in [*compared_fields(alice), *((f.name, f) for f in edge_cases)]:
        assert widget_html(bound_field, attrs) == as_widget(bound_field, attrs), name


def test_described_by_comes_before_the_help_and_the_errors(alice: InsuredPerson) -> None:
    form = PasswordForm(data={"password1": "abc"}, person=alice, has_password=False)
    form.is_valid()

    html = field_html(form["password1"], describedby="password-rule")

    assert 'aria-describedby="password-rule id_password1_error"' in html
    assert 'id="id_password1_error"' in html
    blank = LoginForm()
    assert 'aria-describedby="rule id_matricule_helptext"' in field_html(
        blank["matricule"], describedby="rule"
    )


def test_a_widgets_own_description_is_kept_after_the_one_given() -> None:
    class Described(forms.Form):
        name = forms.CharField(
            help_text="Aide", widget=forms.TextInput(attrs={"aria-describedby": "own"})
        )

    assert 'aria-describedby="given own"' in field_html(Described()["name"], describedby="given")


def test_required_marks_a_field_the_form_requires_only_sometimes() -> None:
    form = ContactForm()

    mobile = field_html(form["mobile"], required=True)

    assert '<span class="required" aria-hidden="true"> *</span></label>' in mobile
    assert 'aria-required="true"' in mobile
    assert " required" not in mobile.replace('class="required"', "")
    assert "aria-required" not in field_html(form["mobile"])
    assert '<span class="required"' not in field_html(form["mobile"])


def test_the_tag_takes_the_options() -> None:
    form = ContactForm()
    template = Template(
        "{% load fields %}{% field form.mobile required=True %}{% field form.email %}"
        '{% field form.mobile describedby="note" %}'
    )

    html = template.render(Context({"form": form}))

    assert html == (
        field_html(form["mobile"], required=True)
        + field_html(form["email"])
        + field_html(form["mobile"], describedby="note")
    )


def test_every_template_that_prints_fields_prints_the_error_summary() -> None:
    """The summary at the top of a form (form_errors.html) links to each invalid field:
    on every form of the portal and the helpdesk, not only the wizard's."""
    source = Path(esante.__file__).resolve().parent
    # Printed inside forms whose own template has the summary.
    included = {"accounts/includes/channel_choice.html"}
    missing = [
        str(path.relative_to(source))
        for path in sorted(source.glob("*/templates/**/*.html"))
        if "{% field " in path.read_text()
        and "form_errors.html" not in path.read_text()
        and str(path).split("/templates/", 1)[1] not in included
    ]

    assert missing == []
