"""`esante import-professionals`: the CNS's list of providers into the register."""

from __future__ import annotations

import csv
import functools
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from esante.audit.models import AuditEvent, EventType
from esante.csv_import import ImportFileError
from esante.professionals.importer import import_professionals
from esante.professionals.management.commands.import_professionals import Command
from esante.professionals.models import Profession, Professional
from tests.csv_files import counts, reasons, write_csv

pytestmark = pytest.mark.django_db

COLUMNS = (
    "national_code",
    "last_name",
    "first_name",
    "profession",
    "specialty",
    "practice_name",
    "address_line1",
    "address_line2",
    "postal_code",
    "locality",
    "country",
    "active",
)


def code(serial: int) -> str:
    return f"{900000 + serial:06d}-{serial % 100:02d}"


def stored_code(serial: int) -> str:
    return code(serial).replace("-", "")


def professional_row(serial: int, **values: str) -> dict[str, str]:
    row = {
        "national_code": code(serial),
        "last_name": "Reding",
        "first_name": f"Paul{serial}",
        "profession": "medecin",
        "specialty": "Médecine générale",
        "practice_name": "Cabinet médical de la Gare",
        "address_line1": "12, avenue Pasteur",
        "address_line2": "",
        "postal_code": "L-2310",
        "locality": "Luxembourg",
        "country": "",
        "active": "1",
    }
    row.update(values)
    return row


# Rows under the header of COLUMNS, unless `columns=` says otherwise.
write_file = functools.partial(write_csv, columns=COLUMNS)


@pytest.fixture
def listing(tmp_path: Path) -> Path:
    return tmp_path / "prestataires.csv"


# Creating, updating, leaving alone ------------------------------------------------------


def test_new_professionals_are_created_with_every_column(listing: Path) -> None:
    write_file(
        listing,
        [
            professional_row(1, address_line2="2e étage", country="be"),
            professional_row(
                2,
                last_name="Laboratoires Réunis",
                first_name="",
                profession="laboratoire",
                specialty="",
                practice_name="",
            ),
        ],
    )

    result = import_professionals(listing)

    assert counts(result) == (2, 0, 0, 0)
    doctor = Professional.objects.get(national_code=stored_code(1))
    assert (
        doctor.last_name,
        doctor.first_name,
        doctor.profession,
        doctor.specialty,
        doctor.practice_name,
        doctor.address_line1,
        doctor.address_line2,
        doctor.postal_code,
        doctor.locality,
        doctor.country,
        doctor.is_active,
    ) == (
        "Reding",
        "Paul1",
        Profession.PHYSICIAN,
        "Médecine générale",
        "Cabinet médical de la Gare",
        "12, avenue Pasteur",
        "2e étage",
        "L-2310",
        "Luxembourg",
        "BE",
        True,
    )
    laboratory = Professional.objects.get(national_code=stored_code(2))
    assert laboratory.full_name == "Laboratoires Réunis"
    assert laboratory.country == "LU"


def test_the_same_file_twice_changes_nothing_the_second_time(listing: Path) -> None:
    write_file(listing, [professional_row(serial) for serial in range(1, 6)])
    assert counts(import_professionals(listing)) == (5, 0, 0, 0)
    before = list(Professional.objects.order_by("pk").values())

    second = import_professionals(listing)

    assert counts(second) == (0, 0, 5, 0)
    assert list(Professional.objects.order_by("pk").values()) == before


def test_a_changed_value_updates_only_that_professional(listing: Path) -> None:
    write_file(listing, [professional_row(1), professional_row(2)])
    import_professionals(listing)
    untouched = Professional.objects.get(national_code=stored_code(2)).updated_at
    write_file(
        listing,
        [
            professional_row(1, locality="Esch-sur-Alzette", specialty="Cardiologie"),
            professional_row(2),
        ],
    )

    result = import_professionals(listing)

    assert counts(result) == (0, 1, 1, 0)
    moved = Professional.objects.get(national_code=stored_code(1))
    assert (moved.locality, moved.specialty) == ("Esch-sur-Alzette", "Cardiologie")
    assert moved.updated_at > moved.created_at
    assert Professional.objects.get(national_code=stored_code(2)).updated_at == untouched


