"""`flask tasks run`: the one cron line (API.md) — close overdue attempts, certification upkeep.

`flask certificates verify FILE` / `rotate-key`: signed credentials checked offline, the county's key.
"""
from __future__ import annotations

import datetime as dt
import importlib
import json

import click
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import current_app
from flask.cli import AppGroup

from lms.certification import credential
from lms.certification.models import TaskRun
from lms.clikit import transactional
from lms.db import utcnow
from lms.extensions import db

#: the heartbeat row `tasks run` keeps in task_runs
TASKS_RUN = "tasks run"

tasks_cli = AppGroup("tasks", help="定时任务（cron 每几分钟运行一次）")


def _close_overdue_attempts():
    """lms.quizzes.tasks.close_overdue_attempts, or None while the quizzes feature has no such task."""
    try:
        module = importlib.import_module("lms.quizzes.tasks")
    except ModuleNotFoundError as exc:
        if exc.name and "lms.quizzes.tasks".startswith(exc.name):
            return None
        raise
    return getattr(module, "close_overdue_attempts", None)


@tasks_cli.command("run")
def run_command():
    """Run the periodic work once: close overdue attempts, expire, issue, renew, remind."""
    from lms.certification.services import run_periodic  # late: services import models registered in init_app
    from lms.courses.services import send_assignment_reminders  # late, as above

    @transactional
    def run():
        now = utcnow()
        heartbeat = db.session.get(TaskRun, TASKS_RUN)
        if heartbeat is None:
            heartbeat = TaskRun(name=TASKS_RUN, started_at=now)
            db.session.add(heartbeat)
        heartbeat.started_at = now
        summary = {}
        close = _close_overdue_attempts()
        if close is not None:
            summary["closed_attempts"] = close(now)
        summary["assignment_reminders"] = send_assignment_reminders(now=now)
        for key, _, task in current_app.extensions.get("periodic_tasks", ()):  # later features (lms.field's points)
            summary[key] = task(now)
        summary.update(run_periodic(now))
        heartbeat.finished_at = utcnow()  # `flask doctor` reads it: cron is alive
        return summary

    summary = run()
    blocked = summary.pop("issuing_blocked", None)
    if blocked:
        click.echo(f"本次未自动发证、续发：{blocked}", err=True)
    labels = {"closed_attempts": "关闭超时答卷", "expired": "证书到期", "issued": "自动发证", "renewed": "自动续发",
              "reminded": "到期提醒", "assignment_reminders": "学习任务截止提醒", "pruned_lookups": "清理核验记录"}
    labels.update({key: label for key, label, _ in current_app.extensions.get("periodic_tasks", ())})
    click.echo("，".join(f"{labels.get(k, k)} {v if not isinstance(v, (list, tuple)) else len(v)}"
                        for k, v in summary.items()))


certificates_cli = AppGroup("certificates", help="电子证书：离线核验、更换签名密钥")

_EXIT_OK, _EXIT_BAD = 0, 1


def _load_key_file(path: str) -> dict:
    """verificationMethod id (or '*') -> public key from a saved key document (JSON) or a PEM public key."""
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        return credential.keys_from_document(json.loads(data))
    except (ValueError, UnicodeDecodeError):
        pass
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise click.ClickException(f"无法读取密钥文件 {path}：应为公布的密钥文件（lms-issuer.json）或 PEM 公钥") from None
    if not isinstance(key, Ed25519PublicKey):
        raise click.ClickException(f"密钥文件 {path} 不是 Ed25519 公钥")
    return {"*": key}


def _holder_revoked(number: str) -> bool | None:
    """True/False when the local database knows the certificate, None when it cannot be asked (offline)."""
    try:
        from lms.certification import queries  # late: the check works with no database at all
        from lms.certification.models import CertificateStatus
        certificate = queries.get_certificate(number[:48])
        return None if certificate is None else certificate.status == CertificateStatus.revoked
    except Exception:  # no database, no tables: the offline check stands on its own
        return None


def _field(node, key: str) -> str:
    """A printable value from a (signed, but possibly foreign-shaped) credential."""
    value = node.get(key, "") if isinstance(node, dict) else ""
    return value if isinstance(value, str) else ""


#: seconds the default online look-up of the revocation list may take before the offline verdict stands
STATUS_TIMEOUT = 3.0
_MAX_STATUS_BYTES = 4 * 1024 * 1024


