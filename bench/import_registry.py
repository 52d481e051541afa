"""Benchmark of the registry import (`esante import-registry`).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/import_registry.py --rows 1000000

Writes a realistic feed of N insured persons into a temporary directory, then measures
in one run:

1. the floor: reading and parsing the same file with Python's csv module alone, which
   any import written in Python pays before doing anything with a row;
2. the import of the N rows into an empty registry;
3. a re-import of the same file, where every row is unchanged.

With DATABASE_URL naming a PostgreSQL server, the benchmark creates its own database
(`bench_import_<pid>`) on that server and drops it at the end; the database named
in the URL is only used to issue CREATE/DROP DATABASE. Without DATABASE_URL it uses a
SQLite file in the temporary directory. It never touches another database.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent

LAST_NAMES = (
    "Schmit", "Muller", "Weber", "Wagner", "Hoffmann", "Thill", "Kremer", "Reuter",
    "Schmitz", "Klein", "Faber", "Schroeder", "Becker", "Meyer", "Kieffer", "Weis",
    "Steffen", "Majerus", "Goedert", "Hansen", "Lentz", "Feller", "Welter", "Ries",
    "Dupont", "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit",
    "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "François",
    "Da Silva", "Pereira", "Ferreira", "Santos", "Rodrigues", "Gonçalves", "Fernandes",
    "Schmit-Hoffmann", "Weber-Muller", "Collignon", "N'Diaye", "O'Neill",
)  # fmt: skip
FIRST_NAMES = (
    "Marc", "Claire", "Emma", "Noah", "Léa", "Luc", "Sophie", "Jean", "Anne", "Paul",
    "Marie", "Tom", "Laura", "Ben", "Sarah", "Gilles", "Nathalie", "Pol", "Mia", "Liam",
    "Chloé", "Hugo", "Zoé", "Maxime", "Inès", "Joé", "Mathis", "Anaïs", "Gaël", "Jérôme",
    "Françoise", "Jean-Claude", "Marie-Thérèse", "Raphaël", "Noémie", "João", "Ana",
)  # fmt: skip
STREETS = (
    "rue de la Gare", "Grand-Rue", "route d'Arlon", "avenue de la Liberté",
    "rue de Hollerich", "rue de l'Alzette", "boulevard Royal", "rue Principale",
    "rue de l'Église", "rue du Moulin", "route de Luxembourg", "rue des Jardins",
    "Montée de la Pétrusse", "rue du Fort Wallis", "avenue Pasteur", "rue Nicolas Welter",
)  # fmt: skip
LOCALITIES = (
    ("L-1611", "Luxembourg", ""), ("L-1741", "Luxembourg", ""), ("L-4011", "Esch-sur-Alzette", ""),
    ("L-9051", "Ettelbruck", ""), ("L-4501", "Differdange", ""), ("L-3401", "Dudelange", ""),
    ("L-9201", "Diekirch", ""), ("L-6401", "Echternach", ""), ("L-7501", "Mersch", ""),
    ("L-8001", "Strassen", ""), ("L-8201", "Mamer", ""), ("L-5201", "Sandweiler", ""),
    ("L-9501", "Wiltz", ""), ("L-6701", "Grevenmacher", ""), ("L-4901", "Bascharage", ""),
    ("57000", "Metz", "FR"), ("57100", "Thionville", "FR"), ("6700", "Arlon", "BE"),
    ("54290", "Trier", "DE"),
)  # fmt: skip
COLUMNS = (
    "matricule", "last_name", "first_name", "birth_date", "sex", "address_line1",
    "address_line2", "postal_code", "locality", "country", "date_of_death",
)  # fmt: skip


def feed_rows(count: int, seed: int) -> Iterator[list[str]]:
    """`count` distinct, valid persons: Luxembourg residents and cross-border workers."""
    from esante.registry import matricule

    rng = random.Random(seed)
    today = datetime.date.today()  # noqa: DTZ011 -- a birth date is a local date
    first_day = datetime.date(1925, 1, 1).toordinal()
    last_day = today.toordinal()
    seen: set[str] = set()
    while len(seen) < count:
        birth = datetime.date.fromordinal(rng.randint(first_day, last_day))
        serial = rng.randrange(1000)
        if rng.random() < 0.01:  # unknown day of birth: day 00, counted as the 1st
            first_eleven = f"{birth:%Y%m}00{serial:03d}"
            number = first_eleven + matricule.check_digits(first_eleven)
            birth = birth.replace(day=1)
        else:
            number = matricule.make(birth, serial)
        if number in seen:
            continue
        seen.add(number)
        postal_code, locality, country = rng.choice(LOCALITIES)
        died = birth.year < 1950 and rng.random() < 0.05
        yield [
            number,
            rng.choice(LAST_NAMES),
            rng.choice(FIRST_NAMES),
            birth.isoformat() if rng.random() < 0.5 else "",
            rng.choice("MMMMMFFFFFX") if rng.random() < 0.98 else "",
            f"{rng.randint(1, 250)}, {rng.choice(STREETS)}",
            f"Appartement {rng.randint(1, 40)}" if rng.random() < 0.15 else "",
            postal_code,
            locality,
            country,
            (birth + datetime.timedelta(days=rng.randint(20_000, 30_000))).isoformat()
            if died and birth + datetime.timedelta(days=30_000) < today
            else "",
        ]


def write_feed(path: Path, rows: int, seed: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(feed_rows(rows, seed))


def parse_only(path: Path) -> int:
    """The floor: read and split every row, nothing else."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        return sum(1 for _row in reader)