def test_a_professional_made_inactive_becomes_inactive_and_is_never_deleted(
    listing: Path,
) -> None:
    write_file(listing, [professional_row(1), professional_row(2), professional_row(3)])
    import_professionals(listing)
    write_file(listing, [professional_row(1, active="0"), professional_row(2, active="NON")])

    result = import_professionals(listing)

    assert counts(result) == (0, 2, 0, 0)
    active = dict(Professional.objects.values_list("national_code", "is_active"))
    # The third, absent from the file, is left as it was.
    assert active == {stored_code(1): False, stored_code(2): False, stored_code(3): True}
    write_file(listing, [professional_row(1, active="oui")])
    assert counts(import_professionals(listing)) == (0, 1, 0, 0)
    assert Professional.objects.get(national_code=stored_code(1)).is_active


def test_active_accepts_its_words_in_any_case_and_empty_means_active(listing: Path) -> None:
    values = ["1", "0", "oui", "Non", "TRUE", "false", ""]
    write_file(listing, [professional_row(n, active=value) for n, value in enumerate(values)])

    import_professionals(listing)

    active = dict(Professional.objects.values_list("national_code", "is_active"))
    assert [active[stored_code(n)] for n in range(len(values))] == [
        True,
        False,
        True,
        False,
        True,
        False,
        True,
    ]


def test_a_profession_is_read_from_its_value_or_its_french_name(listing: Path) -> None:
    written = [
        "medecin-dentiste",
        "Médecin-dentiste",
        "SAGE-FEMME",
        "sage femme",
        "Kinésithérapeute",
    ]
    write_file(listing, [professional_row(n, profession=value) for n, value in enumerate(written)])

    assert counts(import_professionals(listing)) == (5, 0, 0, 0)

    professions = dict(Professional.objects.values_list("national_code", "profession"))
    assert [professions[stored_code(n)] for n in range(len(written))] == [
        Profession.DENTIST,
        Profession.DENTIST,
        Profession.MIDWIFE,
        Profession.MIDWIFE,
        Profession.PHYSIOTHERAPIST,
    ]


def test_a_file_without_an_optional_column_keeps_the_known_values(listing: Path) -> None:
    write_file(listing, [professional_row(1, specialty="Pédiatrie", active="0")])
    import_professionals(listing)
    columns = [name for name in COLUMNS if name not in ("specialty", "active")]

    write_file(listing, [professional_row(1), professional_row(2)], columns=columns)
    result = import_professionals(listing)

    assert counts(result) == (1, 0, 1, 0)
    known = Professional.objects.get(national_code=stored_code(1))
    assert (known.specialty, known.is_active) == ("Pédiatrie", False)
    new = Professional.objects.get(national_code=stored_code(2))
    assert (new.specialty, new.is_active) == ("", True)

    write_file(listing, [professional_row(1, locality="Esch-sur-Alzette")], columns=columns)
    assert counts(import_professionals(listing)) == (0, 1, 0, 0)
    moved = Professional.objects.get(national_code=stored_code(1))
    assert (moved.locality, moved.specialty, moved.is_active) == (
        "Esch-sur-Alzette",
        "Pédiatrie",
        False,
    )
    assert moved.created_at == known.created_at


# Bad rows -----------------------------------------------------------------------------------


