"""The print-ready PDF of a letter batch: A4, one page per activation letter, each in its
person's language (French, German or English; French unless told otherwise).

Speed matters (waves of 100,000 letters), so a page is drawn with the bare canvas API:
everything that is the same on every page of a run (header, texts, steps, helpdesk,
frames) is drawn once into a form XObject, and a page is that form plus a dozen strings
(address, holder, matricule, code, expiry, reference). Minors' letters use a second form
whose texts speak to the parents; each language has its own forms.

Fonts: ReportLab's built-in Helvetica and Courier, in WinAnsi encoding, which covers
French (é è à ç É « » …). A name or address with a character outside WinAnsi (Ł, ř, ğ,
Cyrillic…) is drawn in DejaVu Sans when that font is installed (it is embedded, as a
subset, only in batches that need it); otherwise its letters lose their accents rather
than being printed as black boxes.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import io
import logging
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Literal

from django.conf import settings
from django.utils import translation
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from reportlab import rl_config
from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.enums import TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.textobject import PDFTextObject
from reportlab.platypus import Paragraph

logger = logging.getLogger(__name__)

AGENCY_NAME = "Agence eSanté"
AGENCY_LONG_NAME = "Agence nationale des informations partagées dans le domaine de la santé"
AGENCY_POSTAL_ADDRESS = "B.P 2511 L-1025 Luxembourg"
AGENCY_WEBSITE = "www.esante.lu"

PAGE_WIDTH, PAGE_HEIGHT = A4
LEFT = 20 * mm
RIGHT = PAGE_WIDTH - 20 * mm
TEXT_WIDTH = RIGHT - LEFT
# The address shows through the window of a right-window DL/C5 envelope: 110 mm from
# the left edge, 50 to 90 mm from the top (85 mm wide, so 5 mm of play on each side).
WINDOW_LEFT = 110 * mm
WINDOW_TOP = 50 * mm
WINDOW_WIDTH = 85 * mm
WINDOW_HEIGHT = 40 * mm
# The frame that holds the holder, matricule and code.
CODE_BOX_TOP = 121 * mm
CODE_BOX_HEIGHT = 34 * mm
# The footer starts here; the texts above must end before it.
FOOTER_TOP = 271 * mm

BRAND = HexColor("#00587a")
BRAND_LIGHT = HexColor("#e6f0f4")
GREY = HexColor("#555555")

FONT = "Helvetica"
FONT_BOLD = "Helvetica-Bold"
FONT_CODE = "Courier-Bold"
FALLBACK_FONTS = {FONT: "DejaVuSans", FONT_BOLD: "DejaVuSans-Bold"}
ADDRESS_SIZE = 11.0
ADDRESS_LEADING = 13.5
SMALLEST_SIZE = 7.0
CODE_SIZE = 26.0
# Smaller text sizes (in points) a language's longer wording may take to fit the page.
SHRINK_STEPS = (0.0, 0.5, 1.0, 1.5)
LONG_DATE_FORMATS = {"de": "j. F Y", "en": "j F Y"}


class LayoutError(Exception):
    """The letter's texts do not fit on the page (a longer text or setting)."""


@dataclass(frozen=True, slots=True)
class LetterPage:
    """What differs from one letter to the next; everything else is in the page form."""

    reference: str  # the letter's number, for the helpdesk
    address_lines: tuple[str, ...]  # the window block: addressee, then the postal lines
    holder_name: str
    matricule: str
    code: str  # as printed: three groups of four
    expires_on: datetime.date  # the last day the code works
    for_minor: bool
    language: str = "fr"  # the language its texts are printed in
    # The person's DSP (opt-out): when it is open, a paragraph says so, and, while the
    # holder may still object (close it), from which day professionals may write into it.
    dsp_open: bool = False
    dsp_writable_from: datetime.date | None = None


def y_from_top(distance: float) -> float:
    return PAGE_HEIGHT - distance


