"""Deployment on a county intranet (deploy/, README): tested where it can be on this machine.

- The trusted proxy setting, read from the environment as the service reads lms.env: the forwarded client
  reaches the audit log and the lockouts with LMS_TRUSTED_PROXIES=1, and the header is ignored with 0.
- The files agree with each other (ports, paths, environment file), the systemd unit passes
  `systemd-analyze verify`, and the cron line, run as written, runs `tasks run`.
- The nginx site runs in a real nginx (self-signed certificate, loopback ports) in front of the unit's
  gunicorn command: HTTPS with HSTS, http → https, the client address nginx saw (never a forged one),
  versioned static kept a year and sw.js not, uploads up to the app's own limit.
- `make wheelhouse` installs into a fresh venv with no package index (only when a wheelhouse exists).
"""
from __future__ import annotations

import http.client
import json
import os
import re
import shlex
import shutil
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from lms import config
from lms.accounts.models import Lockout, UserSession
from lms.audit.models import AuditEntry
from lms.extensions import db
from tests.factories import PASSWORD, make_user

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
WHEELHOUSE = Path(os.environ.get("LMS_TEST_WHEELHOUSE") or ROOT / "wheelhouse")

#: the literal values of the deploy files, replaced by the tests' own (each must be found)
SERVICE_ROOT = "/srv/grid-lms"
ENV_FILE = "/etc/grid-lms/lms.env"


