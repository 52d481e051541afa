"""Benchmark: issue and render a wave of activation letters (`esante issue-letters`).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/issue_letters.py --letters 100000

With DATABASE_URL, only its server is used: the benchmark creates its own database
(`bench_letters_<pid>`, dropped at the end). Without it,
a temporary SQLite file. Letters go to a temporary directory, removed at the end.

Measures, in the same run: (a) the floor, rendering N pages of a one-line ReportLab
document; (b) the real command (selection, codes, letters, audit events, outbox messages,
PDF, batch) for N persons without a letter. Prints seconds, letters per second and (b)/(a).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import io
import os
import pstats
import random
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BENCH_DATABASE = f"bench_letters_{os.getpid()}"
PROJECT_DIR = Path(__file__).resolve().parent.parent
STREETS = ("rue de la Gare", "Grand-Rue", "route d'Arlon", "avenue de la Liberté", "rue Dicks")
LOCALITIES = (("L-1611", "Luxembourg"), ("L-4011", "Esch-sur-Alzette"), ("L-9051", "Ettelbruck"))
FIRST_NAMES = ("Alice", "Marc", "Léa", "Noah", "Sophie", "Tiago", "Émile", "Fatima", "Yves")
LAST_NAMES = ("Martin", "Schmit", "Weber", "Da Silva", "Hoffmann", "Muller", "Benali")


@contextmanager
def own_database(server_url: str | None, workdir: Path) -> Iterator[str]:
    """A database for this run only: on the PostgreSQL server of `server_url`, or a
    SQLite file in `workdir`. Yields its URL."""
    if not server_url:
        yield f"sqlite:///{workdir / 'bench.sqlite3'}"
        return
    import dj_database_url
    import psycopg
    from psycopg import sql

    server = dj_database_url.parse(server_url)
    admin = psycopg.connect(
        dbname="postgres",
        user=server.get("USER") or None,
        password=server.get("PASSWORD") or None,
        host=server.get("HOST") or None,
        port=server.get("PORT") or None,
        autocommit=True,
    )
    name = sql.Identifier(BENCH_DATABASE)
    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(name))
    admin.execute(sql.SQL("CREATE DATABASE {}").format(name))
    try:
        credentials = server_url.split("://", 1)[1].split("/", 1)[0]
        yield f"postgres://{credentials}/{BENCH_DATABASE}"
    finally:
        from django.db import connections

        connections.close_all()
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        admin.close()


def configure(database_url: str, workdir: Path) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "esante.settings"
    os.environ["DEBUG"] = "0"
    os.environ["SECRET_KEY"] = "bench-secret-key-" + "x" * 40
    os.environ["ESANTE_CODE_HMAC_KEY"] = "bench-code-hmac-key"
    os.environ["ESANTE_VAR_DIR"] = str(workdir / "var")
    os.environ["ESANTE_LETTERS_DIR"] = str(workdir / "letters")
    os.environ["LOG_LEVEL"] = "WARNING"
    sys.path.insert(0, str(PROJECT_DIR / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import logging

    logging.getLogger("esante.registry.letters").setLevel(logging.INFO)  # phase timings


def create_persons(count: int) -> float:
    """`count` persons with valid, distinct matricules and eSanté ids; returns seconds."""
    from esante.registry import matricule
    from esante.registry.identifiers import new_esante_id
    from esante.registry.models import InsuredPerson

    started = time.perf_counter()
    rng = random.Random(20261125)
    today = datetime.date.today()  # noqa: DTZ011 - birth dates only need a rough today
    matricules: set[str] = set()
    esante_ids: set[str] = set()
    persons: list[InsuredPerson] = []
    while len(persons) < count:
        birth = today - datetime.timedelta(days=rng.randrange(1, 95 * 365))
        number = matricule.make(birth, rng.randrange(1000))
        esante_id = new_esante_id()
        if number in matricules or esante_id in esante_ids:
            continue
        matricules.add(number)
        esante_ids.add(esante_id)
        postal_code, locality = rng.choice(LOCALITIES)
        persons.append(
            InsuredPerson(
                matricule=number,
                esante_id=esante_id,
                first_name=rng.choice(FIRST_NAMES),
                last_name=rng.choice(LAST_NAMES),
                birth_date=birth,
                address_line1=f"{rng.randrange(1, 200)}, {rng.choice(STREETS)}",
                postal_code=postal_code,
                locality=locality,
            )
        )
    InsuredPerson.objects.bulk_create(persons, batch_size=5000)
    return time.perf_counter() - started


def render_baseline(pages: int) -> float:
    """Seconds to render `pages` pages of one line each: the floor for an N-page PDF."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    started = time.perf_counter()
    with tempfile.TemporaryFile() as output:
        canvas = Canvas(output, pagesize=A4)
        for number in range(pages):
            canvas.setFont("Helvetica", 12)
            canvas.drawString(72, 720, f"Page {number + 1}")
            canvas.showPage()
        canvas.save()
    return time.perf_counter() - started


def issue_all(profile_to: Path | None) -> tuple[float, str]:
    """Seconds for `esante issue-letters` over everyone, and what it printed."""
    from django.core.management import call_command

    out = io.StringIO()
    profiler = cProfile.Profile() if profile_to else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    call_command("issue_letters", stdout=out, verbosity=1 if sys.stderr.isatty() else 0)
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - started
    if profiler and profile_to:
        profiler.dump_stats(profile_to)
        pstats.Stats(str(profile_to)).sort_stats("cumulative").print_stats(25)
    return elapsed, out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--letters", type=int, default=100_000)
    parser.add_argument("--profile", type=Path, help="write cProfile stats of (b) here")
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="esante-bench-letters-"))
    try:
        with own_database(os.environ.get("DATABASE_URL"), workdir) as database_url:
            configure(database_url, workdir)
            from django.db import connection

            from esante.registry.models import ActivationLetter, LetterBatch

            print(
                f"Database: {connection.vendor} {connection.settings_dict['NAME']}; "
                f"{os.cpu_count()} CPU(s)"
            )
            print(f"Persons created in {create_persons(options.letters):.1f} s")

            baseline = render_baseline(options.letters)
            print(
                f"(a) baseline, {options.letters} one-line pages: {baseline:.1f} s, "
                f"{options.letters / baseline:,.0f} pages/s"
            )
            issued, output = issue_all(options.profile)
            batch = LetterBatch.objects.get()
            assert batch.letter_count == options.letters == ActivationLetter.objects.count()
            pdf = workdir / "letters" / batch.pdf_name
            print(output.rstrip())
            print(
                f"(b) issue-letters, {batch.letter_count} letters: {issued:.1f} s, "
                f"{batch.letter_count / issued:,.0f} letters/s, "
                f"{issued / baseline:.1f}× the baseline; PDF {pdf.stat().st_size / 1e6:.0f} MB; "
                f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