def french_date(day: datetime.date) -> str:
    """« 1er mars 2027 », « 23 février 2027 »."""
    text = date_format(day, "j F Y")
    return "1er" + text[1:] if day.day == 1 else text


def long_date(day: datetime.date) -> str:
    """The date as a letter writes it in the active language: « 1er mars 2027 »,
    « 1. März 2027 », « 1 March 2027 »."""
    language = translation.get_language()
    if language not in LONG_DATE_FORMATS:
        return french_date(day)
    return date_format(day, LONG_DATE_FORMATS[language])


@functools.cache
def fallback_fonts_available() -> bool:
    """Register DejaVu Sans (regular and bold) if it is installed; True when it is."""
    try:
        pdfmetrics.registerFont(TTFont("DejaVuSans", "DejaVuSans.ttf"))
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", "DejaVuSans-Bold.ttf"))
    except TTFError:
        logger.warning("DejaVu Sans is not installed: letters drop the accents WinAnsi lacks.")
        return False
    return True


def printable(text: str, font: str) -> tuple[str, str]:
    """The text and the font to draw it in: `font` when WinAnsi can encode the text."""
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        if font in FALLBACK_FONTS and fallback_fonts_available():
            return text, FALLBACK_FONTS[font]
        decomposed = unicodedata.normalize("NFKD", text)
        stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
        return stripped.encode("cp1252", errors="replace").decode("cp1252"), font
    return text, font


def fitting_size(text: str, font: str, size: float, width: float) -> float:
    """The font size at which `text` fits `width`: a long name or street shrinks rather
    than leaving its frame (down to a legible minimum)."""
    natural = pdfmetrics.stringWidth(text, font, size)
    if natural <= width:
        return size
    return max(SMALLEST_SIZE, size * width / natural)


class FontSwitch:
    """Sets a text object's font only when it changes (each change is written out)."""

    def __init__(self, text: PDFTextObject) -> None:
        self.text = text
        self.current: tuple[str, float, float | None] = ("", 0.0, None)

    def use(self, font: str, size: float, leading: float | None = None) -> None:
        if self.current != (font, size, leading):
            self.text.setFont(font, size, leading)
            self.current = (font, size, leading)


