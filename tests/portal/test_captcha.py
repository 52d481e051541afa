"""The captcha (esante.portal.captcha) in a test-only form: answers, image, audio, refresh."""

from __future__ import annotations

import datetime
import io
import json
import string
import wave
from pathlib import Path
from typing import Any

import pytest
import time_machine
from captcha.conf import settings as captcha_settings
from captcha.models import CaptchaStore
from django.contrib.staticfiles import finders
from django.core.files.storage import FileSystemStorage
from django.test import Client
from django.urls import resolve, reverse
from django.utils import timezone

from esante.portal import captcha, spoken_digits
from tests.portal.captcha_urls import URL
from tests.portal.html import HtmlPage, parse

pytestmark = [pytest.mark.urls("tests.portal.captcha_urls"), pytest.mark.django_db]

WRONG_ANSWER = "Le captcha ne correspond pas. Recopiez les chiffres de la nouvelle image."
NO_ANSWER = "Recopiez les chiffres du captcha."


def captcha_key(page: HtmlPage) -> str:
    (key_input,) = page.find_all("input", name="captcha_0")
    return key_input.attrs["value"]


def show_form(client: Client) -> tuple[HtmlPage, str]:
    response = client.get(URL)
    assert response.status_code == 200
    page = parse(response.content)
    return page, captcha_key(page)


def answer_of(key: str) -> str:
    return str(CaptchaStore.objects.get(hashkey=key).response)


def submit(client: Client, key: str, answer: str, **extra: str) -> HtmlPage:
    data = {"matricule": "1985061512345", "captcha_0": key, "captcha_1": answer} | extra
    response = client.post(URL, data)
    assert response.status_code == 200
    return parse(response.content)


def accepted(page: HtmlPage) -> bool:
    return "Formulaire accepté pour 1985061512345." in page.text


def errors(page: HtmlPage) -> list[str]:
    return [
        item.text
        for item in page.find_all("li")
        if item.parent is not None and item.parent.attrs.get("class") == "errorlist"
    ]


# Answers.


def test_the_digits_read_from_the_store_pass(client: Client) -> None:
    _, key = show_form(client)
    assert accepted(submit(client, key, answer_of(key)))


def test_a_wrong_answer_fails_in_french_with_a_new_image(client: Client) -> None:
    _, key = show_form(client)
    wrong = "00000" if answer_of(key) != "00000" else "11111"
    page = submit(client, key, wrong)
    assert not accepted(page)
    assert errors(page) == [WRONG_ANSWER]
    assert captcha_key(page) != key
    (answer,) = page.find_all("input", name="captcha_1")
    assert answer.attrs.get("value", "") == ""
    # The input says it is wrong, and points at the error Django renders with the field.
    assert answer.attrs["aria-invalid"] == "true"
    assert answer.attrs["aria-describedby"] == "id_captcha_help id_captcha_error"
    assert page.find_all("ul", id="id_captcha_error")


def test_an_empty_answer_is_asked_for(client: Client) -> None:
    _, key = show_form(client)
    page = submit(client, key, "")
    assert errors(page) == [NO_ANSWER]


def test_a_captcha_works_once(client: Client) -> None:
    _, key = show_form(client)
    answer = answer_of(key)
    assert accepted(submit(client, key, answer))
    page = submit(client, key, answer)
    assert errors(page) == [WRONG_ANSWER]


def test_a_wrong_answer_spends_the_captcha(client: Client) -> None:
    _, key = show_form(client)
    answer = answer_of(key)
    submit(client, key, "x")
    assert errors(submit(client, key, answer)) == [WRONG_ANSWER]


def test_spaces_between_the_digits_do_not_count(client: Client) -> None:
    _, key = show_form(client)
    answer = answer_of(key)
    assert accepted(submit(client, key, f" {answer[:2]} {answer[2:]} "))


def test_an_expired_captcha_is_refused(client: Client) -> None:
    _, key = show_form(client)
    answer = answer_of(key)
    later = timezone.now() + datetime.timedelta(minutes=captcha_settings.CAPTCHA_TIMEOUT, seconds=1)
    with time_machine.travel(later):
        assert errors(submit(client, key, answer)) == [WRONG_ANSWER]


