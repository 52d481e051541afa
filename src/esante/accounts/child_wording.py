"""What the activation wizard says instead of « votre compte » once step 1 knows that a
parent is activating a minor's account: every sentence names the child (« Le mot de passe
d'Emma »). Each is a whole sentence in its two French spellings (esante.portal.elision);
translators give both the same translation, with their own genitive (Emmas Passwort,
Emma's password)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from esante.portal.elision import NamedSentence
from esante.registry.models import InsuredPerson

# Translators: each sentence comes twice, « de Zoé » and « d'Emma »; translate both alike.
SENTENCES = {
    "title": NamedSentence(
        _("Activation du compte eSanté de %(name)s"),
        _("Activation du compte eSanté d'%(name)s"),
    ),
    "security": NamedSentence(
        _("Sécurisation du compte de %(name)s"),
        _("Sécurisation du compte d'%(name)s"),
    ),
    "notice": NamedSentence(
        _(
            "Ce compte est celui de %(full_name)s. Pour accéder ensuite au DSP de votre enfant "
            "mineur, vous avez deux possibilités :"
        ),
        _(
            "Ce compte est celui d'%(full_name)s. Pour accéder ensuite au DSP de votre enfant "
            "mineur, vous avez deux possibilités :"
        ),
    ),
    "code_verified": NamedSentence(
        _(
            "Le code d'activation de %(name)s a été vérifié (matricule %(matricule)s). "
            "Cliquez sur « Etape suivante » pour continuer, ou saisissez ci-dessous un autre "
            "matricule et son code."
        ),
        _(
            "Le code d'activation d'%(name)s a été vérifié (matricule %(matricule)s). "
            "Cliquez sur « Etape suivante » pour continuer, ou saisissez ci-dessous un autre "
            "matricule et son code."
        ),
    ),
    "reactivation_heading": NamedSentence(
        _("Ce courrier réactive le compte de %(name)s"),
        _("Ce courrier réactive le compte d'%(name)s"),
    ),
    "reactivation": NamedSentence(
        _(
            "Le compte eSanté de %(name)s existe déjà : ce nouveau courrier le réactive. Son "
            "DSP est conservé ; vous choisissez un nouveau mot de passe et un nouveau moyen de "
            "réception des codes, et les sessions ouvertes sont déconnectées."
        ),
        _(
            "Le compte eSanté d'%(name)s existe déjà : ce nouveau courrier le réactive. Son "
            "DSP est conservé ; vous choisissez un nouveau mot de passe et un nouveau moyen de "
            "réception des codes, et les sessions ouvertes sont déconnectées."
        ),
    ),
    "password": NamedSentence(
        _("Le mot de passe de %(name)s"),
        _("Le mot de passe d'%(name)s"),
    ),
    "password_confirmation": NamedSentence(
        _("Confirmation du mot de passe de %(name)s"),
        _("Confirmation du mot de passe d'%(name)s"),
    ),
    "password_again": NamedSentence(
        _("Saisissez une seconde fois le mot de passe de %(name)s."),
        _("Saisissez une seconde fois le mot de passe d'%(name)s."),
    ),
    "password_advice": NamedSentence(
        _(
            "Évitez un mot de passe courant, le nom de %(name)s, son matricule ou sa date de "
            "naissance : ils sont refusés. Jusqu'à 128 caractères ; une phrase de passe est "
            "bienvenue."
        ),
        _(
            "Évitez un mot de passe courant, le nom d'%(name)s, son matricule ou sa date de "
            "naissance : ils sont refusés. Jusqu'à 128 caractères ; une phrase de passe est "
            "bienvenue."
        ),
    ),
    "password_has_matricule": NamedSentence(
        _("Le mot de passe ne doit pas contenir le matricule de %(name)s."),
        _("Le mot de passe ne doit pas contenir le matricule d'%(name)s."),
    ),
    "password_has_name": NamedSentence(
        _("Le mot de passe ne doit pas contenir le nom ou le prénom de %(name)s."),
        _("Le mot de passe ne doit pas contenir le nom ou le prénom d'%(name)s."),
    ),
    "password_has_birth_date": NamedSentence(
        _("Le mot de passe ne doit pas contenir la date de naissance de %(name)s."),
        _("Le mot de passe ne doit pas contenir la date de naissance d'%(name)s."),
    ),
    "contact": NamedSentence(
        _(
            "Choisissez le moyen par lequel vous souhaitez recevoir le code à usage unique de "
            "%(name)s (E-mail ou mobile) et cliquez sur « Valider ». Ce code sera demandé à "
            "chaque connexion au compte de %(name)s."
        ),
        _(
            "Choisissez le moyen par lequel vous souhaitez recevoir le code à usage unique "
            "d'%(name)s (E-mail ou mobile) et cliquez sur « Valider ». Ce code sera demandé à "
            "chaque connexion au compte d'%(name)s."
        ),
    ),
    "channel_warning": NamedSentence(
        _(
            "Un code reçu par SMS ou par e-mail peut être détourné (carte SIM dupliquée, "
            "messagerie piratée) : l'application d'authentification, une clé d'accès ou LuxTrust "
            "protègent mieux le compte de %(name)s."
        ),
        _(
            "Un code reçu par SMS ou par e-mail peut être détourné (carte SIM dupliquée, "
            "messagerie piratée) : l'application d'authentification, une clé d'accès ou LuxTrust "
            "protègent mieux le compte d'%(name)s."
        ),
    ),
    "otp": NamedSentence(
        _(
            "Afin de sécuriser le compte de %(name)s, veuillez saisir le code que vous venez "
            "de recevoir."
        ),
        _(
            "Afin de sécuriser le compte d'%(name)s, veuillez saisir le code que vous venez "
            "de recevoir."
        ),
    ),
    "luxtrust": NamedSentence(
        _(
            "Si vous le souhaitez (pas obligatoire) vous pouvez associer un produit LuxTrust "
            "au compte de %(name)s."
        ),
        _(
            "Si vous le souhaitez (pas obligatoire) vous pouvez associer un produit LuxTrust "
            "au compte d'%(name)s."
        ),
    ),
    "done": NamedSentence(
        _("L'activation du compte de %(name)s est terminée !"),
        _("L'activation du compte d'%(name)s est terminée !"),
    ),
    "done_dsp": NamedSentence(
        _("Vous pouvez vous connecter au DSP de %(name)s."),
        _("Vous pouvez vous connecter au DSP d'%(name)s."),
    ),
    "done_login": NamedSentence(
        _(
            "Pour vous connecter au DSP de %(name)s, cliquez sur le bouton « Connexion » et "
            "ensuite sur « PATIENT », puis introduisez le numéro de matricule de %(name)s, le "
            "mot de passe que vous avez défini et le code reçu par SMS ou e-mail."
        ),
        _(
            "Pour vous connecter au DSP d'%(name)s, cliquez sur le bouton « Connexion » et "
            "ensuite sur « PATIENT », puis introduisez le numéro de matricule d'%(name)s, le "
            "mot de passe que vous avez défini et le code reçu par SMS ou e-mail."
        ),
    ),
}


def child_wording(child: InsuredPerson, matricule: str = "") -> dict[str, str]:
    """Every sentence naming `child`, by key, for the wizard's templates ({{ child.title }})."""
    return {
        key: sentence(child.first_name, full_name=child.full_name, matricule=matricule)
        for key, sentence in SENTENCES.items()
    }