class LetterCanvas:
    """A canvas that draws letter pages; `render_letters` is the way to use it."""

    def __init__(self, output: IO[bytes], *, issued_on: datetime.date, compress: bool) -> None:
        self.canvas = Canvas(output, pagesize=A4, pageCompression=int(compress))
        self.canvas.setTitle(_("Courriers d'activation eSanté"))
        self.canvas.setAuthor(AGENCY_NAME)
        self.issued_on = issued_on
        self.forms: dict[tuple[bool, str, bool, datetime.date | None], str] = {}
        self.expiry_texts: dict[tuple[datetime.date, str], str] = {}

    def form_for(self, page: LetterPage) -> str:
        # The DSP paragraph's date is part of the form: a run's new DSPs share one date,
        # and the few older ones a handful.
        key = (page.for_minor, page.language, page.dsp_open, page.dsp_writable_from)
        if key not in self.forms:
            name = f"letter_{'minor' if page.for_minor else 'adult'}_{page.language}"
            if page.dsp_open:
                name += f"_dsp{page.dsp_writable_from:%Y%m%d}" if page.dsp_writable_from else "_dsp"
            self.canvas.beginForm(name)
            with translation.override(page.language):
                draw_fitting_static_parts(
                    self.canvas,
                    issued_on=self.issued_on,
                    for_minor=page.for_minor,
                    dsp=DspNotice(page.dsp_writable_from) if page.dsp_open else None,
                )
            self.canvas.endForm()
            self.forms[key] = name
        return self.forms[key]

    def draw_page(self, page: LetterPage) -> None:
        canvas = self.canvas
        canvas.doForm(self.form_for(page))
        text = canvas.beginText()
        fonts = FontSwitch(text)

        # The window: one origin, then a line feed per line, at a constant leading.
        text.setTextOrigin(WINDOW_LEFT, y_from_top(WINDOW_TOP) - ADDRESS_SIZE)
        for index, line in enumerate(page.address_lines):
            line, font = printable(line, FONT_BOLD if index == 0 else FONT)
            fonts.use(font, fitting_size(line, font, ADDRESS_SIZE, WINDOW_WIDTH), ADDRESS_LEADING)
            text.textLine(line)

        name, font = printable(page.holder_name, FONT_BOLD)
        fonts.use(font, fitting_size(name, font, 12, 70 * mm))
        text.setTextOrigin(LEFT + 6 * mm, y_from_top(CODE_BOX_TOP + 14 * mm))
        text.textOut(name)
        # Fixed formats, in fonts that encode them: no measuring, no fallback.
        for x, top, value, font, size in (
            (LEFT + 18 * mm, 63 * mm, page.reference, FONT, 9.0),
            (LEFT + 6 * mm, CODE_BOX_TOP + 27.5 * mm, page.matricule, FONT_BOLD, 14.0),
            (LEFT + 84 * mm, CODE_BOX_TOP + 17.5 * mm, page.code, FONT_CODE, CODE_SIZE),
            (
                LEFT + 84 * mm,
                CODE_BOX_TOP + 27.5 * mm,
                self.valid_until(page.expires_on, page.language),
                FONT_BOLD,
                10.0,
            ),
        ):
            fonts.use(font, size)
            text.setTextOrigin(x, y_from_top(top))
            text.textOut(value)
        canvas.drawText(text)
        canvas.showPage()

    def valid_until(self, expires_on: datetime.date, language: str) -> str:
        # Every letter of a run has the same expiry: format it once per language.
        key = (expires_on, language)
        if key not in self.expiry_texts:
            with translation.override(language):
                self.expiry_texts[key] = _("Valable jusqu'au %(date)s inclus") % {
                    "date": long_date(expires_on)
                }
        return self.expiry_texts[key]

    def save(self) -> None:
        self.canvas.save()


def render_letters(
    pages: Iterable[LetterPage],
    output: IO[bytes],
    *,
    issued_on: datetime.date,
    compress: bool = True,
) -> int:
    """Write one A4 page per letter to `output`; returns the number of pages.

    `compress=False` leaves the page streams readable (tests search them).
    """
    with translation.override("fr"), binary_streams():
        letters = LetterCanvas(output, issued_on=issued_on, compress=compress)
        count = 0
        for page in pages:
            letters.draw_page(page)
            count += 1
        letters.save()
    return count


@contextlib.contextmanager
def binary_streams() -> Iterator[None]:
    """Compressed streams without their ASCII85 armour (a 7-bit transport relic): the
    file is a quarter smaller and, without ReportLab's optional C accelerator, the
    encoding in Python would take a third of the rendering time. The setting is global
    to ReportLab and read when the file is written, hence a context around it all."""
    previous = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = previous


# The static parts, drawn once per form.


def paragraph_style(
    name: str, size: float = 9.5, *, hanging: float = 0, alignment: Literal[0, 4] = TA_JUSTIFY
) -> ParagraphStyle:
    return ParagraphStyle(
        name,
        fontName=FONT,
        fontSize=size,
        leading=size * 1.28,
        alignment=alignment,
        leftIndent=hanging,
        firstLineIndent=-hanging,
    )


def draw_paragraph(
    canvas: Canvas, markup: str, *, top: float, style: ParagraphStyle, x: float = LEFT
) -> float:
    """Draw a paragraph (ReportLab mini-markup) from `top` down; returns its bottom."""
    paragraph = Paragraph(markup, style)
    _width, height = paragraph.wrap(RIGHT - x, PAGE_HEIGHT)
    paragraph.drawOn(canvas, x, y_from_top(top) - height)
    return top + height


