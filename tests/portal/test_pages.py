"""The portal's public pages: each renders in FR, DE and EN inside the full frame."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings as django_settings
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.portal.html import HtmlPage, parse

PAGES = [
    "portal:home",
    "portal:activation",
    "portal:services",
    "portal:teleconsultation",
    "portal:login_choice",
]
LANGUAGES = ["fr", "de", "en"]
MENU = ["ACTIVATION COMPTE ESANTE", "ACCÈS SERVICES ESANTE (DSP,…)", "ACCÈS TÉLÉCONSULTATION"]
PHONE = "(+352) 27 12 50 18 33"
PHONE_URI = "tel:+3522712501833"


def in_language(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def get(client: Client, url: str, language: str = "fr") -> tuple[Any, HtmlPage]:
    response = client.get(url, headers={"accept-language": language})
    return response, parse(response.content)


def assert_in_portal_frame(page: HtmlPage, language: str) -> None:
    assert page.find_all("html")[0].attrs["lang"] == language
    assert len(page.find_all("h1")) == 1
    assert len(page.find_all("main")) == 1
    assert page.find_all("header") and page.find_all("footer")
    # Skip link first, to the main landmark.
    assert page.find_all("a")[0].attrs == {"class": "skip-link", "href": "#contenu"}
    assert page.find_all("main")[0].attrs["id"] == "contenu"
    # Helpdesk phone as a tel: link, in the header and in the footer.
    assert len(page.links_to(PHONE_URI)) >= 2
    assert PHONE in page.text
    assert page.links_to(f"mailto:{django_settings.ESANTE_HELPDESK_EMAIL}")
    assert "B.P 2511 L-1025 Luxembourg" in page.text
    # The menu: PATIENTS, a disclosure holding the three entries, in the page's language.
    (nav,) = [n for n in page.find_all("nav") if n.attrs.get("class") == "main-nav"]
    assert nav.attrs["aria-label"] == in_language(language, "Menu principal")
    (summary,) = page.find_all("summary")
    assert summary.inside("details") and summary.inside("nav")
    assert summary.text == in_language(language, "PATIENTS")
    menu_links = [a for a in page.find_all("a") if a.inside("details")]
    assert [a.text for a in menu_links] == [in_language(language, label) for label in MENU]
    assert [a.attrs["href"] for a in menu_links] == [
        "/activation/",
        "/services/",
        "/teleconsultation/",
    ]
    # The header's Connexion button leads to the login choice.
    (login,) = [a for a in page.links_to("/connexion/") if a.inside("header")]
    assert login.text == in_language(language, "Connexion")


def assert_no_inline_code(page: HtmlPage) -> None:
    """The CSP allows only 'self': no style attribute, inline style or script, no on* handler."""
    assert not page.find_all("style")
    for element in page.elements:
        assert "style" not in element.attrs, element
        assert not [name for name in element.attrs if name.startswith("on")], element
    for script in page.find_all("script"):
        assert script.attrs.get("src", "").startswith("/static/"), script


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", PAGES)
def test_every_page_renders_in_each_language(client: Client, name: str, language: str) -> None:
    response, page = get(client, reverse(name), language)
    assert response.status_code == 200
    assert response["Content-Language"] == language
    assert_in_portal_frame(page, language)
    assert_no_inline_code(page)
    assert not page.dangling_references()


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_language_cookie_chooses_the_language(client: Client, language: str) -> None:
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    _, page = get(client, reverse("portal:activation"), "fr")
    assert_in_portal_frame(page, language)
    assert page.find_all("h1")[0].text == in_language(language, "ACTIVATION DE MON COMPTE ESANTÉ")


def test_french_is_the_default_language(client: Client) -> None:
    response = client.get("/", headers={"accept-language": "es, it;q=0.8"})
    assert parse(response.content).find_all("html")[0].attrs["lang"] == "fr"


def test_the_language_menu_posts_to_set_language_without_javascript(client: Client) -> None:
    _, page = get(client, "/services/?from=test", "de")
    (form,) = page.find_all("form", action="/i18n/setlang/")
    assert form.attrs["method"] == "post"
    assert form.inside("header")
    assert page.find_all("input", name="next")[0].attrs["value"] == "/services/?from=test"
    assert page.find_all("input", name="csrfmiddlewaretoken")
    buttons = page.find_all("button", name="language")
    assert [(b.attrs["value"], b.attrs["lang"], b.text) for b in buttons] == [
        ("fr", "fr", "Français"),
        ("de", "de", "Deutsch"),
        ("en", "en", "English"),
    ]
    assert [b.attrs.get("aria-current") for b in buttons] == [None, "true", None]


def test_choosing_a_language_returns_to_the_same_page_in_that_language(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/activation/"})
    assert response.status_code == 302
    assert response["Location"] == "/activation/"
    _, page = get(client, "/activation/", "fr")
    assert page.find_all("html")[0].attrs["lang"] == "en"


def test_home_presents_the_account_with_the_guides_banner(client: Client) -> None:
    _, page = get(client, "/")
    assert page.find_all("h1")[0].text == "PORTAIL E-SANTÉ"
    assert "Votre porte d'accès aux services et infos e-santé" in page.text
    assert (
        "Activez votre compte eSanté et accédez à plusieurs services de santé en ligne! Ce compte "
        "vous donne accès au DSP (Dossier de Soins Partagé), au remboursement accéléré des "
        "mémoires d'honoraires et bientôt au carnet de vaccination électronique et à la "
        "prescription digitale."
    ) in page.text
    call_to_action = [
        a for a in page.links_to("/activation/") if "button" in a.attrs.get("class", "")
    ]
    assert call_to_action and call_to_action[0].inside("main")
    assert call_to_action[0].text == "ACTIVATION COMPTE ESANTE"


def test_activation_page_lists_the_guides_prerequisites_and_help(client: Client) -> None:
    _, page = get(client, "/activation/")
    assert page.find_all("h1")[0].text == "ACTIVATION DE MON COMPTE ESANTÉ"
    assert (
        "Activez votre compte en quelques clics pour accéder aux services eSanté, notamment à "
        "votre DSP"
    ) in page.text
    assert "PRÉ-REQUIS" in [h2.text for h2 in page.find_all("h2")]
    (checklist,) = page.find_all("ul", class_="checklist")
    assert [li.text for li in page.find_all("li") if li.parent is checklist] == [
        "Courrier envoyé par l'Agence eSanté contenant votre code d'activation",
        "Votre numéro de matricule (à 11 ou 13 chiffres)",
        "Votre adresse email personnelle ou votre numéro de téléphone portable",
        "OPTIONNEL: Un dispositif LuxTrust dûment activé (Token, Smartcard ou carte "
        "d'identité électronique)",
    ]
    headings = [h2.text for h2 in page.find_all("h2")]
    assert "Vous ne retrouvez plus votre courrier d'activation ?" in headings
    assert "Des difficultés pour activer votre compte eSanté ?" in headings
    assert len([a for a in page.links_to(PHONE_URI) if a.inside("main")]) == 2
    # Then the CGU, and the one form of the page: the checkbox and « Activer mon compte ».
    forms = [e for e in page.elements if e.tag == "form" and e.inside("main")]
    assert [form.attrs["action"] for form in forms] == ["/activation/commencer/"]


def test_services_page_explains_the_services_and_how_to_log_in(client: Client) -> None:
    _, page = get(client, "/services/")
    for service in [
        "DSP (Dossier de Soins Partagé)",
        "Remboursement accéléré",
        "Carnet de vaccination électronique",
        "Prescription électronique",
        "Téléconsultation",
    ]:
        assert any(h3.text.startswith(service) for h3 in page.find_all("h3")), service
    assert "Cliquez sur le bouton « Connexion » en haut de la page." in page.text
    assert "Choisissez ensuite « PATIENT »." in page.text
    assert [a for a in page.links_to("/connexion/") if a.inside("main")]


def test_services_page_says_an_assistant_needs_a_dsp_and_whom_to_call(client: Client) -> None:
    """Guide p. 14, after the two ways to reach a minor's DSP."""
    _, page = get(client, "/services/")
    sentence = (
        "Pour cela vous devez avoir votre DSP. Si ce n'est pas le cas, contactez le Helpdesk "
        "pour savoir comment procéder."
    )
    assert sentence in page.text
    assert page.text.index("Assistant DSP") < page.text.index(sentence)
    (minor,) = page.find_all("section", id="enfant-mineur")
    assert [a for a in page.links_to(PHONE_URI) if minor in a.enclosing()]
    assert [
        a for a in page.find_all("a") if "helpdesk" in a.attrs["href"] and minor in a.enclosing()
    ]


