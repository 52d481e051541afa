"""`esante import-registry`: the national insurance feed into the registry."""

from __future__ import annotations

import csv
import datetime
import functools
import io
import itertools
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from stdnum import luhn

from esante.audit.models import AuditEvent, EventType
from esante.csv_import import ImportFileError, ImportResult
from esante.registry import identifiers, importer, matricule
from esante.registry.importer import import_registry
from esante.registry.management.commands.import_registry import Command
from esante.registry.models import InsuredPerson
from tests.csv_files import counts, reasons, write_csv

pytestmark = pytest.mark.django_db

COLUMNS = (
    "matricule",
    "last_name",
    "first_name",
    "birth_date",
    "sex",
    "address_line1",
    "address_line2",
    "postal_code",
    "locality",
    "country",
    "date_of_death",
)
MONDAY = datetime.datetime(2025, 3, 10, 9, tzinfo=datetime.UTC)
TUESDAY = datetime.datetime(2025, 3, 11, 9, tzinfo=datetime.UTC)


def number(serial: int, birth: datetime.date = datetime.date(1980, 5, 17)) -> str:
    return matricule.make(birth, serial)


def person_row(serial: int, **values: str) -> dict[str, str]:
    row = {
        "matricule": number(serial),
        "last_name": "Muller",
        "first_name": f"Anne{serial}",
        "birth_date": "",
        "sex": "F",
        "address_line1": "12, rue de la Gare",
        "address_line2": "",
        "postal_code": "L-1611",
        "locality": "Luxembourg",
        "country": "",
        "date_of_death": "",
    }
    row.update(values)
    return row


# Rows under the header of COLUMNS, unless `columns=` says otherwise.
write_feed = functools.partial(write_csv, columns=COLUMNS)


@pytest.fixture
def feed(tmp_path: Path) -> Path:
    return tmp_path / "assures.csv"


# Good rows and bad rows ---------------------------------------------------------------


def test_good_rows_land_and_bad_rows_are_reported_with_line_and_reason(feed: Path) -> None:
    write_feed(
        feed,
        [
            person_row(1),  # line 2
            person_row(2, matricule=number(2)[:-1] + "9"),  # 3: check digits
            person_row(3, last_name="  "),  # 4: empty name
            person_row(4, first_name="A" * 101),  # 5: too long
            person_row(5, birth_date="1980-05-32"),  # 6: bad date
            person_row(6, birth_date="1981-05-17"),  # 7: not the matricule's date
            person_row(7, date_of_death="1979-12-31"),  # 8: death before birth
            person_row(1, first_name="Again"),  # 9: duplicate of line 2
            person_row(8, sex="H"),  # 10: bad sex
            person_row(9, country="LUX"),  # 11: bad country
            [number(10), "Muller", "Anne"],  # 12: too few values
            person_row(11, birth_date="17/05/1980"),  # 13: not ISO
            person_row(12, locality="Esch\tsur-Alzette"),  # 14: control character
            person_row(13, matricule=""),  # 15: no matricule
            person_row(14, postal_code=""),  # 16: no postal code
            person_row(15, first_name="Émile", sex="m", country="fr"),  # 17: good
        ],
    )

    result = import_registry(feed)

    assert counts(result) == (2, 0, 0, 14)
    found = reasons(result)
    assert sorted(found) == list(range(3, 17))
    assert "chiffres de contrôle" in found[3]
    assert found[4] == "La colonne last_name est vide."
    assert found[5] == "La colonne first_name dépasse 100 caractères (101)."
    assert "birth_date" in found[6] and "1980-05-32" in found[6]
    assert "ne correspond pas" in found[7] and "1980-05-17" in found[7]
    assert "précède" in found[8]
    assert found[9] == f"Le matricule {number(1)} figure déjà à la ligne 2."
    assert "« H »" in found[10]
    assert "« LUX »" in found[11]
    assert found[12] == "La ligne compte 3 valeurs au lieu de 11."
    assert "17/05/1980" in found[13]
    assert "locality" in found[14] and "contrôle" in found[14]
    assert found[15] == "Veuillez saisir votre matricule."
    assert found[16] == "La colonne postal_code est vide."

    anne = InsuredPerson.objects.get(matricule=number(1))
    assert (anne.first_name, anne.last_name, anne.sex, anne.country) == (
        "Anne1",
        "Muller",
        "F",
        "LU",
    )
    assert anne.birth_date == datetime.date(1980, 5, 17)
    assert (anne.address_line1, anne.postal_code, anne.locality) == (
        "12, rue de la Gare",
        "L-1611",
        "Luxembourg",
    )
    emile = InsuredPerson.objects.get(matricule=number(15))
    assert (emile.first_name, emile.sex, emile.country) == ("Émile", "M", "FR")
    assert InsuredPerson.objects.count() == 2


