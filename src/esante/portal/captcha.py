"""The captcha of the activation forms: django-simple-captcha, with digits read aloud too.

- `digits_challenge`: the challenge (`CAPTCHA_CHALLENGE_FUNCT`), digits only, because
  digits are what the audio alternative can say in French, German and English.
- `CaptchaField`: django-simple-captcha's field with French messages and our widget
  (`portal/captcha/widget.html`: image, audio, refresh button, labelled input).
- `wants_new_captcha` and `typed_values`: the refresh button without JavaScript.
- `captcha_audio`: the audio alternative, a view that takes the place of
  django-simple-captcha's (that one needs the `flite` program); the recording itself,
  disguised against template matching, is made by `esante.portal.spoken_digits`.

django-simple-captcha's test mode (`ESANTE_CAPTCHA_TEST_MODE`, see settings.py) accepts
the answer `PASSED`; `captcha.conf.settings` reads it once, at import.
"""

from __future__ import annotations

import re
import secrets
import string
from typing import Any

from captcha.fields import CaptchaField as SimpleCaptchaField
from captcha.fields import CaptchaTextInput
from captcha.models import CaptchaStore
from django import forms
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from esante.portal.spoken_digits import spoken_challenge

# The name of the refresh button: a POST that carries it asks for a new captcha.
REFRESH_BUTTON_NAME = "refresh_captcha"


def digits_challenge() -> tuple[str, str]:
    """`CAPTCHA_LENGTH` random digits: the text drawn in the image, and the answer."""
    digits = "".join(secrets.choice(string.digits) for _ in range(settings.CAPTCHA_LENGTH))
    return digits, digits


class CaptchaWidget(CaptchaTextInput):
    """The image, its audio alternative, the refresh button and the labelled input.

    django-simple-captcha's widget is a MultiWidget: `<name>_0` carries the captcha's
    key (hidden), `<name>_1` the answer. A new key is made at each render.
    """

    template_name = "portal/captcha/widget.html"

    def audio_url(self) -> str:
        return reverse("captcha-audio", kwargs={"key": self._key})

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        # The input needs an id for its <label>, even in a form built with auto_id=False.
        attrs = {"id": f"id_{name}", **(attrs or {})}
        context: dict[str, Any] = super().get_context(name, value, attrs)
        field_id = context["widget"]["attrs"]["id"]
        key_input, answer_input = context["widget"]["subwidgets"]
        key_input["attrs"].pop("aria-invalid", None)
        answer_attrs = answer_input["attrs"]
        described_by = [f"{field_id}_help"]
        if answer_attrs.get("aria-invalid"):
            # Django's form templates render the field's errors with this id.
            described_by.append(f"{field_id}_error")
        answer_attrs.update(
            {
                "inputmode": "numeric",
                "autocomplete": "off",
                "aria-describedby": " ".join(described_by),
                "class": "captcha-input",
            }
        )
        width, height = settings.CAPTCHA_IMAGE_SIZE
        context.update(
            {
                "field_id": field_id,
                "key_input": key_input,
                "answer_input": answer_input,
                "image_width": width,
                "image_height": height,
                "refresh_url": self.refresh_url(),
                "refresh_button_name": REFRESH_BUTTON_NAME,
            }
        )
        return context


class CaptchaField(SimpleCaptchaField):
    """django-simple-captcha's field, in French, with our widget.

    A wrong or expired answer fails, and the key is spent either way: the form comes
    back with a new image.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Captcha"))
        kwargs.setdefault("widget", CaptchaWidget())
        kwargs["error_messages"] = {
            "required": _("Recopiez les chiffres du captcha."),
            "invalid": _(
                "Le captcha ne correspond pas. Recopiez les chiffres de la nouvelle image."
            ),
            **kwargs.get("error_messages", {}),
        }
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Any:
        # "12 345" is the answer 12345: spaces typed between the digits do not count.
        if isinstance(value, list | tuple) and len(value) == 2:
            value = [value[0], "".join((value[1] or "").split())]
        return super().clean(value)


def wants_new_captcha(request: HttpRequest) -> bool:
    """Whether this POST is the captcha's refresh button rather than the form's submission.

    Without JavaScript the refresh button submits the form (`formnovalidate`, so even an
    incomplete one). The view then shows the same form again, with what the visitor typed,
    no error, and a new captcha — the widget makes a new one at each render::

        def activation_code(request: HttpRequest) -> HttpResponse:
            form = ActivationCodeForm(request.POST or None)
            if wants_new_captcha(request):
                form = ActivationCodeForm(initial=typed_values(form))
            elif form.is_valid():
                ...  # the one action, then redirect to the next step
            return render(request, "accounts/activation_code.html", {"form": form})

    (With JavaScript the button fetches a new captcha in place and this POST never comes.)
    """
    return request.method == "POST" and REFRESH_BUTTON_NAME in request.POST


def typed_values(form: forms.BaseForm) -> dict[str, Any]:
    """The values typed in a bound `form`, but the captcha's, as `initial` for a new form.

    Nothing is validated: validating would spend the captcha and show errors the visitor
    has not asked for. Files cannot come back as initial values and are left out; a
    password comes back only where its widget renders its value (Django's does not).
    """
    return {
        name: form[name].data
        for name, field in form.fields.items()
        if not isinstance(field, SimpleCaptchaField | forms.FileField)
    }


HASHKEY = re.compile(r"[0-9a-f]{40}")


@require_safe
@never_cache
def captcha_audio(request: HttpRequest, key: str) -> HttpResponse:
    """The captcha's digits read aloud in the visitor's language (`<audio>` and its link).

    Not cacheable: each answer is a new recording, and the key is a one-time secret.
    A key that is not one (40 hex digits) is not looked up: PostgreSQL refuses some
    characters (NUL) in a query, and nothing else could match anyway.
    """
    if not HASHKEY.fullmatch(key):
        raise Http404
    store = CaptchaStore.objects.filter(hashkey=key, expiration__gt=timezone.now()).first()
    if store is None:
        raise Http404
    response = HttpResponse(
        spoken_challenge(store.challenge, get_language()), content_type="audio/wav"
    )
    response["Content-Disposition"] = 'inline; filename="captcha.wav"'
    return response
