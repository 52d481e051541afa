"""The print-ready letter PDF: one A4 page per letter, with what the person needs on it.

The PDF is read without a PDF library: its streams are zlib-compressed (or plain, with
`compress=False`), and every string drawn is a `(...) Tj` operand in WinAnsi encoding.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import re
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.storage import storages
from django.utils import timezone, translation
from reportlab.lib.units import mm

from esante.registry import letter_pdf
from esante.registry.letter_pdf import LayoutError, LetterPage, dsp_paragraph, render_letters
from esante.registry.letters import issue_letters
from esante.registry.models import InsuredPerson

LUXEMBOURG = ZoneInfo("Europe/Luxembourg")
STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.DOTALL)
SHOWN_STRING = re.compile(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", re.DOTALL)
SHOWN_OR_NEW_LINE = re.compile(rb"\(((?:\\.|[^\\)])*)\)\s*Tj|T\*", re.DOTALL)
ESCAPE = re.compile(rb"\\([0-7]{1,3}|.)", re.DOTALL)
ESCAPED = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


@pytest.fixture(autouse=True)
def letters_dir(settings: Any, tmp_path: Path) -> Path:
    location = tmp_path / "letters"
    settings.STORAGES = {
        **settings.STORAGES,
        "letters": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }
    return location


def unescape(literal: bytes) -> str:
    def one(match: re.Match[bytes]) -> bytes:
        escaped = match.group(1)
        if escaped.isdigit():
            return bytes([int(escaped, 8)])
        return ESCAPED.get(escaped, escaped)

    return ESCAPE.sub(one, literal).decode("cp1252")


def streams(pdf: bytes) -> list[bytes]:
    contents = []
    for match in STREAM.finditer(pdf):
        data = match.group(1)
        with contextlib.suppress(zlib.error):  # when not compressed
            data = zlib.decompressobj().decompress(data)
        contents.append(data)
    return contents


def shown_strings(stream: bytes) -> list[str]:
    return [unescape(match.group(1)) for match in SHOWN_STRING.finditer(stream)]


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page(?![A-Za-z])", pdf))


def page_texts(pdf: bytes) -> list[list[str]]:
    """The strings drawn on each page, in page order (the static form's excepted)."""
    return [shown_strings(stream) for stream in streams(pdf) if b"/FormXob." in stream]


def form_texts(pdf: bytes) -> dict[str, str]:
    """The text of each form XObject (the parts common to every page), by form name."""
    names = re.findall(rb"/FormXob\.(\w+) (\d+) 0 R", pdf)
    texts = {}
    for name, number in dict(names).items():
        found = re.search(rb"\n" + number + rb" 0 obj\n(.*?)endobj", pdf, re.DOTALL)
        assert found is not None
        (content,) = streams(found.group(1))
        pieces = [
            unescape(match.group(1)) if match.group(1) is not None else " "
            for match in SHOWN_OR_NEW_LINE.finditer(content)
        ]
        texts[name.decode()] = re.sub(r"\s+", " ", "".join(pieces).replace("\xa0", " "))
    return texts


def page(**changes: Any) -> LetterPage:
    defaults = LetterPage(
        reference="L-000123",
        address_lines=("Alice Martin", "12, rue de la Gare", "L-1611 Luxembourg"),
        holder_name="Alice Martin",
        matricule="1985041210052",
        code="K7QM-4XPA-9TRE",
        expires_on=datetime.date(2027, 3, 1),
        for_minor=False,
    )
    return replace(defaults, **changes)


def render(pages: list[LetterPage], *, compress: bool = False) -> bytes:
    output = io.BytesIO()
    count = render_letters(pages, output, issued_on=datetime.date(2026, 11, 25), compress=compress)
    assert count == len(pages)
    return output.getvalue()


def test_the_pdf_has_one_page_per_letter() -> None:
    pdf = render([page(), page(for_minor=True), page(), page()])

    assert pdf.startswith(b"%PDF-")
    assert page_count(pdf) == 4
    assert len(page_texts(pdf)) == 4


def test_a_page_holds_the_address_holder_matricule_code_and_expiry() -> None:
    pdf = render([page(), page(holder_name="Bob Martin", code="HX3C-WN7R-DEUF")])

    first, second = page_texts(pdf)
    assert first == [
        "Alice Martin",
        "12, rue de la Gare",
        "L-1611 Luxembourg",
        "Alice Martin",
        "L-000123",
        "1985041210052",
        "K7QM-4XPA-9TRE",
        "Valable jusqu'au 1er mars 2027 inclus",
    ]
    assert "Bob Martin" in second
    assert "HX3C-WN7R-DEUF" in second


def test_the_code_is_printed_big_in_monospace() -> None:
    pdf = render([page()])

    courier = re.search(rb"/BaseFont /Courier-Bold /Encoding /WinAnsiEncoding /Name /(F\d+)", pdf)
    assert courier is not None
    (stream,) = [content for content in streams(pdf) if b"/FormXob." in content]
    code_shown = rb"/" + courier.group(1) + rb" 26 Tf [\d.]+ TL 1 0 0 1 [\d.]+ [\d.]+ Tm \(K7QM-"
    assert re.search(code_shown, stream)


def test_the_static_parts_are_drawn_once_per_form_not_on_every_page() -> None:
    pdf = render([page() for _index in range(50)])

    assert page_count(pdf) == 50
    assert pdf.count(b"Sant\\351") < 50
    forms = form_texts(pdf)
    assert set(forms) == {"letter_adult_fr"}


def test_the_letter_carries_the_agency_the_steps_and_the_helpdesk(settings: Any) -> None:
    settings.ESANTE_HELPDESK_PHONE = "(+352) 27 12 50 18 33"
    settings.ESANTE_HELPDESK_EMAIL = "helpdesk@esante.lu"
    settings.ESANTE_HELPDESK_FORM_URL = "https://www.esante.lu/helpdesk"
    settings.ESANTE_OTP_MINUTES = 15

    text = form_texts(render([page()]))["letter_adult_fr"]

    for expected in (
        "Agence nationale des informations partagées dans le domaine de la santé",
        "B.P 2511 L-1025 Luxembourg",
        "Luxembourg, le 25 novembre 2026",
        "www.esante.lu",
        "PATIENTS",
        "ACTIVATION COMPTE ESANTE",
        "Conditions Générales d'Utilisation",
        "Oui",
        "au moins 8 caractères, comprenant au moins une lettre et au moins un chiffre",
        "valable 15 minutes",
        "LuxTrust",
        "Confirmation",
        "(+352) 27 12 50 18 33",
        "helpdesk@esante.lu",
        "www.esante.lu/helpdesk",
        "bloqué après 5 saisies erronées",
    ):
        assert expected in text, expected
    assert "Assistant DSP" not in text


def test_a_minors_letter_speaks_to_the_parents_about_the_assistant_dsp() -> None:
    minor = page(
        address_lines=("Aux parents de Léa Martin", "12, rue de la Gare", "L-1611 Luxembourg"),
        holder_name="Léa Martin",
        for_minor=True,
    )

    pdf = render([page(), minor])

    forms = form_texts(pdf)
    assert set(forms) == {"letter_adult_fr", "letter_minor_fr"}
    assert "Assistant DSP" in forms["letter_minor_fr"]
    assert "votre enfant" in forms["letter_minor_fr"]
    assert "Un assistant DSP a les mêmes droits que le titulaire du DSP" in forms["letter_minor_fr"]
    assert page_texts(pdf)[1][0] == "Aux parents de Léa Martin"


def test_french_accents_are_drawn_with_helvetica_in_winansi() -> None:
    accented = "Émile Çelik-Hôtel, àèéç"

    pdf = render([page(address_lines=(accented, "1, rue de l'Église", "L-6720 Grevenmacher"))])

    assert page_texts(pdf)[0][:2] == [accented, "1, rue de l'Église"]
    assert b"/ZapfDingbats" not in pdf  # ReportLab's black boxes for unknown characters
    assert b"/BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding" in pdf


def test_a_name_outside_winansi_is_drawn_in_dejavu_not_as_black_boxes() -> None:
    if not letter_pdf.fallback_fonts_available():
        pytest.skip("DejaVu Sans is not installed")

    pdf = render([page(address_lines=("Łukasz Dvořák", "L-1611 Luxembourg"))])

    assert b"/ZapfDingbats" not in pdf
    assert b"DejaVuSans-Bold" in pdf
    (stream,) = [content for content in streams(pdf) if b"/FormXob." in content]
    # In the embedded subset, the name is glyph numbers: \001 for Ł, \002 for ř.
    assert re.search(rb"Tm /F\d+\+0 11 Tf [\d.]+ TL \(\\001ukasz Dvo\\002", stream)
    assert page_texts(pdf)[0][1] == "L-1611 Luxembourg"


def test_without_dejavu_a_name_loses_its_accents_rather_than_its_letters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(letter_pdf, "fallback_fonts_available", lambda: False)

    pdf = render([page(address_lines=("Dvořák Ğüneş", "L-1611 Luxembourg"))])

    assert page_texts(pdf)[0][0] == "Dvorak Gunes"
    assert b"/ZapfDingbats" not in pdf


def test_a_long_address_line_shrinks_to_fit_the_window() -> None:
    long_line = "Appartement 1204, résidence « Les Jardins de la Pétrusse », bâtiment C"

    pdf = render([page(address_lines=("Alice Martin", long_line, "L-1611 Luxembourg"))])

    (stream,) = [content for content in streams(pdf) if b"/FormXob." in content]
    size = re.search(rb"/F\d+ ([\d.]+) Tf [\d.]+ TL \(Appartement", stream)
    assert size is not None
    assert letter_pdf.SMALLEST_SIZE <= float(size.group(1)) < letter_pdf.ADDRESS_SIZE


def test_texts_that_would_run_into_the_footer_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(letter_pdf, "FOOTER_TOP", 200 * mm)

    with pytest.raises(LayoutError):
        render([page(for_minor=True)])


def test_compressed_output_reads_the_same() -> None:
    pages = [page(), page(code="HX3C-WN7R-DEUF", for_minor=True)]

    compressed, plain = render(pages, compress=True), render(pages)

    assert len(compressed) < len(plain)
    assert page_texts(compressed) == page_texts(plain)
    assert page_count(compressed) == 2


@pytest.mark.django_db
def test_an_issued_batch_prints_each_persons_letter(
    alice: InsuredPerson, lea: InsuredPerson, letters_dir: Path
) -> None:
    issued_at = datetime.datetime(2026, 1, 10, 9, 30, tzinfo=LUXEMBOURG)
    with time_machine.travel(issued_at, tick=False):
        batch = issue_letters([alice, lea], actor="test")
    assert batch is not None

    path = Path(storages["letters"].path(batch.pdf_name))
    assert path.parent == letters_dir
    pdf = path.read_bytes()
    assert page_count(pdf) == batch.letter_count == 2
    alice_page, lea_page = page_texts(pdf)
    assert alice_page[0] == "Alice Martin"
    assert alice.matricule in alice_page
    assert "Valable jusqu'au 10 avril 2026 inclus" in alice_page
    assert lea_page[0] == "Aux parents de Léa Martin"
    assert "Léa Martin" in lea_page
    assert lea.matricule in lea_page
    codes = [re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", text) for text in lea_page]
    assert any(codes)
    letter_ids = list(batch.letters.order_by("pk").values_list("pk", flat=True))
    assert alice_page[4] == f"L-{letter_ids[0]:06d}"
    # Their DSPs opened with the letters: professionals may write 30 days later.
    forms = form_texts(pdf)
    assert set(forms) == {"letter_adult_fr_dsp20260209", "letter_minor_fr_dsp20260209"}
    assert "Luxembourg, le 10 janvier 2026" in forms["letter_adult_fr_dsp20260209"]
    assert "Assistant DSP" in forms["letter_minor_fr_dsp20260209"]
    assert (
        "Votre dossier de soins partagé (DSP) est ouvert : les professionnels de santé qui "
        "vous soignent pourront y consulter et y ajouter vos documents médicaux à partir du "
        "9 février 2026." in forms["letter_adult_fr_dsp20260209"]
    )
    assert "fermez son DSP avant cette date" in forms["letter_minor_fr_dsp20260209"]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "de",
            (
                "Luxemburg, den 25. November 2026",
                "Betreff: Ihr eSanté-Aktivierungscode",
                "Gültig bis einschließlich 1. März 2027",
            ),
        ),
        (
            "en",
            (
                "Luxembourg, 25 November 2026",
                "Valid until 1 March 2027 inclusive",
            ),
        ),
    ],
)
def test_a_letter_prints_in_its_language_and_fits_the_page(
    language: str, expected: tuple[str, ...]
) -> None:
    pdf = render([page(language=language), page(language=language, for_minor=True), page()])

    forms = form_texts(pdf)
    assert set(forms) == {f"letter_adult_{language}", f"letter_minor_{language}", "letter_adult_fr"}
    text = forms[f"letter_adult_{language}"] + " ".join(page_texts(pdf)[0])
    for wanted in expected:
        assert wanted in text, wanted
    assert "Madame, Monsieur" not in text
    assert "Madame, Monsieur" in forms["letter_adult_fr"]
    assert "Valable jusqu'au 1er mars 2027 inclus" in page_texts(pdf)[2]