def quoted(label: str) -> str:
    """A screen label as the guide prints it: « <b>Oui</b> »."""
    return f"«\u00a0<b>{escape(label)}</b>\u00a0»"


@dataclass(frozen=True, slots=True)
class DspNotice:
    """The letter's paragraph on an open DSP: with the first day professionals may write
    into it while the holder may still object, or without (that time is over)."""

    writable_from: datetime.date | None


def dsp_paragraph(*, for_minor: bool, writable_from: datetime.date | None) -> str:
    """The paragraph on the person's open DSP (opt-out), in the active language: the
    letter's and its outbox message's."""
    values = {"phone": settings.ESANTE_HELPDESK_PHONE}
    if writable_from is not None:
        values["date"] = long_date(writable_from)
        if for_minor:
            text = _(
                "Le dossier de soins partagé (DSP) de votre enfant est ouvert : les "
                "professionnels de santé qui le soignent pourront y consulter et y ajouter ses "
                "documents médicaux à partir du %(date)s. Si vous ne le souhaitez pas, fermez "
                "son DSP avant cette date dans son compte eSanté, ou appelez le helpdesk au "
                "%(phone)s."
            )
        else:
            text = _(
                "Votre dossier de soins partagé (DSP) est ouvert : les professionnels de santé "
                "qui vous soignent pourront y consulter et y ajouter vos documents médicaux à "
                "partir du %(date)s. Si vous ne le souhaitez pas, fermez votre DSP avant cette "
                "date dans votre compte eSanté, ou appelez le helpdesk au %(phone)s."
            )
    elif for_minor:
        text = _(
            "Le dossier de soins partagé (DSP) de votre enfant est ouvert : les professionnels "
            "de santé qui le soignent peuvent y consulter et y ajouter ses documents "
            "médicaux. Si vous ne le souhaitez pas, fermez son DSP dans son compte eSanté, ou "
            "appelez le helpdesk au %(phone)s."
        )
    else:
        text = _(
            "Votre dossier de soins partagé (DSP) est ouvert : les professionnels de santé "
            "qui vous soignent peuvent y consulter et y ajouter vos documents médicaux. Si "
            "vous ne le souhaitez pas, fermez votre DSP dans votre compte eSanté, ou appelez "
            "le helpdesk au %(phone)s."
        )
    return text % values


def draw_fitting_static_parts(
    canvas: Canvas, *, issued_on: datetime.date, for_minor: bool, dsp: DspNotice | None = None
) -> None:
    """`draw_static_parts` at the largest text size whose texts end above the footer: a
    language with longer wording (German) may take up to SHRINK_STEPS' last point less.
    Each size but the last is tried on a scratch canvas first (once per form)."""
    for smaller in SHRINK_STEPS[:-1]:
        try:
            draw_static_parts(
                Canvas(io.BytesIO()),
                issued_on=issued_on,
                for_minor=for_minor,
                dsp=dsp,
                smaller=smaller,
            )
        except LayoutError:
            continue
        break
    else:
        smaller = SHRINK_STEPS[-1]
    draw_static_parts(canvas, issued_on=issued_on, for_minor=for_minor, dsp=dsp, smaller=smaller)


