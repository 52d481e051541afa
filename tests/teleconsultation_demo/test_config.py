"""The demo service's settings from its environment variables."""

from __future__ import annotations

import pytest

from teleconsultation_demo.config import ConfigurationError, config_from_environment

REQUIRED = {
    "TELECONSULTATION_ISSUER": "http://localhost:8000/",
    "TELECONSULTATION_CLIENT_ID": "teleconsultation",
    "TELECONSULTATION_CLIENT_SECRET": "secret",
}


def test_defaults_fill_in_the_port_base_url_and_a_random_secret_key() -> None:
    config, port = config_from_environment(REQUIRED)
    assert port == 8002
    assert config["issuer"] == "http://localhost:8000"
    assert config["base_url"] == "http://localhost:8002"
    assert len(config["secret_key"]) == 64
    assert config_from_environment(REQUIRED)[0]["secret_key"] != config["secret_key"]


def test_port_and_base_url_are_read() -> None:
    environ = REQUIRED | {
        "TELECONSULTATION_PORT": "9002",
        "TELECONSULTATION_BASE_URL": "https://teleconsultation.example/",
    }
    config, port = config_from_environment(environ)
    assert port == 9002 and config["base_url"] == "https://teleconsultation.example"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TELECONSULTATION_ISSUER", ""),
        ("TELECONSULTATION_ISSUER", "localhost:8000"),
        ("TELECONSULTATION_CLIENT_ID", " "),
        ("TELECONSULTATION_CLIENT_SECRET", ""),
        ("TELECONSULTATION_PORT", "eighty"),
        ("TELECONSULTATION_PORT", "70000"),
        ("TELECONSULTATION_BASE_URL", "ftp://localhost"),
    ],
)
def test_bad_value_stops_the_start_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        config_from_environment(REQUIRED | {name: value})
