"""Loopback hosts: the only ones demo mode (ESANTE_DEMO=1, `make run`) serves on, in plain
HTTP. Read by the settings (ALLOWED_HOSTS) and by `esante serve` (the address it binds)."""

from __future__ import annotations

import ipaddress

LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1 (bracketed or not); any other name or address, and a
    wildcard such as 0.0.0.0, is not."""
    host = host.strip().lower()
    if host in LOOPBACK_NAMES:
        return True
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
