"""A live gunicorn server on loopback with the demo county, and Debian Chromium through Playwright."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
VIEWPORTS = {"tablet-portrait": (768, 1024), "tablet-landscape": (1280, 800), "phone": (360, 800)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """gunicorn on loopback serving one SQLite file; it can be stopped and started again on the same port.

    Tests that need a server of their own (stopping it, a fixed data set) make one in a tmp folder whose name
    does not start with "live": other modules find the shared server's database by globbing live*/.
    """

    def __init__(self, folder: Path, port: int | None = None):
        self.folder = Path(folder)
        self.database = self.folder / "lms.sqlite3"
        self.port = port or _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "LMS_SQLALCHEMY_DATABASE_URI": f"sqlite:///{self.database}",
                    "LMS_SECRET_KEY": "e2e-secret", "LMS_ARGON2_MEMORY_KIB": "19456"}
        self.env.pop("LMS_TEST_DATABASE_URL", None)
        self.process: subprocess.Popen | None = None

    def flask(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """`flask --app lms ARGS` against this server's database."""
        return subprocess.run([sys.executable, "-m", "flask", "--app", "lms", *args], env=self.env, cwd=ROOT,
                              check=check, capture_output=True, text=True)

    def python(self, code: str, *args: str) -> subprocess.CompletedProcess:
        """Run a script in this server's environment (create_app() reaches its database)."""
        return subprocess.run([sys.executable, "-c", code, *args], env=self.env, cwd=ROOT, check=True,
                              capture_output=True, text=True)

    def prepare(self) -> "LiveServer":
        """A fresh database after `db upgrade` and `demo`, as `make run` does."""
        self.flask("db", "upgrade")
        self.flask("demo")
        return self

    def start(self) -> "LiveServer":
        log = open(self.folder / "gunicorn.log", "ab")
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "2",
                 "--bind", f"127.0.0.1:{self.port}", "lms:create_app()"],
                env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
        finally:
            log.close()
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(self.base + "/login", timeout=2):
                    return self
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.process.kill()
                    tail = (self.folder / "gunicorn.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError("gunicorn did not start: " + tail) from None
                time.sleep(0.2)

    def stop(self) -> None:
        """Stop the server process (its port refuses connections until start())."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """gunicorn serving a fresh SQLite instance after `db upgrade` and `demo`, as `make run` does."""
    server = LiveServer(tmp_path_factory.mktemp("live")).prepare().start()
    yield server.base
    server.stop()


# Runs inside a server's environment: assign the county duties course to the whole county.
ASSIGN_COUNTY_COURSE = """
import datetime as dt
from lms import create_app
from lms.accounts.permissions import SYSTEM
from lms.courses.services import create_assignment
from lms.extensions import db
from lms.org.queries import get_org
app = create_app()
with app.app_context():
    create_assignment(SYSTEM, course_code="county-grid-duties", quiz_code=None, org=get_org("HX"), role=None,
                      due=dt.date.today() + dt.timedelta(days=14))
    db.session.commit()
"""


@pytest.fixture(scope="session")
def county_server(tmp_path_factory):
    """A second server with everything `make run` imports (courses, banks, quizzes, drills, certification
    programs) and the county course assigned: the journey and page-weight modules, whose users' data must
    not depend on what other modules did to the shared server."""
    server = LiveServer(tmp_path_factory.mktemp("county")).prepare()
    imported = server.flask("content", "import", check=False)
    for kind in ("课程：新增", "测验：新增", "演练：新增", "认证项目：新增"):
        assert kind in imported.stdout, imported.stdout + imported.stderr
    server.python(ASSIGN_COUNTY_COURSE)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("LMS_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/system-deps.sh` (Debian's chromium)")
        pytest.skip(f"{CHROMIUM} not installed (Debian package chromium); `make test` installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield instance
        instance.close()


@pytest.fixture
def tablet(browser, request):
    """A fresh browser context at 768×1024 (zh-CN); a screenshot is kept when the test fails."""
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", has_touch=True)
    page = context.new_page()
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def shot(page, name: str) -> None:
    """Save a step's screenshot where CI keeps it (test-artifacts/screenshots)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def wait_until(page, expression: str, timeout: float = 15000) -> None:
    """Poll a JS expression (may return a promise) until truthy.

    page.wait_for_function compiles its predicate with eval inside the page, which our CSP
    (no 'unsafe-eval') blocks whenever the first check is false; page.evaluate is not subject to it.
    """
    deadline = time.monotonic() + timeout / 1000
    while True:
        if page.evaluate(expression):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} ms waiting for: {expression}")
        page.wait_for_timeout(100)


DEMO_PASSWORD = "Demo@2026"


def login(page, base: str, username: str = "worker") -> None:
    """Log a demo account in through the login form and land on the home page."""
    page.goto(base + "/login")
    page.get_by_label("工号").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(base + "/")
