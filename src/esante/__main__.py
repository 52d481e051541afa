"""The `esante` command: Django's management commands with the platform's settings."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "esante.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    # `esante import-registry` reads better than Django's `import_registry`; both work.
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