class Measure(NamedTuple):
    step: str
    rows: int
    seconds: float


@contextlib.contextmanager
def bench_database(work_dir: Path) -> Iterator[str]:
    """A database of our own: a new PostgreSQL database on DATABASE_URL's server, or a
    SQLite file in work_dir. Yields a description; DATABASE_URL points at it meanwhile."""
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url.startswith(("postgres://", "postgresql://")):
        if server_url:
            sys.exit("DATABASE_URL must name a PostgreSQL server (or be unset for SQLite).")
        os.environ["DATABASE_URL"] = f"sqlite:///{work_dir / 'bench.sqlite3'}"
        yield "SQLite (temporary file)"
        return

    import psycopg
    from psycopg import sql

    name = f"bench_import_{os.getpid()}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        version = admin.execute("SHOW server_version").fetchone()
    os.environ["DATABASE_URL"] = urlsplit(server_url)._replace(path=f"/{name}").geturl()
    try:
        yield f"PostgreSQL {version[0] if version else '?'} (database {name}, dropped after)"
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def run(work_dir: Path, rows: int, seed: int, chunk_size: int | None) -> list[Measure]:
    import django
    from django.core.management import call_command

    django.setup()
    from esante.registry.importer import CHUNK_SIZE, import_registry
    from esante.registry.models import InsuredPerson

    call_command("migrate", verbosity=0)
    path = work_dir / "assures.csv"
    started = time.perf_counter()
    write_feed(path, rows, seed)
    print(
        f"feed: {rows} rows, {path.stat().st_size / 1e6:.0f} MB, "
        f"written in {time.perf_counter() - started:.1f} s",
        flush=True,
    )

    measures = []
    started = time.perf_counter()
    parsed = parse_only(path)
    measures.append(Measure("csv parse alone (floor)", parsed, time.perf_counter() - started))

    started = time.perf_counter()
    first = import_registry(path, chunk_size=chunk_size or CHUNK_SIZE)
    measures.append(Measure("import, empty registry", rows, time.perf_counter() - started))
    assert (first.created, first.updated, first.unchanged, first.rejected) == (rows, 0, 0, [])

    started = time.perf_counter()
    second = import_registry(path, chunk_size=chunk_size or CHUNK_SIZE)
    measures.append(Measure("re-import, all unchanged", rows, time.perf_counter() - started))
    assert (second.created, second.updated, second.unchanged, second.rejected) == (0, 0, rows, [])

    assert InsuredPerson.objects.count() == rows
    assert InsuredPerson.objects.values("esante_id").distinct().count() == rows
    return measures


def print_table(measures: list[Measure]) -> None:
    floor = measures[0].seconds
    print(f"{'step':<26} {'rows':>9} {'seconds':>8} {'rows/s':>9} {'× floor':>8}")
    for step, rows, seconds in measures:
        print(
            f"{step:<26} {rows:>9} {seconds:>8.1f} {rows / seconds:>9.0f} {seconds / floor:>8.1f}"
        )


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments.add_argument("--rows", type=int, default=100_000)
    arguments.add_argument("--seed", type=int, default=20250314)
    arguments.add_argument("--chunk-size", type=int, default=None)
    options = arguments.parse_args()

    sys.path.insert(0, str(PROJECT_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    with (
        tempfile.TemporaryDirectory(prefix="esante-bench-") as work_dir,
        bench_database(Path(work_dir)) as database,
    ):
        print(
            f"{database}; Python {platform.python_version()}, {os.cpu_count()} CPU(s)", flush=True
        )
        measures = run(Path(work_dir), options.rows, options.seed, options.chunk_size)
    print_table(measures)


if __name__ == "__main__":
    main()
