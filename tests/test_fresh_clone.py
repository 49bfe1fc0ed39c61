"""A newcomer's first two minutes: `make run` in a fresh clone serves the shipped content to a demo login.

The repository is cloned into a temporary folder (its committed state: no venv, no instance/), `make run`
runs there on a free port with no LMS_* settings inherited, and the test waits for /healthz, logs in as a
demo worker and opens a shipped course — then stops the server. This is the path README tells a new user
to take; it failed once because the content was imported before the demo county existed.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: a cold venv install from the package index takes ~1 min here; leave room for a slow mirror
START_TIMEOUT_S = 600


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(url: str, data: dict | None = None, cookie: str | None = None):
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET",
                                     headers={"Content-Type": "application/json"} if body else {})
    if cookie:
        request.add_header("Cookie", cookie)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers, response.read()


@pytest.fixture
def fresh_clone(tmp_path):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout to clone from")
    clone = tmp_path / "grid-lms"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    return clone


def test_make_run_in_a_fresh_clone_serves_the_shipped_content_to_a_demo_login(fresh_clone, tmp_path):
    assert not (fresh_clone / "instance").exists() and not (fresh_clone / ".venv").exists()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    log_path = tmp_path / "make-run.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(["make", "run", f"PORT={port}", "HOST=127.0.0.1"], cwd=fresh_clone, env=env,
                                  stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if server.poll() is not None:
                pytest.fail(f"make run stopped with exit {server.returncode}:\n{log_path.read_text()[-4000:]}")
            try:
                if _request(f"{base}/healthz")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"no /healthz after {START_TIMEOUT_S} s:\n{log_path.read_text()[-4000:]}")
            time.sleep(1)

        output = log_path.read_text()
        assert "Demo@2026" in output and "worker" in output  # the demo accounts are printed
        assert "课程：新增" in output  # the shipped content was imported, into the demo county

        status, headers, body = _request(f"{base}/api/v1/session", {"username": "worker", "password": "Demo@2026"})
        assert status == 200 and json.loads(body)["user"]["org"]["code"].startswith("HX")
        cookie = headers["Set-Cookie"].split(";", 1)[0]
        status, _, body = _request(f"{base}/api/v1/courses", cookie=cookie)
        courses = json.loads(body)["courses"]
        assert status == 200 and courses, "the demo worker sees the shipped courses"
        assert (fresh_clone / "instance" / "lms.sqlite3").exists()  # a fresh instance in the clone itself
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
