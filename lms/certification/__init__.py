"""Certification: programs from certifications.yaml, rules, certificates, PDFs, verification, HR exports."""


def init_app(app):
    from flask import url_for

    from lms.accounts.permissions import Permission, has_permission
    from lms.accounts.profile import contribute
    from lms.certification import api, cli, handlers, importer, models, views  # noqa: F401  (models register)
    from lms.contentsync import register_importer
    from lms.home import register_nav, register_section

    app.register_blueprint(views.bp)
    app.cli.add_command(cli.tasks_cli)
    app.cli.add_command(cli.certificates_cli)
    from lms import doctor  # `flask doctor`: production settings (issuing needs LMS_PUBLIC_URL, cron, keys)
    doctor.init_app(app)
    register_importer(60, "certifications", importer.import_certifications)
    register_importer(61, "certificate_templates", importer.import_templates)
    handlers.connect()
    contribute(_profile_star)

    # Late, function-level import of a LATER feature (reports comes after certification): the export
    # routes read certification tables, so they are registered here, not by lms.reports (another owner).
    from lms.reports import export_views
    export_views.register(app)

    def can_manage(user):
        return has_permission(user, Permission.MANAGE_CERTIFICATES)

    register_nav(50, "证书", "certification.mine", lambda user: has_permission(user, Permission.LEARN))
    register_nav(85, "证书管理", "certification.manage", can_manage, group="manage")

    def section(user):
        tiles = []
        if has_permission(user, Permission.LEARN):
            tiles += [{"label": "我的证书与认证进度", "url": url_for("certification.mine"),
                       "description": "已获得的证书，以及每个认证项目还差哪些条件"},
                      {"label": "我的积分", "url": url_for("points.history"), "description": "每一笔积分的来由"}]
        if can_manage(user):
            tiles += [{"label": "证书管理", "url": url_for("certification.manage"),
                       "description": "发证、撤销、续发，查看 30/60/90 天内到期的证书"},
                      {"label": "导出证书名单", "url": url_for("exports.certificates_xlsx"),
                       "description": "Excel 名单（按管辖范围，个人信息默认脱敏）"}]
        return {"title": "证书与积分", "tiles": tiles} if tiles else None

    register_section(30, section)

    # Mentoring (an earlier feature) asks through its registry: a valid 星级 certificate makes a
    # worker eligible to mentor, and the star level ranks mentor suggestions.
    from lms.mentoring.eligibility import register_credential_check, register_star_source
    register_star_source(_star)
    register_credential_check(_holds_star)


def _star(user) -> int:
    from lms.certification.queries import star_of  # late: queries import models registered in init_app
    return star_of(user)


def _holds_star(user) -> bool:
    return _star(user) > 0


def _profile_star(user) -> dict:
    from lms.certification.queries import star_of  # late: queries import models registered in init_app
    return {"star": star_of(user)}