def test_values_are_stripped_and_spaced_matricules_normalized(feed: Path) -> None:
    spaced = " ".join([number(1)[:4], number(1)[4:8], number(1)[8:]])
    write_feed(
        feed, [person_row(1, matricule=spaced, last_name="  Weber ", locality=" Ettelbruck")]
    )

    import_registry(feed)

    person = InsuredPerson.objects.get()
    assert (person.matricule, person.last_name, person.locality) == (
        number(1),
        "Weber",
        "Ettelbruck",
    )


def test_birth_date_comes_from_the_matricule_unless_given(feed: Path) -> None:
    unknown_day = "1975060012" + "3"
    unknown_day += matricule.check_digits(unknown_day)
    unknown_month = "1960000045" + "6"
    unknown_month += matricule.check_digits(unknown_month)
    write_feed(
        feed,
        [
            person_row(1, matricule=unknown_day),
            person_row(2, matricule=unknown_month, birth_date="1960-11-03"),
            person_row(3, matricule="19520229071"),  # legacy 11 digits
            person_row(4, birth_date="1980-05-17", date_of_death="2020-01-31"),
        ],
    )

    result = import_registry(feed)

    assert counts(result) == (4, 0, 0, 0)
    birth = dict(InsuredPerson.objects.values_list("matricule", "birth_date"))
    assert birth[unknown_day] == datetime.date(1975, 6, 1)
    assert birth[unknown_month] == datetime.date(1960, 11, 3)
    assert birth["19520229071"] == datetime.date(1952, 2, 29)
    assert InsuredPerson.objects.get(matricule=number(4)).date_of_death == datetime.date(
        2020, 1, 31
    )


def test_dates_in_the_future_are_refused(feed: Path) -> None:
    this_year = "2025000077" + "7"
    this_year += matricule.check_digits(this_year)
    write_feed(
        feed,
        [
            person_row(1, matricule=this_year, birth_date="2025-12-01"),
            person_row(2, date_of_death="2025-03-11"),
            person_row(3, date_of_death="2025-03-10"),
        ],
    )

    with time_machine.travel(MONDAY, tick=False):
        result = import_registry(feed)

    assert reasons(result) == {
        2: "La date de naissance 2025-12-01 est dans le futur.",
        3: "La date de décès 2025-03-11 est dans le futur.",
    }
    assert InsuredPerson.objects.get().matricule == number(3)


def line_of(serial: int, **values: str) -> str:
    """A row as a line of the feed (values without commas or quotes)."""
    return ",".join(person_row(serial, address_line1="rue de la Gare", **values).values())


def test_a_quoted_line_break_rejects_both_lines_and_line_numbers_are_the_files(
    feed: Path,
) -> None:
    multiline = line_of(2, address_line2="X").replace(",X,", ',"Bât. B\nétage 2",')
    feed.write_text(
        f"{','.join(COLUMNS)}\n{line_of(1)}\n\n{multiline}\n{line_of(3, last_name='')}\n",
        encoding="utf-8",
    )

    result = import_registry(feed)

    assert counts(result) == (1, 0, 0, 3)
    assert reasons(result) == {
        4: QUOTE_LEFT_OPEN,
        5: "La ligne compte 5 valeurs au lieu de 11.",
        6: "La colonne last_name est vide.",
    }


QUOTE_LEFT_OPEN = (
    "Guillemet non refermé : une valeur entre guillemets doit se terminer sur sa ligne "
    "(une valeur ne peut pas contenir de saut de ligne)."
)


