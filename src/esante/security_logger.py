"""The security log's line: one WARNING of the logger `esante.security` per event.

On the lowest floor (it imports no app), so that the lowest modules — the flows
(esante.flows) — can write to the security log. What the log holds, and the audited
refusals, are esante.audit.security_log's.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.http import HttpRequest

from esante import client_address

logger = logging.getLogger("esante.security")


def warn(request: HttpRequest, event: str, **fields: Any) -> None:
    """One line: `event {"ip": …, "path": …, **fields}`. The fields are JSON-encoded, so
    nothing a visitor typed (a path with a line break) can forge another line."""
    entry = {"ip": client_address.of(request) or "-", "path": request.path, **fields}
    logger.warning("%s %s", event, json.dumps(entry, ensure_ascii=False, default=str))
