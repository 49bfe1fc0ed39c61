"""`flask --app lms doctor`: what a production deployment still lacks, each with what to set (Chinese).

Each check is a plain function of the app (and ``now``) returning a Finding, so tests call them without a
command line. The command prints every finding, ✓ or ✗, and exits 1 while anything is missing; ``--json``
prints ``{"ok": bool, "missing": n, "findings": [{key, ok, title, message, fix}]}``.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import stat
from collections.abc import Callable
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from lms.certification import codes, credential
from lms.certification.cli import TASKS_RUN
from lms.certification.models import TaskRun
from lms.db import utcnow
from lms.extensions import db

#: cron runs `tasks run` every five minutes: twice that without a run means it is not running
TASKS_MAX_AGE = dt.timedelta(minutes=10)
#: a daily backup, with slack for a slow night
BACKUP_MAX_AGE = dt.timedelta(hours=36)
_SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@dataclasses.dataclass(frozen=True)
class Finding:
    """One production setting: present (ok) or missing, with what to set."""

    key: str
    ok: bool
    title: str
    message: str
    fix: str = ""

    def as_json(self) -> dict:
        return dataclasses.asdict(self)


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(_SHANGHAI).strftime("%Y-%m-%d %H:%M")


def check_public_url(app, now) -> Finding:
    base = str(app.config.get("PUBLIC_URL") or "").strip()
    title = "公开网址"
    if codes.is_public_base_url(base):
        return Finding("public_url", True, title, f"LMS_PUBLIC_URL = {base}")
    return Finding("public_url", False, title,
                   f"LMS_PUBLIC_URL {'仍是本机地址 ' + base if base else '未设置'}：证书二维码和核验网址在其他电脑、手机上打不开，系统也不会发证",
                   "在 /etc/grid-lms/lms.env 设置 LMS_PUBLIC_URL=https://本县网格学堂的外部网址（例如 https://lms.某某县.gov.cn），"
                   "然后 systemctl restart grid-lms")


def check_proxy(app, now) -> Finding:
    base = str(app.config.get("PUBLIC_URL") or "").strip()
    title = "反向代理与 HTTPS"
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if not base.startswith("https://"):
        return Finding("proxy", False, title,
                       "公开网址不是 https://：平板的离线功能、扫码签到的摄像头都需要 HTTPS，登录 Cookie 也不能设为仅 HTTPS",
                       "用 nginx 终止 HTTPS（deploy/nginx-grid-lms.conf，内网 CA 证书即可），"
                       "把 LMS_PUBLIC_URL 改为 https://…，并设置 LMS_TRUSTED_PROXIES=1")
    missing = []
    if proxies < 1:
        missing.append("LMS_TRUSTED_PROXIES 为 0：nginx 之后看到的来源地址都是本机，登录锁定和审计日志记不到真实地址")
    if not app.config.get("SESSION_COOKIE_SECURE"):
        missing.append("登录 Cookie 未设为仅 HTTPS（SESSION_COOKIE_SECURE）")
    if missing:
        return Finding("proxy", False, title, "；".join(missing),
                       "在 /etc/grid-lms/lms.env 设置 LMS_TRUSTED_PROXIES=1（nginx 一层），"
                       "删去 LMS_SESSION_COOKIE_SECURE=false 这类设置，然后重启服务")
    return Finding("proxy", True, title, f"https 公开网址，信任 {proxies} 层代理，登录 Cookie 仅 HTTPS")


def _loose(path: Path) -> bool:
    """Readable, writable or executable by group or others."""
    return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def check_secret_key(app, now) -> Finding:
    title = "会话密钥文件权限"
    key_file = Path(app.instance_path) / "secret_key"
    if not key_file.is_file():
        return Finding("secret_key", True, title, "会话密钥由 LMS_SECRET_KEY 提供，实例目录中没有密钥文件")
    try:
        in_use = key_file.read_text().strip() == str(app.config.get("SECRET_KEY") or "")
    except (OSError, UnicodeDecodeError):
        in_use = True  # unreadable to us: judge it by its mode all the same
    if not in_use:
        return Finding("secret_key", True, title, f"会话密钥由 LMS_SECRET_KEY 提供（{key_file} 未被使用）")
    mode = stat.S_IMODE(key_file.stat().st_mode)
    if _loose(key_file):
        return Finding("secret_key", False, title,
                       f"{key_file} 的权限是 {mode:o}，同组或其他用户可读：拿到它就能伪造登录会话",
                       f"chmod 600 {key_file}（属主为运行服务的用户 grid-lms）")
    return Finding("secret_key", True, title, f"{key_file} 权限 {mode:o}")


def check_issuer_keys(app, now) -> Finding:
    title = "证书签名密钥权限"
    ring = credential.KeyRing(app.instance_path)
    if not ring.directory.is_dir():
        return Finding("issuer_keys", True, title, "尚无签名密钥：首次发证时自动生成（权限 600）")
    loose = [path for path in [ring.directory, *sorted(ring.directory.glob("key-*.pem"))] if _loose(path)]
    if loose:
        names = "、".join(f"{p.name}（{stat.S_IMODE(p.stat().st_mode):o}）" for p in loose)
        return Finding("issuer_keys", False, title,
                       f"{names} 同组或其他用户可访问：拿到私钥就能以本县名义签发电子证书",
                       f"chmod 700 {ring.directory} && chmod 600 {ring.directory}/key-*.pem")
    return Finding("issuer_keys", True, title, f"{len(ring.keys())} 个密钥，目录 700、文件 600")


def _newest_file(directory: Path) -> tuple[Path, dt.datetime] | None:
    newest = None
    for path in directory.iterdir():
        if path.is_file() and not path.name.startswith("."):
            moment = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc)
            if newest is None or moment > newest[1]:
                newest = (path, moment)
    return newest


def _backup_command(app) -> str:
    if db.engine.url.get_backend_name() == "sqlite":
        return 'flask --app lms backup "$LMS_BACKUP_DIR/lms-$(date +%F).sqlite3"'
    return 'pg_dump -Fc lms > "$LMS_BACKUP_DIR/lms-$(date +%F).dump"'


def check_backups(app, now) -> Finding:
    title = "数据备份"
    directory = str(app.config.get("BACKUP_DIR") or "").strip()
    schedule = (f"每天由 cron 运行 {_backup_command(app)}，并一并保存 instance/secret_key 和 instance/issuer-keys/"
                "（README“Backup and restore”）")
    if not directory:
        return Finding("backups", False, title, "未设置备份目录 LMS_BACKUP_DIR，无法确认有每日备份",
                       "在 /etc/grid-lms/lms.env 设置 LMS_BACKUP_DIR=/var/backups/grid-lms（最好在另一块磁盘或另一台机器上），"
                       + schedule)
    path = Path(directory)
    if not path.is_dir():
        return Finding("backups", False, title, f"备份目录 {path} 不存在或不是目录",
                       f"install -d -o grid-lms -m 700 {path}；" + schedule)
    newest = _newest_file(path)
    if newest is None:
        return Finding("backups", False, title, f"备份目录 {path} 里还没有备份文件", schedule)
    if now - newest[1] > BACKUP_MAX_AGE:
        return Finding("backups", False, title,
                       f"最近的备份 {newest[0].name} 是 {_local(newest[1])}，已超过 {int(BACKUP_MAX_AGE.total_seconds() // 3600)} 小时",
                       "检查备份的 cron 任务是否在运行：" + schedule)
    return Finding("backups", True, title, f"最近的备份 {newest[0].name}（{_local(newest[1])}）")


def check_tasks(app, now) -> Finding:
    title = "定时任务（tasks run）"
    fix = ("cp deploy/crontab /etc/cron.d/grid-lms（每 5 分钟以 grid-lms 用户运行 flask --app lms tasks run），"
           "再看 /var/log/grid-lms/tasks.log 是否有报错")
    try:
        run = db.session.get(TaskRun, TASKS_RUN)
    except SQLAlchemyError:
        db.session.rollback()
        return Finding("tasks", False, title, "数据库结构不是最新，读不到定时任务的运行记录",
                       "flask --app lms db upgrade，然后 " + fix)
    if run is None or run.finished_at is None:
        return Finding("tasks", False, title, "从未完整运行过：超时答卷不会关闭，证书不会自动发放、到期和提醒", fix)
    if now - run.finished_at > TASKS_MAX_AGE:
        return Finding("tasks", False, title,
                       f"最近一次运行完成于 {_local(run.finished_at)}，已超过 {int(TASKS_MAX_AGE.total_seconds() // 60)} 分钟", fix)
    return Finding("tasks", True, title, f"最近一次运行完成于 {_local(run.finished_at)}")


CHECKS: tuple[Callable, ...] = (check_public_url, check_proxy, check_secret_key, check_issuer_keys, check_backups,
                                check_tasks)


def diagnose(app=None, now: dt.datetime | None = None) -> list[Finding]:
    """Every check, in order."""
    app = app or current_app._get_current_object()
    now = now or utcnow()
    return [check(app, now) for check in CHECKS]


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（ok、missing、findings）")
@with_appcontext
def doctor_command(as_json: bool):
    """List every setting a production deployment still lacks; exit 1 while any is missing."""
    findings = diagnose()
    missing = [f for f in findings if not f.ok]
    if as_json:
        click.echo(json.dumps({"ok": not missing, "missing": len(missing),
                               "findings": [f.as_json() for f in findings]}, ensure_ascii=False, indent=2))
    else:
        for finding in findings:
            if finding.ok:
                click.echo(f"✓ {finding.title}：{finding.message}")
            else:
                click.echo(f"✗ {finding.title}：{finding.message}\n    应当：{finding.fix}")
        click.echo(f"\n还缺 {len(missing)} 项，见上面标 ✗ 的各行。" if missing else "\n生产部署所需的设置都已齐全。")
    if missing:
        raise SystemExit(1)


def init_app(app) -> None:
    app.cli.add_command(doctor_command)