def test_the_test_mode_accepts_passed(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """ESANTE_CAPTCHA_TEST_MODE (refused at start-up in production: tests/test_settings.py)."""
    _, key = show_form(client)
    assert errors(submit(client, key, "PASSED")) == [WRONG_ANSWER]
    # captcha.conf.settings reads CAPTCHA_TEST_MODE once, at import.
    monkeypatch.setattr(captcha_settings, "CAPTCHA_TEST_MODE", True)
    _, key = show_form(client)
    assert accepted(submit(client, key, "PASSED"))


def test_the_challenge_is_digits_only() -> None:
    for _ in range(20):
        challenge, response = captcha.digits_challenge()
        assert challenge == response
        assert len(challenge) == 5
        assert set(challenge) <= set(string.digits)


# The widget.


def test_the_widget_is_labelled_described_and_refreshable(client: Client) -> None:
    page, key = show_form(client)
    (legend,) = page.find_all("legend")
    assert legend.text.startswith("Captcha")
    (image,) = page.find_all("img", class_="captcha-image")
    assert image.attrs["src"] == reverse("captcha-image", kwargs={"key": key})
    assert image.attrs["alt"] == "Image du captcha : des chiffres à recopier"
    assert answer_of(key) not in image.attrs["alt"]
    audio_url = reverse("captcha-audio", kwargs={"key": key})
    (audio,) = page.find_all("audio")
    assert audio.attrs["src"] == audio_url
    assert "controls" in audio.attrs
    assert page.links_to(audio_url)[0].text == "Télécharger la version audio (WAV)"
    (answer,) = page.find_all("input", name="captcha_1")
    assert answer.attrs["inputmode"] == "numeric"
    assert answer.attrs["autocomplete"] == "off"
    (label,) = page.find_all("label", for_="id_captcha_1")
    assert label.text == "Chiffres du captcha"
    (help_text,) = page.find_all("p", id=answer.attrs["aria-describedby"])
    assert "chiffres" in help_text.text
    assert page.find_all("p", role="status")
    # Enter in a field submits with the form's first submit button: a hidden plain one,
    # before the refresh button.
    default, refresh = [button for button in page.find_all("button") if button.inside("fieldset")]
    assert default.attrs["type"] == "submit" and "hidden" in default.attrs
    assert "name" not in default.attrs
    assert refresh.text == "Nouveau captcha"
    assert (refresh.attrs["type"], refresh.attrs["name"]) == ("submit", "refresh_captcha")
    assert "formnovalidate" in refresh.attrs
    assert all(element.inside("fieldset") for element in (image, audio, answer, label))


# The no-JavaScript refresh.


def test_the_refresh_button_keeps_what_was_typed_and_shows_a_new_captcha(client: Client) -> None:
    _, key = show_form(client)
    response = client.post(
        URL,
        {"matricule": "1985061512345", "captcha_0": key, "captcha_1": "", "refresh_captcha": "1"},
    )
    page = parse(response.content)
    (matricule,) = page.find_all("input", name="matricule")
    assert matricule.attrs["value"] == "1985061512345"
    assert captcha_key(page) != key
    assert errors(page) == []
    assert not accepted(page)


def test_wants_new_captcha_only_for_the_refresh_button(rf: Any) -> None:
    assert captcha.wants_new_captcha(rf.post("/", {"refresh_captcha": "1"}))
    assert not captcha.wants_new_captcha(rf.post("/", {"matricule": "1"}))
    assert not captcha.wants_new_captcha(rf.get("/", {"refresh_captcha": "1"}))


# The JavaScript refresh: django-simple-captcha's JSON view.


def test_the_refresh_view_gives_a_new_captcha(client: Client) -> None:
    _, key = show_form(client)
    response = client.get(
        reverse("captcha-refresh"), headers={"x-requested-with": "XMLHttpRequest"}
    )
    assert response.status_code == 200
    new = json.loads(response.content)
    assert new["key"] != key
    assert new["image_url"] == reverse("captcha-image", kwargs={"key": new["key"]})
    assert CaptchaStore.objects.filter(hashkey=new["key"]).exists()


# The image.


def test_the_image_is_a_png(client: Client) -> None:
    _, key = show_form(client)
    response = client.get(reverse("captcha-image", kwargs={"key": key}))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")


# The audio.


def audio_of(client: Client, key: str, language: str = "fr") -> wave.Wave_read:
    response = client.get(
        reverse("captcha-audio", kwargs={"key": key}), headers={"accept-language": language}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    return wave.open(io.BytesIO(response.content), "rb")


def spoken_seconds(challenge: str, language: str) -> tuple[float, float]:
    """The shortest and longest recording of `challenge` from `language`'s clips.

    Each clip is played up to 15 % faster or slower, and may overlap the one before by
    up to a fifth of the shorter of the two.
    """
    sd = spoken_digits
    clips = sum(len(sd.digit_clips(language)[digit]) for digit in challenge)
    seconds = clips / sd.SAMPLE_RATE
    gaps = len(challenge) - 1
    lowest = (
        seconds / (1 + sd.MAX_SPEED_CHANGE) * (1 - sd.MAX_OVERLAP)
        + sd.LEAD_IN_SECONDS[0]
        + sd.TAIL_SECONDS[0]
    )
    highest = (
        seconds / (1 - sd.MAX_SPEED_CHANGE)
        + len(challenge) * 2 * sd.GROUP_DELAY_MARGIN / sd.SAMPLE_RATE
        + sd.LEAD_IN_SECONDS[1]
        + gaps * sd.GAP_SECONDS[1]
        + sd.TAIL_SECONDS[1]
    )
    return lowest, highest


@pytest.mark.parametrize("language", ["fr", "de", "en"])
def test_the_audio_is_a_wav_of_the_digits_in_the_visitors_language(
    client: Client, language: str
) -> None:
    store = CaptchaStore.objects.create(challenge="90817", response="90817")
    recording = audio_of(client, store.hashkey, language)
    assert (recording.getnchannels(), recording.getsampwidth()) == (1, 2)
    assert recording.getframerate() == spoken_digits.SAMPLE_RATE
    seconds = recording.getnframes() / recording.getframerate()
    lowest, highest = spoken_seconds("90817", language)
    assert lowest <= seconds <= highest + 0.001


def test_more_digits_make_a_longer_recording(client: Client) -> None:
    short = CaptchaStore.objects.create(challenge="12", response="12")
    long = CaptchaStore.objects.create(challenge="1234567890", response="1234567890")
    assert (
        audio_of(client, long.hashkey).getnframes() > audio_of(client, short.hashkey).getnframes()
    )


def test_two_answers_for_one_captcha_differ(client: Client) -> None:
    _, key = show_form(client)
    url = reverse("captcha-audio", kwargs={"key": key})
    assert client.get(url).content != client.get(url).content


def test_the_audio_is_not_cacheable(client: Client) -> None:
    _, key = show_form(client)
    response = client.get(reverse("captcha-audio", kwargs={"key": key}))
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_an_unknown_or_expired_key_has_no_audio(client: Client) -> None:
    client.raise_request_exception = False
    assert client.get(reverse("captcha-audio", kwargs={"key": "unknown"})).status_code == 404
    _, key = show_form(client)
    later = timezone.now() + datetime.timedelta(minutes=captcha_settings.CAPTCHA_TIMEOUT, seconds=1)
    with time_machine.travel(later):
        response = client.get(reverse("captcha-audio", kwargs={"key": key}))
    assert response.status_code == 404
    assert b"Traceback" not in response.content


def test_our_audio_view_takes_the_place_of_django_simple_captchas() -> None:
    # Wrapped by the rate limit (esante.ratelimit.rate_limited), which keeps __wrapped__.
    view = resolve("/captcha/audio/0123abcd.wav").func
    assert getattr(view, "__wrapped__", None) is captcha.captcha_audio


def test_the_recorded_digits_are_small_8khz_mono_clips() -> None:
    total = 0
    for language in spoken_digits.SPOKEN_LANGUAGES:
        for digit in string.digits:
            path = spoken_digits.SOUNDS_DIR / language / f"{digit}.wav"
            with wave.open(str(path), "rb") as clip:
                assert (clip.getnchannels(), clip.getsampwidth()) == (1, 2)
                assert clip.getframerate() == 8000
                assert 0.15 < clip.getnframes() / 8000 < 1.0
            total += path.stat().st_size
    assert total < 300_000


def test_the_recorded_digits_are_not_static_files() -> None:
    """Served one by one under their names, they would give the answer away."""
    for finder in finders.get_finders():
        for path, storage in finder.list([]):
            assert not path.endswith(".wav"), path
            if isinstance(storage, FileSystemStorage):
                assert spoken_digits.SOUNDS_DIR not in Path(storage.path(path)).parents
