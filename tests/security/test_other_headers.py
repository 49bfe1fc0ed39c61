"""Other: response headers that tell an attacker nothing and tell the browser to defend (issue 13, item 14).

| tries | expected |
| --- | --- |
| any response of the bare gunicorn started from deploy/gunicorn.conf.py | no ``Server`` header naming gunicorn |
| the same through the nginx site of deploy/ (when nginx is installed) | no ``Server: gunicorn``, no nginx version |
| a page, a JSON answer, a JSON error, a 404 page, a static file | CSP, nosniff, frame denial, same-origin referrer |
| personal pages and JSON | ``Cache-Control: no-store`` (a shared tablet's cache keeps nothing) |
| a request over HTTPS | HSTS |
"""
from __future__ import annotations

import http.client
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_deploy import _free_port, _https, _wait_for, deployment, served  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
#: answers that need no database: the bare route, a public page, a JSON refusal, a 404 page, a static file
PATHS = ["/healthz", "/login", "/api/v1/me", "/no-such-page", "/static/css/app.css", "/manifest.webmanifest"]
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


@pytest.fixture(scope="module")
def bare_gunicorn(tmp_path_factory):
    """deploy/gunicorn.conf.py as the service starts it (one worker here), with nothing in front."""
    folder = tmp_path_factory.mktemp("bare")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update(LMS_SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'lms.sqlite3'}", LMS_SECRET_KEY="headers-test")
    process = subprocess.Popen([str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "--workers", "1",
                                "--bind", f"127.0.0.1:{port}", "lms:create_app()"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _wait_for(port, process, "gunicorn")
    yield port
    process.terminate()
    process.wait(timeout=30)
    process.stderr.close()


def _plain(port: int, path: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


@pytest.mark.parametrize("path", PATHS)
def test_the_bare_gunicorn_does_not_name_itself(bare_gunicorn, path):
    response = _plain(bare_gunicorn, path)
    assert response.status < 500
    server = response.getheader("Server") or ""
    assert "gunicorn" not in server.lower(), server
    assert response.getheader("X-Content-Type-Options") == "nosniff"


@pytest.mark.parametrize("path", ["/healthz", "/login", "/api/v1/me"])
def test_behind_nginx_no_server_names_itself(served, path):  # noqa: F811  (the fixture imported above)
    response, _ = _https(served, "GET", path)
    server = response.getheader("Server") or ""
    assert "gunicorn" not in server.lower() and "/" not in server, server


@pytest.mark.parametrize("path", PATHS)
def test_every_answer_carries_the_security_headers(client, path):
    response = client.get(path)
    response.close()  # a static file's answer holds the file open
    for name, value in SECURITY_HEADERS.items():
        assert value in response.headers.get(name, ""), (path, name, response.headers.get(name))
    assert "Server" not in response.headers


@pytest.mark.parametrize("path", ["/login", "/api/v1/me", "/no-such-page"])
def test_pages_and_json_are_not_kept_in_a_shared_cache(client, path):
    assert client.get(path).headers["Cache-Control"] == "no-store"


def test_https_answers_carry_hsts(client):
    response = client.get("/login", base_url="https://lms.test")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
