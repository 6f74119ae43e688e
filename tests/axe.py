"""axe-core (npm package, `make setup` installs it) run in the suite's Chromium.

axe needs JavaScript in the page (it waits on timers), so check a page opened with
``chromium_page(javascript=True)``; the page's own Content-Security-Policy does not apply to
the injected script (it comes in through the DevTools protocol, not a <script> tag).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page, *, disable_rules: tuple[str, ...] = ()) -> list[dict]:
    """Every axe violation of any impact on the page as it is now: id, impact, help, targets."""
    if not AXE.exists():
        if os.environ.get("CI"):
            pytest.fail("axe-core is not installed; `make setup` runs npm ci")
        pytest.skip("axe-core is not installed (make setup)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    options = {"resultTypes": ["violations"],
               "rules": {rule: {"enabled": False} for rule in disable_rules}}
    result = page.evaluate("async (options) => await axe.run(document, options)", options)
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "targets": [node["target"] for node in v["nodes"]]}
        for v in result["violations"]
    ]


def assert_accessible(page, where: str = "") -> None:
    """Fail with every violation (rule, impact, elements) if axe finds any of any impact."""
    violations = axe_violations(page)
    assert not violations, f"axe on {where or page.url}:\n" + "\n".join(
        f"  {v['id']} ({v['impact']}): {v['help']} at {v['targets'][:5]}" for v in violations)
