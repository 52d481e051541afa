"""Rotating SECRET_KEY (docs/operations.md): with the old key in SECRET_KEY_FALLBACKS,
staff stay logged in; without it, their sessions end."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

NEW_KEY = "rotated-secret-key-" + "n" * 40


def test_a_rotation_with_the_old_key_as_fallback_keeps_staff_logged_in(
    agent_client: Client, settings: Any
) -> None:
    assert agent_client.get(reverse("helpdesk:home")).status_code == 200
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [settings.SECRET_KEY]

    assert agent_client.get(reverse("helpdesk:home")).status_code == 200


def test_a_rotation_without_fallback_ends_staff_sessions(
    agent_client: Client, settings: Any
) -> None:
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, []

    assert agent_client.get(reverse("helpdesk:home")).status_code == 302
