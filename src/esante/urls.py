from __future__ import annotations

from captcha import views as captcha_views
from django.apps import apps
from django.contrib import admin
from django.urls import include, path

from esante import observability
from esante.accounts.activation import views as activation_views
from esante.accounts.login import views as login_views
from esante.accounts.my_account import views as account_views
from esante.portal import views as portal_views
from esante.portal.captcha import captcha_audio
from esante.provider import views as provider_views
from esante.ratelimit import rate_limited

# The public pages (namespace "portal"): the portal's own, and where the accounts' journeys
# start, the activation page (its CGU) and the login choice. Named here, above both apps.
portal_pages = [
    path("", portal_views.home, name="home"),
    path("activation/", activation_views.activation_page, name="activation"),
    path("services/", portal_views.services, name="services"),
    path("teleconsultation/", portal_views.teleconsultation, name="teleconsultation"),
    path("connexion/", login_views.login_choice, name="login_choice"),
    path("favicon.ico", portal_views.favicon, name="favicon"),
]

urlpatterns = [
    path("healthz", observability.healthz, name="healthz"),
    path(
        ".well-known/openid-configuration",
        provider_views.openid_configuration,
        name="openid_configuration",
    ),
    path("readyz", observability.readyz, name="readyz"),
    # Our audio view takes the place of django-simple-captcha's (same URL and name, first);
    # both it and the refresh view are rate limited per IP.
    path(
        "captcha/audio/<str:key>.wav",
        rate_limited("captcha.audio")(captcha_audio),
        name="captcha-audio",
    ),
    path(
        "captcha/refresh/",
        rate_limited("captcha.refresh")(captcha_views.captcha_refresh),
        name="captcha-refresh",
    ),
    path("captcha/", include("captcha.urls")),
    # Django's language menu view, which also saves a logged-in patient's choice.
    path("i18n/setlang/", account_views.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("", include("esante.fhir.urls")),
    path("", include("esante.provider.urls")),
    path("helpdesk/", include("esante.helpdesk.urls")),
    # The dev outbox, where the demo app is installed (demo mode only).
    *([path("dev/", include("esante.demo.urls"))] if apps.is_installed("esante.demo") else []),
    path("activation/", include("esante.accounts.activation.urls")),
    path("professionnel/", include("esante.practice.urls")),
    path("", include("esante.accounts.urls")),
    path("", include("esante.records.urls")),
    path("", include((portal_pages, "portal"))),
]

handler500 = "esante.portal.errors.server_error"
