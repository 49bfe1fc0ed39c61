"""The security suite's fixtures, and the probe table it prints at the end of a run.

The table re-runs issue 13's probe: per category (the module's name after ``test_``, up to the next ``_``),
how many attacks and bad inputs the suite tried, how many held (the test passed) and how many failed
(failed or errored in any phase). Each parametrised case counts as one.
"""
from __future__ import annotations

import http.client
import json
import threading
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

#: the probe's eight categories, in the order of the table (module prefix → label)
CATEGORIES = {
    "authorization": "authorization",
    "authentication": "authentication",
    "csrf": "CSRF",
    "injection": "injection",
    "exports": "exports",
    "imports": "imports/uploads",
    "verification": "verification",
    "other": "other",
}


def category_of(path: str) -> str | None:
    """'tests/security/test_imports_roster.py' -> 'imports'; None outside the security package."""
    file = Path(path)
    if file.parent.name != "security" or file.parent.parent.name != "tests" or not file.name.startswith("test_"):
        return None
    stem = file.stem[len("test_"):]
    for name in CATEGORIES:
        if stem == name or stem.startswith(name + "_"):
            return name
    return None


def probe_table(stats: dict) -> list[tuple[str, int, int, int, int]]:
    """(category label, tried, held, failed, skipped) rows from the terminal reporter's stats, plus a total."""
    outcome: dict[str, str] = {}
    for reports in stats.values():
        for report in reports:
            nodeid = getattr(report, "nodeid", "")
            when = getattr(report, "when", None)
            if not nodeid or "::" not in nodeid or when not in ("setup", "call", "teardown"):
                continue
            path = nodeid.split("::", 1)[0]
            if category_of(path) is None and not (path.startswith("tests/security/") and "/test_" in path):
                continue
            if report.failed:
                outcome[nodeid] = "failed"
            elif report.skipped and outcome.get(nodeid) != "failed":
                outcome[nodeid] = "skipped"
            elif report.passed and when == "call" and nodeid not in outcome:
                outcome[nodeid] = "held"
    counts = {name: {"held": 0, "failed": 0, "skipped": 0} for name in [*CATEGORIES, None]}
    for nodeid, result in outcome.items():
        counts[category_of(nodeid.split("::", 1)[0])][result] += 1
    # A module named after no category still shows up, so it is renamed rather than silently left out.
    rows = [(CATEGORIES.get(name, "uncategorised"), c["held"] + c["failed"], c["held"], c["failed"], c["skipped"])
            for name, c in counts.items() if name is not None or sum(c.values())]
    totals = tuple(sum(row[i] for row in rows) for i in range(1, 5))
    return rows + [("total", *totals)]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    rows = probe_table(terminalreporter.stats)
    if not rows[-1][1] and not rows[-1][4]:
        return  # no security test ran
    terminalreporter.section("security probe (issue 13): tried / held / failed per category")
    terminalreporter.write_line(f"{'category':<16}{'tried':>7}{'held':>7}{'failed':>8}{'skipped':>9}")
    for label, tried, held, failed, skipped in rows:
        terminalreporter.write_line(f"{label:<16}{tried:>7}{held:>7}{failed:>8}{skipped:>9}")


# --- fixtures ----------------------------------------------------------------------------------------------------

class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class Served:
    """The test's app behind a real threaded HTTP server on loopback: parallel requests really run in parallel."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def request(self, method: str, path: str, body=None, headers=None) -> tuple[int, dict, bytes]:
        """(status, lower-cased headers, body) of one request on a fresh connection."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            data = json.dumps(body) if body is not None else None
            merged = {"Content-Type": "application/json"} if body is not None else {}
            merged.update(headers or {})
            conn.request(method, path, body=data, headers=merged)
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()


@pytest.fixture
def served_app(app):
    """The ``app`` fixture served by werkzeug's threaded server (one thread per request)."""
    from lms.extensions import db

    db.session.commit()  # what the test made so far is visible to the server's connections
    served = Served(app)
    served.thread.start()
    yield served
    served.server.shutdown()
    served.server.server_close()
    served.thread.join(timeout=10)
    db.session.rollback()
