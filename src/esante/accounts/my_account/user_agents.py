"""A session's browser as *Mon compte* names it, « Chrome sur Android »: the User-Agent
header kept at login (PatientSession.user_agent, as sent) is parsed when the page is shown,
by ua-parser (the regexes of uap-core), so a newer parser names the old sessions too."""

from __future__ import annotations

import ua_parser
from django.utils.translation import gettext as _

# uap-core names the mobile builds apart; a person knows them by the browser's own name.
BROWSER_NAMES = {
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Chrome",
    "HeadlessChrome": "Chrome",
    "Mobile Safari": "Safari",
    "Mobile Safari UI/WKWebView": "Safari",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Edge Mobile": "Edge",
}
SYSTEM_NAMES = {"Mac OS X": "macOS"}
UNKNOWN = "Other"  # uap-core's family when no rule matched


def describe(user_agent: str) -> str:
    """« Chrome sur Android », « Firefox » when the system is not said, « Navigateur
    inconnu » for what no rule recognises (an empty header among them)."""
    parsed = ua_parser.parse(user_agent) if user_agent else None
    browser = parsed.user_agent if parsed else None
    system = parsed.os if parsed else None
    if browser is None or browser.family == UNKNOWN:
        return _("Navigateur inconnu")
    browser_name = BROWSER_NAMES.get(browser.family, browser.family)
    if system is None or system.family == UNKNOWN:
        return browser_name
    return _("%(browser)s sur %(os)s") % {
        "browser": browser_name,
        "os": SYSTEM_NAMES.get(system.family, system.family),
    }
