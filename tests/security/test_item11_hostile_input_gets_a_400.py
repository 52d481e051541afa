"""Issue 13, item 11: hostile input gets a clear 400, never a 500.

- JSON nested 5,000 deep (Python's parser ends in a RecursionError), nested deeper than a
  WebAuthn answer ever is, or larger than one, on every passkey endpoint — patient and
  staff, logged in or not: a French JSON error, and a security log line.
- A PNG declaring more pixels than Pillow's decompression-bomb limit (its error, and its
  warning), or more than ESANTE_UPLOAD_MAX_PIXELS: a French error on the file field of
  the upload form, what was typed kept, nothing stored.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from esante.accounts.authenticators import passkeys
from esante.accounts.models import Account
from esante.records import documents
from esante.records.models import CareRecord, Document
from esante.registry.models import InsuredPerson
from tests.accounts.test_login import log_in
from tests.accounts.wizard import page_text
from tests.helpdesk.conftest import make_staff, staff_log_in
from tests.records.conftest import logged_in
from tests.records.test_documents import image_bytes
from tests.test_settings import run_settings

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

DEEP = b'{"purpose": "account", "credential": ' + b"[" * 5000 + b"]" * 5000 + b"}"
PATIENT_ENDPOINTS = [
    "patient:passkey_register_options",
    "patient:passkey_register",
    "patient:passkey_login_options",
    "patient:passkey_login",
]
# The step-up's passkey (Confirmez votre identité): a patient's login comes first.
STEP_UP_ENDPOINTS = ["patient:step_up_passkey_options", "patient:step_up_passkey"]
STAFF_ENDPOINTS = [
    "helpdesk:passkey_register_options",
    "helpdesk:passkey_register",
    "helpdesk:passkey_login_options",
    "helpdesk:passkey_login",
]
REFUSED = "Votre navigateur a envoyé une demande trop longue ou mal formée : recommencez."


def post_raw(client: Client, name: str, body: bytes) -> Response:
    return client.post(reverse(name), body, content_type="application/json")


def assert_refused(response: Response, what: str) -> None:
    assert response.status_code == 400, (what, response.status_code)
    assert response.json() == {"error": REFUSED}, what


@pytest.fixture
def patient(account: Account) -> Client:
    client = Client(raise_request_exception=False)
    log_in(client, account)
    return client


@pytest.fixture
def staff(db: None) -> Client:
    client = Client(raise_request_exception=False)
    staff_log_in(client, make_staff("agent.json", "agent").username)
    return client


def test_json_nested_5000_deep_gets_a_400_on_every_passkey_endpoint(
    patient: Client, staff: Client, caplog: pytest.LogCaptureFixture
) -> None:
    visitor = Client(raise_request_exception=False)
    for name in PATIENT_ENDPOINTS:
        assert_refused(post_raw(visitor, name, DEEP), f"{name}, without a login")
        assert_refused(post_raw(patient, name, DEEP), f"{name}, logged in")
    for name in STEP_UP_ENDPOINTS:
        assert_refused(post_raw(patient, name, DEEP), f"{name}, logged in")
        assert post_raw(visitor, name, DEEP).status_code == 302, name
    for name in STAFF_ENDPOINTS:
        assert_refused(post_raw(staff, name, DEEP), f"{name}, logged in")
        anonymous = post_raw(visitor, name, DEEP)
        if name.endswith("login_options") or name.endswith("login"):
            assert_refused(anonymous, f"{name}, without a login")
        else:  # registration needs a staff login first, before any body is read
            assert anonymous.status_code == 302, name
    # A bare array, too: the recursion happens whatever the top level is.
    assert_refused(post_raw(visitor, "patient:passkey_login", b"[" * 5000 + b"]" * 5000), "array")

    assert "json.refused" in caplog.text and '"reason": "too_deep"' in caplog.text


def test_json_deeper_or_larger_than_a_webauthn_answer_gets_a_400(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = Client(raise_request_exception=False)
    post_raw(client, "patient:passkey_login_options", b"{}")
    depth = passkeys.JSON_MAX_DEPTH
    nested = b'{"credential": {"response": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}}"
    large = b'{"credential": {"id": "' + b"A" * passkeys.JSON_MAX_BYTES + b'"}}'

    assert_refused(post_raw(client, "patient:passkey_login", nested), "too deep")
    assert_refused(post_raw(client, "patient:passkey_login", large), "too large")
    assert '"reason": "too_large"' in caplog.text
    # A body that is merely not JSON keeps its own message (the browser's answer is missing).
    garbage = post_raw(client, "patient:passkey_login", b"[1, 2")
    assert garbage.status_code == 400 and "recommencez" in garbage.json()["error"]
    # An integer of 5,000 digits is over Python's limit for int(): a ValueError, not a 500.
    digits = post_raw(client, "patient:passkey_login", b'{"credential": ' + b"9" * 5000 + b"}")
    assert digits.status_code == 400


# --- Images -------------------------------------------------------------------------------


def png_declaring(width: int, height: int) -> bytes:
    """A PNG of a few dozen bytes whose header declares width × height pixels (1 bit,
    grey): the pixels it claims would take gigabytes once decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def alice_client(alice: InsuredPerson) -> Client:
    return logged_in(alice, "alice@example.lu")


