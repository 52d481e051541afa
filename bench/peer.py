"""The peer to beat: django-allauth's login, measured on this machine beside ours.

    .venv/bin/python bench/peer.py

Runs the benchmark of ../shared/peers/allauth-login/ (its README: Django 6 and
django-allauth with a TOTP second factor, Argon2id at our parameters, gunicorn with two
sync workers, SQLite in its processes) in the configuration bench/login.py is compared
with — 600 logins at 4 and at 16 clients — and prints its server CPU per login over its
own hash's, the figure to set beside bench/login.py's, measured within the same hour
(`make bench` runs the two one after the other). Its virtualenv and users are made once
(its setup.sh, with its locked versions; Django 6 needs Python ≥ 3.12, found by it) in
/tmp; its raw results go to a temporary directory, removed at the end.

Nothing of the peer is in this repository: where the folder is missing (BENCH_PEER_DIR
names another), the benchmark says so and stops without failing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import webserver

PEER_DIR = Path(
    os.environ.get("BENCH_PEER_DIR", webserver.PROJECT_DIR.parent / "shared/peers/allauth-login")
)
PEER_VENV = Path("/tmp/peer-venv")
PEER_DATA = Path("/tmp/peer-allauth")
CLIENTS = (4, 16)
LOGINS = 600


def set_up() -> None:
    """The peer's virtualenv and users, unless an earlier run made them."""
    if (PEER_VENV / "bin/python").exists() and (PEER_DATA / "users-argon2.json").exists():
        return
    environment = {
        **os.environ,
        "LOCK": "1",
        "N_PLAIN": "20",
        "N_MFA_pbkdf2": "10",
        "N_MFA_argon2": "1500",  # one TOTP code per user per 30 s: enough for 600 logins
        "VENV": str(PEER_VENV),
        "BENCH_DATA": str(PEER_DATA),
    }
    subprocess.run(["bash", str(PEER_DIR / "setup.sh")], env=environment, check=True)


def run(output: Path) -> None:
    environment = {
        **os.environ,
        "VENV": str(PEER_VENV),
        "BENCH_DATA": str(PEER_DATA),
        "PORT": str(webserver.free_port()),
        "HASHERS": "argon2",
        "WORKERS": "2",
        "CONCS": " ".join(str(clients) for clients in CLIENTS),
        "MFAS": "1",
        "LOGINS_argon2": str(LOGINS),
        "OUT": str(output),
    }
    subprocess.run(
        ["bash", str(PEER_DIR / "run_matrix.sh")],
        env=environment,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def main() -> None:
    if not (PEER_DIR / "run_matrix.sh").exists():
        print(f"The peer's benchmark is not at {PEER_DIR} (BENCH_PEER_DIR): skipped.")
        return
    set_up()
    output = Path(tempfile.mkdtemp(prefix="esante-bench-peer-"))
    try:
        run(output)
        hashes = json.loads((output / "hashcost-1proc.json").read_text())
        hash_ms = next(h["cpu_ms_median"] for h in hashes if h["config"] == "argon2")
        print(f"(a) the peer's Argon2id verification (m=19 MiB, t=2, p=1): {hash_ms:.1f} ms CPU")
        print("django-allauth (password + TOTP, 5 requests; gunicorn 2 sync workers, SQLite):")
        print(f"{'clients':>7} {'logins':>7} {'logins/s':>9} {'server CPU/login':>17} {'× (a)':>6}")
        for clients in CLIENTS:
            result = json.loads((output / f"argon2-w2-mfa1-c{clients}.json").read_text())
            per_login = result["server_cpu_ms_per_login"]
            print(
                f"{clients:>7} {result['completed']:>7} {result['logins_per_s']:>9.1f} "
                f"{per_login:>14.1f} ms {per_login / hash_ms:>6.2f}"
            )
        print(
            "Its server CPU is its gunicorn processes, with SQLite inside them: the same "
            "counting as bench/login.py's gunicorn + PostgreSQL + Redis."
        )
    finally:
        shutil.rmtree(output, ignore_errors=True)


if __name__ == "__main__":
    main()