def _replace(text: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        assert old in text, f"{old!r} no longer in the deploy file: update the test with the file"
        text = text.replace(old, new)
    return text


def _env_example() -> dict[str, str]:
    """KEY=value lines of deploy/lms.env.example (what systemd's EnvironmentFile and `. lms.env` read)."""
    pairs = {}
    for line in (DEPLOY / "lms.env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            assert key == key.strip() and " " not in value, f"not KEY=value without spaces: {line!r}"
            pairs[key] = value
    return pairs


def _unit() -> dict[str, str]:
    return dict(line.split("=", 1) for line in (DEPLOY / "grid-lms.service").read_text(encoding="utf-8").splitlines()
                if "=" in line and not line.startswith("#"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"{what} did not start: {process.stderr.read().decode()[-2000:]}") from None
            time.sleep(0.1)


# --- the trusted proxy, from the environment --------------------------------------------------------------------

@pytest.fixture
def env_app(app, database_url, monkeypatch):
    """An app built the production way (create_app() reading LMS_* variables) from lms.env.example."""
    from lms import create_app

    for key in [k for k in os.environ if k.startswith("LMS_")]:
        monkeypatch.delenv(key)

    def build(**overrides):
        env = {**_env_example(), "LMS_SQLALCHEMY_DATABASE_URI": database_url, "LMS_SECRET_KEY": "deploy-test",
               "LMS_ARGON2_MEMORY_KIB": "1024", "LMS_ARGON2_TIME_COST": "1", **overrides}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        built = create_app()
        built.instance_path = app.instance_path
        return built

    apps = []
    yield lambda **overrides: apps.append(build(**overrides)) or apps[-1]
    for built in apps:
        with built.app_context():
            db.session.remove()
            db.engine.dispose()


def _login(client, username, password, forwarded_for):
    return client.post("/api/v1/session", json={"username": username, "password": password},
                       headers={"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "https"})


def test_behind_the_proxy_the_forwarded_client_is_audited_and_locked_out_alone(env_app, tree):
    make_user("w001", "worker", tree["g1"])
    proxied = env_app()  # LMS_TRUSTED_PROXIES=1 from lms.env.example
    assert proxied.config["TRUSTED_PROXIES"] == 1 and proxied.config["SESSION_COOKIE_SECURE"] is True
    client = proxied.test_client()
    for _ in range(5):
        assert _login(client, "w001", "wrong", "203.0.113.7").status_code == 401
    # Every request arrives from nginx's address: only the client that failed is locked out.
    assert _login(client, "w001", PASSWORD, "203.0.113.7").status_code == 429
    ok = _login(client, "w001", PASSWORD, "198.51.100.4")
    assert ok.status_code == 200
    assert ok.headers["Strict-Transport-Security"] == "max-age=31536000"  # X-Forwarded-Proto: https trusted
    db.session.expire_all()
    assert set(db.session.scalars(sa.select(Lockout.client_addr))) == {"203.0.113.7"}
    audit = db.session.execute(sa.select(AuditEntry.action, AuditEntry.client_addr)
                               .where(AuditEntry.action.like("auth.%"))).all()
    assert ("auth.lockout", "203.0.113.7") in audit and ("auth.login", "198.51.100.4") in audit
    assert {addr for _, addr in audit} == {"203.0.113.7", "198.51.100.4"}
    assert db.session.scalar(sa.select(UserSession.client_addr)) == "198.51.100.4"


def test_without_a_trusted_proxy_the_header_is_ignored(env_app, tree):
    make_user("w001", "worker", tree["g1"])
    direct = env_app(LMS_TRUSTED_PROXIES="0")
    client = direct.test_client()
    for _ in range(5):
        assert _login(client, "w001", "wrong", "203.0.113.7").status_code == 401
    # A forged header changes nothing: the lockout holds for the real peer, whatever it claims.
    locked = _login(client, "w001", PASSWORD, "198.51.100.4")
    assert locked.status_code == 429
    assert "Strict-Transport-Security" not in locked.headers
    db.session.expire_all()
    addresses = set(db.session.scalars(sa.select(AuditEntry.client_addr).where(AuditEntry.action.like("auth.%"))))
    assert addresses == {"127.0.0.1"}


# --- the deploy files --------------------------------------------------------------------------------------------

def test_env_example_names_only_settings_the_app_reads():
    source = "\n".join(path.read_text(encoding="utf-8") for path in (ROOT / "lms").rglob("*.py"))
    for key in _env_example():
        assert key.startswith("LMS_"), key
        setting = key[len("LMS_"):]
        assert hasattr(config.Defaults, setting) or f'"{setting}"' in source, f"{key}: no such setting"


def test_deploy_files_agree_on_port_paths_and_environment():
    unit = _unit()
    nginx = (DEPLOY / "nginx-grid-lms.conf").read_text(encoding="utf-8")
    cron = (DEPLOY / "crontab").read_text(encoding="utf-8").strip().splitlines()[-1]
    bind = re.search(r"--bind (\S+)", unit["ExecStart"]).group(1)
    assert f"server {bind};" in nginx  # the upstream is what gunicorn binds
    assert bind.startswith("127.0.0.1:")  # gunicorn only on loopback; nginx is the way in
    assert unit["WorkingDirectory"] == SERVICE_ROOT and unit["EnvironmentFile"] == ENV_FILE
    assert f"alias {SERVICE_ROOT}/lms/static/;" in nginx
    assert unit["ExecStart"].startswith(f"{SERVICE_ROOT}/.venv/bin/gunicorn ")
    assert unit["ExecStart"].endswith(" lms:create_app()")
    assert f"cd {SERVICE_ROOT} " in cron and f". {ENV_FILE} " in cron and unit["User"] in cron.split()
    assert f"{SERVICE_ROOT}/instance" in unit["ReadWritePaths"]
    # Uploads: nginx lets through at least what the app accepts, so the app's own message answers anything larger.
    limit_mb = int(re.search(r"client_max_body_size (\d+)m;", nginx).group(1))
    assert limit_mb * 1024 * 1024 > config.Defaults.MAX_CONTENT_LENGTH


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze not installed (Debian package systemd)")
def test_systemd_unit_verifies(tmp_path):
    env_file = tmp_path / "lms.env"
    env_file.write_text((DEPLOY / "lms.env.example").read_text(encoding="utf-8"), encoding="utf-8")
    text = _replace((DEPLOY / "grid-lms.service").read_text(encoding="utf-8"),
                    {f"{SERVICE_ROOT}/.venv/bin/": f"{BIN}/", SERVICE_ROOT: str(ROOT), ENV_FILE: str(env_file),
                     "User=grid-lms": "User=root", "Group=grid-lms": "Group=root"})
    unit = tmp_path / "grid-lms.service"
    unit.write_text(text, encoding="utf-8")
    done = subprocess.run([SYSTEMD_ANALYZE, "verify", str(unit)], capture_output=True, text=True)
    assert done.returncode == 0 and not done.stderr.strip() and not done.stdout.strip(), done.stderr + done.stdout


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """A served instance's settings as /etc/grid-lms/lms.env would hold them (SQLite here), database upgraded."""
    folder = tmp_path_factory.mktemp("deployment")
    env = {**_env_example(), "LMS_SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'lms.sqlite3'}",
           "LMS_SECRET_KEY": "deploy-test"}
    env_file = folder / "lms.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()), encoding="utf-8")
    process_env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")} | env
    subprocess.run([str(BIN / "flask"), "--app", "lms", "db", "upgrade"], env=process_env, cwd=ROOT, check=True,
                   capture_output=True)
    return {"folder": folder, "env_file": env_file, "env": process_env, "db": folder / "lms.sqlite3"}


def test_cron_line_runs_the_periodic_tasks_as_written(deployment):
    line = (DEPLOY / "crontab").read_text(encoding="utf-8").strip().splitlines()[-1]
    fields = line.split(None, 6)
    assert fields[:5] == ["*/5", "*", "*", "*", "*"] and fields[5] == "grid-lms"
    log = deployment["folder"] / "tasks.log"
    with sqlite3.connect(deployment["db"]) as conn:  # a verification lookup two days old: tasks run prunes it
        conn.execute("INSERT INTO verify_lookups (client_addr, at) VALUES ('10.9.8.7', datetime('now', '-2 days'))")
    command = _replace(fields[6], {f"cd {SERVICE_ROOT} ": f"cd {shlex.quote(str(ROOT))} ",
                                   ENV_FILE: str(deployment["env_file"]),
                                   "/var/log/grid-lms/tasks.log": str(log),
                                   "/tmp/grid-lms-tasks.lock": str(deployment["folder"] / "tasks.lock"),
                                   ".venv/bin/flask": str(BIN / "flask")})
    # cron's own environment: almost nothing; the settings must come from the env file.
    done = subprocess.run(["/bin/sh", "-c", command], env={"PATH": "/usr/bin:/bin", "HOME": "/root"},
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr + log.read_text(encoding="utf-8")
    assert "清理核验记录 1" in log.read_text(encoding="utf-8")  # its summary, in the log the line names
    with sqlite3.connect(deployment["db"]) as conn:  # on the env file's database
        assert conn.execute("SELECT COUNT(*) FROM verify_lookups").fetchone()[0] == 0


def test_sqlite_backup_cron_line_as_written_satisfies_doctor(deployment, tmp_path):
    lines = (DEPLOY / "crontab").read_text(encoding="utf-8").splitlines()
    line = next(x for x in lines if x.startswith("# 30 2 ") and " backup " in x)[2:]  # the SQLite variant
    fields = line.split(None, 6)
    assert fields[:5] == ["30", "2", "*", "*", "*"] and fields[5] == "grid-lms"
    backups, log = tmp_path / "backups", tmp_path / "backup.log"
    backups.mkdir()
    stale = backups / "lms-2020-01-01.sqlite3"
    stale.write_bytes(b"old")
    os.utime(stale, (time.time() - 40 * 86400,) * 2)
    env_file = tmp_path / "lms.env"
    env_file.write_text(deployment["env_file"].read_text(encoding="utf-8")
                        .replace("LMS_BACKUP_DIR=/var/backups/grid-lms", f"LMS_BACKUP_DIR={backups}"), encoding="utf-8")
    command = _replace(fields[6], {f"cd {SERVICE_ROOT} ": f"cd {shlex.quote(str(ROOT))} ",
                                   ENV_FILE: str(env_file), "/var/log/grid-lms/backup.log": str(log),
                                   ".venv/bin/flask": str(BIN / "flask"), "\\%": "%"})
    done = subprocess.run(["/bin/sh", "-c", command], env={"PATH": "/usr/bin:/bin", "HOME": "/root"},
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr + (log.read_text(encoding="utf-8") if log.exists() else "")
    made = sorted(p.name for p in backups.iterdir())
    assert len(made) == 1 and made[0].startswith("lms-20") and made[0].endswith(".sqlite3"), made  # old one pruned
    with sqlite3.connect(backups / made[0]) as conn:  # a real copy of the env file's database
        assert conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'users'").fetchone()[0] == 1
    env = {**deployment["env"], "LMS_BACKUP_DIR": str(backups)}
    doctor = subprocess.run([str(BIN / "flask"), "--app", "lms", "doctor", "--json"], env=env, cwd=ROOT,
                            capture_output=True, text=True)
    findings = {f["key"]: f for f in json.loads(doctor.stdout)["findings"]}
    assert findings["backups"]["ok"] is True, findings["backups"]


# --- nginx in front of gunicorn ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(deployment):
    """The unit's gunicorn command and the nginx site, both on loopback ports, with a self-signed certificate."""
    if not Path(NGINX).exists():
        pytest.skip("nginx not installed (Debian package nginx; `make test` installs it via scripts/system-deps.sh)")
    folder = deployment["folder"]
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=lms.county.internal", "-keyout", str(folder / "lms.key"), "-out", str(folder / "lms.crt")],
                   check=True, capture_output=True)
    app_port, https_port, http_port = _free_port(), _free_port(), _free_port()
    exec_start = _replace(_unit()["ExecStart"], {f"{SERVICE_ROOT}/.venv/bin/": f"{BIN}/",
                                                 "--bind 127.0.0.1:8000": f"--bind 127.0.0.1:{app_port}"})
    gunicorn = subprocess.Popen(shlex.split(exec_start), env=deployment["env"], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    site = _replace((DEPLOY / "nginx-grid-lms.conf").read_text(encoding="utf-8"), {
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;", "listen [::]:443 ssl http2;": "",
        "listen 80;": f"listen 127.0.0.1:{http_port};", "listen [::]:80;": "",
        "/etc/ssl/grid-lms/lms.crt": str(folder / "lms.crt"), "/etc/ssl/grid-lms/lms.key": str(folder / "lms.key"),
        f"{SERVICE_ROOT}/lms/static/": f"{ROOT}/lms/static/",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{app_port};"})
    (folder / "grid-lms.conf").write_text(site, encoding="utf-8")
    temp = {name: folder / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    user = "user root root;\n" if os.geteuid() == 0 else ""  # workers must read the checkout and the temp folders
    (folder / "nginx.conf").write_text(
        f"{user}worker_processes 1;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log;\n"
        "events { worker_connections 64; }\nhttp {\n    include /etc/nginx/mime.types;\n"
        f"    access_log {folder}/access.log;\n"
        + "".join(f"    {name}_temp_path {path};\n" for name, path in temp.items())
        + f"    include {folder}/grid-lms.conf;\n}}\n", encoding="utf-8")
    nginx = [NGINX, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(folder / "nginx.conf")]
    checked = subprocess.run(nginx + ["-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    server = subprocess.Popen(nginx + ["-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for(app_port, gunicorn, "gunicorn")
        _wait_for(https_port, server, "nginx")
        yield {"https": https_port, "http": http_port, "db": deployment["db"], "nginx_check": checked.stderr}
    finally:
        for process in (server, gunicorn):
            process.terminate()
            process.wait(timeout=10)
            process.stderr.close()


#: the test's client connects from another loopback address than nginx's, so the two can be told apart
CLIENT_ADDR = "127.0.0.2"


def _https(served, method, path, body=None, headers=None):
    context = ssl.create_default_context(cafile=str(served["db"].parent / "lms.crt"))
    context.check_hostname = False
    conn = http.client.HTTPSConnection("127.0.0.1", served["https"], context=context, timeout=30,
                                       source_address=(CLIENT_ADDR, 0))
    conn.request(method, path, body=body, headers={"Host": "lms.county.internal", **(headers or {})})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


def test_nginx_config_checks_with_nginx_t(served):
    assert "syntax is ok" in served["nginx_check"] and "test is successful" in served["nginx_check"]


def test_https_with_hsts_once_and_plain_http_redirected(served):
    response, data = _https(served, "GET", "/healthz")
    assert response.status == 200 and data == b"ok"
    assert response.headers.get_all("Strict-Transport-Security") == ["max-age=31536000"]
    conn = http.client.HTTPConnection("127.0.0.1", served["http"], timeout=30)
    conn.request("GET", "/courses?x=1", headers={"Host": "lms.county.internal"})
    redirect = conn.getresponse()
    conn.close()
    assert redirect.status == 301 and redirect.headers["Location"] == "https://lms.county.internal/courses?x=1"


def test_the_app_sees_the_client_nginx_saw_not_nginx_and_never_a_forged_header(served):
    response, _ = _https(served, "POST", "/api/v1/session", json.dumps({"username": "ghost", "password": "x"}),
                         {"Content-Type": "application/json", "X-Forwarded-For": "203.0.113.9"})
    assert response.status == 401
    with sqlite3.connect(served["db"]) as conn:
        addresses = {row[0] for row in conn.execute("SELECT client_addr FROM login_failures")}
    assert addresses == {CLIENT_ADDR}  # gunicorn's peer is nginx (127.0.0.1); the forged value is dropped


def test_versioned_static_is_kept_a_year_unversioned_and_sw_js_are_revalidated(served):
    _, page = _https(served, "GET", "/login")
    css = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]+)"', page.decode()).group(1)
    versioned, body = _https(served, "GET", css)
    assert versioned.status == 200 and body == (ROOT / "lms/static/css/app.css").read_bytes()
    assert versioned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert versioned.headers["X-Content-Type-Options"] == "nosniff"
    assert versioned.headers.get_all("Strict-Transport-Security") == ["max-age=31536000"]
    plain, _ = _https(served, "GET", "/static/css/app.css")
    assert plain.headers["Cache-Control"] == "no-cache"
    worker, script = _https(served, "GET", "/sw.js")
    assert worker.status == 200 and b"__VERSION__" not in script  # the app's, not the raw static file
    assert worker.headers["Cache-Control"] == "no-cache" and "max-age" not in worker.headers["Cache-Control"]


def test_uploads_up_to_the_apps_limit_reach_the_app(served):
    body = b"x" * (config.Defaults.MAX_CONTENT_LENGTH + 1024)
    response, data = _https(served, "POST", "/api/v1/session", body, {"Content-Type": "application/json"})
    assert response.status == 413
    # The app's own answer (JSON, Chinese), not nginx's page: nginx let the body through.
    assert json.loads(data)["error"]["code"] == "too_large"


# --- the wheelhouse ----------------------------------------------------------------------------------------------

@pytest.mark.skipif(not any(WHEELHOUSE.glob("grid_lms-*.whl")),
                    reason="no wheelhouse: `make wheelhouse` first (or LMS_TEST_WHEELHOUSE=DIR); "
                           "nothing is downloaded here")
def test_wheelhouse_installs_with_no_package_index(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    offline = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "LMS_"))} | {
        "PIP_NO_INDEX": "1", "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    done = subprocess.run([str(venv / "bin/pip"), "install", "--no-index", "--find-links", str(WHEELHOUSE), "grid-lms"],
                          env=offline, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    check = subprocess.run([str(venv / "bin/pip"), "check"], env=offline, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    # The checkout runs on that venv as the service does: migrations apply and the app serves a request.
    env = offline | {"LMS_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'lms.sqlite3'}", "LMS_SECRET_KEY": "w"}
    upgraded = subprocess.run([str(venv / "bin/flask"), "--app", "lms", "db", "upgrade"], env=env, cwd=ROOT,
                              capture_output=True, text=True)
    assert upgraded.returncode == 0, upgraded.stderr[-2000:]
    probe = "from lms import create_app; print(create_app().test_client().get('/healthz').status_code)"
    served = subprocess.run([str(venv / "bin/python"), "-c", probe],
                            env=env, cwd=ROOT, capture_output=True, text=True)
    assert served.stdout.strip() == "200", served.stderr[-2000:]