def test_teleconsultation_page_links_to_the_platform(client: Client, settings: Any) -> None:
    settings.ESANTE_TELECONSULTATION_URL = "https://teleconsultation.example.lu/start"
    _, page = get(client, "/teleconsultation/")
    (link,) = page.links_to("https://teleconsultation.example.lu/start")
    assert link.text == "Accéder à la plateforme de téléconsultation"
    assert page.links_to("tel:112")


def test_login_choice_explains_both_ways_and_has_no_fake_form(client: Client) -> None:
    _, page = get(client, "/connexion/")
    assert page.find_all("h1")[0].text == "Connexion"
    cards = [h3.text for h3 in page.find_all("h3")]
    assert "Connexion LuxTrust" in cards
    assert "Matricule, mot de passe et code" in cards
    assert [a for a in page.links_to("/activation/") if a.inside("main")]
    assert not [e for e in page.elements if e.tag in ("form", "input") and e.inside("main")]


def test_patient_on_the_login_choice_is_a_link_to_the_patients_means(client: Client) -> None:
    """Guide p. 11: « cliquez sur le bouton « Connexion » et ensuite sur « PATIENT » »; then
    p. 12, the means of authentication."""
    _, page = get(client, "/connexion/")

    (patient,) = [a for a in page.find_all("a") if a.text == "PATIENT"]
    assert patient.inside("main")
    (profile,) = [e for e in patient.enclosing() if e.tag == "section"]
    (profile_title,) = page.find_all("h2", id=profile.attrs["aria-labelledby"])
    assert profile_title.text == "Vous êtes"
    assert profile_title.parent is profile
    # The link leads to the section holding both means, labelled by its heading.
    assert patient.attrs["href"] == "#patient"
    (means,) = page.find_all("section", id="patient")
    (means_title,) = page.find_all("h2", id=means.attrs["aria-labelledby"])
    assert means_title.text == "Connexion au DSP"
    assert means_title.parent is means
    ways = [h3 for h3 in page.find_all("h3") if means in h3.enclosing()]
    assert [h3.text for h3 in ways] == ["Connexion LuxTrust", "Matricule, mot de passe et code"]
    assert page.elements.index(patient) < page.elements.index(means)