def draw_static_parts(
    canvas: Canvas,
    *,
    issued_on: datetime.date,
    for_minor: bool,
    dsp: DspNotice | None = None,
    smaller: float = 0.0,
) -> None:
    draw_header(canvas, issued_on)
    draw_code_box_frame(canvas)
    body = paragraph_style("body", 9.5 - smaller)
    top = 95 * mm
    canvas.setFont(FONT_BOLD, 12)
    canvas.setFillColor(BRAND)
    if for_minor:
        subject = _("Objet : le code d'activation du compte eSanté de votre enfant")
    else:
        subject = _("Objet : votre code d'activation eSanté")
    canvas.drawString(LEFT, y_from_top(top), subject)
    canvas.setFillColor(Color(0, 0, 0))
    top = draw_paragraph(canvas, escape(_("Madame, Monsieur,")), top=top + 5 * mm, style=body)
    if for_minor:
        intro = _(
            "Vous trouverez ci-dessous le code d'activation du compte eSanté de votre enfant "
            "mineur. En tant que parent, c'est vous qui activez son compte, en suivant les "
            "étapes ci-dessous avec le matricule de votre enfant. Ce compte donne accès aux "
            "services eSanté de votre enfant, notamment à son Dossier de Soins Partagé (DSP)."
        )
    else:
        intro = _(
            "Vous trouverez ci-dessous votre code personnel d'activation. Il vous permet "
            "d'activer votre compte eSanté, qui donne accès aux services eSanté en ligne, "
            "notamment à votre Dossier de Soins Partagé (DSP)."
        )
    draw_paragraph(canvas, escape(intro), top=top + 2 * mm, style=body)
    top = CODE_BOX_TOP + CODE_BOX_HEIGHT + 5 * mm
    top = draw_steps(canvas, top=top, smaller=smaller)
    if for_minor:
        parents = _(
            "Pour accéder ensuite au DSP de votre enfant, utilisez ses identifiants (son "
            "matricule et le mot de passe choisi à l'activation), ou devenez son %(assistant)s "
            ": connecté à son DSP, dans le panneau %(assistants)s, cliquez sur %(add)s, "
            "saisissez votre propre matricule dans %(number)s, cliquez sur %(search)s puis sur "
            "votre nom, et choisissez le type %(assistant)s. Vous ouvrirez alors son dossier "
            "depuis votre propre DSP (%(others)s). Un assistant DSP a les mêmes droits que le "
            "titulaire du DSP ; il vous faut pour cela votre propre compte eSanté."
        ) % {
            "assistant": quoted(_("Assistant DSP")),
            "assistants": quoted(_("Assistants")),
            "add": quoted(_("Ajouter")),
            "number": quoted(_("Numéro assuré")),
            "search": quoted(_("Rechercher")),
            "others": quoted(_("Accéder aux autres dossiers patient")),
        }
        top = draw_paragraph(canvas, parents, top=top + 2 * mm, style=body)
    if dsp is not None:
        notice = dsp_paragraph(for_minor=for_minor, writable_from=dsp.writable_from)
        top = draw_paragraph(canvas, escape(notice), top=top + 2 * mm, style=body)
    attempts = settings.ESANTE_LETTER_CODE_MAX_ATTEMPTS
    warning = ngettext(
        "Ce code est personnel et ne sert qu'une seule fois. Ne le communiquez à personne : "
        "l'Agence eSanté ne vous le demandera jamais. Il est bloqué après %(count)d saisie "
        "erronée, et tout nouveau courrier annule le précédent.",
        "Ce code est personnel et ne sert qu'une seule fois. Ne le communiquez à personne : "
        "l'Agence eSanté ne vous le demandera jamais. Il est bloqué après %(count)d saisies "
        "erronées, et tout nouveau courrier annule le précédent.",
        attempts,
    ) % {"count": attempts}
    top = draw_paragraph(
        canvas,
        f"<b>{escape(warning)}</b>",
        top=top + 2 * mm,
        style=paragraph_style("warn", 9 - smaller),
    )
    if top > FOOTER_TOP - 2 * mm:
        raise LayoutError(f"the letter's texts end {top / mm:.0f} mm down, on the footer")
    draw_footer(canvas)