@pytest.mark.django_db
def test_an_issued_batch_prints_each_letter_in_its_person_s_language(
    alice: InsuredPerson, bob: InsuredPerson, charlie: InsuredPerson
) -> None:
    InsuredPerson.objects.filter(pk=bob.pk).update(language="de")
    InsuredPerson.objects.filter(pk=charlie.pk).update(language="en")

    batch = issue_letters([alice, bob, charlie], actor="test")

    assert batch is not None
    pdf = Path(storages["letters"].path(batch.pdf_name)).read_bytes()
    alice_page, bob_page, charlie_page = page_texts(pdf)
    assert any(text.startswith("Valable jusqu'au") for text in alice_page)
    assert any(text.startswith("Gültig bis einschließlich") for text in bob_page)
    assert any(text.startswith("Valid until") for text in charlie_page)
    forms = form_texts(pdf)
    day = f"{timezone.localdate() + datetime.timedelta(days=30):%Y%m%d}"
    assert {f"letter_adult_{language}_dsp{day}" for language in ("fr", "de", "en")} <= set(forms)
    assert (
        "Ihre Gemeinsame Gesundheitsakte (DSP) ist eröffnet" in forms[f"letter_adult_de_dsp{day}"]
    )
    assert "Your Shared Care Record (DSP) is open" in forms[f"letter_adult_en_dsp{day}"]