def test_patient_leads_to_a_section_that_takes_the_focus_and_is_framed(client: Client) -> None:
    """At 1280×900 the means are already in view: following PATIENT scrolls nothing, so
    the targeted section takes the focus and is framed (portal.css .login-means:target)."""
    _, page = get(client, "/connexion/")

    means = page.by_id("patient")
    assert means.attrs["tabindex"] == "-1"
    assert "login-means" in means.attrs["class"].split()


def test_the_not_yet_activated_box_is_a_suggestion_with_a_link(client: Client) -> None:
    _, page = get(client, "/connexion/")

    (title,) = [h2 for h2 in page.find_all("h2") if h2.text == "Pas encore de compte ?"]
    box = title.parent
    assert box is not None
    assert box.attrs["class"].split() == ["notice", "notice-info"]
    assert "Activez-le d'abord avec votre courrier." in page.text
    assert [a for a in page.links_to("/activation/") if box in a.enclosing()]
    assert "doit d'abord être activé" not in page.text


def test_login_choice_uses_the_guides_words(client: Client) -> None:
    """Guide p. 12, as printed."""
    _, page = get(client, "/connexion/")
    for sentence in (
        "Cliquez sur le moyen d'authentification souhaité :",
        "SI VOUS AVEZ ASSOCIÉ UN PRODUIT LUXTRUST à votre compte, cliquez sur « Connexion ».",
        "SI VOUS N'AVEZ PAS ASSOCIÉ UN PRODUIT LUXTRUST à votre compte cliquez sur « Matricule, "
        "mot de passe et code » et introduisez: votre numéro de matricule le mot de passe que "
        "vous avez défini le code reçu par SMS ou e-mail",
    ):
        assert sentence in page.text