def draw_header(canvas: Canvas, issued_on: datetime.date) -> None:
    # The agency's mark: a square with a white "e", then its names.
    canvas.setFillColor(BRAND)
    canvas.roundRect(LEFT, y_from_top(32 * mm), 16 * mm, 16 * mm, 2 * mm, stroke=0, fill=1)
    canvas.setFillColor(white)
    canvas.setFont(FONT_BOLD, 30)
    canvas.drawCentredString(LEFT + 8 * mm, y_from_top(28.5 * mm), "e")
    canvas.setFillColor(BRAND)
    canvas.setFont(FONT, 8)
    canvas.drawString(LEFT + 19 * mm, y_from_top(20 * mm), "AGENCE")
    canvas.setFont(FONT_BOLD, 17)
    canvas.drawString(LEFT + 19 * mm, y_from_top(26.5 * mm), "eSanté")
    canvas.setFont(FONT, 8)
    canvas.drawString(LEFT + 19 * mm, y_from_top(31 * mm), "LUXEMBOURG")
    canvas.setFillColor(GREY)
    canvas.setFont(FONT, 8)
    for index, line in enumerate(
        (AGENCY_LONG_NAME, _("Adresse postale : %s") % AGENCY_POSTAL_ADDRESS, AGENCY_WEBSITE)
    ):
        canvas.drawRightString(RIGHT, y_from_top((20 + 4 * index) * mm), line)
    canvas.setStrokeColor(BRAND)
    canvas.setLineWidth(1)
    canvas.line(LEFT, y_from_top(37 * mm), RIGHT, y_from_top(37 * mm))

    # The sender's line above the address, as the post expects in a window envelope.
    canvas.setFont(FONT, 6.5)
    canvas.drawString(
        WINDOW_LEFT, y_from_top(WINDOW_TOP - 3 * mm), f"{AGENCY_NAME} · {AGENCY_POSTAL_ADDRESS}"
    )
    canvas.setLineWidth(0.3)
    canvas.line(
        WINDOW_LEFT,
        y_from_top(WINDOW_TOP - 2.2 * mm),
        WINDOW_LEFT + WINDOW_WIDTH,
        y_from_top(WINDOW_TOP - 2.2 * mm),
    )

    canvas.setFillColor(Color(0, 0, 0))
    canvas.setFont(FONT, 9)
    canvas.drawString(
        LEFT, y_from_top(WINDOW_TOP + 2 * mm), _("Luxembourg, le %s") % long_date(issued_on)
    )
    canvas.drawString(LEFT, y_from_top(63 * mm), _("Réf. :"))


def draw_code_box_frame(canvas: Canvas) -> None:
    canvas.setFillColor(BRAND_LIGHT)
    canvas.setStrokeColor(BRAND)
    canvas.setLineWidth(1)
    canvas.roundRect(
        LEFT,
        y_from_top(CODE_BOX_TOP + CODE_BOX_HEIGHT),
        TEXT_WIDTH,
        CODE_BOX_HEIGHT,
        3 * mm,
        stroke=1,
        fill=1,
    )
    canvas.line(
        LEFT + 78 * mm,
        y_from_top(CODE_BOX_TOP + 4 * mm),
        LEFT + 78 * mm,
        y_from_top(CODE_BOX_TOP + CODE_BOX_HEIGHT - 4 * mm),
    )
    canvas.setFillColor(GREY)
    canvas.setFont(FONT, 8.5)
    column = LEFT + 6 * mm
    canvas.drawString(column, y_from_top(CODE_BOX_TOP + 7 * mm), _("Titulaire du compte"))
    canvas.drawString(column, y_from_top(CODE_BOX_TOP + 20.5 * mm), _("Matricule"))
    canvas.drawString(LEFT + 84 * mm, y_from_top(CODE_BOX_TOP + 7 * mm), _("Code d'activation"))
    canvas.setFillColor(Color(0, 0, 0))


