"""`flask users …`, `flask tokens create/list/revoke`, `flask demo`."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext

from lms.accounts import demo, services, validation
from lms.accounts.permissions import SYSTEM, Permission, authorize
from lms.accounts.queries import count_real_accounts, get_token, get_user, list_tokens
from lms.clikit import transactional
from lms.db import local
from lms.errors import NotFound, ValidationError
from lms.org.queries import get_org

users_cli = AppGroup("users", help="人员账号")
tokens_cli = AppGroup("tokens", help="接口令牌")


def _user(username: str):
    user = get_user(username)
    if user is None:
        raise NotFound(f"工号 {username} 不存在")
    return user


def _date(value: str | None, label: str):
    if not value:
        return None
    parsed = validation.parse_date(value)
    if parsed is None:
        raise ValidationError(f"{label}“{value}”无法识别，请写成 2020-03-01")
    return parsed


@users_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@transactional
def import_command(file: Path):
    """Import a roster (CSV/XLSX); new accounts' passwords go to FILE.passwords.xlsx."""
    authorize(SYSTEM, Permission.MANAGE_USERS)
    report = services.import_roster(file.read_bytes(), file.name, actor=SYSTEM)
    click.echo(f"新增 {report.created}，更新 {report.updated}，未变 {report.unchanged}，停用 {report.disabled}，"
               f"错误 {len(report.errors)}")
    if report.passwords:
        sheet = file.with_name(file.name + ".passwords.xlsx")
        services.write_password_sheet(sheet, report.passwords)
        click.echo(f"{len(report.passwords)} 个新账号的初始密码已写入 {sheet}（请交给本人，首次登录须修改）")
    for line in report.error_lines:
        click.echo(line, err=True)
    if report.errors:
        from lms.extensions import db  # late: keep the good rows before exiting non-zero
        db.session.commit()
        raise SystemExit(1)


@users_cli.command("create")
@click.option("--username", required=True, help="工号")
@click.option("--name", required=True, help="姓名")
@click.option("--org", "org_code", required=True, help="组织编码")
@click.option("--role", "roles", multiple=True, help="角色，可重复；ROLE 或 ROLE@ORG")
@click.option("--password", required=True)
@click.option("--hired")
@click.option("--birth")
@click.option("--education")
@click.option("--id-card")
@click.option("--phone")
@transactional
def create_command(username, name, org_code, roles, password, hired, birth, education, id_card, phone):
    """Create one account; a password given here needs no change at first login."""
    authorize(SYSTEM, Permission.MANAGE_USERS)
    org = get_org(org_code)
    if org is None:
        raise NotFound(f"组织编码 {org_code} 不存在")
    grants = services.parse_roles(",".join(roles) or "worker", org)
    user = services.create_user(username=username, name=name, org=org, roles=grants, password=password,
                                must_change_password=False, hired_on=_date(hired, "入职日期"),
                                birth_date=_date(birth, "出生日期"), education=education, id_card=id_card,
                                phone=phone, actor=SYSTEM)
    click.echo(f"已创建 {user.username}（{user.name}）")


@users_cli.command("disable")
@click.argument("username")
@transactional
def disable_command(username):
    """Disable a leaver's account (never deleted)."""
    authorize(SYSTEM, Permission.MANAGE_USERS)
    user = _user(username)
    services.disable_user(user, actor=SYSTEM)
    click.echo(f"已停用 {user.username}（{user.name}）")


@users_cli.command("reset-password")
@click.argument("username")
@transactional
def reset_password_command(username):
    """Print a one-time password; the user sets their own at next login."""
    authorize(SYSTEM, Permission.RESET_PASSWORD)
    user = _user(username)
    temporary = services.reset_password(user, actor=SYSTEM)
    click.echo(f"{user.username}（{user.name}）的一次性密码：")
    click.echo(temporary)


@tokens_cli.command("create")
@click.option("--username", required=True)
@transactional
def create_token_command(username):
    """Print a Bearer token for an API integration (alone on the last line)."""
    authorize(SYSTEM, Permission.MANAGE_USERS)
    user = _user(username)
    token = services.create_token(user, actor=SYSTEM)
    click.echo(f"{user.username} 的接口令牌（只显示这一次，请妥善保存）：")
    click.echo(token)


@tokens_cli.command("list")
@click.option("--username", required=True)
@transactional
def list_tokens_command(username):
    """List an account's Bearer tokens: id, created, last used, state (the tokens themselves are not kept)."""
    authorize(SYSTEM, Permission.MANAGE_USERS)
    user = _user(username)
    tokens = list_tokens(user)
    if not tokens:
        click.echo(f"{user.username}（{user.name}）没有接口令牌")
        return
    click.echo(f"{user.username}（{user.name}）的接口令牌：")
    click.echo("编号\t创建时间\t最近使用\t状态")
    for token in tokens:
        state = f"已撤销 {local(token.revoked_at):%Y-%m-%d %H:%M}" if token.revoked_at else "有效"
        used = f"{local(token.last_used_at):%Y-%m-%d %H:%M}" if token.last_used_at else "从未使用"
        click.echo(f"{token.id}\t{local(token.created_at):%Y-%m-%d %H:%M}\t{used}\t{state}")


@tokens_cli.command("revoke")
@click.argument("token_id", type=int)
@transactional
def revoke_token_command(token_id):
    """Revoke one Bearer token by its id (see `tokens list`); it stops working at once."""
    authorize(SYSTEM, Permission.MANAGE_USERS)
    token = get_token(token_id)
    if token is None:
        raise NotFound(f"接口令牌 {token_id} 不存在")
    if not services.revoke_token(token, actor=SYSTEM):
        click.echo(f"接口令牌 {token_id}（{token.user.username}）早已撤销")
        return
    click.echo(f"已撤销接口令牌 {token_id}（{token.user.username}）")


@click.command("demo")
@with_appcontext
@transactional
def demo_command():
    """Create the demo county and its accounts; refuses a database with real accounts."""
    authorize(SYSTEM, Permission.MANAGE_USERS)
    real = count_real_accounts()
    if real:
        raise ValidationError(f"数据库中已有 {real} 个正式账号，拒绝写入演示数据（演示数据只用于空库或演示库）")
    accounts = demo.ensure_demo()
    click.echo(f"演示账号（密码均为 {demo.DEMO_PASSWORD}）：")
    for account in accounts:
        click.echo(f"  {account['username']:<15} {account['name']:<6} {account['org']:<9} {account['note']}")
