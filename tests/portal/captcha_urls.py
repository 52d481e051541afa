"""The project's URLs plus a test-only form with the captcha, used as a view would use it.

`/test-captcha/` shows a matricule and the captcha in the portal frame; a valid
submission shows "Formulaire accepté pour <matricule>."; the refresh button without
JavaScript shows the form again with the matricule kept (`wants_new_captcha`).
"""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path

from esante.portal.captcha import CaptchaField, typed_values, wants_new_captcha
from esante.urls import urlpatterns as project_urlpatterns

URL = "/test-captcha/"

PAGE = engines["django"].from_string(
    """{% extends "portal/page.html" %}
{% block title %}Test du captcha{% endblock %}
{% block crumb %}Test du captcha{% endblock %}
{% block heading %}Test du captcha{% endblock %}
{% block content %}
{% if accepted_matricule %}
<p class="notice">Formulaire accepté pour {{ accepted_matricule }}.</p>
{% endif %}
<form method="post">
  {% csrf_token %}
  {{ form }}
  <button class="button" type="submit">Envoyer</button>
</form>
{% endblock %}"""
)


class CaptchaTestForm(forms.Form):
    matricule = forms.CharField(label="Matricule", max_length=13)
    captcha = CaptchaField()


def captcha_form(request: HttpRequest) -> HttpResponse:
    form = CaptchaTestForm(request.POST or None)
    accepted_matricule = None
    if wants_new_captcha(request):
        form = CaptchaTestForm(initial=typed_values(form))
    elif form.is_valid():
        accepted_matricule = form.cleaned_data["matricule"]
        form = CaptchaTestForm()
    return HttpResponse(
        PAGE.render({"form": form, "accepted_matricule": accepted_matricule}, request)
    )


urlpatterns = [
    path("test-captcha/", captcha_form),
    *project_urlpatterns,
]