def test_good_rows_land_and_bad_rows_are_reported_with_line_and_reason(listing: Path) -> None:
    write_file(
        listing,
        [
            professional_row(1),  # line 2
            professional_row(2, national_code="12345"),  # 3: too short
            professional_row(3, national_code=""),  # 4: no code
            professional_row(1, first_name="Again"),  # 5: duplicate of line 2
            professional_row(4, profession="chirurgien"),  # 6: unknown profession
            professional_row(5, last_name=" "),  # 7: empty name
            professional_row(6, first_name=""),  # 8: no first name, not a laboratory
            professional_row(7, specialty="x" * 101),  # 9: too long
            professional_row(8, locality=""),  # 10: no locality
            professional_row(9, country="LUX"),  # 11: bad country
            professional_row(10, active="peut-être"),  # 12: bad active
            [code(11), "Reding", "Paul"],  # 13: too few values
            professional_row(12, practice_name="Cabinet\tGare"),  # 14: control character
            [f"{code(13)} Reding"],  # 15: one value
            professional_row(14, profession="Infirmier"),  # 16: good
        ],
    )

    result = import_professionals(listing)

    assert counts(result) == (2, 0, 0, 13)
    assert reasons(result) == {
        3: "Le code national « 12345 » n'a pas la forme attendue : de 6 à 10 chiffres.",
        4: "Le code national est vide.",
        5: f"Le code national {stored_code(1)} figure déjà à la ligne 2.",
        6: (
            "La profession « chirurgien » n'est pas connue ; professions : "
            + ", ".join(Profession.values)
            + "."
        ),
        7: "La colonne last_name est vide.",
        8: "La colonne first_name est vide (elle ne peut l'être que pour un laboratoire).",
        9: "La colonne specialty dépasse 100 caractères (101).",
        10: "La colonne locality est vide.",
        11: "Le pays « LUX » n'est pas un code ISO de deux lettres.",
        12: (
            "La valeur « peut-être » de la colonne active n'est pas 1, 0, oui, non, true, "
            "false ni vide."
        ),
        13: "La ligne compte 3 valeurs au lieu de 12.",
        14: (
            "La colonne practice_name contient un caractère de contrôle (tabulation, saut "
            "de ligne...)."
        ),
        15: "La ligne compte 1 valeur au lieu de 12.",
    }
    assert sorted(Professional.objects.values_list("national_code", flat=True)) == sorted(
        [stored_code(1), stored_code(14)]
    )


