"""The production static storage (whitenoise, hashed and compressed) accepts our assets.

The test settings serve static files from the finders (see tests/settings.py); this test
runs what deployment runs, `collectstatic` with production's storage (whitenoise's
CompressedManifestStaticFilesStorage, each URL remembered: esante.portal.staticfiles), so
a reference to a missing file (in a template or a CSS url()) still fails the suite.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.test import Client

PRODUCTION_STORAGE = "esante.portal.staticfiles.StaticFilesStorage"


def test_pages_render_with_the_production_static_storage(
    client: Client, settings: Any, tmp_path: Path
) -> None:
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": PRODUCTION_STORAGE}}
    # (Django's setting_changed handlers rebuild the static storage for this test.)
    call_command("collectstatic", interactive=False, verbosity=0)
    assert (tmp_path / "staticfiles.json").exists()
    for url in ["/", "/activation/", "/cette-page-n-existe-pas/"]:
        html = client.get(url).content.decode()
        hashed = re.findall(r'/static/(esante/[\w/.-]+)"', html)
        assert hashed, url
        for name in hashed:
            # Hashed names (portal.<hash>.css), each collected, with its gzip twin.
            assert re.search(r"\.[0-9a-f]{12}\.\w+$", name), name
            assert (tmp_path / name).exists(), name
            assert (tmp_path / f"{name}.gz").exists(), name


def test_favicon_ico_leads_to_the_portal_icon(
    client: Client, settings: Any, tmp_path: Path
) -> None:
    """Browsers and other clients ask for /favicon.ico whatever the page links: it leads to
    base.html's icon, under its hashed name in production."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": PRODUCTION_STORAGE}}
    call_command("collectstatic", interactive=False, verbosity=0)

    response = client.get("/favicon.ico")

    assert response.status_code == 302
    icon = response["Location"]
    assert re.fullmatch(r"/static/esante/img/favicon\.[0-9a-f]{12}\.svg", icon), icon
    assert f'<link rel="icon" href="{icon}"' in client.get("/").content.decode()
    assert (tmp_path / icon.removeprefix("/static/")).read_bytes().startswith(b"<svg")


def test_a_url_is_remembered_until_the_next_collectstatic(settings: Any, tmp_path: Path) -> None:
    """Each URL is worked out once; a new collectstatic (new hashes) forgets them."""
    from django.contrib.staticfiles.storage import staticfiles_storage

    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": PRODUCTION_STORAGE}}
    call_command("collectstatic", interactive=False, verbosity=0)
    first = staticfiles_storage.url("esante/css/portal.css")
    assert staticfiles_storage.url("esante/css/portal.css") is first  # the same object: kept

    stylesheet = tmp_path / "esante" / "css" / "portal.css"
    source = Path(__file__).resolve().parents[2] / "src/esante/portal/static/esante/css"
    changed = tmp_path.parent / "changed-static"
    (changed / "esante" / "css").mkdir(parents=True)
    (changed / "esante" / "css" / "portal.css").write_text(
        (source / "portal.css").read_text() + "\n/* changed */\n"
    )
    settings.STATICFILES_DIRS = [str(changed)]
    call_command("collectstatic", interactive=False, verbosity=0)

    second = staticfiles_storage.url("esante/css/portal.css")
    assert second != first, "a new collectstatic gives the changed file a new hash"
    assert stylesheet.exists()