def fetch_url(url: str, timeout: float = STATUS_TIMEOUT) -> bytes:
    """GET ``url`` (the revocation list) with a short timeout; OSError when it cannot be read."""
    import http.client
    import urllib.request  # late: only the online check uses the network

    request = urllib.request.Request(url, headers={"Accept": "application/vc+ld+json, application/json",
                                                   "User-Agent": "grid-lms-verify"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (http/https checked)
            body = response.read(_MAX_STATUS_BYTES + 1)
    except http.client.HTTPException as exc:
        raise OSError(str(exc)) from None
    if len(body) > _MAX_STATUS_BYTES:
        raise OSError("吊销状态列表过大")
    return body


def status_fetcher():
    """The fetch function: LMS config CERTIFICATE_STATUS_FETCH (a callable url, timeout -> bytes) or urllib."""
    configured = current_app.config.get("CERTIFICATE_STATUS_FETCH")
    return configured if callable(configured) else fetch_url


@certificates_cli.command("verify")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--key", "key_file", type=click.Path(exists=True, dir_okay=False),
              help="另一发证单位公布的密钥文件（lms-issuer.json）或 PEM 公钥")
@click.option("--online/--offline", "online", default=None,
              help="--online：必须联网读到吊销状态列表才算核验完成；--offline：不联网。默认联网试 3 秒，读不到只提示")
def verify_command(file, key_file, online):
    """Check a credential file offline against this county's keys (and --key); exit 0 only when valid."""
    try:
        with open(file, "rb") as handle:
            document = json.loads(handle.read())
    except FileNotFoundError:
        click.echo(f"无法读取：找不到文件 {file}", err=True)
        raise SystemExit(_EXIT_BAD)
    except (ValueError, UnicodeDecodeError, RecursionError):
        click.echo("无法读取：文件不是 JSON 格式的电子证书", err=True)
        raise SystemExit(_EXIT_BAD)
    extra = _load_key_file(key_file) if key_file else {}
    own = credential.KeyRing(current_app.instance_path).public_keys()

    def resolve(method: str):
        fragment = method.rsplit("#", 1)[-1]
        return extra.get(method) or extra.get("*") or own.get(fragment) or next(
            (key for key_id, key in extra.items() if key_id.rsplit("#", 1)[-1] == fragment), None)

    check = credential.verify(document, resolve)
    if check.verdict == credential.Verdict.malformed:
        click.echo(f"无法读取：不是本系统格式的电子证书（{check.detail}）", err=True)
        raise SystemExit(_EXIT_BAD)
    if check.verdict == credential.Verdict.unknown_key:
        click.echo(f"无法确认：签名所用的密钥不在本县的密钥中（{check.detail}）。"
                   "如是其他单位发的证书，请用 --key 指定对方公布的密钥文件。", err=True)
        raise SystemExit(_EXIT_BAD)
    if check.verdict == credential.Verdict.tampered:
        click.echo("无效：证书内容被改动过，或签名与内容不符。", err=True)
        raise SystemExit(_EXIT_BAD)
    evidence = document.get("evidence")
    number = str(_field(evidence[0] if isinstance(evidence, list) and evidence else {}, "name"))
    number = number.removeprefix("证书编号 ")
    summary = (f"《{_field(document, 'name')}》，持证人 {_field(document.get('credentialSubject'), 'name')}，"
               f"发证单位 {_field(document.get('issuer'), 'name')}，有效期至 {str(_field(document, 'validUntil'))[:10]}")
    status = credential.StatusCheck(credential.Revocation.no_entry)
    if online is not False:
        fetch = status_fetcher()
        status = credential.check_revocation(document, resolve, lambda url: fetch(url, STATUS_TIMEOUT))
    if status.state == credential.Revocation.revoked or _holder_revoked(number):
        click.echo(f"已吊销：签名有效，但发证单位已撤销该证书。{summary}", err=True)
        raise SystemExit(_EXIT_BAD)
    if online and status.state in (credential.Revocation.unreachable, credential.Revocation.untrusted):
        click.echo(f"未能联网检查吊销状态（{status.detail}）：签名有效，但不能确认该证书未被撤销。{summary}", err=True)
        raise SystemExit(_EXIT_BAD)
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date().isoformat()  # certificates run by Shanghai days
    if str(document.get("validUntil", "9999"))[:10] < today:
        click.echo(f"签名有效，但证书已过有效期：{summary}", err=True)
        raise SystemExit(_EXIT_BAD)
    click.echo(f"有效：签名正确（密钥 {check.key_id}）。{summary}")
    notes = {credential.Revocation.not_revoked: "已联网核对吊销状态列表：未被撤销。",
             credential.Revocation.unreachable: f"未能联网检查吊销状态（{status.detail}），以上为离线核验结果。",
             credential.Revocation.untrusted: f"未能检查吊销状态：{status.detail}，以上为离线核验结果。"}
    if online is False:
        click.echo("未联网检查吊销状态（--offline）。")
    elif status.state in notes:
        click.echo(notes[status.state])


@certificates_cli.command("rotate-key")
def rotate_key_command():
    """Create a new signing key; the old ones stay published so earlier credentials still verify."""
    ring = credential.KeyRing(current_app.instance_path)
    before = len(ring.keys())
    key_id, _ = ring.rotate()
    click.echo(f"已生成新的签名密钥 {key_id}（{ring.directory}，权限 600）；此前的 {before} 个密钥仍保留，用于核验旧证书。")