def upload(client: Client, alice: InsuredPerson, content: bytes) -> Response:
    record = CareRecord.objects.get(person=alice)
    return client.post(
        reverse("records:upload", args=[record.public_id]),
        {
            "title": "Radiographie du genou",
            "document_date": "2026-03-14",
            "confidentiality": "N",
            "file": SimpleUploadedFile("genou.png", content, content_type="image/png"),
        },
    )


def assert_too_many_pixels(response: Response, megapixels: str) -> None:
    assert response.status_code == 400, response.status_code
    page = page_text(response)
    assert f"L'image est trop grande : {megapixels} mégapixels au plus (largeur × hauteur)." in page
    assert 'value="Radiographie du genou"' in page  # what was typed is kept
    assert not Document.objects.exists()


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (50_000, 50_000),  # 2.5 gigapixels: over twice Pillow's limit, DecompressionBombError
        (10_000, 10_000),  # 100 megapixels: over Pillow's limit, DecompressionBombWarning
        (7_000, 7_000),  # 49 megapixels: under Pillow's limit, over the platform's cap
    ],
)
def test_a_decompression_bomb_png_is_a_form_error_not_a_500(
    alice_client: Client, alice: InsuredPerson, width: int, height: int
) -> None:
    alice_client.raise_request_exception = False
    content = png_declaring(width, height)
    assert len(content) < 200

    response = upload(alice_client, alice, content)

    assert_too_many_pixels(response, "40")


def test_the_pixel_cap_is_a_setting(
    alice_client: Client, alice: InsuredPerson, settings: Any
) -> None:
    settings.ESANTE_UPLOAD_MAX_PIXELS = 2_000_000
    assert documents.max_pixels() == 2_000_000
    small = png_declaring(1_000, 2_000)  # exactly at the cap: accepted

    assert_too_many_pixels(upload(alice_client, alice, png_declaring(2_000, 1_001)), "2")
    assert upload(alice_client, alice, small).status_code == 302
    assert Document.objects.count() == 1
    # A real photo far under the cap still goes in.
    assert upload(alice_client, alice, image_bytes("PNG")).status_code == 302


def test_a_pixel_cap_above_pillows_limit_stops_the_start(tmp_path: Path) -> None:
    production = {"SECRET_KEY": "s" * 50, "ESANTE_CODE_HMAC_KEY": "k" * 20}
    base = {**production, "ESANTE_VAR_DIR": str(tmp_path)}

    refused = run_settings(base | {"ESANTE_UPLOAD_MAX_PIXELS": "100000000"})
    assert refused.returncode != 0
    assert "ESANTE_UPLOAD_MAX_PIXELS=100000000: at most 89478485" in refused.stderr
    assert run_settings(base | {"ESANTE_UPLOAD_MAX_PIXELS": "89478485"}).returncode == 0
    assert run_settings(base | {"ESANTE_UPLOAD_MAX_PIXELS": "forty"}).returncode != 0