@pytest.mark.parametrize("rows", [50, 5000])
def test_a_quote_left_open_costs_its_own_line_only(feed: Path, rows: int) -> None:
    births = [datetime.date(1980, 5, 17) + datetime.timedelta(days=day) for day in range(5)]
    numbers = [number(serial % 1000, births[serial // 1000]) for serial in range(rows)]
    lines = [line_of(serial, matricule=numbers[serial]) for serial in range(rows)]
    lines[1] = f'{number(1)},"Muller,Anne1,,F,1 rue,,L-1,Lux,,'  # line 3
    feed.write_text("\n".join([",".join(COLUMNS), *lines, ""]), encoding="utf-8")

    result = import_registry(feed)

    assert counts(result) == (rows - 1, 0, 0, 1)
    assert reasons(result) == {3: QUOTE_LEFT_OPEN}
    assert InsuredPerson.objects.count() == rows - 1
    assert not InsuredPerson.objects.filter(matricule=number(1)).exists()


def test_line_ends_may_be_crlf_and_a_lone_carriage_return_is_a_control_character(
    feed: Path,
) -> None:
    feed.write_bytes(
        "\r\n".join(
            [
                ",".join(COLUMNS),
                line_of(1),
                line_of(2, locality="Esch\rsur-Alzette"),
                line_of(3, last_name='"Muller\r"'),
                line_of(4),
                line_of(5, last_name='"Muller"', locality="Esch\rsur-Alzette"),
                "",
            ]
        ).encode()
    )

    result = import_registry(feed)

    assert counts(result) == (2, 0, 0, 3)
    assert "locality" in reasons(result)[3] and "contrôle" in reasons(result)[3]
    assert "last_name" in reasons(result)[4] and "contrôle" in reasons(result)[4]
    assert reasons(result)[6] == (
        "La ligne contient un caractère de contrôle (retour chariot, NUL...) mal placé."
    )
    assert InsuredPerson.objects.get(matricule=number(4)).locality == "Luxembourg"


def test_a_file_whose_lines_end_with_a_lone_carriage_return_is_refused(feed: Path) -> None:
    feed.write_bytes("\r".join([",".join(COLUMNS), line_of(1), line_of(2), ""]).encode())

    with pytest.raises(ImportFileError, match=r"Ligne 1 .*retour chariot \(CR\).*LF ou CRLF"):
        import_registry(feed)

    assert not InsuredPerson.objects.exists()


def test_blank_lines_anywhere_are_skipped_and_progress_still_ends_at_the_total(
    feed: Path,
) -> None:
    # Blank lines between rows and at the end, and a last line without its line end.
    feed.write_text(
        "\n".join([",".join(COLUMNS), "", line_of(1), "", "", line_of(2), "", line_of(3)]),
        encoding="utf-8",
    )
    progress = RecordingProgress()

    result = import_registry(feed, chunk_size=2, progress=progress)

    assert counts(result) == (3, 0, 0, 0)
    assert progress.total == sum(progress.advances) == 7


# Re-imports -----------------------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing(feed: Path) -> None:
    write_feed(
        feed,
        [person_row(serial, address_line2="Boîte 3", date_of_death="") for serial in range(5)]
        + [person_row(9, date_of_death="2001-02-03", sex="")],
    )
    with time_machine.travel(MONDAY, tick=False):
        first = import_registry(feed)
    before = {p.matricule: (p.updated_at, p.esante_id) for p in InsuredPerson.objects.all()}

    with time_machine.travel(TUESDAY, tick=False):
        second = import_registry(feed)

    assert counts(first) == (6, 0, 0, 0)
    assert counts(second) == (0, 0, 6, 0)
    after = {p.matricule: (p.updated_at, p.esante_id) for p in InsuredPerson.objects.all()}
    assert after == before
    assert {updated_at for updated_at, _ in after.values()} == {MONDAY}


def test_a_changed_address_updates_only_that_row(feed: Path) -> None:
    write_feed(feed, [person_row(serial) for serial in range(3)])
    with time_machine.travel(MONDAY, tick=False):
        import_registry(feed)
    write_feed(
        feed,
        [
            person_row(0),
            person_row(1, address_line1="3, Grand-Rue", postal_code="L-9051"),
            person_row(2),
        ],
    )

    with time_machine.travel(TUESDAY, tick=False):
        result = import_registry(feed)

    assert counts(result) == (0, 1, 2, 0)
    moved = InsuredPerson.objects.get(matricule=number(1))
    assert (moved.address_line1, moved.postal_code, moved.updated_at) == (
        "3, Grand-Rue",
        "L-9051",
        TUESDAY,
    )
    assert moved.created_at == MONDAY
    others = InsuredPerson.objects.exclude(pk=moved.pk)
    assert {(p.address_line1, p.updated_at) for p in others} == {("12, rue de la Gare", MONDAY)}


def test_the_merge_statement_itself_leaves_identical_rows_untouched(feed: Path) -> None:
    # The import leaves out the rows it finds unchanged; the statement's own guard
    # covers a row that changes between that check and the merge.
    write_feed(feed, [person_row(1), person_row(2)])
    with time_machine.travel(MONDAY, tick=False):
        import_registry(feed)
    stored = {p.matricule: p for p in InsuredPerson.objects.all()}

    def loaded(serial: int, locality: str = "Luxembourg") -> importer.LoadedRow:
        person = stored[number(serial)]
        return (
            person.matricule,
            person.esante_id,
            person.first_name,
            person.last_name,
            person.birth_date,
            person.sex,
            person.address_line1,
            person.address_line2,
            person.postal_code,
            locality,
            person.country,
            person.date_of_death,
            person.language,
        )

    with time_machine.travel(TUESDAY, tick=False):
        store = importer._RegistryStore(update_columns=importer.FEED_COLUMNS, now=TUESDAY)
        store.create_temp_table()
        written = store._write([loaded(1), loaded(2, locality="Mersch")])
        store.drop_temp_table()

    assert written == 1
    assert dict(InsuredPerson.objects.values_list("locality", "updated_at")) == {
        "Luxembourg": MONDAY,
        "Mersch": TUESDAY,
    }


def test_each_column_change_is_seen(feed: Path) -> None:
    original = person_row(1, birth_date="", date_of_death="")
    write_feed(feed, [original])
    import_registry(feed)
    changes = {
        "last_name": "Muller-Weber",
        "first_name": "Annie",
        "birth_date": "1980-05-17",  # the same date, given: no change
        "sex": "X",
        "address_line1": "1, rue Neuve",
        "address_line2": "c/o Weber",
        "postal_code": "L-2000",
        "locality": "Bertrange",
        "country": "BE",
        "date_of_death": "2024-01-02",
    }
    for column, value in changes.items():
        write_feed(feed, [{**original, column: value}])
        result = import_registry(feed)
        expected = (0, 0, 1, 0) if column == "birth_date" else (0, 1, 0, 0)
        assert counts(result) == expected, column
        write_feed(feed, [original])
        assert counts(import_registry(feed)) == expected, column


def test_a_column_absent_from_the_file_keeps_its_value(feed: Path) -> None:
    write_feed(feed, [person_row(1, sex="F", address_line2="Boîte 3", country="FR")])
    import_registry(feed)
    partial = [c for c in COLUMNS if c not in ("sex", "address_line2", "country", "birth_date")]

    write_feed(feed, [person_row(1), person_row(2)], columns=partial)
    result = import_registry(feed)

    assert counts(result) == (1, 0, 1, 0)
    known = InsuredPerson.objects.get(matricule=number(1))
    assert (known.sex, known.address_line2, known.country) == ("F", "Boîte 3", "FR")
    new = InsuredPerson.objects.get(matricule=number(2))
    assert (new.sex, new.address_line2, new.country, new.birth_date) == (
        "",
        "",
        "LU",
        datetime.date(1980, 5, 17),
    )


# Public eSanté identifiers ---------------------------------------------------------------


def test_esante_ids_are_valid_unique_and_stable_across_reimports(
    feed: Path, alice: InsuredPerson
) -> None:
    write_feed(feed, [person_row(serial) for serial in range(30)])
    import_registry(feed, chunk_size=7)
    ids = dict(InsuredPerson.objects.values_list("matricule", "esante_id"))

    write_feed(feed, [person_row(serial, locality="Mersch") for serial in range(30)])
    result = import_registry(feed, chunk_size=7)

    assert counts(result) == (0, 30, 0, 0)
    assert dict(InsuredPerson.objects.values_list("matricule", "esante_id")) == ids
    assert len(set(ids.values())) == 31
    assert all(identifiers.is_valid_esante_id(esante_id) for esante_id in ids.values())


def luhn_id(serial: int) -> str:
    body = str(100_000_000 + serial)
    return body + luhn.calc_check_digit(body)


def colliding_ids(taken: str) -> Callable[[], str]:
    """A generator of ids that repeats itself: every draw group starts with an id the
    registry already holds, then repeats the last three ids it gave."""
    sequence = itertools.chain.from_iterable(
        (taken, *(luhn_id(serial) for serial in range(max(0, count - 2), count + 1)))
        for count in itertools.count()
    )
    return lambda: next(sequence)


def test_colliding_id_draws_still_give_unique_ids(
    feed: Path, alice: InsuredPerson, monkeypatch: pytest.MonkeyPatch
) -> None:
    generator = colliding_ids(alice.esante_id)
    draws: list[str] = []

    def new_esante_id() -> str:
        draws.append(generator())
        return draws[-1]

    monkeypatch.setattr(identifiers, "new_esante_id", new_esante_id)
    write_feed(feed, [person_row(serial) for serial in range(20)])

    result = import_registry(feed, chunk_size=6)

    assert counts(result) == (20, 0, 0, 0)
    ids = list(InsuredPerson.objects.values_list("esante_id", flat=True))
    assert len(ids) == len(set(ids)) == 21
    assert InsuredPerson.objects.get(pk=alice.pk).esante_id == alice.esante_id
    # The collisions really happened: repeated draws, and the taken id drawn many times.
    assert len(draws) > 2 * 20
    assert draws.count(alice.esante_id) > 5


def test_an_id_taken_between_the_check_and_the_insert_is_drawn_again(
    feed: Path, alice: InsuredPerson, monkeypatch: pytest.MonkeyPatch
) -> None:
    draw = importer._RegistryStore.draw_esante_ids
    calls: list[list[str]] = []

    def draw_racing_with_another_writer(store: importer._RegistryStore, count: int) -> list[str]:
        ids = draw(store, count)
        if not calls:
            ids[0] = alice.esante_id  # as if the helpdesk had just created alice
        calls.append(ids)
        return ids

    monkeypatch.setattr(importer._RegistryStore, "draw_esante_ids", draw_racing_with_another_writer)
    write_feed(feed, [person_row(serial) for serial in range(4)])

    result = import_registry(feed)

    assert counts(result) == (4, 0, 0, 0)
    assert len(calls) == 2
    ids = list(InsuredPerson.objects.values_list("esante_id", flat=True))
    assert len(ids) == len(set(ids)) == 5


# The file as a whole ----------------------------------------------------------------------


def test_a_missing_required_column_refuses_the_whole_file(feed: Path) -> None:
    write_feed(
        feed, [person_row(1)], columns=[c for c in COLUMNS if c not in ("locality", "first_name")]
    )

    with pytest.raises(ImportFileError) as refused:
        import_registry(feed)

    assert "first_name, locality" in str(refused.value)
    assert not InsuredPerson.objects.exists()
    assert not AuditEvent.objects.exists()


def test_header_names_ignore_case_spaces_and_order_and_unknown_ones_are_reported(
    feed: Path,
) -> None:
    columns = [
        " Locality",
        "MATRICULE",
        "first_name",
        "last_name ",
        "address_line1",
        "postal_code",
        "phone",
    ]
    row = person_row(1, phone="+352 621 000 000")
    write_feed(feed, [[row[name.strip().lower()] for name in columns]], columns=columns)

    result = import_registry(feed)

    assert counts(result) == (1, 0, 0, 0)
    assert result.ignored_columns == ("phone",)
    assert InsuredPerson.objects.get().locality == "Luxembourg"


def test_a_repeated_header_column_refuses_the_file(feed: Path) -> None:
    write_feed(feed, [], columns=[*COLUMNS, "last_name"])

    with pytest.raises(ImportFileError, match=r"en double.*last_name"):
        import_registry(feed)


def test_an_empty_file_is_refused(feed: Path) -> None:
    feed.write_bytes(b"\xef\xbb\xbf")

    with pytest.raises(ImportFileError, match="nommer les colonnes"):
        import_registry(feed)


def test_a_header_only_file_imports_nothing(feed: Path) -> None:
    write_feed(feed, [])

    assert counts(import_registry(feed)) == (0, 0, 0, 0)


def test_a_byte_order_mark_is_accepted(feed: Path) -> None:
    write_feed(feed, [person_row(1, last_name="Schmitt")], encoding="utf-8-sig")
    assert feed.read_bytes().startswith(b"\xef\xbb\xbfmatricule,")

    result = import_registry(feed)

    assert counts(result) == (1, 0, 0, 0)
    assert InsuredPerson.objects.get().last_name == "Schmitt"


def test_a_semicolon_delimiter_is_recognised(feed: Path) -> None:
    write_feed(feed, [person_row(1, address_line1="4, rue du Fort, Bâtiment A")], delimiter=";")

    result = import_registry(feed)

    assert counts(result) == (1, 0, 0, 0)
    assert InsuredPerson.objects.get().address_line1 == "4, rue du Fort, Bâtiment A"


def test_a_file_not_in_utf8_is_refused_with_its_line_and_changes_nothing(feed: Path) -> None:
    write_feed(feed, [person_row(1), person_row(2, last_name="Lefèvre")], encoding="latin-1")

    with pytest.raises(ImportFileError, match=r"UTF-8 \(ligne 3\)"):
        import_registry(feed)

    assert not InsuredPerson.objects.exists()


def test_a_line_that_is_not_csv_is_a_bad_row(feed: Path) -> None:
    write_feed(feed, [person_row(1)])
    with feed.open("a", encoding="utf-8") as handle:
        handle.write(f'{number(2)},"Muller"x,Anne,,,1 rue,,L-1,Lux,,\n')
        handle.write(f"{number(3)},Muller,Anne,,,1 rue,,L-1,Lux,,\n")
        handle.write(f'{number(4)},"Muller,Anne,,,1 rue,,L-1,Lux,,\n')

    result = import_registry(feed)

    assert counts(result) == (2, 0, 0, 2)
    assert reasons(result) == {
        3: "Guillemet mal placé : le guillemet qui ferme une valeur doit être suivi de « , » "
        'ou de la fin de la ligne (dans une valeur entre guillemets, un guillemet s\'écrit "").',
        5: QUOTE_LEFT_OPEN,
    }
    assert sorted(InsuredPerson.objects.values_list("matricule", flat=True)) == [
        number(1),
        number(3),
    ]


def test_a_value_over_the_csv_field_limit_is_refused_in_french(feed: Path) -> None:
    write_feed(feed, [person_row(1), person_row(2, last_name="x,y" * 100_000), person_row(3)])

    result = import_registry(feed)

    assert counts(result) == (2, 0, 0, 1)
    assert reasons(result) == {3: f"Une valeur dépasse {csv.field_size_limit()} caractères."}


def test_a_header_with_a_quote_left_open_is_refused_in_french(feed: Path) -> None:
    feed.write_text(f'"matricule,{",".join(COLUMNS[1:])}\n{line_of(1)}\n', encoding="utf-8")

    with pytest.raises(ImportFileError) as refused:
        import_registry(feed)

    assert str(refused.value) == f"Ligne 1 (en-tête) : {QUOTE_LEFT_OPEN}"


def test_rows_lost_on_the_way_refuse_the_whole_import(
    feed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_feed(feed, [person_row(1)])
    import_registry(feed)
    write_feed(feed, [person_row(1, locality="Esch"), person_row(2), person_row(3), person_row(4)])
    merge = importer._RegistryStore.merge

    def merge_losing_a_row(
        store: importer._RegistryStore, rows: Sequence[importer.ParsedRow], result: ImportResult
    ) -> None:
        merge(store, rows[:-1], result)

    monkeypatch.setattr(importer._RegistryStore, "merge", merge_losing_a_row)

    with pytest.raises(ImportFileError) as refused:
        import_registry(feed, chunk_size=2)

    assert str(refused.value) == (
        "Import annulé, rien n'a été modifié : le fichier compte 4 lignes de données, mais "
        "le décompte des lignes créées, mises à jour, inchangées ou rejetées donne 2. "
        "Signalez ce fichier à l'équipe technique."
    )
    assert list(InsuredPerson.objects.values_list("matricule", "locality")) == [
        (number(1), "Luxembourg")
    ]
    assert AuditEvent.objects.count() == 1  # the first import's


def test_a_missing_file_or_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="n'existe pas"):
        import_registry(tmp_path / "absent.csv")
    with pytest.raises(ImportFileError, match="est un dossier"):
        import_registry(tmp_path)


# Audit, progress, and the command ------------------------------------------------------------


def test_one_audit_event_records_the_import(feed: Path) -> None:
    write_feed(feed, [person_row(1), person_row(2), person_row(3, last_name="")])

    import_registry(feed, chunk_size=1)

    event = AuditEvent.objects.get()
    assert event.event_type == EventType.REGISTRY_IMPORTED
    assert event.actor == "command:import-registry"
    assert event.person is None
    assert event.details == {
        "file": "assures.csv",
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 1,
    }


class RecordingProgress:
    def __init__(self) -> None:
        self.total = -1
        self.advances: list[int] = []

    def start(self, total_rows: int) -> None:
        self.total = total_rows

    def advance(self, rows: int) -> None:
        self.advances.append(rows)


def test_progress_is_reported_by_chunk_over_every_row(feed: Path) -> None:
    write_feed(feed, [person_row(serial) for serial in range(7)] + [person_row(99, last_name="")])
    progress = RecordingProgress()

    import_registry(feed, chunk_size=3, progress=progress)

    assert progress.total == 8
    assert progress.advances == [3, 3, 2]


def test_the_command_prints_each_rejected_line_and_a_summary(feed: Path) -> None:
    write_feed(feed, [person_row(1), person_row(2, first_name=""), person_row(3)])
    out = io.StringIO()

    call_command("import_registry", str(feed), stdout=out, no_color=True)

    assert out.getvalue().splitlines() == [
        "ligne 3 : La colonne first_name est vide.",
        "assures.csv : 2 créées, 0 mise à jour, 0 inchangée, 1 rejetée.",
    ]
    out = io.StringIO()
    call_command("import_registry", str(feed), stdout=out, no_color=True)
    assert out.getvalue().splitlines()[-1] == (
        "assures.csv : 0 créée, 0 mise à jour, 2 inchangées, 1 rejetée."
    )


def test_the_command_reports_unknown_columns(feed: Path) -> None:
    write_feed(feed, [person_row(1)], columns=[*COLUMNS, "email"])
    out = io.StringIO()

    call_command("import_registry", str(feed), stdout=out, no_color=True)

    assert out.getvalue().splitlines()[0] == "Colonne inconnue, ignorée : email"


def test_the_command_turns_a_bad_file_into_a_clear_error(feed: Path) -> None:
    write_feed(feed, [person_row(1)], columns=[c for c in COLUMNS if c != "matricule"])

    with pytest.raises(CommandError, match=r"absente.*: matricule"):
        call_command("import_registry", str(feed))


def test_the_command_exits_non_zero_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        Command().run_from_argv(["esante", "import_registry", str(tmp_path / "absent.csv")])

    assert exited.value.code == 1
    error = capsys.readouterr().err
    assert "n'existe pas" in error
    assert "Traceback" not in error


def test_the_command_help_lists_every_column() -> None:
    parser = Command().create_parser("esante", "import_registry")
    help_text = parser.format_help()
    for column in (*COLUMNS, "language"):
        assert f"\n  {column} " in help_text


# The letters' language ---------------------------------------------------------------------


def test_the_language_column_is_stored_in_any_case_and_empty_means_french(feed: Path) -> None:
    columns = (*COLUMNS, "language")
    write_feed(
        feed,
        [person_row(1, language="de"), person_row(2, language=" EN "), person_row(3)],
        columns=columns,
    )

    result = import_registry(feed)

    assert counts(result) == (3, 0, 0, 0)
    languages = dict(InsuredPerson.objects.values_list("matricule", "language"))
    assert languages == {number(1): "de", number(2): "en", number(3): "fr"}


def test_an_unknown_language_is_a_bad_row(feed: Path) -> None:
    columns = (*COLUMNS, "language")
    write_feed(
        feed,
        [person_row(1, language="lb"), person_row(2, language="deutsch"), person_row(3)],
        columns=columns,
    )

    result = import_registry(feed)

    assert counts(result) == (1, 0, 0, 2)
    assert reasons(result) == {
        2: "La langue « lb » n'est pas fr, de, en ni vide.",
        3: "La langue « deutsch » n'est pas fr, de, en ni vide.",
    }


def test_a_feed_without_the_language_column_keeps_the_known_language(feed: Path) -> None:
    write_feed(feed, [person_row(1, language="en")], columns=(*COLUMNS, "language"))
    import_registry(feed)

    write_feed(feed, [person_row(1), person_row(2)])
    assert counts(import_registry(feed)) == (1, 0, 1, 0)

    assert InsuredPerson.objects.get(matricule=number(1)).language == "en"
    assert InsuredPerson.objects.get(matricule=number(2)).language == "fr"
    write_feed(feed, [person_row(1, language="de")], columns=(*COLUMNS, "language"))
    assert counts(import_registry(feed)) == (0, 1, 0, 0)
    assert InsuredPerson.objects.get(matricule=number(1)).language == "de"
