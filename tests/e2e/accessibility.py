"""axe-core through Playwright: run it on a page, fail with a readable list of violations."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

_axe = Axe()

# Every rule axe-core ships except the experimental ones: WCAG 2.0/2.1/2.2 A and AA
# plus its best practices (landmarks, one h1, heading order, regions, …).
AXE_OPTIONS: dict[str, Any] = {"resultTypes": ["violations"]}


def axe_violations(page: Page, *, disable_rules: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (a list of axe result dicts)."""
    options = dict(AXE_OPTIONS)
    if disable_rules:
        options["rules"] = {rule: {"enabled": False} for rule in disable_rules}
    results = _axe.run(page, options=options)
    violations: list[dict[str, Any]] = results.response["violations"]
    return violations


def describe_violations(violations: list[dict[str, Any]], url: str) -> str:
    lines = [f"{len(violations)} accessibility violation(s) on {url}:"]
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}"
            f" <{violation['helpUrl']}>"
        )
        for node in violation["nodes"]:
            target = " >> ".join(str(part) for part in node["target"])
            snippet = " ".join(node.get("html", "").split())[:160]
            lines.append(f"    at {target}: {snippet}")
            for summary_line in node.get("failureSummary", "").splitlines():
                if summary_line.strip():
                    lines.append(f"       {summary_line.strip()}")
    return "\n".join(lines)


def assert_accessible(page: Page, *, disable_rules: tuple[str, ...] = ()) -> None:
    """Fail with axe-core's violations (id, impact, help, target nodes) if there is any.

    `disable_rules` is for a documented exception only, named in the test that needs it.
    """
    violations = axe_violations(page, disable_rules=disable_rules)
    assert not violations, describe_violations(violations, page.url)
