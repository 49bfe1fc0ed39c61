"""axe-core (vendored from the npm registry, tests only) injected into a page; serious issues fail."""
from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"


def serious_violations(page) -> list[str]:
    """Run axe's WCAG 2.1 A/AA rules; return 'rule: target' for serious and critical violations."""
    # A hover or a toggle still fading (Bootstrap's .15 s colour transitions) would be measured half-way, with
    # colours the page never rests in: settle every transition before axe looks.
    page.evaluate("document.getAnimations().forEach(a => { try { a.finish(); } catch (e) { /* infinite */ } })")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => await axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})""")
    found = []
    for violation in result["violations"]:
        if violation["impact"] in ("serious", "critical"):
            for node in violation["nodes"]:
                found.append(f"{violation['id']}: {node['target']} — {violation['help']}")
    return found
