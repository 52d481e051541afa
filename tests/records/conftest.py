"""The records tests activate accounts as the activation tests do: same settings."""

from tests.accounts.conftest import activation_settings

__all__ = ["activation_settings"]