def draw_steps(canvas: Canvas, *, top: float, smaller: float = 0.0) -> float:
    heading = ParagraphStyle("heading", fontName=FONT_BOLD, fontSize=11, leading=14)
    heading.textColor = BRAND
    body = paragraph_style("steps", 9 - smaller)
    step = paragraph_style("step", 9 - smaller, hanging=6 * mm, alignment=TA_LEFT)
    top = draw_paragraph(
        canvas, escape(_("Activer le compte en cinq étapes")), top=top, style=heading
    )
    intro = _(
        "Munissez-vous de ce courrier et d'une adresse e-mail personnelle ou d'un numéro de "
        "téléphone portable. Allez sur %(site)s, cliquez sur %(patients)s puis sur "
        "%(activation)s. En bas de la page, acceptez les Conditions Générales d'Utilisation "
        "(CGU) et cliquez sur %(activate)s."
    ) % {
        "site": f"<b>{AGENCY_WEBSITE}</b>",
        "patients": quoted("PATIENTS"),
        "activation": quoted("ACTIVATION COMPTE ESANTE"),
        "activate": quoted(_("Activer mon compte")),
    }
    top = draw_paragraph(canvas, intro, top=top + 1 * mm, style=body)
    steps = (
        _(
            "<b>Code d'activation</b> : cochez %(yes)s, saisissez le matricule et le code "
            "d'activation de ce courrier (majuscules ou minuscules, avec ou sans tirets), "
            "recopiez le code affiché, puis cliquez sur %(next)s."
        )
        % {"yes": quoted(_("Oui")), "next": quoted(_("Etape suivante"))},
        _(
            "<b>Mot de passe</b> : choisissez un mot de passe personnel d'au moins 8 "
            "caractères, comprenant au moins une lettre et au moins un chiffre, et "
            "confirmez-le."
        ),
        _(
            "<b>Sécurisation du compte</b> : choisissez de recevoir un code à usage unique par "
            "SMS (mobile) ou par e-mail, puis saisissez-le ; il est valable %(minutes)d minutes."
        )
        % {"minutes": settings.ESANTE_OTP_MINUTES},
        _(
            "<b>Autres moyens d'authentification</b> (facultatif) : associez un produit "
            "LuxTrust (Token, Smartcard ou carte d'identité électronique), ou cliquez sur "
            "%(next)s."
        )
        % {"next": quoted(_("Etape suivante"))},
        _(
            "<b>Confirmation</b> : l'activation est terminée. Pour vous connecter au DSP, "
            "cliquez sur %(login)s puis sur %(patient)s."
        )
        % {"login": quoted(_("Connexion")), "patient": quoted("PATIENT")},
    )
    for number, text in enumerate(steps, start=1):
        markup = f"<b>{number}.</b>\u00a0\u00a0{text}"
        top = draw_paragraph(canvas, markup, top=top + 1.2 * mm, style=step)
    return top


def draw_footer(canvas: Canvas) -> None:
    phone = settings.ESANTE_HELPDESK_PHONE
    email = settings.ESANTE_HELPDESK_EMAIL
    form_url = settings.ESANTE_HELPDESK_FORM_URL.removeprefix("https://").removeprefix("http://")
    canvas.setStrokeColor(BRAND)
    canvas.setLineWidth(0.5)
    canvas.line(LEFT, y_from_top(FOOTER_TOP), RIGHT, y_from_top(FOOTER_TOP))
    canvas.setFillColor(BRAND)
    canvas.setFont(FONT_BOLD, 9)
    canvas.drawString(
        LEFT,
        y_from_top(FOOTER_TOP + 5 * mm),
        _("Des questions ? Courrier perdu, code expiré ou bloqué ? Contactez notre helpdesk"),
    )
    canvas.setFillColor(Color(0, 0, 0))
    canvas.setFont(FONT, 9)
    contacts = _("Téléphone : %(phone)s · E-mail : %(email)s · Formulaire en ligne : %(form)s")
    canvas.drawString(
        LEFT,
        y_from_top(FOOTER_TOP + 9.5 * mm),
        contacts % {"phone": phone, "email": email, "form": form_url},
    )
    canvas.setFillColor(GREY)
    canvas.setFont(FONT, 7)
    canvas.drawString(
        LEFT,
        y_from_top(FOOTER_TOP + 15 * mm),
        f"{AGENCY_NAME} G.I.E. · {AGENCY_LONG_NAME} · {AGENCY_POSTAL_ADDRESS} · {AGENCY_WEBSITE}",
    )
