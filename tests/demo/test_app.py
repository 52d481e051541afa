"""The demo is an app installed in demo mode only (ESANTE_DEMO=1): production has neither
its commands, nor its pages, nor its `serve`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent

# What a process with the given settings knows of the demo.
PROBE = """
import json

import django
from django.apps import apps
from django.core.management import get_commands
from django.urls import Resolver404, resolve

django.setup()
try:
    outbox = resolve("/dev/outbox/").namespace
except Resolver404:
    outbox = None
commands = get_commands()
print(json.dumps({
    "installed": apps.is_installed("esante.demo"),
    "load_demo": commands.get("load_demo"),
    "serve": commands["serve"],
    "outbox": outbox,
}))
"""


def demo_as_seen_with(env: dict[str, str], var_dir: Path) -> dict[str, Any]:
    production = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT / "src"),
        "DJANGO_SETTINGS_MODULE": "esante.settings",
        "SECRET_KEY": "demo-app-test-only-" + "k" * 64,
        "ESANTE_CODE_HMAC_KEY": "demo-app-test-only",
        "ALLOWED_HOSTS": "localhost",
        "ESANTE_VAR_DIR": str(var_dir),
    }
    probe = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=production | env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    result: dict[str, Any] = json.loads(probe.stdout)
    return result


def test_production_has_no_demo_app_commands_or_pages(tmp_path: Path) -> None:
    assert demo_as_seen_with({}, tmp_path) == {
        "installed": False,
        "load_demo": None,
        "serve": "esante.portal",
        "outbox": None,
    }


def test_demo_mode_installs_the_demo_app_its_commands_and_pages(tmp_path: Path) -> None:
    assert demo_as_seen_with({"ESANTE_DEMO": "1"}, tmp_path) == {
        "installed": True,
        "load_demo": "esante.demo",
        "serve": "esante.demo",
        "outbox": "demo",
    }


def test_nothing_else_imports_the_demo() -> None:
    """The demo sits on the top floor: no module outside it imports it (its URLs and
    commands are found by name, where the app is installed)."""
    importers = [
        path.relative_to(ROOT)
        for path in (ROOT / "src" / "esante").rglob("*.py")
        if ROOT / "src" / "esante" / "demo" not in path.parents
        and any(
            line.lstrip().startswith(("import esante.demo", "from esante.demo"))
            for line in path.read_text().splitlines()
        )
    ]
    assert importers == []
