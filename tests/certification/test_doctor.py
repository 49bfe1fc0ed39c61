"""`flask doctor`: each production setting, present and missing, in Chinese with what to set."""
from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from lms import doctor
from lms.certification import credential
from lms.certification.cli import TASKS_RUN
from lms.certification.models import TaskRun
from lms.extensions import db

NOW = dt.datetime(2026, 6, 3, 2, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def app_config(tmp_path):
    backups = tmp_path / "backups"
    backups.mkdir()
    return {"PUBLIC_URL": "https://lms.hongxi.gov.cn", "TRUSTED_PROXIES": 1, "BACKUP_DIR": str(backups)}


@pytest.fixture
def healthy(app, tmp_path):
    """A deployment with everything in place: keys 600, a fresh backup, tasks just run."""
    key_file = Path(app.instance_path) / "secret_key"  # as config.finish writes it when LMS_SECRET_KEY is unset
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(app.config["SECRET_KEY"])
    os.chmod(key_file, 0o600)
    credential.KeyRing(app.instance_path).current()
    backup = Path(app.config["BACKUP_DIR"]) / "lms-2026-06-03.sqlite3"
    backup.write_bytes(b"backup")
    stamp = (NOW - dt.timedelta(hours=2)).timestamp()
    os.utime(backup, (stamp, stamp))
    db.session.add(TaskRun(name=TASKS_RUN, started_at=NOW - dt.timedelta(minutes=4),
                           finished_at=NOW - dt.timedelta(minutes=3)))
    db.session.commit()
    return app


def _by_key(app, now=NOW) -> dict:
    return {f.key: f for f in doctor.diagnose(app, now)}


def test_a_complete_deployment_passes_every_check(healthy):
    findings = _by_key(healthy)
    assert list(findings) == ["public_url", "proxy", "secret_key", "issuer_keys", "backups", "tasks"]
    assert all(f.ok for f in findings.values()), [f for f in findings.values() if not f.ok]
    assert "lms-2026-06-03.sqlite3" in findings["backups"].message


def test_the_command_exits_0_when_complete_and_1_with_json_when_not(healthy, runner, monkeypatch):
    monkeypatch.setattr(doctor, "utcnow", lambda: NOW)
    result = runner.invoke(args=["doctor"])
    assert result.exit_code == 0 and "都已齐全" in result.output and "✗" not in result.output
    healthy.config["PUBLIC_URL"] = "http://127.0.0.1:8000"
    result = runner.invoke(args=["doctor"])
    assert result.exit_code == 1 and "✗ 公开网址" in result.output and "LMS_PUBLIC_URL=https://" in result.output
    assert "还缺 2 项" in result.output  # the URL, and https for the proxy
    result = runner.invoke(args=["doctor", "--json"])
    assert result.exit_code == 1
    body = json.loads(result.output)
    assert body["ok"] is False and body["missing"] == 2
    assert {f["key"] for f in body["findings"] if not f["ok"]} == {"public_url", "proxy"}
    assert all(f["fix"] for f in body["findings"] if not f["ok"])


@pytest.mark.parametrize("url", ["", "http://127.0.0.1:8000", "http://localhost"])
def test_public_url_unset_or_loopback_is_missing(healthy, url):
    healthy.config["PUBLIC_URL"] = url
    finding = _by_key(healthy)["public_url"]
    assert not finding.ok and "LMS_PUBLIC_URL" in finding.fix
    assert ("未设置" if not url else "本机地址") in finding.message


def test_https_without_trusted_proxies_is_missing(healthy):
    healthy.config["TRUSTED_PROXIES"] = 0
    finding = _by_key(healthy)["proxy"]
    assert not finding.ok and "LMS_TRUSTED_PROXIES=1" in finding.fix and "真实地址" in finding.message


def test_https_without_secure_cookies_is_missing(healthy):
    healthy.config["SESSION_COOKIE_SECURE"] = False
    finding = _by_key(healthy)["proxy"]
    assert not finding.ok and "Cookie" in finding.message


def test_a_plain_http_public_url_needs_https(healthy):
    healthy.config["PUBLIC_URL"] = "http://lms.hongxi.gov.cn"
    findings = _by_key(healthy)
    assert findings["public_url"].ok and not findings["proxy"].ok and "https://" in findings["proxy"].fix


def test_a_secret_key_readable_by_others_is_missing(healthy):
    key_file = Path(healthy.instance_path) / "secret_key"
    os.chmod(key_file, 0o644)
    finding = _by_key(healthy)["secret_key"]
    assert not finding.ok and "644" in finding.message and f"chmod 600 {key_file}" in finding.fix
    healthy.config["SECRET_KEY"] = "given-by-LMS_SECRET_KEY"  # the file is then not the key in use
    assert _by_key(healthy)["secret_key"].ok and "未被使用" in _by_key(healthy)["secret_key"].message
    key_file.unlink()
    assert _by_key(healthy)["secret_key"].ok


def test_issuer_keys_open_to_the_group_are_missing(healthy):
    ring = credential.KeyRing(healthy.instance_path)
    pem = next(ring.directory.glob("key-*.pem"))
    os.chmod(pem, 0o640)
    finding = _by_key(healthy)["issuer_keys"]
    assert not finding.ok and pem.name in finding.message and "chmod 600" in finding.fix
    os.chmod(pem, 0o600)
    os.chmod(ring.directory, 0o755)
    assert not _by_key(healthy)["issuer_keys"].ok


def test_no_issuer_key_yet_is_fine(app):
    assert _by_key(app)["issuer_keys"].ok


def test_backups_unset_missing_empty_or_stale_are_missing(healthy, tmp_path):
    healthy.config["BACKUP_DIR"] = ""
    finding = _by_key(healthy)["backups"]
    assert not finding.ok and "LMS_BACKUP_DIR" in finding.fix
    assert ("flask --app lms backup" if db.engine.url.get_backend_name() == "sqlite" else "pg_dump") in finding.fix
    healthy.config["BACKUP_DIR"] = str(tmp_path / "nowhere")
    assert "不存在" in _by_key(healthy)["backups"].message
    empty = tmp_path / "empty"
    empty.mkdir()
    healthy.config["BACKUP_DIR"] = str(empty)
    assert "还没有备份文件" in _by_key(healthy)["backups"].message
    stale = empty / "lms-2026-05-30.sqlite3"
    stale.write_bytes(b"old")
    stamp = (NOW - dt.timedelta(days=3)).timestamp()
    os.utime(stale, (stamp, stamp))
    finding = _by_key(healthy)["backups"]
    assert not finding.ok and "已超过 36 小时" in finding.message


def test_tasks_never_run_or_stale_are_missing(healthy):
    assert _by_key(healthy, NOW + dt.timedelta(minutes=6))["tasks"].ok  # 9 minutes after the last run
    finding = _by_key(healthy, NOW + dt.timedelta(minutes=8))["tasks"]
    assert not finding.ok and "超过 10 分钟" in finding.message and "deploy/crontab" in finding.fix
    db.session.delete(db.session.get(TaskRun, TASKS_RUN))
    db.session.commit()
    assert "从未" in _by_key(healthy)["tasks"].message


def test_tasks_run_records_its_heartbeat(app, runner):
    assert db.session.get(TaskRun, TASKS_RUN) is None
    result = runner.invoke(args=["tasks", "run"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    run = db.session.get(TaskRun, TASKS_RUN)
    assert run is not None and run.finished_at >= run.started_at
    assert doctor.check_tasks(app, run.finished_at + dt.timedelta(minutes=1)).ok
