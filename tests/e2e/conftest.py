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


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """gunicorn serving a fresh SQLite instance after `db upgrade` and `demo`, as `make run` does."""
    folder = tmp_path_factory.mktemp("live")
    env = {**os.environ, "LMS_SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'lms.sqlite3'}",
           "LMS_SECRET_KEY": "e2e-secret", "LMS_ARGON2_MEMORY_KIB": "19456"}
    env.pop("LMS_TEST_DATABASE_URL", None)
    flask = [sys.executable, "-m", "flask", "--app", "lms"]
    for args in (["db", "upgrade"], ["demo"]):
        subprocess.run(flask + args, env=env, cwd=ROOT, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "2", "--bind", f"127.0.0.1:{port}",
         "lms:create_app()"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/login", timeout=2):
                break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError("gunicorn did not start: " + server.stderr.read().decode()[-2000:])
            time.sleep(0.2)
    yield base
    server.terminate()
    server.wait(timeout=10)
    server.stderr.close()


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
