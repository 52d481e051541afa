"""What a demo document is, and its PDF: drawn with ReportLab as a care provider would send
it, an A4 page or two with the provider's header (never the agency's), the patient, the
date, the title and the body (text, result tables). The documents themselves are data
(documents.toml, read by esante.demo.documents).

Texts may hold placeholders, filled for the patient when the PDF is drawn:
`{patient}` (« M. Hector Doe-Rita »), `{age}` (the age on the document's date),
`{J-52}` (the date 52 days before today), `{N}` (the birth date) and `{N+12m}` (the date
12 months after birth).
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime
import html
import io
import re
from dataclasses import dataclass
from typing import Any, TypeAlias

from django.utils import translation
from reportlab.lib.colors import HexColor
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    HRFlowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from esante.records.models import Category, Confidentiality
from esante.registry.letter_pdf import binary_streams, french_date
from esante.registry.models import InsuredPerson

# What is drawn.


@dataclass(frozen=True)
class Provider:
    name: str
    address: tuple[str, str]  # street, then postal code and locality
    service: str = ""

    @property
    def locality(self) -> str:
        return self.address[1].split(" ", 1)[1]

    def at(self, service: str) -> Provider:
        return dataclasses.replace(self, service=service)


@dataclass(frozen=True)
class Signatory:
    name: str
    role: str


@dataclass(frozen=True)
class Text:
    """A section: an optional heading, then paragraphs ("- " starts a bullet)."""

    heading: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Grid:
    """A table. With `flagged`, the last column marks values out of range (H, B)."""

    heading: str
    columns: tuple[str, ...]
    widths: tuple[int, ...]  # relative
    rows: tuple[tuple[str, ...], ...]
    flagged: bool = False


Block: TypeAlias = Text | Grid


@dataclass(frozen=True)
class DemoDocument:
    category: Category
    title: str
    days_ago: int
    provider: Provider
    signatory: Signatory
    blocks: tuple[Block, ...]
    confidentiality: Confidentiality = Confidentiality.NORMAL

    @property
    def author(self) -> str:
        """A laboratory signs as itself; a report or prescription as its doctor."""
        if self.category == Category.LABORATORY:
            return self.provider.name
        return f"{self.signatory.name}, {self.provider.name}"


# Placeholders.

PLACEHOLDER = re.compile(r"\{(patient|age|N|J-(\d+)|N\+(\d+)m)\}")


def fill(template: str, person: InsuredPerson, day: datetime.date, today: datetime.date) -> str:
    def replace(match: re.Match[str]) -> str:
        name, days, months = match.groups()
        if days is not None:
            return short_date(today - datetime.timedelta(days=int(days)))
        if months is not None:
            return short_date(add_months(person.birth_date, int(months)))
        if name == "N":
            return short_date(person.birth_date)
        if name == "age":
            return age_text(person, day)
        return patient_name(person, day)

    return PLACEHOLDER.sub(replace, template)


def short_date(day: datetime.date) -> str:
    return day.strftime("%d/%m/%Y")


def add_months(day: datetime.date, months: int) -> datetime.date:
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    month += 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def age_text(person: InsuredPerson, day: datetime.date) -> str:
    """« 108 ans », « 6 ans », or in months before 2 years: « 13 mois »."""
    birth = person.birth_date
    months = (day.year - birth.year) * 12 + day.month - birth.month - (day.day < birth.day)
    if months < 24:
        return f"{months} mois"
    years = person.age(on=day)
    return f"{years} ans"


def patient_name(person: InsuredPerson, day: datetime.date) -> str:
    if person.age(on=day) < 18:
        return person.full_name
    title = {"M": "M.", "F": "Mme"}.get(person.sex, "")
    return f"{title} {person.full_name}".strip()


# The PDF.

INK = HexColor("#222222")
GREY = HexColor("#5f6368")
RULE = HexColor("#9aa0a6")
SHADE = HexColor("#eef1f3")
MARK = HexColor("#b3261e")
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 20 * mm
FRAME_PADDING = 6  # platypus's default, inside the margins
LEFT = MARGIN + FRAME_PADDING
RIGHT = PAGE_WIDTH - LEFT
TEXT_WIDTH = RIGHT - LEFT


def style(name: str, size: float = 10, *, font: str = "Helvetica", **kwargs: Any) -> ParagraphStyle:
    kwargs.setdefault("textColor", INK)
    return ParagraphStyle(name, fontName=font, fontSize=size, leading=size * 1.3, **kwargs)


BODY = style("body", spaceAfter=4)
BULLET = style("bullet", leftIndent=5 * mm, bulletIndent=1 * mm, spaceAfter=2)
PROVIDER = style("provider", 12, font="Helvetica-Bold", spaceAfter=1)
SMALL = style("small", 9, textColor=GREY)
SMALL_BOLD = style("small-bold", 9, font="Helvetica-Bold")
PLACE_DATE = style("place-date", alignment=TA_RIGHT, spaceBefore=4, spaceAfter=10)
TITLE = style("title", 14, font="Helvetica-Bold", spaceAfter=8)
HEADING = style("heading", 10.5, font="Helvetica-Bold", spaceBefore=6, spaceAfter=3)
CELL = style("cell", 9)
CELL_BOLD = style("cell-bold", 9, font="Helvetica-Bold")
CELL_MARK = style("cell-mark", 9, font="Helvetica-Bold", textColor=MARK)
SIGNATURE = style("signature", leftIndent=100 * mm, spaceBefore=14, font="Helvetica-Bold")
SIGNATURE_ROLE = style("signature-role", 9, leftIndent=100 * mm, textColor=GREY)


def render_pdf(
    demo: DemoDocument, person: InsuredPerson, day: datetime.date, today: datetime.date
) -> bytes:
    """The document as an A4 PDF, one or two pages."""
    output = io.BytesIO()
    pdf = SimpleDocTemplate(
        output,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=18 * mm,
        bottomMargin=22 * mm,
        title=demo.title,
        author=demo.author,
        subject=f"{demo.title} — {person.full_name}",
        creator="Données de démonstration",
    )
    with translation.override("fr"), binary_streams():
        story = [
            *header(demo, person),
            Paragraph(para(f"{demo.provider.locality}, le {french_date(day)}"), PLACE_DATE),
            Paragraph(para(demo.title), TITLE),
        ]
        for block in demo.blocks:
            story.extend(draw_block(block, person, day, today))
        story.append(
            KeepTogether(
                [
                    Paragraph(para(demo.signatory.name), SIGNATURE),
                    Paragraph(para(demo.signatory.role), SIGNATURE_ROLE),
                ]
            )
        )

        def footer(canvas: Canvas, document: Any) -> None:
            draw_footer(canvas, demo.provider, canvas.getPageNumber())

        pdf.build(story, onFirstPage=footer, onLaterPages=footer)
    return output.getvalue()


def para(value: str) -> str:
    """Plain text for a Paragraph, whose text is a mini-markup."""
    return html.escape(value, quote=False)


def header(demo: DemoDocument, person: InsuredPerson) -> list[Flowable]:
    provider = demo.provider
    left: list[Flowable] = [Paragraph(para(provider.name), PROVIDER)]
    if provider.service:
        left.append(Paragraph(para(provider.service), SMALL_BOLD))
    left.extend(Paragraph(para(line), SMALL) for line in provider.address)
    born = {"M": "Né le", "F": "Née le"}.get(person.sex, "Date de naissance :")
    right: list[Flowable] = [
        Paragraph("Patient", SMALL),
        Paragraph(para(person.full_name), SMALL_BOLD),
        Paragraph(para(f"{born} {short_date(person.birth_date)}"), SMALL),
        *(Paragraph(para(line), SMALL) for line in person.postal_lines),
    ]
    table = Table(
        [[left, right]],
        colWidths=[TEXT_WIDTH - 68 * mm, 68 * mm],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (0, 0), 0),
                ("BACKGROUND", (1, 0), (1, 0), SHADE),
                ("LEFTPADDING", (1, 0), (1, 0), 3 * mm),
                ("TOPPADDING", (1, 0), (1, 0), 2 * mm),
                ("BOTTOMPADDING", (1, 0), (1, 0), 2 * mm),
            ]
        ),
    )
    return [table, Spacer(1, 4 * mm), HRFlowable(width="100%", thickness=0.6, color=RULE)]


def draw_block(
    block: Block, person: InsuredPerson, day: datetime.date, today: datetime.date
) -> list[Flowable]:
    def filled(value: str) -> str:
        return para(fill(value, person, day, today))

    flowables: list[Flowable] = []
    if block.heading:
        flowables.append(Paragraph(filled(block.heading), HEADING))
    if isinstance(block, Text):
        for paragraph in block.paragraphs:
            if paragraph.startswith("- "):
                flowables.append(Paragraph(filled(paragraph[2:]), BULLET, bulletText="•"))
            else:
                flowables.append(Paragraph(filled(paragraph), BODY))
        return flowables
    rows: list[list[Paragraph]] = [[Paragraph(filled(name), CELL_BOLD) for name in block.columns]]
    for row in block.rows:
        out_of_range = block.flagged and bool(row[-1])
        rows.append(
            [
                Paragraph(
                    filled(cell),
                    CELL_MARK if out_of_range and column in (1, len(row) - 1) else CELL,
                )
                for column, cell in enumerate(row)
            ]
        )
    total = sum(block.widths)
    table = Table(
        rows,
        colWidths=[TEXT_WIDTH * width / total for width in block.widths],
        repeatRows=1,
        style=TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, RULE),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        ),
    )
    flowables.extend([table, Spacer(1, 3 * mm)])
    return flowables


def draw_footer(canvas: Canvas, provider: Provider, page: int) -> None:
    canvas.saveState()
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.4)
    canvas.line(LEFT, 15 * mm, RIGHT, 15 * mm)
    canvas.setFont("Helvetica", 7.5)
    canvas.setFillColor(GREY)
    canvas.drawString(LEFT, 11 * mm, f"{provider.name} — {', '.join(provider.address)}")
    canvas.drawRightString(RIGHT, 7.5 * mm, f"Page {page}")
    canvas.drawString(LEFT, 7.5 * mm, "Document fictif — données de démonstration")
    canvas.restoreState()
