from __future__ import annotations

from django.urls import path

from esante.accounts.activation import letter_views
from esante.accounts.login import provider_views, recovery_views
from esante.accounts.login import views as login_views
from esante.accounts.my_account import passkey_views, step_up_views
from esante.accounts.my_account import views as account_views

app_name = "patient"

urlpatterns = [
    path("connexion/patient/", login_views.login, name="login"),
    path("connexion/patient/code/", login_views.login_code, name="login_code"),
    path("connexion/fournisseur/<slug:slug>/", provider_views.start, name="oidc_start"),
    path(
        "connexion/fournisseur/<slug:slug>/retour/", provider_views.callback, name="oidc_callback"
    ),
    path(
        "connexion/cle-d-acces/options/", passkey_views.login_options, name="passkey_login_options"
    ),
    path("connexion/cle-d-acces/", passkey_views.login, name="passkey_login"),
    path("cles-d-acces/options/", passkey_views.register_options, name="passkey_register_options"),
    path("cles-d-acces/", passkey_views.register, name="passkey_register"),
    path("cles-d-acces/<int:passkey_id>/supprimer/", passkey_views.delete, name="passkey_delete"),
    path("deconnexion/", login_views.logout, name="logout"),
    path("mes-services/", login_views.services, name="services"),
    path("mot-de-passe-oublie/", recovery_views.recovery, name="recovery"),
    path("mot-de-passe-oublie/code/", recovery_views.recovery_code, name="recovery_code"),
    path(
        "mot-de-passe-oublie/nouveau/",
        recovery_views.recovery_password,
        name="recovery_password",
    ),
    path("mon-compte/", account_views.my_account, name="account"),
    path("mon-compte/mot-de-passe/", account_views.password, name="password"),
    path("mon-compte/mot-de-passe/code/", account_views.password_code, name="password_code"),
    path("mon-compte/contact/", account_views.contact, name="contact"),
    path(
        "mon-compte/fournisseur/<slug:slug>/dissocier/",
        account_views.unlink,
        name="identity_unlink",
    ),
    path("mon-compte/contact/code/", account_views.contact_code, name="contact_code"),
    path(
        "mon-compte/nouveau-courrier/<int:request_id>/annuler/",
        letter_views.cancel_mine,
        name="letter_cancel_mine",
    ),
    path(
        "nouveau-courrier/annuler/<str:token>/", letter_views.cancel_by_link, name="letter_cancel"
    ),
    path("mon-compte/confirmer/", step_up_views.step_up, name="step_up"),
    path("mon-compte/confirmer/code/", step_up_views.step_up_code, name="step_up_code"),
    path(
        "mon-compte/confirmer/cle-d-acces/options/",
        step_up_views.passkey_options,
        name="step_up_passkey_options",
    ),
    path("mon-compte/confirmer/cle-d-acces/", step_up_views.passkey, name="step_up_passkey"),
]