def csv_line(row: dict[str, str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(row.values())
    return out.getvalue()


def test_a_quote_left_open_costs_its_own_line_only(listing: Path) -> None:
    good = csv_line(professional_row(2))
    listing.write_text(
        ",".join(COLUMNS) + "\n" + f'{code(1)},"Reding,Paul,medecin\n' + good + "\n",
        encoding="utf-8",
    )

    result = import_professionals(listing)

    assert counts(result) == (1, 0, 0, 1)
    assert reasons(result)[2].startswith("Guillemet non refermé")


# Whole-file refusals change nothing --------------------------------------------------------


def test_a_header_without_a_required_column_changes_nothing(listing: Path) -> None:
    write_file(listing, [professional_row(1)])
    import_professionals(listing)
    write_file(
        listing,
        [professional_row(1, locality="Esch"), professional_row(2)],
        columns=[name for name in COLUMNS if name != "profession"],
    )

    with pytest.raises(ImportFileError, match=r"Colonne obligatoire absente.*: profession\."):
        import_professionals(listing)

    assert list(Professional.objects.values_list("national_code", "locality")) == [
        (stored_code(1), "Luxembourg")
    ]
    assert AuditEvent.objects.count() == 1  # the first import's


def test_a_file_that_is_not_utf8_changes_nothing(listing: Path) -> None:
    write_file(
        listing,
        [professional_row(1), professional_row(2, locality="Lëtzebuerg")],
        encoding="latin-1",
    )

    with pytest.raises(ImportFileError, match=r"pas encodé en UTF-8 \(ligne 2\)"):
        import_professionals(listing)

    assert not Professional.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="n'existe pas"):
        import_professionals(tmp_path / "absent.csv")


def test_a_header_naming_a_column_twice_is_refused(listing: Path) -> None:
    write_file(listing, [[*professional_row(1).values(), "x"]], columns=[*COLUMNS, "Locality"])

    with pytest.raises(ImportFileError, match=r"Colonne en double dans l'en-tête : locality\."):
        import_professionals(listing)

    assert not Professional.objects.exists()


# The file's forms ---------------------------------------------------------------------------


def test_a_byte_order_mark_and_the_semicolon_delimiter_are_accepted(listing: Path) -> None:
    write_file(
        listing,
        [professional_row(1), professional_row(2, practice_name="Cabinet; de la Syre")],
        delimiter=";",
        encoding="utf-8-sig",
    )

    result = import_professionals(listing)

    assert counts(result) == (2, 0, 0, 0)
    assert Professional.objects.get(national_code=stored_code(2)).practice_name == (
        "Cabinet; de la Syre"
    )


def test_headers_match_in_any_case_and_order_and_unknown_columns_are_reported(
    listing: Path,
) -> None:
    columns = [" LOCALITY ", *reversed(COLUMNS[:-3]), "Country", "email"]
    row = professional_row(1)
    values = [row["locality"], *(row[name] for name in reversed(COLUMNS[:-3])), "", "x@y.lu"]
    write_file(listing, [values], columns=columns)

    result = import_professionals(listing)

    assert counts(result) == (1, 0, 0, 0)
    assert result.ignored_columns == ("email",)
    assert Professional.objects.get().locality == "Luxembourg"


def test_crlf_line_ends_and_blank_lines_are_accepted(listing: Path) -> None:
    rows = [csv_line(professional_row(serial)) for serial in (1, 2)]
    listing.write_bytes(("\r\n".join([",".join(COLUMNS), rows[0], "", rows[1]]) + "\r\n").encode())

    assert counts(import_professionals(listing)) == (2, 0, 0, 0)


def test_chunks_and_progress_count_every_line(listing: Path) -> None:
    write_file(listing, [professional_row(serial) for serial in range(1, 8)])

    class RecordingProgress:
        total = 0
        advances: list[int] = []

        def start(self, total_rows: int) -> None:
            self.total = total_rows

        def advance(self, rows: int) -> None:
            self.advances.append(rows)

    progress = RecordingProgress()
    result = import_professionals(listing, chunk_size=3, progress=progress)

    assert counts(result) == (7, 0, 0, 0)
    assert progress.total == 7
    assert progress.advances == [3, 3, 1]


# The audit event -------------------------------------------------------------------------


def test_each_import_writes_one_audit_event_with_its_counts(listing: Path) -> None:
    write_file(
        listing, [professional_row(1), professional_row(2), professional_row(3, profession="?")]
    )
    import_professionals(listing)
    write_file(listing, [professional_row(1, active="0"), professional_row(2)])
    import_professionals(listing, actor="staff:7")

    events = list(AuditEvent.objects.order_by("pk"))
    assert [event.event_type for event in events] == [EventType.PROFESSIONALS_IMPORTED] * 2
    assert [event.actor for event in events] == ["command:import-professionals", "staff:7"]
    assert [event.details for event in events] == [
        {"file": "prestataires.csv", "created": 2, "updated": 0, "unchanged": 0, "rejected": 1},
        {"file": "prestataires.csv", "created": 0, "updated": 1, "unchanged": 1, "rejected": 0},
    ]


# The command -------------------------------------------------------------------------------


def test_the_command_prints_each_rejected_line_and_a_summary(listing: Path) -> None:
    write_file(
        listing, [professional_row(1), professional_row(2, last_name=""), professional_row(3)]
    )
    out = io.StringIO()

    call_command("import_professionals", str(listing), stdout=out, no_color=True)

    assert out.getvalue().splitlines() == [
        "ligne 3 : La colonne last_name est vide.",
        "prestataires.csv : 2 créés, 0 mis à jour, 0 inchangé, 1 rejeté.",
    ]
    out = io.StringIO()
    call_command("import_professionals", str(listing), stdout=out, no_color=True)
    assert out.getvalue().splitlines()[-1] == (
        "prestataires.csv : 0 créé, 0 mis à jour, 2 inchangés, 1 rejeté."
    )


def test_the_command_turns_a_bad_file_into_a_clear_error(listing: Path) -> None:
    write_file(listing, [professional_row(1)], columns=COLUMNS[1:])

    with pytest.raises(CommandError, match=r"absente.*: national_code"):
        call_command("import_professionals", str(listing))


def test_the_command_exits_non_zero_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        Command().run_from_argv(["esante", "import_professionals", str(tmp_path / "absent.csv")])

    assert exited.value.code == 1
    error = capsys.readouterr().err
    assert "n'existe pas" in error
    assert "Traceback" not in error


def test_the_command_help_lists_every_column() -> None:
    help_text = Command().create_parser("esante", "import_professionals").format_help()

    for column in COLUMNS:
        assert f"\n  {column} " in help_text
    for profession in Profession.values:
        assert profession in help_text
