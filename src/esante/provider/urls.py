"""The provider's addresses: the protocol's endpoints under /oidc/, discovery where the
specification puts it (esante/urls.py), the person's *Services connectés* in *Mon compte*."""

from __future__ import annotations

from django.urls import path

from esante.provider import account_views, supervisor_views, views

app_name = "provider"

urlpatterns = [
    path("oidc/autoriser", views.authorize, name="authorize"),
    path("oidc/jeton", views.token, name="token"),
    path("oidc/userinfo", views.userinfo, name="userinfo"),
    path("oidc/revoquer", views.revoke, name="revoke"),
    path("oidc/cles", views.jwks, name="jwks"),
    path("oidc/deconnexion", views.end_session, name="end_session"),
    path("oidc/services/<str:client_id>/logo.png", views.logo, name="logo"),
    path(
        "mon-compte/services-connectes/",
        account_views.connected_services,
        name="connected_services",
    ),
    path(
        "mon-compte/services-connectes/<int:consent_id>/retirer/",
        account_views.withdraw,
        name="withdraw",
    ),
    path("helpdesk/services/", supervisor_views.services, name="supervisor_services"),
]
