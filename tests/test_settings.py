from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from esante import settings as esante_settings
from esante.settings import env_bool, env_int, env_list, env_str

ROOT = Path(__file__).resolve().parent.parent


def test_a_boolean_that_is_not_one_of_the_four_words_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ESANTE_X", "yes")
    with pytest.raises(ImproperlyConfigured, match="ESANTE_X='yes'"):
        env_bool("ESANTE_X", False)
    for word, expected in [("1", True), ("true", True), ("0", False), ("FALSE", False)]:
        monkeypatch.setenv("ESANTE_X", word)
        assert env_bool("ESANTE_X", not expected) is expected


def test_a_number_must_be_a_whole_number_above_its_minimum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ESANTE_X", "15min")
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        env_int("ESANTE_X", 15)
    monkeypatch.setenv("ESANTE_X", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("ESANTE_X", 15, minimum=1)
    monkeypatch.setenv("ESANTE_X", "10")
    assert env_int("ESANTE_X", 15, minimum=1) == 10


def test_a_secret_can_come_from_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-a-file\n")
    monkeypatch.setenv("ESANTE_X_FILE", str(secret_file))
    assert env_str("ESANTE_X") == "from-a-file"
    monkeypatch.setenv("ESANTE_X_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        env_str("ESANTE_X")


def test_lists_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESANTE_X", " a.lu, b.lu ,,")
    assert env_list("ESANTE_X") == ["a.lu", "b.lu"]


def run_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Import the settings in a fresh interpreter with exactly `env`."""
    base = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(
        [sys.executable, "-c", "import esante.settings as s; print(s.SECRET_KEY[:4])"],
        env=base | env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_secret_key_is_mandatory_when_debug_is_off(tmp_path: Path) -> None:
    result = run_settings({"ESANTE_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY is mandatory when DEBUG is off" in result.stderr


def test_local_runs_generate_their_secrets_once(tmp_path: Path) -> None:
    first = run_settings({"DEBUG": "1", "ESANTE_VAR_DIR": str(tmp_path)})
    second = run_settings({"DEBUG": "1", "ESANTE_VAR_DIR": str(tmp_path)})
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "code_hmac_key").exists()


def test_a_bad_debug_value_stops_the_start(tmp_path: Path) -> None:
    result = run_settings({"DEBUG": "yes", "ESANTE_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "DEBUG='yes'" in result.stderr


def test_env_example_lists_every_variable_the_settings_read() -> None:
    source = Path(esante_settings.__file__).read_text()
    read = set(re.findall(r'env_(?:str|bool|int|list)\(\s*"([A-Z_]+)"', source))
    read |= set(re.findall(r'secret_setting\("([A-Z_]+)"', source))
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^([A-Z_]+)=", example, flags=re.MULTILINE))
    assert read - listed == set()


def test_demo_mode_without_an_smtp_server_records_e_mails_instead_of_failing(
    tmp_path: Path,
) -> None:
    """`make run` (demo mode) has no SMTP server: e-mails go to the outbox and Django's dummy
    backend, as demo SMS do; an EMAIL_HOST, or production, keeps SMTP."""
    base = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT / "src")}
    local = {"DEBUG": "1", "ESANTE_VAR_DIR": str(tmp_path)}

    def backend(env: dict[str, str]) -> str:
        result = subprocess.run(
            [sys.executable, "-c", "import esante.settings as s; print(s.EMAIL_BACKEND)"],
            env=base | env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    smtp = "django.core.mail.backends.smtp.EmailBackend"
    assert backend(local | {"ESANTE_DEMO": "1"}) == "django.core.mail.backends.dummy.EmailBackend"
    assert backend(local | {"ESANTE_DEMO": "1", "EMAIL_HOST": "smtp.example.lu"}) == smtp
    assert backend(local) == smtp
    assert backend(local | {"ESANTE_DEMO": "1", "EMAIL_BACKEND": smtp}) == smtp


def test_the_captcha_test_mode_is_refused_without_debug_or_demo(tmp_path: Path) -> None:
    """ESANTE_CAPTCHA_TEST_MODE lets anything past the captcha: never in production."""
    production = {
        "SECRET_KEY": "s" * 50,
        "ESANTE_CODE_HMAC_KEY": "k" * 20,
        "ESANTE_VAR_DIR": str(tmp_path),
        "ESANTE_CAPTCHA_TEST_MODE": "1",
    }
    refused = run_settings(production)
    assert refused.returncode != 0
    assert "ESANTE_CAPTCHA_TEST_MODE=1 lets any robot past the captcha" in refused.stderr
    for allowed in ({"DEBUG": "1"}, {"ESANTE_DEMO": "1"}):
        result = run_settings(production | allowed)
        assert result.returncode == 0, result.stderr
    assert run_settings(production | {"ESANTE_CAPTCHA_TEST_MODE": "0"}).returncode == 0


def read_settings(env: dict[str, str], *names: str) -> dict[str, Any]:
    """The settings `names` as a fresh interpreter loads them with exactly `env`."""
    base = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT / "src")}
    script = (
        "import json, esante.settings as s; "
        f"print(json.dumps({{name: getattr(s, name, None) for name in {list(names)!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=base | env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    values: dict[str, Any] = json.loads(result.stdout)
    return values


def test_demo_mode_starts_without_debug_in_plain_http_with_secrets_it_keeps(
    tmp_path: Path,
) -> None:
    """`make run` is DEBUG=0 ESANTE_DEMO=1: no secret to give, the same ones at the next
    start (sessions survive a restart), and plain HTTP on loopback (no HTTPS redirect, no
    Secure cookie, no HSTS), at localhost's address."""
    demo = {"ESANTE_DEMO": "1", "ESANTE_VAR_DIR": str(tmp_path), "PORT": "8123"}
    names = (
        "SECRET_KEY",
        "ESANTE_CODE_HMAC_KEY",
        "DEBUG",
        "ALLOWED_HOSTS",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "ESANTE_PORTAL_URL",
        "ESANTE_DEMO_OIDC_ISSUER",
        "LOG_FORMAT",
    )

    first = read_settings(demo, *names)
    second = read_settings(demo, *names)

    assert first == second
    assert first["SECRET_KEY"] == (tmp_path / "secret_key").read_text().strip()
    assert first["ESANTE_CODE_HMAC_KEY"] == (tmp_path / "code_hmac_key").read_text().strip()
    assert first["DEBUG"] is False
    assert first["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1"]
    assert not first["SECURE_SSL_REDIRECT"]
    assert not first["SESSION_COOKIE_SECURE"] and not first["CSRF_COOKIE_SECURE"]
    assert not first["SECURE_HSTS_SECONDS"]
    assert first["ESANTE_PORTAL_URL"] == "http://localhost:8123"
    assert first["ESANTE_DEMO_OIDC_ISSUER"] == "http://localhost:9400"
    assert first["LOG_FORMAT"] == "plain"


def test_production_keeps_https_and_its_own_secrets(tmp_path: Path) -> None:
    production = {
        "SECRET_KEY": "s" * 50,
        "ESANTE_CODE_HMAC_KEY": "k" * 20,
        "ESANTE_VAR_DIR": str(tmp_path),
        "ALLOWED_HOSTS": "esante.example.lu",
    }
    values = read_settings(
        production, "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "SECURE_HSTS_SECONDS"
    )

    assert values == {
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000,
    }
    assert not (tmp_path / "secret_key").exists()


def test_demo_mode_answers_on_loopback_host_names_only(tmp_path: Path) -> None:
    demo = {"ESANTE_DEMO": "1", "ESANTE_VAR_DIR": str(tmp_path)}
    every_interface = "0.0.0.0"  # noqa: S104 - a host name refused, never bound
    for public in ("esante.example.lu", "localhost,*", every_interface, "192.168.1.10"):
        refused = run_settings(demo | {"ALLOWED_HOSTS": public})
        assert refused.returncode != 0, public
        assert "demo mode (ESANTE_DEMO=1) serves plain HTTP on loopback only" in refused.stderr
    loopback = run_settings(demo | {"ALLOWED_HOSTS": "localhost,127.0.0.1,[::1],127.0.0.2"})
    assert loopback.returncode == 0, loopback.stderr


def test_check_deploy_fails_whenever_demo_mode_is_on(tmp_path: Path) -> None:
    """`esante check --deploy` as `make deploy-check` runs it, and even without
    --fail-level: demo mode is an Error, whatever the rest of the settings."""
    production = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT / "src"),
        "SECRET_KEY": "deploy-check-only-" + "k" * 64,
        "ESANTE_CODE_HMAC_KEY": "deploy-check",
        "ALLOWED_HOSTS": "localhost",
        "ESANTE_VAR_DIR": str(tmp_path),
    }

    def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "esante", "check", "--deploy"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    demo = check_deploy(production | {"ESANTE_DEMO": "1"})
    assert demo.returncode != 0
    assert "esante.E001" in demo.stderr and "ESANTE_DEMO is on" in demo.stderr
    assert "esante.E001" not in check_deploy(production).stderr
