from __future__ import annotations

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "esante.demo"
    label = "demo"

    def ready(self) -> None:
        from esante.demo import checks  # noqa: F401  (registers the system checks)
