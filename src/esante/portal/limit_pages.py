"""What the "try later" page (HTTP 429) says for each rule of esante.ratelimit.RATE_LIMITS:
which limit was reached, until when (the end of the rule's window, in Luxembourg time)
and what to do meanwhile.

A page depends only on the rule and the time, never on the person: a matricule without
an account meets the same page, word for word, as one with an account
(tests/accounts/test_enumeration.py). Each sentence names its rule's count and period;
tests/accounts/test_rate_limits.py checks them against the table.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils import dateformat, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy, pgettext

if TYPE_CHECKING:
    from esante.ratelimit import Rule


@dataclass(frozen=True)
class LimitPage:
    """One rule's page; each sentence in its own gettext_lazy / ngettext_lazy call, where
    makemessages finds it."""

    title: Promise  # which limit, as the page's heading
    rule: Promise  # the rule in a sentence: ngettext_lazy on "count", the rule's limit
    advice: Promise  # what to do, with "until" (the window's end)


WAIT = gettext_lazy("Attendez %(until)s avant de réessayer.")

PAGES: dict[tuple[str, str], LimitPage] = {
    ("activation.code_failed", "ip"): LimitPage(
        gettext_lazy("Trop de codes d'activation erronés depuis cette connexion Internet"),
        ngettext_lazy(
            "Au plus %(count)s code d'activation erroné est accepté par heure depuis une même "
            "connexion Internet (adresse IP), pour tous les matricules ensemble.",
            "Au plus %(count)s codes d'activation erronés sont acceptés par heure depuis une "
            "même connexion Internet (adresse IP), pour tous les matricules ensemble.",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s, puis saisissez le matricule et le code exactement comme ils "
            "figurent sur votre courrier d'activation."
        ),
    ),
    ("activation.code_failed", "key"): LimitPage(
        gettext_lazy("Trop de codes d'activation erronés pour ce matricule"),
        ngettext_lazy(
            "Au plus %(count)s code d'activation erroné est accepté par jour pour un même "
            "matricule.",
            "Au plus %(count)s codes d'activation erronés sont acceptés par jour pour un même "
            "matricule.",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s, puis saisissez le code de votre courrier d'activation le plus "
            "récent. Si vous ne l'avez plus, répondez « Non » à l'étape 1 pour en demander un "
            "nouveau, ou contactez le helpdesk."
        ),
    ),
    ("activation.new_letter", "ip"): LimitPage(
        gettext_lazy("Trop de demandes de courrier depuis cette connexion Internet"),
        ngettext_lazy(
            "Au plus %(count)s nouveau courrier d'activation peut être demandé par heure depuis "
            "une même connexion Internet (adresse IP).",
            "Au plus %(count)s nouveaux courriers d'activation peuvent être demandés par heure "
            "depuis une même connexion Internet (adresse IP).",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s avant de faire une nouvelle demande, ou contactez le helpdesk."
        ),
    ),
    ("activation.new_letter", "key"): LimitPage(
        gettext_lazy("Trop de demandes de courrier pour ce matricule"),
        ngettext_lazy(
            "Au plus %(count)s nouveau courrier d'activation peut être demandé par jour pour un "
            "même matricule.",
            "Au plus %(count)s nouveaux courriers d'activation peuvent être demandés par jour "
            "pour un même matricule.",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s avant de faire une nouvelle demande, ou contactez le helpdesk."
        ),
    ),
    ("otp.send", "ip"): LimitPage(
        gettext_lazy("Trop de codes demandés depuis cette connexion Internet"),
        ngettext_lazy(
            "Au plus %(count)s code à usage unique est envoyé par heure pour une même connexion "
            "Internet (adresse IP), toutes personnes confondues.",
            "Au plus %(count)s codes à usage unique sont envoyés par heure pour une même "
            "connexion Internet (adresse IP), toutes personnes confondues.",
            "count",
        ),
        gettext_lazy("Attendez %(until)s pour demander un nouveau code."),
    ),
    ("otp.send", "key"): LimitPage(
        gettext_lazy("Trop de codes demandés pour vous à ce numéro ou à cette adresse"),
        ngettext_lazy(
            "Au plus %(count)s code à usage unique est envoyé par heure à une même personne au "
            "même numéro de téléphone ou à la même adresse e-mail. Les autres personnes qui "
            "utilisent ce numéro, votre famille par exemple, reçoivent toujours les leurs.",
            "Au plus %(count)s codes à usage unique sont envoyés par heure à une même personne "
            "au même numéro de téléphone ou à la même adresse e-mail. Les autres personnes qui "
            "utilisent ce numéro, votre famille par exemple, reçoivent toujours les leurs.",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s ou utilisez votre adresse e-mail, là où vous pouvez choisir où "
            "recevoir le code."
        ),
    ),
    ("otp.send", "destination"): LimitPage(
        gettext_lazy("Ce numéro ou cette adresse e-mail a reçu beaucoup de codes"),
        ngettext_lazy(
            "Au plus %(count)s code à usage unique est envoyé par heure à un même numéro de "
            "téléphone ou à une même adresse e-mail, pour toutes les personnes qui l'utilisent "
            "ensemble (une famille qui partage un téléphone, par exemple).",
            "Au plus %(count)s codes à usage unique sont envoyés par heure à un même numéro de "
            "téléphone ou à une même adresse e-mail, pour toutes les personnes qui l'utilisent "
            "ensemble (une famille qui partage un téléphone, par exemple).",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s ou utilisez votre propre adresse e-mail ou votre propre numéro, "
            "là où vous pouvez choisir où recevoir le code."
        ),
    ),
    ("otp.failed", "ip"): LimitPage(
        gettext_lazy("Trop de codes erronés depuis cette connexion Internet"),
        ngettext_lazy(
            "Au plus %(count)s code à usage unique erroné est accepté par heure depuis une même "
            "connexion Internet (adresse IP), toutes personnes confondues.",
            "Au plus %(count)s codes à usage unique erronés sont acceptés par heure depuis une "
            "même connexion Internet (adresse IP), toutes personnes confondues.",
            "count",
        ),
        gettext_lazy("Attendez %(until)s, puis saisissez le dernier code reçu."),
    ),
    ("otp.failed", "key"): LimitPage(
        gettext_lazy("Trop de codes erronés pour cette personne"),
        ngettext_lazy(
            "Au plus %(count)s code à usage unique erroné est accepté par heure pour une même "
            "personne.",
            "Au plus %(count)s codes à usage unique erronés sont acceptés par heure pour une "
            "même personne.",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s, puis saisissez le dernier code reçu, sans le confondre avec un "
            "code plus ancien ni avec celui d'une autre personne."
        ),
    ),
    ("login.failed", "ip"): LimitPage(
        gettext_lazy("Trop d'erreurs de connexion depuis cette connexion Internet"),
        ngettext_lazy(
            "Au plus %(count)s matricule ou mot de passe erroné est accepté par heure depuis "
            "une même connexion Internet (adresse IP), pour tous les matricules ensemble.",
            "Au plus %(count)s matricules ou mots de passe erronés sont acceptés par heure "
            "depuis une même connexion Internet (adresse IP), pour tous les matricules "
            "ensemble.",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s avant de réessayer. Si vous avez oublié votre mot de passe, "
            "choisissez « Mot de passe oublié »."
        ),
    ),
    ("login.failed", "key"): LimitPage(
        gettext_lazy("Trop de mots de passe erronés pour ce matricule"),
        ngettext_lazy(
            "Au plus %(count)s mot de passe erroné est accepté par heure pour un même matricule.",
            "Au plus %(count)s mots de passe erronés sont acceptés par heure pour un même "
            "matricule.",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s avant de réessayer. Si vous avez oublié votre mot de passe, "
            "choisissez « Mot de passe oublié »."
        ),
    ),
    ("login.failed.device", "key"): LimitPage(
        gettext_lazy("Trop de mots de passe erronés dans ce navigateur"),
        ngettext_lazy(
            "Au plus %(count)s mot de passe erroné est accepté par heure dans un navigateur où "
            "ce compte s'est déjà connecté.",
            "Au plus %(count)s mots de passe erronés sont acceptés par heure dans un navigateur "
            "où ce compte s'est déjà connecté.",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s avant de réessayer. Si vous avez oublié votre mot de passe, "
            "choisissez « Mot de passe oublié »."
        ),
    ),
    ("letter.cancel", "ip"): LimitPage(
        gettext_lazy("Trop de liens d'annulation non valables depuis cette connexion Internet"),
        ngettext_lazy(
            "Au plus %(count)s lien d'annulation inconnu ou déjà utilisé est accepté par heure "
            "depuis une même connexion Internet (adresse IP).",
            "Au plus %(count)s liens d'annulation inconnus ou déjà utilisés sont acceptés par "
            "heure depuis une même connexion Internet (adresse IP).",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s, puis ouvrez le lien du message le plus récent tel qu'il a été "
            "reçu. Une fois connecté, vous pouvez aussi annuler le courrier depuis Mon compte, ou "
            "contacter le helpdesk."
        ),
    ),
    ("recovery.request", "ip"): LimitPage(
        gettext_lazy("Trop de demandes « Mot de passe oublié » depuis cette connexion Internet"),
        ngettext_lazy(
            "Au plus %(count)s demande « Mot de passe oublié » est acceptée par heure depuis une "
            "même connexion Internet (adresse IP).",
            "Au plus %(count)s demandes « Mot de passe oublié » sont acceptées par heure depuis "
            "une même connexion Internet (adresse IP).",
            "count",
        ),
        gettext_lazy("Attendez %(until)s avant de faire une nouvelle demande."),
    ),
    ("recovery.request", "key"): LimitPage(
        gettext_lazy("Trop de demandes « Mot de passe oublié » pour ce matricule"),
        ngettext_lazy(
            "Au plus %(count)s demande « Mot de passe oublié » est acceptée par jour pour un "
            "même matricule.",
            "Au plus %(count)s demandes « Mot de passe oublié » sont acceptées par jour pour un "
            "même matricule.",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s avant de faire une nouvelle demande, ou contactez le helpdesk."
        ),
    ),
    ("staff.login", "ip"): LimitPage(
        gettext_lazy("Trop d'erreurs de connexion au helpdesk depuis cette connexion Internet"),
        ngettext_lazy(
            "Au plus %(count)s mot de passe ou code erroné est accepté par heure depuis une même "
            "connexion Internet (adresse IP), pour tous les membres du personnel ensemble.",
            "Au plus %(count)s mots de passe ou codes erronés sont acceptés par heure depuis une "
            "même connexion Internet (adresse IP), pour tous les membres du personnel ensemble.",
            "count",
        ),
        WAIT,
    ),
    ("staff.login", "key"): LimitPage(
        gettext_lazy("Trop d'erreurs de connexion au helpdesk pour cet identifiant"),
        ngettext_lazy(
            "Au plus %(count)s mot de passe ou code erroné est accepté par heure pour un même "
            "identifiant.",
            "Au plus %(count)s mots de passe ou codes erronés sont acceptés par heure pour un "
            "même identifiant.",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s avant de réessayer. Si vous avez perdu votre mot de passe ou votre "
            "application, un superviseur peut vous aider."
        ),
    ),
    ("oidc.start", "ip"): LimitPage(
        gettext_lazy(
            "Trop de connexions par un fournisseur d'identité depuis cette connexion Internet"
        ),
        ngettext_lazy(
            "Au plus %(count)s passage par un fournisseur d'identité est accepté par heure "
            "depuis une même connexion Internet (adresse IP).",
            "Au plus %(count)s passages par un fournisseur d'identité sont acceptés par heure "
            "depuis une même connexion Internet (adresse IP).",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s, ou connectez-vous avec votre matricule, votre mot de passe et "
            "un code."
        ),
    ),
    ("oidc.callback", "ip"): LimitPage(
        gettext_lazy("Trop de retours d'un fournisseur d'identité depuis cette connexion Internet"),
        ngettext_lazy(
            "Au plus %(count)s retour d'un fournisseur d'identité est accepté par heure depuis "
            "une même connexion Internet (adresse IP).",
            "Au plus %(count)s retours d'un fournisseur d'identité sont acceptés par heure "
            "depuis une même connexion Internet (adresse IP).",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s, ou connectez-vous avec votre matricule, votre mot de passe et "
            "un code."
        ),
    ),
    ("oidc.authorize", "ip"): LimitPage(
        gettext_lazy("Trop de demandes de services depuis cette connexion Internet"),
        ngettext_lazy(
            "Au plus %(count)s ouverture d'un service par votre compte eSanté est acceptée par "
            "heure depuis une même connexion Internet (adresse IP).",
            "Au plus %(count)s ouvertures d'un service par votre compte eSanté sont acceptées "
            "par heure depuis une même connexion Internet (adresse IP).",
            "count",
        ),
        gettext_lazy("Attendez %(until)s, puis ouvrez le service à nouveau."),
    ),
    ("oidc.token.failed", "ip"): LimitPage(
        gettext_lazy("Trop de demandes de jetons refusées depuis cette connexion Internet"),
        ngettext_lazy(
            "Au plus %(count)s demande de jeton refusée est acceptée par heure depuis une même "
            "connexion Internet (adresse IP).",
            "Au plus %(count)s demandes de jetons refusées sont acceptées par heure depuis une "
            "même connexion Internet (adresse IP).",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s. Le service qui fait ces demandes doit vérifier son identifiant "
            "et son secret."
        ),
    ),
    ("fhir.request", "key"): LimitPage(
        gettext_lazy("Trop de demandes de cette application"),
        ngettext_lazy(
            "Au plus %(count)s demande à l'API FHIR est acceptée par heure pour un même jeton.",
            "Au plus %(count)s demandes à l'API FHIR sont acceptées par heure pour un même jeton.",
            "count",
        ),
        gettext_lazy("Attendez %(until)s. L'application qui fait ces demandes doit les espacer."),
    ),
    ("oidc.bearer.failed", "ip"): LimitPage(
        gettext_lazy("Trop de jetons refusés depuis cette connexion Internet"),
        ngettext_lazy(
            "Au plus %(count)s jeton refusé est accepté par heure depuis une même connexion "
            "Internet (adresse IP).",
            "Au plus %(count)s jetons refusés sont acceptés par heure depuis une même connexion "
            "Internet (adresse IP).",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s. Le service qui présente ces jetons doit en demander de nouveaux."
        ),
    ),
    ("passkey.login", "ip"): LimitPage(
        gettext_lazy("Trop d'essais de clé d'accès depuis cette connexion Internet"),
        ngettext_lazy(
            "Au plus %(count)s essai de clé d'accès est accepté par heure depuis une même "
            "connexion Internet (adresse IP).",
            "Au plus %(count)s essais de clé d'accès sont acceptés par heure depuis une même "
            "connexion Internet (adresse IP).",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s, ou utilisez un autre moyen : votre mot de passe et un code, par "
            "exemple."
        ),
    ),
    ("assistant.search", "ip"): LimitPage(
        gettext_lazy("Trop de recherches d'assistant depuis cette connexion Internet"),
        ngettext_lazy(
            "Au plus %(count)s recherche par numéro assuré est acceptée par heure depuis une "
            "même connexion Internet (adresse IP).",
            "Au plus %(count)s recherches par numéro assuré sont acceptées par heure depuis une "
            "même connexion Internet (adresse IP).",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s pour une nouvelle recherche, et vérifiez le numéro assuré avant "
            "de le saisir."
        ),
    ),
    ("assistant.search", "key"): LimitPage(
        gettext_lazy("Trop de recherches d'assistant pour ce compte"),
        ngettext_lazy(
            "Au plus %(count)s recherche par numéro assuré est acceptée par jour pour un même "
            "compte.",
            "Au plus %(count)s recherches par numéro assuré sont acceptées par jour pour un même "
            "compte.",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s pour une nouvelle recherche, et vérifiez le numéro assuré avant "
            "de le saisir."
        ),
    ),
    ("care.declare", "ip"): LimitPage(
        gettext_lazy("Trop de relations de soins déclarées depuis cette connexion Internet"),
        ngettext_lazy(
            "Au plus %(count)s relation de soins peut être déclarée par heure depuis une même "
            "connexion Internet (adresse IP).",
            "Au plus %(count)s relations de soins peuvent être déclarées par heure depuis une "
            "même connexion Internet (adresse IP).",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s pour déclarer une autre relation de soins, et vérifiez le "
            "numéro d'identification et le nom du patient avant de les saisir."
        ),
    ),
    ("care.declare", "key"): LimitPage(
        gettext_lazy("Trop de relations de soins déclarées aujourd'hui"),
        ngettext_lazy(
            "Au plus %(count)s relation de soins peut être déclarée par jour par un même "
            "professionnel de santé.",
            "Au plus %(count)s relations de soins peuvent être déclarées par jour par un même "
            "professionnel de santé.",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s pour déclarer une autre relation de soins. D'ici là, le "
            "patient peut vous accorder l'accès lui-même depuis son DSP (Mes professionnels)."
        ),
    ),
    ("care.emergency", "ip"): LimitPage(
        gettext_lazy("Trop d'accès en urgence depuis cette connexion Internet"),
        ngettext_lazy(
            "Au plus %(count)s accès en urgence peut être demandé par heure depuis une même "
            "connexion Internet (adresse IP).",
            "Au plus %(count)s accès en urgence peuvent être demandés par heure depuis une "
            "même connexion Internet (adresse IP).",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s pour un autre accès en urgence. Si l'urgence ne peut pas "
            "attendre, appelez le helpdesk."
        ),
    ),
    ("care.emergency", "key"): LimitPage(
        gettext_lazy("Trop d'accès en urgence aujourd'hui"),
        ngettext_lazy(
            "Au plus %(count)s accès en urgence peut être demandé par jour par un même médecin.",
            "Au plus %(count)s accès en urgence peuvent être demandés par jour par un même "
            "médecin.",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s pour un autre accès en urgence. Si l'urgence ne peut pas "
            "attendre, appelez le helpdesk."
        ),
    ),
    ("document.upload", "ip"): LimitPage(
        gettext_lazy("Trop de documents ajoutés depuis cette connexion Internet"),
        ngettext_lazy(
            "Au plus %(count)s document peut être ajouté par heure depuis une même connexion "
            "Internet (adresse IP).",
            "Au plus %(count)s documents peuvent être ajoutés par heure depuis une même "
            "connexion Internet (adresse IP).",
            "count",
        ),
        gettext_lazy("Attendez %(until)s pour ajouter d'autres documents."),
    ),
    ("document.upload", "key"): LimitPage(
        gettext_lazy("Trop de documents ajoutés pour ce compte"),
        ngettext_lazy(
            "Au plus %(count)s document peut être ajouté par jour pour un même compte.",
            "Au plus %(count)s documents peuvent être ajoutés par jour pour un même compte.",
            "count",
        ),
        gettext_lazy("Attendez %(until)s pour ajouter d'autres documents."),
    ),
    ("professional.search", "ip"): LimitPage(
        gettext_lazy("Trop de recherches de professionnels depuis cette connexion Internet"),
        ngettext_lazy(
            "Au plus %(count)s recherche de professionnel est acceptée par heure depuis une "
            "même connexion Internet (adresse IP).",
            "Au plus %(count)s recherches de professionnels sont acceptées par heure depuis "
            "une même connexion Internet (adresse IP).",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s pour une nouvelle recherche. Saisissez le nom et la localité "
            "pour trouver plus vite."
        ),
    ),
    ("professional.search", "key"): LimitPage(
        gettext_lazy("Trop de recherches de professionnels pour ce compte"),
        ngettext_lazy(
            "Au plus %(count)s recherche de professionnel est acceptée par jour pour un même "
            "compte.",
            "Au plus %(count)s recherches de professionnels sont acceptées par jour pour un "
            "même compte.",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s pour une nouvelle recherche. Saisissez le nom et la localité "
            "pour trouver plus vite."
        ),
    ),
    ("record.export", "ip"): LimitPage(
        gettext_lazy("Trop de copies de dossiers téléchargées depuis cette connexion Internet"),
        ngettext_lazy(
            "Au plus %(count)s copie d'un DSP peut être téléchargée par heure depuis une même "
            "connexion Internet (adresse IP).",
            "Au plus %(count)s copies d'un DSP peuvent être téléchargées par heure depuis une "
            "même connexion Internet (adresse IP).",
            "count",
        ),
        gettext_lazy("Attendez %(until)s pour télécharger une nouvelle copie."),
    ),
    ("record.export", "key"): LimitPage(
        gettext_lazy("Trop de copies de dossiers téléchargées pour ce compte"),
        ngettext_lazy(
            "Au plus %(count)s copie d'un DSP peut être téléchargée par jour pour un même compte.",
            "Au plus %(count)s copies d'un DSP peuvent être téléchargées par jour pour un même "
            "compte.",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s pour télécharger une nouvelle copie. D'ici là, chaque document "
            "reste consultable dans le DSP."
        ),
    ),
    ("captcha.refresh", "ip"): LimitPage(
        gettext_lazy("Trop de nouvelles images de vérification depuis cette connexion Internet"),
        ngettext_lazy(
            "Au plus %(count)s nouvelle image de vérification est donnée par heure pour une "
            "même connexion Internet (adresse IP).",
            "Au plus %(count)s nouvelles images de vérification sont données par heure pour une "
            "même connexion Internet (adresse IP).",
            "count",
        ),
        gettext_lazy(
            "Attendez %(until)s pour une nouvelle image, ou saisissez les caractères de l'image "
            "affichée."
        ),
    ),
    ("captcha.audio", "ip"): LimitPage(
        gettext_lazy("Trop d'écoutes de la vérification audio depuis cette connexion Internet"),
        ngettext_lazy(
            "Au plus %(count)s écoute de la vérification audio est donnée par heure pour une "
            "même connexion Internet (adresse IP).",
            "Au plus %(count)s écoutes de la vérification audio sont données par heure pour une "
            "même connexion Internet (adresse IP).",
            "count",
        ),
        gettext_lazy("Attendez %(until)s pour écouter à nouveau, ou contactez le helpdesk."),
    ),
}

# A rule without its own page (none refuses today: audit.access_denied never does).
ANY_LIMIT = LimitPage(
    gettext_lazy("Limite atteinte"),
    ngettext_lazy(
        "Pour la sécurité des comptes eSanté, cette action est limitée à %(count)s fois par "
        "période.",
        "Pour la sécurité des comptes eSanté, cette action est limitée à %(count)s fois par "
        "période.",
        "count",
    ),
    WAIT,
)


def window_end(end: datetime.datetime, now: datetime.datetime) -> tuple[str, str]:
    """When a window ends, in Luxembourg time: for « Attendez … » (« 14 h 00 », or
    « demain 1 h 00 »: a day's window ends at midnight UTC), and as a sentence."""
    local_end = timezone.localtime(end)
    time = dateformat.format(local_end, pgettext("heure de fin d'une limite", "G \\h i"))
    if local_end.date() == timezone.localtime(now).date():
        ends = _("Cette limite prend fin à %(time)s (heure de Luxembourg).")
        return time, ends % {"time": time}
    until = pgettext("fin d'une limite, le lendemain", "demain %(time)s") % {"time": time}
    ends = _("Cette limite prend fin demain à %(time)s (heure de Luxembourg).")
    return until, ends % {"time": time}


def context(
    action: str, rule: Rule, end: datetime.datetime, now: datetime.datetime
) -> dict[str, Any]:
    """What 429.html shows for `action` refused by `rule`, whose window ends at `end`."""
    page = PAGES.get((action, rule.scope), ANY_LIMIT)
    until, ends = window_end(end, now)
    return {
        "limit_title": page.title,
        "limit_rule": page.rule % {"count": rule.limit},
        "limit_ends": ends,
        "limit_advice": page.advice % {"until": until},
    }