DSP_DAY = datetime.date(2027, 1, 3)


@pytest.mark.parametrize("language", ["fr", "de", "en"])
@pytest.mark.parametrize("for_minor", [False, True])
@pytest.mark.parametrize("writable_from", [DSP_DAY, None])
def test_the_dsp_paragraph_keeps_every_letter_on_one_page(
    language: str, for_minor: bool, writable_from: datetime.date | None
) -> None:
    # Drawn for real: a text that would run into the footer raises LayoutError.
    pdf = render(
        [
            page(
                language=language,
                for_minor=for_minor,
                dsp_open=True,
                dsp_writable_from=writable_from,
            )
        ]
    )

    assert page_count(pdf) == 1
    (text,) = form_texts(pdf).values()
    with translation.override(language):
        paragraph = dsp_paragraph(for_minor=for_minor, writable_from=writable_from)
    assert re.sub(r"\s+", " ", paragraph.replace("\xa0", " ")) in text


def test_the_dsp_paragraph_gives_the_date_while_the_holder_may_object() -> None:
    pages = [
        page(dsp_open=True, dsp_writable_from=DSP_DAY),
        page(dsp_open=True),  # the objection period is over
        page(),  # no DSP, or a closed one: nothing said
    ]

    forms = form_texts(render(pages))

    assert set(forms) == {"letter_adult_fr_dsp20270103", "letter_adult_fr_dsp", "letter_adult_fr"}
    assert "à partir du 3 janvier 2027" in forms["letter_adult_fr_dsp20270103"]
    assert "fermez votre DSP avant cette date" in forms["letter_adult_fr_dsp20270103"]
    assert "peuvent y consulter et y ajouter vos documents" in forms["letter_adult_fr_dsp"]
    assert "à partir du" not in forms["letter_adult_fr_dsp"]
    assert "dossier de soins partagé" not in forms["letter_adult_fr"]
