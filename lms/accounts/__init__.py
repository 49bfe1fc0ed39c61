"""Accounts, roles, authentication and the permission module."""


def init_app(app):
    from flask import url_for

    from lms.accounts import api, auth, cli, models, profile, views  # noqa: F401  (models register with the metadata)
    from lms.accounts.permissions import Permission, has_permission
    from lms.home import register_nav, register_section

    auth.init_app(app)
    views.init_views(app)
    app.context_processor(profile.reading_context)
    app.cli.add_command(cli.users_cli)
    app.cli.add_command(cli.tokens_cli)
    app.cli.add_command(cli.demo_command)

    def can_list(user):
        return has_permission(user, Permission.VIEW_USERS) or has_permission(user, Permission.VIEW_TEAM)

    register_nav(10, "首页", "accounts.home", lambda user: True)
    register_nav(80, "人员", "accounts.users", can_list, group="manage")

    def account_section(user):
        tiles = [{"label": "修改密码", "url": url_for("accounts.change_password"),
                  "description": "定期更换密码，不要告诉他人"}]
        if can_list(user):
            tiles.insert(0, {"label": "人员名单", "url": url_for("accounts.users"),
                             "description": "管辖范围内的人员：新建、导入名单、编辑、角色、重置密码"})
        if has_permission(user, Permission.VIEW_AUDIT):
            tiles.append({"label": "审计日志", "url": url_for("audit.log"),
                          "description": "登录、导入、角色变更等操作记录"})
        if has_permission(user, Permission.VIEW_USERS):
            tiles.append({"label": "组织架构", "url": url_for("org.tree"),
                          "description": "县、乡镇、村（社区）、网格"})
        return {"title": "账号与管理", "tiles": tiles}

    register_section(90, account_section)