def test_public_pages_do_not_open_a_session(client: Client) -> None:
    for name in PAGES:
        response = client.get(reverse(name))
        assert django_settings.SESSION_COOKIE_NAME not in response.cookies, name


def test_static_assets_are_served_by_the_app(client: Client) -> None:
    _, page = get(client, "/")
    assets = [link.attrs["href"] for link in page.find_all("link")]
    assets += [script.attrs["src"] for script in page.find_all("script")]
    assets += [img.attrs["src"] for img in page.find_all("img")]
    assert assets
    for url in assets:
        assert url.startswith("/static/esante/"), url
        response = client.get(url)
        assert response.status_code == 200, url
        b"".join(response.streaming_content)  # type: ignore[attr-defined]


# ---- Error pages ---------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_unknown_address_gets_the_friendly_404_page(client: Client, language: str) -> None:
    response, page = get(client, "/cette-page-n-existe-pas/", language)
    assert response.status_code == 404
    assert page.find_all("h1")[0].text == in_language(language, "Page introuvable")
    assert_in_portal_frame(page, language)
    assert page.links_to("/")


@pytest.mark.urls("tests.portal.error_urls")
@pytest.mark.parametrize(
    ("url", "status", "title"),
    [
        ("/test-errors/500/", 500, "Une erreur technique est survenue"),
        ("/test-errors/403/", 403, "Accès refusé"),
        ("/test-errors/400/", 400, "Requête incorrecte"),
    ],
)
@pytest.mark.parametrize("language", LANGUAGES)
def test_errors_get_a_friendly_page_never_a_stack_trace(
    url: str, status: int, title: str, language: str
) -> None:
    client = Client(raise_request_exception=False)
    response, page = get(client, url, language)
    assert response.status_code == status
    assert page.find_all("html")[0].attrs["lang"] == language
    assert page.find_all("h1")[0].text == in_language(language, title)
    assert PHONE in page.text
    assert "Traceback" not in page.text
    assert "a bug in a view" not in page.text
    assert "a tampered request" not in page.text


def test_the_500_page_renders_without_a_request() -> None:
    """django.views.defaults.server_error renders it with no context processor."""
    with translation.override("fr"):
        page = parse(render_to_string("500.html"))
    assert page.find_all("h1")[0].text == "Une erreur technique est survenue"
    assert page.links_to(PHONE_URI)
    assert not page.find_all("form")


def test_a_refused_csrf_check_gets_the_friendly_page() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/i18n/setlang/", {"language": "de", "next": "/"})
    assert response.status_code == 403
    page = parse(response.content)
    assert page.find_all("h1")[0].text == "Formulaire expiré"
    assert PHONE in page.text


def test_demo_mode_points_to_the_dev_outbox(client: Client, settings: Any) -> None:
    settings.ESANTE_DEMO = True
    _, page = get(client, "/")
    assert page.links_to("/dev/outbox/")
    settings.ESANTE_DEMO = False
    _, page = get(client, "/")
    assert not page.links_to("/dev/outbox/")
