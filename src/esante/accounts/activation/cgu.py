"""The Conditions Générales d'Utilisation: one text, shown on the page and as a PDF.

The version accepted is recorded with each account; change CGU_VERSION whenever the
text changes in substance.
"""

from __future__ import annotations

import io

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer

CGU_VERSION = "4.1-2024-07"

CGU_TITLE = _("Conditions Générales d'Utilisation de la plateforme eSanté")

CGU_SECTIONS: tuple[tuple[Promise, tuple[Promise, ...]], ...] = (
    (
        _("1. Objet"),
        (
            _(
                "Les présentes conditions régissent l'utilisation du compte eSanté mis à "
                "disposition par l'Agence nationale des informations partagées dans le "
                "domaine de la santé (Agence eSanté G.I.E.). Le compte eSanté donne accès "
                "au Dossier de Soins Partagé (DSP) et aux autres services eSanté en ligne."
            ),
        ),
    ),
    (
        _("2. Activation du compte"),
        (
            _(
                "Le compte est activé par son titulaire, ou pour un enfant mineur par son "
                "représentant légal, à l'aide du code d'activation reçu par courrier, du "
                "matricule et d'un moyen de recevoir un code à usage unique (téléphone "
                "portable ou adresse e-mail personnelle)."
            ),
            _(
                "Le code d'activation est personnel. Il ne fonctionne qu'une seule fois et "
                "expire à la date imprimée sur le courrier."
            ),
        ),
    ),
    (
        _("3. Sécurité des moyens d'accès"),
        (
            _(
                "L'utilisateur choisit un mot de passe personnel qu'il garde secret. Il ne "
                "communique à personne son mot de passe ni les codes à usage unique qu'il "
                "reçoit. L'Agence eSanté ne lui demandera jamais son mot de passe."
            ),
            _(
                "En cas de doute sur la sécurité de son compte, l'utilisateur change son mot "
                "de passe et contacte sans délai le helpdesk de l'Agence eSanté."
            ),
        ),
    ),
    (
        _("4. Dossier de Soins Partagé"),
        (
            _(
                "Le DSP rassemble les données de santé utiles à la coordination des soins. "
                "Le titulaire peut consulter son dossier, y ajouter des documents, masquer "
                "des documents, consulter l'historique des accès et désigner des assistants "
                "DSP, qui disposent des mêmes droits que lui."
            ),
        ),
    ),
    (
        _("5. Protection des données personnelles"),
        (
            _(
                "Les données sont traitées conformément au règlement (UE) 2016/679 (RGPD) et "
                "à la législation luxembourgeoise. Chaque accès au DSP est journalisé ; le "
                "titulaire peut consulter ce journal à tout moment."
            ),
            _(
                "Le titulaire dispose d'un droit d'accès, de rectification et d'opposition, "
                "qu'il exerce auprès de l'Agence eSanté."
            ),
        ),
    ),
    (
        _("6. Disponibilité du service"),
        (
            _(
                "L'Agence eSanté met tout en œuvre pour assurer la disponibilité du service, "
                "sans pouvoir la garantir en permanence, notamment en cas de maintenance."
            ),
        ),
    ),
    (
        _("7. Modification des conditions"),
        (
            _(
                "L'Agence eSanté peut modifier les présentes conditions. La version acceptée "
                "et la date d'acceptation sont enregistrées avec le compte."
            ),
        ),
    ),
    (
        _("8. Contact"),
        (
            _(
                "Helpdesk de l'Agence eSanté : téléphone (+352) 27 12 50 18 33, e-mail "
                "helpdesk@esante.lu. Agence eSanté G.I.E., B.P 2511, L-1025 Luxembourg."
            ),
        ),
    ),
)


def render_cgu_pdf() -> bytes:
    """The CGU as an A4 PDF, in the active language."""
    buffer = io.BytesIO()
    styles = getSampleStyleSheet()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=str(CGU_TITLE),
        author="Agence eSanté",
    )
    story: list[Flowable] = [
        Paragraph(str(CGU_TITLE), styles["Title"]),
        Paragraph(f"Version {CGU_VERSION}", styles["Normal"]),
        Spacer(1, 6 * mm),
    ]
    for heading, paragraphs in CGU_SECTIONS:
        story.append(Paragraph(str(heading), styles["Heading2"]))
        story.extend(Paragraph(str(paragraph), styles["BodyText"]) for paragraph in paragraphs)
    document.build(story)
    return buffer.getvalue()
